"""Reference-frame difference, after the background-replacement blog post
(``../shared/seeds/002_*.txt``): one picture of the empty scene is the background; a pixel is
foreground where a frame differs from it enough.
"""

from __future__ import annotations

import cv2
import numpy as np

from .. import masks
from .base import BackgroundModel, Param
from ..stabilize import PHOTO_COVER, onto_view
from .median import temporal_median

CHANNEL_FACTOR = 3.0
"""channel_threshold="auto": this many times the clip's per-channel noise level."""
GHOST_FACTOR = 8.0
"""reference="auto": pixels of the chosen frame farther than this many noise levels from the
median are something that moves (a person standing there), replaced by the median."""
GHOST_GROWTH = 3
"""... grown by this many pixels, to take in their soft edges and shadows."""
SEED_THRESHOLDS = {"channel_threshold": 13, "threshold": 10}
"""The seed's pair: 13 per channel (this model) and 10 on grey (the mask threshold)."""


class PhotoError(ValueError):
    """The photo of the empty scene does not fit the clip's view; the message says what to do."""


class ReferenceBackground(BackgroundModel):
    """The difference to one reference picture of the background.

    reference : int or "auto", default "auto"
        Index (among the frames given to ``fit``) of the frame that shows the empty scene; "auto"
        takes the frame closest (mean absolute difference) to the per-pixel median of the frames,
        and fills in from that median whatever in it differs from the median by more than
        ``GHOST_FACTOR`` noise levels: a clip may have no empty frame (bmc-video003 has none),
        and a person standing in the reference would leave a ghost in every mask (on
        bmc-video003 the patch takes F from 0.80 to 0.89). ``patched_`` counts those pixels.
        ``fit_clip`` maps a frame number of the clip onto the sample.
    reference_image : ndarray (H, W, 3) RGB or None
        A separate photo of the empty scene (any size; :func:`bgcore.video.read_image` reads a
        file); it wins over ``reference``. A phone's photo is lined up with the clip's view, its
        exposure and white balance brought to the clip's (:func:`bgcore.stabilize.onto_view`;
        the seed only resized it, which put a phone's photo many pixels off); what the clip shows
        beyond the photo comes from the frames' median (counted in ``patched_``). On simulated
        phone photos of 11 annotated clips, mean F 0.30 resized, 0.85 lined up, against 0.87 for
        the empty scene cut exactly as the clip.
    channel_threshold : float or "auto", default "auto"
        The seed's first step: per-channel absolute differences under it count as 0, before
        the channels are averaged to grey (BT.601) and thresholded again by the shared mask
        threshold. "auto" is 3 times the clip's noise level (at least 1 grey level).
        The seed's own values are ``SEED_THRESHOLDS``: 13, then 10 on grey.
    """

    name = "reference"
    fit_pixels_per_s, apply_pixels_per_s = 15e6, 60e6
    label = "I have a photo of the empty scene"
    technical = "Difference to a reference frame with a threshold (seed 002)"
    summary = ("Compares every frame with one picture of the empty scene: a photo you upload, a "
               "frame you pick, or the frame that looks most typical.")
    params = (
        Param("reference", "Reference frame", "The frame that shows the empty scene; auto takes the "
              "most typical one and fills in anyone standing in it.", kind="frame"),
        Param("reference_image", "Background photo", "A photo of the empty scene, taken from where "
              "the camera stood (any size: it is lined up with the clip); replaces the reference frame.",
              kind="image"),
        Param("channel_threshold", "Colour threshold", "Colour changes under this are ignored "
              "(the blog used 13); auto follows the clip's noise.",
              choices=("auto", 5, 8, 10, 13, 16, 20, 25, 30), low=0.0, high=255.0),
    )

    def __init__(self, *, reference="auto", reference_image=None, channel_threshold="auto"):
        self.reference = reference
        self.reference_image = reference_image
        self.channel_threshold = channel_threshold

    def _fit(self, frames, progress):
        median = temporal_median(frames)
        self.patched_ = 0
        if self.reference_image is not None:
            found = onto_view(masks.to_uint8(self.reference_image), median)
            if found is None:
                raise PhotoError("The photo of the empty scene does not match the clip's view: take it from "
                                 "where the camera stood, facing the same way, or choose a frame of the clip.")
            self.background_, reached = found
            if reached.mean() < PHOTO_COVER:
                upright = [image.shape[0] > image.shape[1] for image in (self.reference_image, median)]
                advice = (f"hold the phone {'on its side' if upright[0] else 'upright'}, as the clip was filmed"
                          if upright[0] != upright[1] else "take it from where the camera stood, without zooming in")
                raise PhotoError(f"The photo of the empty scene shows only {reached.mean():.0%} of the clip's "
                                 f"view: {advice}.")
            self.background_[~reached] = median[~reached]  # beyond the photo's view
            self.patched_ = int(np.count_nonzero(~reached))
            self.reference_ = None
        elif self.reference == "auto":
            self.reference_ = int(np.argmin(np.abs(frames - median).mean(axis=(1, 2, 3))))
            self.background_ = frames[self.reference_].copy()
            self._patch(frames, median)
        elif isinstance(self.reference, (int, np.integer)) and 0 <= self.reference < len(frames):
            self.reference_ = int(self.reference)
            self.background_ = frames[self.reference_].copy()
        else:
            raise ValueError(f"reference={self.reference!r}: use 'auto' or a frame number from 0 "
                             f"to {len(frames) - 1}.")
        self._noise = super()._noise_level(frames)  # once: the channel threshold needs it too
        if self.channel_threshold == "auto":
            self.channel_threshold_ = max(1.0, CHANNEL_FACTOR * self._noise)
        else:
            self.channel_threshold_ = float(self.channel_threshold)

    def _patch(self, frames, median):
        """Fill the reference's moving things (see ``reference``) in from the median."""
        noise = self._difference_noise(frames, lambda frame: masks.weighted_difference(frame, median))
        ghost = masks.weighted_difference(self.background_, median) > GHOST_FACTOR * noise
        size = 2 * GHOST_GROWTH + 1
        ghost = cv2.dilate(ghost.astype(np.uint8), np.ones((size, size), np.uint8)).astype(bool)
        self.background_[ghost] = median[ghost]
        self.patched_ = int(ghost.sum())

    def _noise_level(self, frames):
        return self._noise

    def difference(self, frame):
        """The seed's grey (BT.601) of the per-channel absolute differences, those under
        ``channel_threshold_`` set to 0 (H, W)."""
        delta = np.abs(frame - self.background_)
        delta[delta < self.channel_threshold_] = 0
        return masks.luma(delta)

