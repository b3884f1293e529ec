import math

import numpy as np
import pytest

from bgcore.metrics import Counts, counts, evaluate, scores


def test_counts_follow_cdnet_labels():
    truth = np.array([[255, 255, 0, 0, 50, 85, 170, 255]], np.uint8)
    predicted = np.array([[1, 0, 1, 0, 1, 1, 1, 1]], bool)
    # scored: 255 -> positive (3), 0 and 50 -> negative (3); 85 and 170 ignored
    assert counts(predicted, truth) == Counts(tp=2, fp=2, tn=1, fn=1)


def test_scores_against_hand_computed_values():
    s = scores(Counts(tp=8, fp=2, tn=85, fn=5))
    assert s["recall"] == pytest.approx(8 / 13)
    assert s["precision"] == pytest.approx(0.8)
    assert s["specificity"] == pytest.approx(85 / 87)
    assert s["fpr"] == pytest.approx(2 / 87)
    assert s["fnr"] == pytest.approx(5 / 13)
    assert s["pwc"] == pytest.approx(7.0)
    assert s["f_measure"] == pytest.approx(2 * 0.8 * (8 / 13) / (0.8 + 8 / 13))


def test_counts_are_summed_over_frames_before_scoring():
    truth = np.array([[255, 0]], np.uint8)
    frames = [(np.array([[1, 0]], bool), truth), (np.array([[0, 1]], bool), truth)]
    result = evaluate(frames)
    assert (result["tp"], result["fp"], result["tn"], result["fn"]) == (1, 1, 1, 1)
    assert result["f_measure"] == pytest.approx(0.5)


def test_no_positives_gives_nan_not_a_crash():
    s = scores(Counts(tn=10))
    assert math.isnan(s["precision"]) and s["specificity"] == 1.0


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shape"):
        counts(np.zeros((2, 2), bool), np.zeros((3, 3), np.uint8))
