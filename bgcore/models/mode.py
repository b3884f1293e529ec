"""Each pixel's most frequent value as its background, with a threshold that follows each
pixel's own variation: the default method, chosen on the clips with ground truth in
``../shared/data`` (see the README's "Automatic settings").
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from .. import masks
from ..stats import evenly, moving_background, noise_of, pixel_modes, same_exposure
from .base import AUTO_FACTOR, BackgroundModel, Param

SPREAD_FACTOR = 2.5
"""The automatic threshold before it is lowered (``AUTO_FACTOR`` times the clip's noise level: the
median spread of the pixels that vary, :func:`bgcore.stats.noise_of`) is, at each pixel, at least
this many times its own spread (water, waving leaves); lowered, it is lowered there in proportion."""
WEAK_SHARE = 0.5
"""Hysteresis: pixels over half the threshold join a region that crosses it."""
LOWER_STEPS = (0.85, 0.7, 0.6, 0.5)
"""The automatic threshold is lowered to these fractions of its first value, one after the other...
"""
LOWER_GROWTH = 0.35
"""...while the masks of the sample (before clean-up) grow by at most this power of the step: at
half the threshold, to 1.27 times their area. Lowering the threshold fills in what a still
scene's threshold left of its people (clothes the colour of the wall behind), and the masks grow
little; where lowering it brings in noise, ripples or a compressed clip's blocks, they grow fast
and the threshold stays. The nine-times-noise threshold suits the second; the first do best at
half of it: on the 25 clips of SBI and UCSD not in ../shared/data, mean F 0.508 against 0.501,
no clip lower."""
LOWER_FRAMES = 16
"""Frames of the sample, evenly spaced, on whose masks the growth is measured."""


class ModeBackground(BackgroundModel):
    """The background is each pixel's mode over the sample (:func:`bgcore.stats.pixel_modes`);
    a pixel is foreground where it differs from it by more than the threshold, scaled up where
    the pixel's background varies more than the clip's (in the manner of ViBe's and SuBSENSE's
    per-pixel models) or moves (:func:`bgcore.stats.moving_background`), with hysteresis
    that does not grow into moving background or shade, and cast shadows removed (colour clips).
    The camera's changes of exposure are divided out of the sample and of every frame
    (:class:`bgcore.masks.Exposure`). The automatic threshold is lowered, down to half, while
    that only fills in what the sample's masks found (``LOWER_STEPS``, ``LOWER_GROWTH``).

    shadows : "remove" (default) or "keep"
        "remove" counts as background what darkens the background evenly without changing its
        hue (:func:`bgcore.masks.shadows`).
    exposure : bool, default True
        Follow each frame's exposure against the background; False compares frames as they
        are (the live page follows the light itself, moving the background with it).

    Attributes after ``fit``: ``spread_`` (H, W), each pixel's spread around its mode, in grey
    levels, widened where the background moves; ``noise_``, the noise level of the spread before
    that (:func:`bgcore.stats.noise_of`).
    """

    name = "mode"
    fit_pixels_per_s, apply_pixels_per_s = 36e6, 32e6
    label = "Recommended: any still camera"
    technical = "Per-pixel mode, with a per-pixel threshold from each pixel's spread"
    summary = ("Learns how each spot usually looks, and how much it flickers, then marks what "
               "differs. People walking or standing, cars, waving trees, water.")
    params = (
        Param("shadows", "Shadows", "Remove: a shadow cast on the background stays background "
              "(colour clips only). Keep: shadows count as foreground.", choices=("remove", "keep")),
    )
    fits_uint8 = True  # the sample as decoded: a quarter of the memory, the same background
    min_threshold = 3.0  # the other methods' 15 is too much for a clean, synthetic or flat clip
    exposure = True  # (for a model pickled before the option: it is set in __init__)

    def __init__(self, *, shadows: str = "remove", exposure: bool = True):
        self.shadows = shadows
        self.exposure = exposure

    def __getstate__(self):
        # Without what _exposure derives from the background (an app keeps fits on disk).
        return {key: value for key, value in self.__dict__.items() if key != "_exposure"}

    def _fit(self, frames, progress):
        self.__dict__.pop("_exposure", None)  # an earlier fit's
        # The progress in shares of the fit's time (road-640x360: 0.87 s): exposure a fifth, the
        # modes two, the background's movement one, the threshold's lowering (fit(), after) one;
        # the modes' alone, the page said 100 % for 0.34 s of it.
        frames = same_exposure(frames)
        progress(0.2)
        self.background_, spread = pixel_modes(frames, lambda fraction: progress(0.2 + 0.4 * fraction))
        self._noise = noise_of(spread)
        moving, self.spread_ = moving_background(frames, self.background_, spread)
        progress(0.8)
        self._share = np.where(moving, 1.0, WEAK_SHARE).astype(np.float32)
        clip = AUTO_FACTOR * self._noise
        # Differences are scaled down where the pixel's own spread asks for more than the clip's
        # threshold, so that one threshold (the slider's) serves every pixel.
        self._gain = clip / np.maximum(clip, SPREAD_FACTOR * self.spread_) if clip > 0 else 1.0
        colour = frames.shape[-1] == 3 and np.abs(np.diff(self.background_, axis=-1)).mean() > 1
        self._shadows = self.shadows == "remove" and colour

    @cached_property  # not made by _fit: a model pickled before it was added gets it too
    def _exposure(self) -> masks.Exposure:
        return masks.Exposure.of(self.background_)

    def _noise_level(self, frames):
        return self._noise

    def _auto_threshold(self, frames):
        threshold = super()._auto_threshold(frames)
        levels = threshold * np.array([1.0, *LOWER_STEPS])
        # The masks' pixels at each level, counted a frame at a time: the 16 frames' distances and
        # shares kept at once took 30 MB at 640x360, in the app's server too.
        areas = np.zeros(len(levels))
        for i in evenly(len(frames), LOWER_FRAMES):
            # Shadows looked for where the least level finds anything, as mask() does for its own.
            distance, share = self.difference_and_share(frames[i].astype(np.float32), levels[-1])
            areas += [np.count_nonzero(masks.threshold_mask(distance, level, weak=level * share)) for level in levels]
        if areas[0] == 0:  # nothing found (a live burst of the empty scene): no growth to measure
            return threshold
        lowered = threshold
        for step, level, area in zip(LOWER_STEPS, levels[1:], areas[1:]):
            if level < self.min_threshold or area > areas[0] * step ** -LOWER_GROWTH:
                break
            lowered = level
        return float(lowered)

    def difference(self, frame):
        """The distance to the mode (H, W), scaled by each pixel's gain; 0 on cast shadows."""
        return self.difference_and_share(frame)[0]

    def difference_and_share(self, frame, threshold=None):
        gains = self._exposure.gains(frame) if self.exposure else None
        if gains is not None:
            frame = masks.Exposure.undo(frame, gains)
        share = self._share
        distance = masks.difference(frame, self.background_) * self._gain
        if self._shadows:
            # Shadows lower a distance and raise a share: only pixels of the regions over their
            # share of the threshold that cross it somewhere can change the hysteresis's mask (on
            # the road clip a fifth of the frame, where the specks over their share alone spread
            # over nine tenths: 0.6 ms a frame less). The clean-up may differ where its closing
            # adds pixels in a shadow left untested: a few pixels a frame (6 on bmc-video003, 36
            # on sbi-HighwayI), F within 0.002 of the whole frame's test on the 34 clips we score.
            candidates = None if threshold is None else masks.threshold_mask(distance, threshold, weak=threshold * share)
            cast, shade = masks.shadows(frame, self.background_, candidates)
            distance[cast] = 0
            share = np.maximum(share, shade)  # 1 on shade (share is at most 1)
        return distance, share
