"""Temporal median background: the simple, strong baseline."""

from __future__ import annotations

import numpy as np

from .base import BackgroundModel


class MedianBackground(BackgroundModel):
    """Each pixel's background is its median over the sampled frames.

    Holds wherever every pixel shows the background in more than half of the frames.
    """

    name = "median"
    summary = ("Each pixel's most typical value over time. Works when the camera stands still "
               "and people or cars keep moving.")

    def _fit(self, frames, progress):
        self.background_ = np.median(frames, axis=0).astype(np.float32)
        progress(1.0)
