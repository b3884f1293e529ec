"""The defaults on real clips nobody tuned for: the default method, with its automatic threshold,
scored against the per-pixel ground truth of ``../shared/data/groundtruth-clips`` (skipped where
it is absent). Figures measured by ``benchmarks/quality.py``; each bound sits a few points under."""

import cv2
import numpy as np
import pytest

from bgcore import DEFAULT_METHOD, run
from bgcore.datasets import image_folder_clip, read_mask, score_masks, shared_clips
from conftest import SHARED_DATA, shared

# A person standing in front for most of the clip; leaves over most of the picture; small
# pedestrians in grey. Before the mode and the per-pixel threshold: 0.00, 0.00 and 0.50 (svd).
TARGETS = {"sbi-Board": 0.80, "sbi-Foliage": 0.70, "ucsd-peds": 0.66}


@pytest.mark.parametrize("name", TARGETS)
def test_default_method_on_real_clips_with_ground_truth(name, tmp_path):
    clip = image_folder_clip(shared(f"groundtruth-clips/{name}"))
    report = run(clip.source, tmp_path)
    assert report["method"] == DEFAULT_METHOD
    assert report["frame_count"] == len(list(clip.source.iterdir()))
    scores = score_masks(tmp_path / "masks", clip.truth)
    assert scores["f_measure"] >= TARGETS[name], scores
    # The automatic threshold is kept in the report, with the noise level it came from.
    mask = report["parameters"]["mask"]
    assert mask["threshold_used"] == mask["threshold_auto"] > mask["noise_level"] > 0


def test_image_folder_masks_match_frames_by_their_trailing_number():
    clip = image_folder_clip(shared("groundtruth-clips/ucsd-peds"))
    # input/frame_1.jpg .. frame_25.jpg (natural order) and groundtruth/gt0001.png .. gt0025.png.
    assert sorted(clip.truth) == list(range(25))
    assert np.array_equal(clip.truth[9], read_mask(clip.source.parent / "groundtruth" / "gt0010.png"))
    assert set(np.unique(clip.truth[9])) <= {0, 255}


def test_read_mask_keeps_cdnet_labels_and_rounds_stray_greys(tmp_path):
    labels = np.array([[0, 50, 85, 170, 255, 3, 140]], np.uint8)
    cv2.imwrite(str(tmp_path / "gt.png"), labels)
    assert read_mask(tmp_path / "gt.png").tolist() == [[0, 50, 85, 170, 255, 0, 255]]


def test_shared_clips_lists_every_clip_with_ground_truth():
    if not SHARED_DATA.exists():
        pytest.skip(f"{SHARED_DATA} is absent: the shared research clips are not on this machine")
    names = [clip.name for clip in shared_clips(SHARED_DATA)]
    assert names[0] == "bmc-video003" and len(names) == 9 and "wallflower-WavingTrees" in names
    assert all(clip.truth for clip in shared_clips(SHARED_DATA))
