"""Background replacement, after the blog post ``../shared/seeds/002_*.txt``: the foreground of
each frame over another picture or video, resized to the frame (``cv2.INTER_AREA``, as the seed),
with a softened mask edge instead of the seed's hard cut.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from .video import IMAGE_SUFFIXES, VideoError, read_image, read_frames


def backdrops(path, size) -> Iterator[np.ndarray]:
    """Endless uint8 RGB frames (height, width, 3) of an image or a video at ``size`` (width, height).

    An image repeats; a video is streamed and starts over at its end, so that it is looped
    when shorter than the clip and cut when longer. The file is checked at once.
    """
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"replacement {path}: no such file.")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return _repeat(_fit_to(read_image(path), size))
    next(read_frames(path), None)  # raises VideoError now if the file is not a video
    return _loop(path, size)


def _repeat(image):
    while True:
        yield image


def _loop(path, size):
    while True:
        count = 0
        for frame in read_frames(path):
            count += 1
            yield _fit_to(frame, size)
        if count == 0:
            raise VideoError(f"replacement {path.name}: no frames could be decoded.")


def _fit_to(image, size):
    if image.shape[1::-1] == tuple(size):
        return image
    return cv2.resize(image, tuple(size), interpolation=cv2.INTER_AREA)


def composite(frame: np.ndarray, mask: np.ndarray, backdrop: np.ndarray, *,
              feather: float = 1.5) -> np.ndarray:
    """The foreground of ``frame`` over ``backdrop``, all (H, W, 3) uint8 RGB; ``mask`` (H, W) bool.

    feather : the standard deviation in pixels of the Gaussian blur that turns the mask into
    an alpha channel; 0 keeps the hard edge. A pixel or two hides the staircase of a mask
    computed at a lower working scale and the halo of a slightly generous one.
    """
    if feather < 0:
        raise ValueError(f"feather={feather}: must not be negative.")
    alpha = mask.astype(np.float32)
    if feather > 0:
        alpha = cv2.GaussianBlur(alpha, (0, 0), feather)
    alpha = alpha[..., None]
    return (alpha * frame + (1 - alpha) * backdrop).round().astype(np.uint8)
