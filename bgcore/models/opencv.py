"""OpenCV's online background subtractors, as comparators: MOG2 (Zivkovic 2004, 2006) and KNN
(Zivkovic and van der Heijden 2006), through the same pipeline as every other method.

They learn from frames in order and answer with a mask, not a distance. Here ``fit`` feeds
them the sample in order (it spans the clip), and ``difference`` returns 255 on their
foreground and 0 elsewhere, so that the shared threshold (any value from 0 to 254; the
automatic one is 15 since the noise level is 0) and clean-up apply unchanged. Shadows (127)
count as background.

By default (``learning_rate="auto"``) each ``difference`` call also learns from its frame, as
OpenCV's online use does: the export visits the frames in order, so its masks are OpenCV's own,
warm-started on the sample (on bmc-video003, F 0.85 for MOG2 and 0.87 for KNN; frozen, KNN
drops to 0.67 on the synthetic clip). The price: the answer for a frame depends on the frames
asked before. ``learning_rate=0`` freezes the model after ``fit``, so that ``difference`` is a
function of the frame alone (repeatable previews).
"""

from __future__ import annotations

import cv2
import numpy as np

from .. import masks
from .base import BackgroundModel, Param

SHADOW = 127


class _OpenCVSubtractor(BackgroundModel):
    """Common part of the OpenCV subtractors. learning_rate : "auto" (online) or 0 (frozen)."""

    in_order = True
    closing_share = 0.0  # 0 or 255: no difference between tells an object's parts from the background

    params = (
        Param("learning_rate", "After fitting", "auto: keeps learning frame after frame, as OpenCV "
              "does; 0: frozen after the sample, so a frame always gets the same mask.",
              choices=("auto", 0)),
    )

    def __init__(self, *, learning_rate="auto"):
        self.learning_rate = learning_rate

    def _create(self):
        raise NotImplementedError

    def _fit(self, frames, progress):
        self._subtractor = self._create()
        for number, frame in enumerate(frames, start=1):
            self._subtractor.apply(_to_uint8(frame))
            progress(number / len(frames))
        plate = self._subtractor.getBackgroundImage().astype(np.float32)
        self.background_ = plate.reshape(frames.shape[1:])

    def _noise_level(self, frames):
        # The differences are 0 or 255: there is no noise to measure, and any threshold from
        # 0 to 254 gives the subtractor's own mask.
        return 0.0

    def difference(self, frame):
        """255 where the subtractor sees foreground, else 0 (H, W) float32."""
        rate = -1 if self.learning_rate == "auto" else 0
        mask = self._subtractor.apply(_to_uint8(frame), learningRate=rate)
        return np.where(mask > SHADOW, 255, 0).astype(np.float32)


class MOG2Background(_OpenCVSubtractor):
    """OpenCV's ``createBackgroundSubtractorMOG2`` with its default settings."""

    name = "mog2"
    fit_pixels_per_s, apply_pixels_per_s = 70e6, 29e6
    label = "For comparison: OpenCV MOG2"
    technical = "OpenCV's BackgroundSubtractorMOG2, a mixture of Gaussians per pixel"
    summary = ("A well-known free tool's classic method, to compare with: it learns a few typical "
               "colours per spot.")

    def _create(self):
        return cv2.createBackgroundSubtractorMOG2()


class KNNBackground(_OpenCVSubtractor):
    """OpenCV's ``createBackgroundSubtractorKNN`` with its default settings."""

    name = "knn"
    fit_pixels_per_s, apply_pixels_per_s = 32e6, 27e6
    label = "For comparison: OpenCV KNN"
    technical = "OpenCV's BackgroundSubtractorKNN, nearest neighbours among each pixel's recent values"
    summary = ("A well-known free tool's method, to compare with: a spot is background when it "
               "looks like enough of its recent values.")

    def _create(self):
        return cv2.createBackgroundSubtractorKNN()


def _to_uint8(frame: np.ndarray) -> np.ndarray:
    """A working frame (H, W, C) float32 RGB as the uint8 image OpenCV expects (BGR order is
    irrelevant to these per-pixel models, so the channels stay as they are)."""
    image = masks.to_uint8(frame)
    return image[..., 0] if image.shape[-1] == 1 else image
