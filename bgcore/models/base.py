"""The interface every background method shares, in the manner of scikit-learn's estimators."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import masks
from ..hints import FitProgress
from ..stats import clip_noise, evenly
from .estimator import Estimator

NOISE_SAMPLE = 20
"""Frames of the fitting sample a model's own difference noise is measured on."""
AUTO_FACTOR = 9.0
"""Automatic threshold: this many times the clip's noise level... Compressed video's noise has
heavy tails, hence 9 rather than the Gaussian 3-4 (on bmc-video003, 4x gives F 0.82 and many
false specks; 9x gives 0.89-0.90 for every method)."""
MIN_THRESHOLD = 15.0
"""...but at least this, unless the model's ``min_threshold`` says otherwise."""


def check_frames(frames: np.ndarray, *, keep_uint8: bool = False) -> np.ndarray:
    """Validate a fitting sample: ndarray of shape (T, H, W, C), C in (1, 3); returned as float32
    (uint8 as it is with ``keep_uint8``)."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] not in (1, 3):
        raise ValueError(f"frames of shape {frames.shape}: need (T, H, W, C) with C = 1 or 3.")
    if len(frames) < 2:
        raise ValueError(f"frames: {len(frames)} frame(s); a background model needs at least 2.")
    return frames if keep_uint8 and frames.dtype == np.uint8 else frames.astype(np.float32, copy=False)


@dataclass(frozen=True)
class Param:
    """One parameter of a method: what it means and which values it takes. The one table of
    constraints: ``fit`` checks against it, the command line too, and the app draws its widgets
    from it.

    kind "value": ``choices`` are the values a select box offers (may include "auto"); ``low``..
    ``high`` is the range of numbers accepted (a slider when there are no choices), of whole
    numbers when both ends are ints. kind "frame": a frame number of the clip (0-based, among the
    selected frames) or "auto" (a frame picker showing the frame); the model checks it against
    the frames it is given. kind "image": a picture (H, W, 3), RGB from 0 to 255, or None (the
    app offers an upload and the command line a path, which ``fit_clip`` reads). ``shown``: False for a setting left to code (no
    widget, no command-line flag).
    """

    name: str
    label: str
    help: str
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    kind: str = "value"
    shown: bool = True

    @property
    def whole(self) -> bool:
        return isinstance(self.low, int) and isinstance(self.high, int)

    def allows(self, value: object) -> bool:
        if self.kind == "frame":
            return value == "auto" or _is_number(value, whole=True) and value >= 0
        if self.kind == "image":
            return value is None or isinstance(value, np.ndarray) and value.ndim == 3 and value.shape[-1] == 3
        if any(_equal(value, choice) for choice in self.choices or ()):
            return True
        return self.low is not None and _is_number(value, whole=self.whole) and self.low <= value <= self.high

    def values(self) -> str:
        """The values it takes, in words ("a whole number from 1 to 10")."""
        if self.kind == "frame":
            return "a frame number from 0, or 'auto'"
        if self.kind == "image":
            return "a picture (H, W, 3), RGB from 0 to 255, or None"
        listed = [repr(c) for c in self.choices or ()]
        if self.low is not None:
            listed.append(f"{'a whole number' if self.whole else 'a number'} from {self.low:g} to {self.high:g}")
        return " or ".join(filter(None, [", ".join(listed[:-1]), listed[-1]]))

    def check(self, value: object, name: str | None = None) -> None:
        """Raise ValueError naming the parameter (or ``name``) if ``value`` is not allowed."""
        if not self.allows(value):
            shown = f"array of shape {value.shape}" if isinstance(value, np.ndarray) else repr(value)
            raise ValueError(f"{name or self.name}={shown}: use {self.values()}.")


def _equal(value, choice) -> bool:
    """``value == choice`` of the same kind: 2 is not "2", True is not 1, 2.0 is not the whole 2."""
    if _is_number(choice, whole=False):
        return _is_number(value, whole=_is_number(choice, whole=True)) and value == choice
    return type(value) is type(choice) and value == choice


def _is_number(value, *, whole: bool) -> bool:
    kinds = (int, np.integer) if whole else (int, float, np.integer, np.floating)
    return isinstance(value, kinds) and not isinstance(value, bool)


class BackgroundModel(Estimator):
    """A background model fitted on a sample of frames, then applied frame by frame.

    Its parameters are its ``__init__``'s keyword arguments, stored under the same names
    (``get_params``, ``set_params``, the repr: :class:`bgcore.models.estimator.Estimator`).

    Subclasses implement ``_fit`` (setting ``background_``) and may override ``background``
    when the background changes with the frame. After ``fit``:

    background_ : ndarray (H, W, C) float32, the background plate.
    noise_ : float, the clip's noise level (:func:`bgcore.stats.clip_noise`).
    auto_threshold_ : float, the threshold ``threshold="auto"`` uses: ``AUTO_FACTOR`` times
        ``noise_``, at least the class's ``min_threshold``, or less where the model finds the
        clip allows it (:meth:`_auto_threshold`).
    """

    name = ""
    label = ""
    """What the method is good for, in plain words: its name in the app."""
    technical = ""
    """Its technical name, for those who want it (the app's Advanced part)."""
    summary = ""
    params: tuple[Param, ...] = ()
    min_threshold = MIN_THRESHOLD
    closing_share = masks.CLOSING_SHARE
    """The clean-up's closing adds only pixels that differ by more than this share of the threshold."""
    in_order = False
    """True when ``mask`` learns from each frame and must see them one at a time, in order; the
    others' masks are made on several frames at once (:func:`bgcore.pipeline.export`)."""
    fits_uint8 = False
    """True when ``fit`` takes uint8 frames as they are, without a float32 copy of the sample."""
    fit_seconds = 0.0
    """Seconds a fit takes whatever the sample's size (robust PCA's iterations), beside...
    """
    fit_pixels_per_s = 3e6
    """...its speed, in pixels of the sample times its frames a second (working scale), and...
    """
    apply_pixels_per_s = 8e6
    """...applying speed (mask, clean-up, encoding what the app exports), in output pixels times
    frames a second beside ``bgcore.estimate.FRAME_SECONDS`` a frame: what
    :func:`bgcore.estimate.estimate` tells before a run. Each method sets its own, measured by
    the clock on the project's 2-core machine as ``bgcore/estimate.py`` tells."""

    def fit(self, frames: np.ndarray, progress: FitProgress | None = None) -> BackgroundModel:
        """Learn the background from frames (T, H, W, C) float32 (or uint8); returns self.

        progress : callable(fraction) or None, called with numbers from 0 to 1.
        """
        frames = check_frames(frames, keep_uint8=self.fits_uint8)
        for param in self.params:
            param.check(getattr(self, param.name))
        progress = progress or (lambda fraction: None)
        self._fit(frames, progress)
        self.noise_ = self._noise_level(frames)
        self.auto_threshold_ = self._auto_threshold(frames)
        progress(1.0)  # here, not in _fit: the mode's threshold takes a fifth of its fit
        return self

    def _fit(self, frames: np.ndarray, progress) -> None:
        raise NotImplementedError

    def _auto_threshold(self, frames: np.ndarray) -> float:
        """``auto_threshold_`` once fitted: ``AUTO_FACTOR`` times ``noise_``, at least ``min_threshold``.
        A model that can tell where less will do lowers it here (:class:`~bgcore.models.ModeBackground`)."""
        return max(self.min_threshold, AUTO_FACTOR * self.noise_)

    def _noise_level(self, frames: np.ndarray) -> float:
        """The clip's noise level, measured where the background is, whatever the model."""
        return clip_noise(frames)

    def _difference_noise(self, frames: np.ndarray, measure) -> float:
        """Robust noise level of ``measure(frame)`` over a few sampled frames."""
        picked = evenly(len(frames), NOISE_SAMPLE)
        return masks.noise_level(np.stack([measure(frames[i]) for i in picked]))

    def background(self, frame: np.ndarray) -> np.ndarray:
        """The background estimate (H, W, C) float32 for ``frame``."""
        return self.background_

    def difference(self, frame: np.ndarray) -> np.ndarray:
        """Distance (H, W) float32 between ``frame`` (H, W, C) float32 and its background."""
        return masks.difference(frame, self.background(frame))

    def difference_and_share(self, frame: np.ndarray,
                             threshold: float | None = None) -> tuple[np.ndarray, float | np.ndarray]:
        """:meth:`difference`, and the share of the threshold over which a pixel joins a
        foreground region it touches (hysteresis, :func:`bgcore.masks.threshold_mask`): a number,
        or per pixel (H, W); 1 for none. Given the ``threshold`` the mask will use, a model
        may leave out work on pixels that cannot join the mask's hysteresis at it."""
        return self.difference(frame), 1.0

    def mask(self, frame: np.ndarray, options: masks.MaskOptions = masks.MaskOptions()) -> np.ndarray:
        """Foreground (H, W) bool of ``frame`` (H, W, C) float32, as OpenCV's ``apply``: the
        threshold ``options`` choose (``"auto"``: ``auto_threshold_``), then their clean-up."""
        threshold = options.resolve_threshold(self.auto_threshold_)
        difference, share = self.difference_and_share(frame, threshold)
        found = masks.threshold_mask(difference, threshold, weak=threshold * share)
        return masks.clean_mask(found, difference, options, least=self.closing_share * threshold)
