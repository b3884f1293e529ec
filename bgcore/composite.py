"""Background replacement, after the blog post ``../shared/seeds/002_*.txt``: the foreground of
each frame over another picture or video, a colour or the clip's own background out of focus,
with a softened mask edge instead of the seed's hard cut. A picture of another shape keeps its
shape (cropped to cover, or letterboxed) unless stretched as the seed does.
"""

from __future__ import annotations

import functools
import re
from contextlib import closing
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from .hints import PathLike, Size
from .masks import grow
from .video import IMAGE_SUFFIXES, VideoError, read_image, read_frames

MAX_FEATHER = 50.0
"""The widest feather in pixels: a wider blur only fades the foreground away (and takes long)."""


FITS = ("fill", "fit", "stretch")
"""How a picture of another shape goes behind the clip: scaled to cover it, the overflow cut
(the default: no bars, nothing squeezed), whole with black bars (letterboxed), or stretched to it
(the seed's way: circles become ellipses)."""
BLUR = "blur"
"""The backdrop that needs no file: the clip's own background, out of focus."""


def backdrops(source: PathLike | tuple[int, int, int], size: Size, *, fit: str = "fill", plate: np.ndarray | None = None,
              role: str = "replacement") -> Iterator[np.ndarray]:
    """Endless uint8 RGB frames (height, width, 3) at ``size`` (width, height) to put behind a clip.

    ``source`` is an image or a video file, a colour (``"#00B140"`` or an RGB triple), or
    ``"blur"``: ``plate`` (the clip's background, (H, W, 3) uint8) out of focus, as video calls
    show a room. An image repeats; a video is streamed and starts over at its end, so that it
    is looped when shorter than the clip and cut when longer; either is placed as ``fit`` says
    (:data:`FITS`). The source is checked at once; messages name it as ``role`` (a parameter).
    """
    if fit not in FITS:
        raise ValueError(f"fit={fit!r}: use one of {', '.join(FITS)}.")
    if isinstance(source, str) and source == BLUR:
        if plate is None:
            raise ValueError(f"{role} blur: the clip's background is needed to blur it.")
        return _repeat(blurred(_fit_to(plate, size, "stretch"), sigma=max(size) / 40))
    colour = parse_colour(source)
    if colour is not None:
        return _repeat(np.full((size[1], size[0], 3), colour, np.uint8))
    path = Path(source)
    if not path.is_file():
        raise VideoError(f"{role} {path}: no such file (or not a regular file). Give an image or "
                         "a video file, a colour such as #00B140, or blur.")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return _repeat(_fit_to(read_image(path, role=role, photo=True), size, fit))
    frames = _loop(path, size, fit)
    try:
        first = next(frames)  # raises VideoError now if the file is not a video
    except VideoError as error:
        raise VideoError(f"{role} {error}") from None
    return _chain(first, frames)  # the first frame decoded once


def parse_colour(value) -> tuple[int, int, int] | None:
    """An RGB triple from ``"#RRGGBB"`` or a triple of 0..255; None for anything else (a path)."""
    if isinstance(value, str):
        if re.fullmatch(r"#[0-9a-fA-F]{6}", value):
            return tuple(int(value[i:i + 2], 16) for i in (1, 3, 5))
        return None
    if (isinstance(value, (tuple, list)) and len(value) == 3
            and all(isinstance(v, (int, np.integer)) and 0 <= v <= 255 for v in value)):
        return tuple(int(v) for v in value)
    return None


def _repeat(image):
    while True:
        yield image


def _loop(path, size, fit):
    while True:
        count = 0
        for frame in read_frames(path):
            count += 1
            fitted = _fit_to(frame, size, fit)
            yield fitted
        if count == 0:
            raise VideoError(f"{path.name}: no frames could be decoded.")
        if count == 1:  # a still GIF, a one-frame video: not an ffmpeg process a frame
            yield from _repeat(fitted)


def _chain(first, rest):
    """``first``, then what the generator ``rest`` yields (closed with this one)."""
    yield first
    yield from rest


def _fit_to(image, size, fit):
    if image.shape[1::-1] == tuple(size):
        return image
    if fit == "fill":
        return cover(image, size)
    if fit == "fit":
        return letterbox(image, size)
    return cv2.resize(image, tuple(size), interpolation=cv2.INTER_AREA)


def _scaled(image, factor, least):
    scaled = tuple(max(low, round(side * factor)) for side, low in zip(image.shape[1::-1], least))
    return cv2.resize(image, scaled, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)


def cover(image: np.ndarray, size: Size) -> np.ndarray:
    """``image`` (H, W, 3) scaled to cover ``size`` (width, height) and cut to it around its centre:
    a picture keeps its shape, as a CSS ``object-fit: cover`` does."""
    width, height = size
    image = _scaled(image, max(width / image.shape[1], height / image.shape[0]), size)
    left, top = (image.shape[1] - width) // 2, (image.shape[0] - height) // 2
    return np.ascontiguousarray(image[top:top + height, left:left + width])


def letterbox(image: np.ndarray, size) -> np.ndarray:
    """``image`` (H, W, 3) scaled to fit inside ``size`` (width, height), whole, centred on black:
    CSS's ``object-fit: contain``."""
    width, height = size
    image = _scaled(image, min(width / image.shape[1], height / image.shape[0]), (1, 1))
    image = image[:height, :width]
    out = np.zeros((height, width, 3), np.uint8)
    left, top = (width - image.shape[1]) // 2, (height - image.shape[0]) // 2
    out[top:top + image.shape[0], left:left + image.shape[1]] = image
    return out


def blurred(frame: np.ndarray, *, sigma: float = 12.0) -> np.ndarray:
    """A picture out of focus: ``frame`` blurred by ``sigma`` pixels, at a quarter of its size
    (16 times less work; the blur hides the scaling)."""
    height, width = frame.shape[:2]
    small = cv2.resize(frame, (max(1, width // 4), max(1, height // 4)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / 4)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


@functools.lru_cache(maxsize=4)
def checkerboard(size, *, cell: int = 8) -> np.ndarray:
    """Light and mid grey squares of ``cell`` pixels at ``size`` (width, height), uint8 RGB: what
    image editors show behind transparency, so that a dark subject stays visible. Made once a size
    (52 ms at 1080p; the Results page asks for it at each slider move): read only."""
    width, height = size
    rows, columns = np.indices((height, width)) // cell
    board = np.where(((rows + columns) % 2 == 0)[..., None], np.uint8(204), np.uint8(153)).repeat(3, axis=2)
    board.flags.writeable = False
    return board


def alpha(mask: np.ndarray, size: Size, *, feather: float = 1.5) -> np.ndarray:
    """``mask`` (h, w), bool or uint8 (0 background, 255 foreground) at any scale, as an alpha
    channel (height, width) uint8 0..255 at ``size`` (width, height).

    feather : the standard deviation in pixels (of the mask's scale) of the Gaussian blur that
    softens the edge; 0 keeps it hard. A pixel or two hides the staircase of a mask computed at
    a lower working scale and the halo of a slightly generous one. Blurred at the mask's scale
    and then resized (a quarter of the work of blurring at full size, for a half-size mask), in
    uint8: a quarter of float32's time, and 256 levels are more than an edge shows.
    """
    soft = mask.view(np.uint8) * np.uint8(255) if mask.dtype == bool else mask
    if feather > 0:
        soft = cv2.GaussianBlur(soft, (0, 0), feather)
    if soft.shape[::-1] != tuple(size):
        soft = grow(soft, size)
    return soft


def composite(frame: np.ndarray, mask: np.ndarray, backdrop: np.ndarray, *,
              feather: float = 1.5) -> np.ndarray:
    """The foreground of ``frame`` over ``backdrop``, both (H, W, 3) uint8 RGB; ``mask`` as
    :func:`alpha` takes it (feathered by ``feather`` pixels, which :func:`check_feather` checks:
    once, not for every frame). OpenCV's ``blendLinear`` blends in one pass, in a quarter of the
    time of NumPy's float arithmetic (7 ms, not 32, at 1080p)."""
    weight = alpha(mask, frame.shape[1::-1], feather=feather).astype(np.float32)
    return cv2.blendLinear(frame, backdrop, weight, 255 - weight)


def preview(frame: np.ndarray, mask: np.ndarray, backdrop, *, fit: str = "fill", feather: float = 1.5,
            plate: np.ndarray | None = None) -> np.ndarray:
    """One frame of a composite: ``frame`` (H, W, 3) uint8 over the first picture of
    :func:`backdrops` (``backdrop``, ``fit``, ``plate``), ``mask`` (H, W) bool."""
    check_feather(feather)
    with closing(backdrops(backdrop, frame.shape[1::-1], fit=fit, plate=plate)) as pictures:
        return composite(frame, mask, next(pictures), feather=feather)


def check_feather(feather: float) -> None:
    if not (isinstance(feather, (int, float)) and 0 <= feather <= MAX_FEATHER):
        raise ValueError(f"feather={feather}: use a number of pixels from 0 to {MAX_FEATHER:g}.")
