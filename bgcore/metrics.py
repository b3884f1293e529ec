"""Change-detection measures of CDnet 2014 (changedetection.net).

Ground truth labels: 255 foreground (positive); 0 and 50 (hard shadow) background (negative);
85 (outside the region of interest) and 170 (unknown motion) are not scored. Counts are summed
over all frames before the measures are taken.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from .hints import MaskPairs

POSITIVE = 255
NEGATIVE = (0, 50)


@dataclass(frozen=True)
class Counts:
    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(self.tp + other.tp, self.fp + other.fp, self.tn + other.tn, self.fn + other.fn)


def counts(predicted: np.ndarray, truth: np.ndarray) -> Counts:
    """Confusion counts of a predicted mask (bool, or 0/255) against a CDnet ground truth (uint8)."""
    if predicted.shape != truth.shape:
        raise ValueError(f"predicted {predicted.shape} and truth {truth.shape} differ in shape.")
    predicted = predicted.astype(bool)
    positive = truth == POSITIVE
    negative = np.isin(truth, NEGATIVE)
    return Counts(tp=int(np.sum(predicted & positive)), fp=int(np.sum(predicted & negative)),
                  tn=int(np.sum(~predicted & negative)), fn=int(np.sum(~predicted & positive)))


def scores(total: Counts) -> dict[str, float]:
    """Recall, Specificity, FPR, FNR, PWC, Precision and F-measure from summed counts.

    A ratio whose denominator is zero is reported as NaN.
    """
    tp, fp, tn, fn = total.tp, total.fp, total.tn, total.fn

    def ratio(num, den):
        return num / den if den else float("nan")

    recall, precision = ratio(tp, tp + fn), ratio(tp, tp + fp)
    return {
        "recall": recall,
        "specificity": ratio(tn, tn + fp),
        "fpr": ratio(fp, fp + tn),
        "fnr": ratio(fn, tp + fn),
        "pwc": ratio(100.0 * (fn + fp), tp + fn + fp + tn),
        "precision": precision,
        "f_measure": ratio(2 * precision * recall, precision + recall),
    }


def evaluate(pairs: MaskPairs) -> dict[str, float]:
    """Scores over an iterable of (predicted, truth) mask pairs, counts summed over frames."""
    total = Counts()
    for predicted, truth in pairs:
        total = total + counts(predicted, truth)
    return {**scores(total), **vars(total)}
