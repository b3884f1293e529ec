"""Background replacement, after the blog post ``../shared/seeds/002_*.txt``: the foreground of
each frame over another picture or video, resized to the frame (``cv2.INTER_AREA``, as the seed),
with a softened mask edge instead of the seed's hard cut.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from .hints import PathLike, Size
from .video import IMAGE_SUFFIXES, VideoError, read_image, read_frames

MAX_FEATHER = 50.0
"""The widest feather in pixels: a wider blur only fades the foreground away (and takes long)."""


def backdrops(path: PathLike, size: Size, *, cover: bool = False, role: str = "replacement") -> Iterator[np.ndarray]:
    """Endless uint8 RGB frames (height, width, 3) of an image or a video at ``size`` (width, height).

    An image repeats; a video is streamed and starts over at its end, so that it is looped
    when shorter than the clip and cut when longer. The file is checked at once; messages
    name it as ``role`` (a parameter's name). ``cover`` keeps the shape: scaled to cover
    ``size``, the overflow cut evenly from both sides (:func:`cover`); otherwise stretched to
    it, as the seed.
    """
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{role} {path}: no such file (or not a regular file). Give an image or "
                         "a video file.")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return _repeat(_fit_to(read_image(path, role=role), size, cover))
    try:
        next(read_frames(path), None)  # raises VideoError now if the file is not a video
    except VideoError as error:
        raise VideoError(f"{role} {error}") from None
    return _loop(path, size, cover)


def _repeat(image):
    while True:
        yield image


def _loop(path, size, cover):
    while True:
        count = 0
        for frame in read_frames(path):
            count += 1
            yield _fit_to(frame, size, cover)
        if count == 0:
            raise VideoError(f"replacement {path.name}: no frames could be decoded.")


def _fit_to(image, size, keep_shape=False):
    if image.shape[1::-1] == tuple(size):
        return image
    if keep_shape:
        return cover(image, size)
    return cv2.resize(image, tuple(size), interpolation=cv2.INTER_AREA)


def cover(image: np.ndarray, size: Size) -> np.ndarray:
    """``image`` (H, W, 3) scaled to cover ``size`` (width, height) and cut to it around its centre:
    a picture keeps its shape, as a CSS ``object-fit: cover`` does."""
    width, height = size
    factor = max(width / image.shape[1], height / image.shape[0])
    scaled = (max(width, round(image.shape[1] * factor)), max(height, round(image.shape[0] * factor)))
    image = cv2.resize(image, scaled, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)
    left, top = (scaled[0] - width) // 2, (scaled[1] - height) // 2
    return np.ascontiguousarray(image[top:top + height, left:left + width])


def composite(frame: np.ndarray, mask: np.ndarray, backdrop: np.ndarray, *,
              feather: float = 1.5) -> np.ndarray:
    """The foreground of ``frame`` over ``backdrop``, all (H, W, 3) uint8 RGB; ``mask`` (H, W) bool.

    feather : the standard deviation in pixels of the Gaussian blur that turns the mask into
    an alpha channel; 0 keeps the hard edge. A pixel or two hides the staircase of a mask
    computed at a lower working scale and the halo of a slightly generous one.
    """
    check_feather(feather)
    alpha = mask.astype(np.float32)
    if feather > 0:
        alpha = cv2.GaussianBlur(alpha, (0, 0), feather)
    alpha = alpha[..., None]
    return (alpha * frame + (1 - alpha) * backdrop).round().astype(np.uint8)


def check_feather(feather: float) -> None:
    if not (isinstance(feather, (int, float)) and 0 <= feather <= MAX_FEATHER):
        raise ValueError(f"feather={feather}: use a number of pixels from 0 to {MAX_FEATHER:g}.")
