"""Per-pixel statistics of a sample of frames: each pixel's most frequent value and its spread.

The most frequent value (the mode) is the background wherever the background shows in more
frames than any single other look of that pixel, even when it shows in fewer than half of them:
foreground is varied (leaves, clothes, cars of every colour) where the background is one value
plus noise. A per-pixel median needs the background in more than half of the frames, and a
person standing in front for most of a clip (SBI's Board) or leaves over most of the picture
(SBI's Foliage) break it. Frames where a pixel is still count more (``STILL_WEIGHT``): a person
who stays in place still moves a little. The spread of the frames near the mode is then the
background's own variation: sensor and compression noise on still parts, more on water and waving
leaves.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from .hints import FitProgress
from .masks import Exposure, difference, luma, to_uint8

BIN = 8.0
"""Width in grey levels of the luma histogram each pixel's mode is found in."""
REACH = 1.5 * BIN
"""Frames whose luma lies within this of the mode's centre are the pixel's background frames."""
STILL_WEIGHT = 8
"""A frame counts this many times in a pixel's histogram where the pixel is still in it (see
:func:`still_maps`): a person who sits for most of a clip still moves a little, the empty seat
never does. On the 25 held-out SBI and UCSD clips (see the README) mean F 0.517 -> 0.551; two
clips of someone sitting or standing in place, sbi-CaVignal 0.62 -> 0.93, sbi-Candela 0.42 -> 0.67..."""
STILL_PATCH = 15
"""...still: the mean change of luma over this many pixels square, to the frames of the sample just
before and after (the lesser of the two), is..."""
STILL_MOTION = 1.2
"""...under this many times the frame's median of it."""
MAX_FRAMES = 60
"""Frames a noise estimate looks at, at most (every n-th frame of the sample)."""
MOVING_SHARE = 0.2
"""A pixel's background moves (leaves, ripples) where it leaves its mode in more than this share
of the frames..."""
MOVING_RUN = 3.0
"""...for at most this many frames in a row on average (a person who stands stays longer), or in
more than ``MOVING_ALWAYS`` of them..."""
MOVING_ALWAYS = 0.8
"""A pixel away from its mode in more than this share of a sample of ``MOVING_FRAMES`` frames or
more has no look of its own: a plant in a draught, a tree in the wind, whose leaves stay in each
look for a while (runs of 7 to 19 frames on CDnet's fall); a person who stays in place keeps one
look, which the mode takes. On the 36 clips with ground truth we score (the README's
*Automatic settings*), sbi-Candela 0.67 -> 0.83 (the palm beside the sofa), cdnet-fall 0.14 ->
0.20, WavingTrees 0.969 -> 0.982; sbi-Snellen, whose foreground covers half the picture nearly
all the time, 0.674 -> 0.655; no other clip moves by more than 0.001. A lower share takes such a
foreground for background (at 0.7: sbi-Foliage 0.71 -> 0.59)..."""
MOVING_FRAMES = 100
"""...and the short clips (UCSD's are 25 to 81 frames, a second or three) are left out: there an
object that lingers covers most of the frames (ucsd-hockey 0.40 -> 0.37, bottle, jump, chopper)."""
MOVING_TEXTURE = 10.0
"""...where the background has texture: its luma's standard deviation over 5 x 5 pixels, in grey
levels, over this (a car passing over a plain road is not the road moving)."""
CHUNK_BYTES = 32 << 20
"""Bytes of frame differences (every channel) :func:`moving_background` holds at a time."""
EXPOSURE_FRAMES = 25
"""Frames spread over the sample whose per-pixel median is the exposure :func:`same_exposure`
brings every frame to."""
STILL_SPREAD = 0.1
"""Grey levels: a pixel whose spread is under this stayed still in its sample, bar a grey level in
a frame or two (see :func:`noise_of`): the still pixels of a clip stored as H.264 are exactly 0."""
THREADS = min(4, len(os.sched_getaffinity(0)))
"""Threads that share the per-pixel work of a fit, each on its own rows (see :func:`_by_rows`),
or the masks of an export (:data:`bgcore.pipeline.WORKERS`)."""


def evenly(count: int, most: int) -> np.ndarray:
    """Indices of at most ``most`` of ``count`` frames, evenly spaced, the first and last among them."""
    return np.linspace(0, count - 1, min(count, most)).astype(int)


def same_exposure(frames: np.ndarray) -> np.ndarray:
    """The sample (T, H, W, C) with each frame brought to one exposure (:class:`bgcore.masks.Exposure`
    against the per-pixel median of ``EXPOSURE_FRAMES`` frames spread over it): a copy where any
    frame's exposure differs, else ``frames`` itself. A mode over frames of two exposures would
    take one for some pixels and the other for others, and their spread for noise."""
    at = Exposure.positions(frames[0].size, frames.shape[-1])
    picked = evenly(len(frames), EXPOSURE_FRAMES)
    reference = np.median([frames[i].reshape(-1)[at] for i in picked], axis=0)
    # The median over a clip of two exposures has pixels of each: every frame finds its own
    # unchanged, and the larger peak (the other exposure) must win (EXPOSURE_KEPT left out).
    exposure = Exposure(reference, at, frames.shape[-1], unchanged=None)
    gains = [exposure.gains(frame) for frame in frames]
    if all(gain is None for gain in gains):
        return frames
    same = frames.copy()
    for frame, gain in zip(same, gains):
        if gain is not None:
            frame[...] = Exposure.undo(frame, gain)
    return same


def pixel_modes(frames: np.ndarray, progress: FitProgress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's mode and the spread of the frames around it.

    frames : ndarray (T, H, W, C) float32 or uint8, C in (1, 3).
    Returns ``background`` (H, W, C) float32 and ``spread`` (H, W) float32. The mode is found
    in each pixel's luma histogram (bins of ``BIN``, smoothed by [1, 2, 1]); the frames within
    ``REACH`` of its centre give a first background, and the frames within ``REACH`` of that
    in colour (the distance of :func:`bgcore.masks.difference`: a pixel the same grey in two
    scenes of different colour is two values) give the background (their mean) and its spread
    (the root mean square of their distance to it). A frame at a time: no copy of the sample;
    in ``THREADS`` threads, each on its own rows.
    """
    background = np.empty(frames.shape[1:], np.float32)
    spread = np.empty(frames.shape[1:3], np.float32)
    still = still_maps(frames)

    def band(rows):
        background[rows], spread[rows] = _pixel_modes(frames[:, rows], still[:, rows])

    _by_rows(band, frames.shape[1], progress=progress)
    return background, spread


def still_maps(frames: np.ndarray) -> np.ndarray:
    """Where each frame of ``frames`` (T, H, W, C) is still (``STILL_PATCH``, ``STILL_MOTION``):
    (T, H, ceil(W / 8)) uint8, bits packed along the rows (6 MB for 200 frames of 640x360).

    The same test as LaBGen's (Laugraud, Pierard and Van Droogenbroeck, "LaBGen: a method based on
    motion detection for generic background initialization", Pattern Recognition Letters 2017),
    which keeps each pixel's least moving frames; measured against the frame's own median, it
    holds for any noise and for frames several apart. Whole frames, so that the result does not
    depend on how rows are shared among threads. A frame is compared with the sample's frames
    next to it, the lesser change of the two: a sample of distinct frames (not one repeated) is
    assumed. A single frame counts as moving (it has nothing to compare with).
    """
    maps = np.zeros((len(frames), frames.shape[1], -(-frames.shape[2] // 8)), np.uint8)
    if len(frames) < 2:
        return maps

    def grey(frame):
        """OpenCV's uint8 luma (the maps of road's sample in 0.10 s, against 0.21 from
        :func:`luma`'s float32); a float frame rounded first, so that a sample as decoded and
        its float32 copy give the same maps."""
        frame = to_uint8(frame)
        return frame[..., 0] if frame.shape[-1] == 1 else cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)

    # Each frame's luma once: the frame's, then its neighbours' in turn.
    previous, current = None, grey(frames[0])
    for t in range(len(frames)):
        following = grey(frames[t + 1]) if t + 1 < len(frames) else None
        changes = [cv2.boxFilter(cv2.absdiff(current, other), cv2.CV_32F, (STILL_PATCH, STILL_PATCH))
                   for other in (previous, following) if other is not None]
        motion = np.minimum(*changes) if len(changes) == 2 else changes[0]
        maps[t] = np.packbits(motion < STILL_MOTION * max(float(np.median(motion[::4, ::4])), 0.5), axis=-1)
        previous, current = current, following
    return maps


def _pixel_modes(frames, still):
    """:func:`pixel_modes` of every pixel of ``frames``, whose :func:`still_maps` are ``still``."""
    count, height, width, channels = frames.shape
    pixels = height * width
    bins = int(256 // BIN) + 1
    # Smoothed counts reach 4 x STILL_WEIGHT x count: 16 bits hold them for the samples the
    # pipeline takes (up to 2047 frames), at half the memory of 32 (two (bins, pixels) arrays:
    # 16 MB at 640x360).
    histogram = np.zeros((bins + 2, pixels), np.uint16 if 4 * STILL_WEIGHT * count < 2**16 else np.int32)
    # Flat indices (bin + 1) * pixels + pixel, each pixel once a frame: no repeated index. Five
    # times faster than floor_divide and a 2-D fancy index (BIN is a power of 2: x / BIN exactly).
    flat, offset, scale = histogram.reshape(-1), np.arange(pixels) + pixels, np.float32(1 / BIN)
    weights = np.array([1, STILL_WEIGHT], histogram.dtype)
    for frame, packed in zip(frames, still):
        index = np.clip(luma(frame).ravel() * scale, 0, bins - 1).astype(np.intp)
        index *= pixels
        index += offset
        flat[index] += weights[np.unpackbits(packed, axis=-1, count=width).ravel()]
    smoothed = histogram[1:-1] * 2  # in place from here: a + 2b + c would make three temporaries
    smoothed += histogram[:-2]
    smoothed += histogram[2:]
    centre = ((smoothed.argmax(axis=0) + 0.5) * BIN).astype(np.float32).reshape(height, width)
    del histogram, smoothed
    background, _, _ = _near_mean(frames, lambda frame: np.abs(luma(frame) - centre) <= REACH)
    background, squares, members = _near_mean(frames, lambda frame: difference(frame, background) <= REACH)
    # Mean of squares minus the square of the mean, summed over the channels, as difference's scale.
    variance = np.maximum(squares - background.astype(np.float64) ** 2, 0).mean(axis=-1)
    return background, np.sqrt(variance).astype(np.float32)


def _by_rows(function, height: int, *, rows: int | None = None, progress: FitProgress | None = None) -> None:
    """``function(part)`` for the slices of rows ``part`` that cover ``height`` rows (``rows`` at
    a time, by default an equal share for each of ``THREADS``), in threads. Per-pixel NumPy and
    OpenCV work lets go of Python's lock: on 2 cores the mode of the road clip's sample took
    0.33 s in two threads against 0.70 s in one."""
    rows = rows or -(-height // THREADS)
    parts = [slice(top, top + rows) for top in range(0, height, rows)]
    with ThreadPoolExecutor(min(THREADS, len(parts))) as pool:
        for done, _ in enumerate(pool.map(function, parts), start=1):
            if progress:
                progress(done / len(parts))


def _near_mean(frames, near):
    """Per pixel, the mean (H, W, C) float32 and mean square (H, W, C) float64 of the frames where
    ``near(frame)`` (H, W) is true, and their count (H, W); the frames' mean where none is."""
    total = np.zeros(frames.shape[1:], np.float64)
    squares = np.zeros(frames.shape[1:], np.float64)
    members = np.zeros(frames.shape[1:3], np.float64)
    for frame in frames:
        chosen = near(frame)
        # OpenCV adds under a mask in one pass, 4 times faster than NumPy's products and sums,
        # with the same float64 sums.
        chosen_u8 = chosen.view(np.uint8)
        cv2.accumulate(frame, total, chosen_u8)
        cv2.accumulateSquare(frame, squares, chosen_u8)
        members += chosen
    none = members == 0
    if none.any():
        total[none], squares[none], members[none] = frames.sum(axis=0)[none], 0, len(frames)
    mean = total / members[..., None]
    return mean.astype(np.float32), squares / members[..., None], members


def moving_background(frames: np.ndarray, background: np.ndarray,
                      spread: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the background itself moves, and its spread there.

    frames (T, H, W, C) float32 or uint8, in time order; ``background`` and ``spread`` from
    :func:`pixel_modes`. Returns ``moving`` (H, W) bool (see ``MOVING_SHARE`` to
    ``MOVING_TEXTURE``) and the spread (H, W) float32, raised where the background moves to the
    median distance of all frames to the mode: the spread around the mode alone leaves out the
    other looks of a waving leaf. The frames' run lengths tell leaves, which come and go, from a
    person standing in front, who stays; the texture tells them from traffic on a plain road.
    """
    # A band's difference first holds every channel (frame - background, float32 from uint8
    # frames too), then its distances, their median's copy and flags: the band is sized on that.
    rows = max(1, CHUNK_BYTES // THREADS // (frames[0, 0].size * 4 * len(frames)))
    away_share = np.empty(spread.shape, np.float32)
    away_run = np.empty(spread.shape, np.float32)
    median = np.empty(spread.shape, np.float32)

    def band(part):
        distance = difference(frames[:, part], background[part])
        away = distance > REACH
        starts = away[0] + (away[1:] & ~away[:-1]).sum(axis=0)
        away_share[part] = away.mean(axis=0)
        away_run[part] = away.sum(axis=0) / np.maximum(starts, 1)
        median[part] = np.median(distance, axis=0)

    _by_rows(band, frames.shape[1], rows=rows)
    grey = np.ascontiguousarray(luma(background))
    mean = cv2.blur(grey, (5, 5))
    texture = np.sqrt(np.maximum(cv2.blur(grey * grey, (5, 5)) - mean * mean, 0))
    always = MOVING_ALWAYS if len(frames) >= MOVING_FRAMES else 1.0
    moving = (away_share > MOVING_SHARE) & ((away_run <= MOVING_RUN) | (away_share > always)) & (texture > MOVING_TEXTURE)
    return moving, np.where(moving, np.maximum(spread, median), spread)


def noise_of(spread: np.ndarray) -> float:
    """The clip's noise level from each pixel's spread around its mode (H, W): their median over
    the pixels that vary at all (0 if none does).

    A codec that copies unchanged blocks from frame to frame (H.264's skipped blocks) leaves no
    noise there, while the blocks it encodes again, wherever anything moves, bring theirs: on
    ucsd-peds as H.264 at CRF 28, 59 % of the pixels never varied, the median of all spreads was
    0, the threshold fell to its least and F to 0.36 (0.71 on the original frames).
    """
    varying = spread[spread >= STILL_SPREAD]
    return float(np.median(varying)) if varying.size else 0.0


def clip_noise(frames: np.ndarray) -> float:
    """The clip's noise level: :func:`noise_of` the spread around each pixel's mode
    (:func:`pixel_modes`), on at most ``MAX_FRAMES`` frames of ``frames`` (T, H, W, C).

    Measured where the background is, not over every difference: a foreground that covers most
    pixels (leaves, a person in front) would otherwise pass for noise (SBI's Foliage: 41 grey
    levels by the median of all differences to the temporal median, 7 around the modes).
    """
    step = -(-len(frames) // MAX_FRAMES)
    return noise_of(pixel_modes(frames[::step])[1])
