"""Live background replacement from a camera, after the blog post ``../shared/seeds/002_*.txt``:
a picture of the empty scene is the reference, every frame is compared with it, and what differs
is shown over another picture or video.

Where the seed keeps one frame and two fixed thresholds (13 per channel, 10 on grey), the
reference here is a burst of frames of the empty scene fitted with the default method
(:class:`bgcore.models.ModeBackground`): each pixel's most frequent look, so that sensor noise
averages out instead of becoming the mask, and each pixel's spread over the burst, which sets
the automatic threshold (9 times the burst's noise level, more where a spot flickers) as for
a clip (a clip's is lowered where its masks allow; a burst of the empty scene has none to
measure). Frames are masked at a working width of at most ``WORK_WIDTH`` pixels, cleaned up as
the clip pipeline does, and the reference follows slow light changes where the mask says
background (:func:`mask`). Plain functions over uint8 RGB frames; :class:`LiveProcessor` keeps
the little state a stream needs (the burst being captured, the reference, the settings).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

import cv2
import numpy as np

from . import composite as _composite
from .composite import backdrops, blurred
from .hints import Size
from .masks import (CLOSING_SHARE, MaskOptions, clean_mask, difference, grow, shadows, threshold_mask, to_uint8,
                    to_working)
from .models.base import AUTO_FACTOR
from .models.mode import ModeBackground
from .stabilize import PHOTO_COVER, onto_view
from .video import VideoError

WORK_WIDTH = 320
"""Frames are masked at most this wide: 640x480 at half size keeps a frame's work near 10 ms."""
BURST = 15
"""Frames of the empty scene the reference is fitted on (half a second at 30 fps)."""
FOLLOW = 0.05
"""Share of a background pixel's reference that follows the frame, each frame: a time constant
of 20 frames, quicker than a cloud or a lamp dims the room, slower than a person moves."""
FEATHER = 1.0
"""Standard deviation in working pixels of the blur that softens the mask's edge."""
MIN_STILL = 0.2
"""Exposure is only matched on a background of at least this share of the picture."""
MIN_THRESHOLD = 6.0
"""Lowest automatic threshold: a camera's compressed frames are never cleaner than this."""
PAIR_QUANTILE = 25
"""Photo mode: the noise is read from the quarter of pixels that differ least between the two
photos, so that a person may cover up to three quarters of the picture..."""
PAIR_SPREAD = 0.899
"""...where, for Gaussian noise of standard deviation s in each channel of each photo, the
distance of :func:`bgcore.masks.difference` has its 25th percentile at 0.899 s (sqrt(2) s times
the 25th percentile, 0.636, of sqrt(chi2(3) / 3))."""


@dataclass
class Reference:
    """The empty scene: ``model`` a fitted :class:`ModeBackground` at working ``scale``, for frames
    of ``size`` (width, height). ``model.background_`` follows the light (:func:`mask`)."""


    model: ModeBackground
    scale: float
    size: tuple[int, int]
    last: np.ndarray | None = None
    """The mask of the last frame (h, w) bool: its background is where exposure is compared."""

    @property
    def auto_threshold(self) -> float:
        return max(MIN_THRESHOLD, self.model.auto_threshold_)

    @property
    def noise(self) -> float:
        return self.model.noise_


def working_scale(width: int) -> float:
    return min(1.0, WORK_WIDTH / width)


def capture(burst: Iterable[np.ndarray]) -> Reference:
    """The reference fitted on ``burst``: at least two uint8 RGB frames (H, W, 3) of the empty
    scene, all of one size."""
    burst = list(burst)
    if len(burst) < 2:
        raise ValueError(f"burst of {len(burst)} frame(s): the empty scene needs at least 2.")
    height, width = burst[0].shape[:2]
    if any(frame.shape != burst[0].shape for frame in burst):
        raise ValueError("burst: the frames differ in size; capture the empty scene again.")
    scale = working_scale(width)
    frames = np.stack([to_working(frame, measure="rgb", scale=scale) for frame in burst])
    return Reference(ModeBackground(exposure=False).fit(frames), scale, (width, height))


def mask(frame: np.ndarray, reference: Reference, *, threshold: float | None = None,
         options: MaskOptions = MaskOptions(), follow: float = FOLLOW) -> np.ndarray:
    """Where ``frame`` (H, W, 3) uint8 RGB differs from the reference: (h, w) bool at the working
    scale (:func:`composite` and :func:`cutout` take it as it is).

    threshold : grey levels, or None for the reference's automatic one.
    follow : the share of the reference that moves towards the frame where the mask says
        background (a running average), so that slow light changes do not flood the mask;
        0 keeps the reference as captured.
    """
    if frame.shape[1::-1] != reference.size:
        raise ValueError(f"frame of {frame.shape[1]}x{frame.shape[0]}: the reference was captured at "
                         f"{reference.size[0]}x{reference.size[1]}; capture the empty scene again.")
    threshold = reference.auto_threshold if threshold is None else float(threshold)
    work = to_working(frame, measure="rgb", scale=reference.scale)
    work *= _exposure(work, reference)
    found = reference.model.mask(work, replace(options, threshold=threshold))
    if follow > 0:
        cv2.accumulateWeighted(work, reference.model.background_, follow, mask=(~found).astype(np.uint8))
    reference.last = found
    return found


def _exposure(work: np.ndarray, reference: Reference) -> np.ndarray:
    """Per channel, the gain (3,) that brings the frame's background to the reference's brightness.

    A camera's automatic exposure and white balance change the whole picture at once (when a
    dark shirt fills half of it, or a cloud passes): without this, every pixel crosses the
    threshold together. The median of the ratios over the last frame's background: the person
    who caused the change does not count, nor does a waving tree (a ratio of means swung with
    it: F 0.74 on WavingTrees against 0.98); 1 before any frame, and where that background is
    too small to trust.
    """
    if reference.last is None:
        return np.ones(3, np.float32)
    # Every 4th pixel each way: the median of 5,000 ratios is steady and costs little.
    still = ~reference.last[::4, ::4]
    if still.mean() < MIN_STILL:
        return np.ones(3, np.float32)
    ratios = (reference.model.background_[::4, ::4][still] + 1) / (work[::4, ::4][still] + 1)
    return np.median(ratios, axis=0).astype(np.float32)


def composite(frame: np.ndarray, mask: np.ndarray, backdrop: np.ndarray, *,
              feather: float = FEATHER) -> np.ndarray:
    """The foreground of ``frame`` (H, W, 3) uint8 over ``backdrop`` of the same shape, ``mask``
    (h, w) bool at any scale: :func:`bgcore.composite.composite`, feathered at the working scale."""
    return _composite.composite(frame, mask, backdrop, feather=feather)


def cutout(frame: np.ndarray, mask: np.ndarray, *, feather: float = FEATHER) -> np.ndarray:
    """The foreground of ``frame`` (H, W, 3) uint8 with transparency: (H, W, 4) uint8 RGBA."""
    return np.dstack([frame, _composite.alpha(mask, frame.shape[1::-1], feather=feather)])


def plain(colour: tuple[int, int, int], size: Size) -> np.ndarray:
    """A backdrop of one uint8 RGB ``colour`` at ``size`` (width, height)."""
    return np.full((size[1], size[0], 3), colour, np.uint8)


def line_up(empty: np.ndarray, person: np.ndarray) -> tuple[np.ndarray, bool]:
    """Photo mode: the photo of the empty scene on the view of the one with the person, at its light
    (both (H, W, 3) uint8 RGB; :func:`bgcore.stabilize.onto_view`), uint8 as ``person``, and
    whether it was lined up: a phone held by hand moves between two photos, and a pixel's shift
    turned every edge into foreground (on 11 annotated scenes whose empty photo moved by 1 or 3
    pixels, :func:`photo_mask`'s mean F 0.75 and 0.52 compared as they were, 0.83 and 0.81 lined
    up; 0.85 unmoved). Photos of one size that do not match are kept as they are: someone filling
    most of the picture leaves too little to match (and so does a plain wall).
    """
    found = onto_view(empty, person)
    if found is not None and found[1].mean() >= PHOTO_COVER:
        # Beyond the first photo: nothing to compare.
        return to_uint8(np.where(found[1][..., None], found[0], person)), True
    if empty.shape != person.shape:
        raise ValueError("The two photos do not show the same place: take both from the same spot, "
                         "facing the same way.")
    return empty, False


def photo_mask(empty: np.ndarray, person: np.ndarray, *, threshold: float | None = None,
               options: MaskOptions = MaskOptions()) -> tuple[np.ndarray, float]:
    """Photo mode: where ``person`` differs from ``empty`` (both (H, W, 3) uint8 RGB, the same
    size: :func:`line_up` them first), as (h, w) bool at the working scale, and the automatic threshold.

    One photo of the empty scene has no spread of its own to measure: the noise level comes
    from the two photos' difference where it is smallest (``PAIR_QUANTILE``), the threshold is
    ``AUTO_FACTOR`` times it as for a clip, and cast shadows count as background.
    """
    if empty.shape != person.shape:
        raise ValueError(f"photos of {empty.shape[1]}x{empty.shape[0]} and {person.shape[1]}x"
                         f"{person.shape[0]}: line them up first (line_up).")
    scale = working_scale(person.shape[1])
    background = to_working(empty, measure="rgb", scale=scale)
    frame = to_working(person, measure="rgb", scale=scale)
    distance = difference(frame, background)
    noise = float(np.percentile(distance, PAIR_QUANTILE)) / PAIR_SPREAD
    auto = max(MIN_THRESHOLD, AUTO_FACTOR * noise)
    distance[shadows(frame, background)[0]] = 0
    threshold = auto if threshold is None else float(threshold)
    found = threshold_mask(distance, threshold)
    return clean_mask(found, distance, options, least=CLOSING_SHARE * threshold), auto


class LiveProcessor:
    """What a live stream needs between frames: call it with each uint8 RGB frame, it returns the
    frame to show. Thread-safe: the stream calls it from its own thread while the page changes
    the settings.

    Before a capture it shows the camera as it is; :meth:`start_capture` counts ``countdown``
    seconds down on the picture (time to step out of it), then keeps ``BURST`` frames and fits
    the reference on them. Then every frame is masked and shown as ``view``: "mask" (white on
    black), "colour" (over ``colour``), "blur" (over the blurred room), "picture" or "video"
    (over the image or video file ``backdrop``, kept in shape, a video looped: see
    :func:`bgcore.composite.backdrops`).
    """

    VIEWS = ("mask", "colour", "blur", "picture", "video")

    def __init__(self):
        self.lock = threading.Lock()
        self.view = "colour"
        self.colour = (0, 177, 64)
        self.threshold: float | None = None
        self.backdrop = None
        self._backdrops = (None, None)  # (path, size) and its frames
        self._plain = np.zeros((0, 0, 3), np.uint8)
        self.reference: Reference | None = None
        self.captures = 0
        self.last_frame = 0.0
        self.frames = 0
        self.error = ""
        self._burst: list[np.ndarray] = []
        self._capture_at: float | None = None

    def start_capture(self, countdown: float = 3.0) -> None:
        with self.lock:
            self._burst, self._capture_at, self.error = [], time.monotonic() + countdown, ""

    def stop_capture(self) -> None:
        """Forget a capture under way (the stream stopped: the frames after it are not the
        countdown's; the next START must not capture on its own)."""
        with self.lock:
            self._burst, self._capture_at = [], None

    @property
    def capturing(self) -> bool:
        return self._capture_at is not None

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        self.last_frame, self.frames = time.monotonic(), self.frames + 1
        with self.lock:
            if self._capture_at is not None:
                return self._capture(frame)
            reference = self.reference
            if reference is None:
                return _caption(frame, "Step out of the picture and click Capture the empty scene")
            if reference.size != frame.shape[1::-1]:
                return _caption(frame, "The camera changed size: capture the empty scene again")
            found = mask(frame, reference, threshold=self.threshold)
            return self._show(frame, found)

    def _capture(self, frame):
        left = self._capture_at - time.monotonic()
        if left > 0:
            return _caption(frame, f"Step out of the picture: {int(np.ceil(left))}", big=True)
        self._burst.append(frame)
        if len(self._burst) >= BURST:
            try:
                self.reference = capture(self._burst)
                self.captures += 1
            except ValueError as error:
                self.error = str(error)
            self._burst, self._capture_at = [], None
        return _caption(frame, "Capturing the empty scene: keep still")

    def _show(self, frame, found):
        size = frame.shape[1::-1]
        if self.view == "mask":
            return cv2.cvtColor(grow(found.astype(np.uint8) * 255, size), cv2.COLOR_GRAY2RGB)
        if self.view == "blur":
            backdrop = blurred(frame)
        elif self.view in ("picture", "video") and self.backdrop is not None:
            try:
                backdrop = self._backdrop(size)
            except (VideoError, StopIteration) as error:  # broke halfway: say so, show the colour
                self.error = str(error) or "the background video ended early: choose it again."
                self.backdrop, self._backdrops = None, (None, None)  # not the dead reader again
                return self._show(frame, found)
        else:
            if self._plain.shape[1::-1] != size or tuple(self._plain[0, 0]) != tuple(self.colour):
                self._plain = plain(self.colour, size)  # once: filling 640x480 takes milliseconds
            backdrop = self._plain
        return composite(frame, found, backdrop)

    def _backdrop(self, size):
        key, frames = self._backdrops
        if key != (self.backdrop, size):
            frames = backdrops(self.backdrop, size)
            self._backdrops = (self.backdrop, size), frames
        return next(frames)


def _caption(frame: np.ndarray, text: str, *, big: bool = False) -> np.ndarray:
    """``frame`` with ``text`` written across its lower part, white on a dark band."""
    out = frame.copy()
    height, width = out.shape[:2]
    scale = width / (500 if big else 1100)
    (text_width, text_height), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    scale *= min(1.0, 0.95 * width / text_width)
    text_height = int(text_height * min(1.0, 0.95 * width / text_width))
    top = height - 3 * text_height
    out[top:] //= 3
    cv2.putText(out, text, (width // 40, height - text_height), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (255, 255, 255), max(1, round(scale * 2)), cv2.LINE_AA)
    return out
