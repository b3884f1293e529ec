"""Temporal median background: the simple, strong baseline."""

from __future__ import annotations

import numpy as np

from ..hints import FitProgress
from .base import BackgroundModel

ROWS = 16


class MedianBackground(BackgroundModel):
    """Each pixel's background is its median over the sampled frames.

    Holds wherever every pixel shows the background in more than half of the frames.
    """

    name = "median"
    fit_pixels_per_s, apply_pixels_per_s = 10e6, 16e6
    label = "Simple: a busy street"
    technical = "Temporal median of each pixel"
    summary = ("Each spot's middle value over time. Works when people or cars keep moving.")

    def _fit(self, frames, progress):
        self.background_ = temporal_median(frames, progress)


def temporal_median(frames: np.ndarray, progress: FitProgress | None = None) -> np.ndarray:
    """Each pixel's median (H, W, C) over frames (T, H, W, C).

    Row by row: np.median copies what it sorts, and a copy of the whole sample would double the
    peak memory of the run.
    """
    median = np.empty(frames.shape[1:], np.float32)
    rows = range(0, frames.shape[1], ROWS)
    for done, row in enumerate(rows, start=1):
        median[row:row + ROWS] = np.median(frames[:, row:row + ROWS], axis=0)
        if progress:
            progress(done / len(rows))
    return median
