"""Synthetic clips with exact ground truth: the app's sample and the tests' main data.

A static textured background, moving objects of several sizes, shapes and colours, Gaussian
sensor noise, an optional slow lighting drift and an optional second scene halfway through
(the notebook's "two backgrounds in one video"). Everything follows from ``seed``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from pathlib import Path

import cv2
import numpy as np

from .hints import PathLike
from .video import VideoWriter

PALETTE = np.array([[220, 40, 40], [40, 200, 60], [40, 70, 230], [240, 220, 40],
                    [230, 60, 220], [30, 220, 230], [250, 250, 250], [15, 15, 15]], np.float32)


@dataclass
class SyntheticClip:
    """frames (T, H, W, 3) uint8 RGB; masks (T, H, W) bool, True on objects;
    backgrounds (T, H, W, 3) float32, the true background of every frame (lighting included)."""

    frames: np.ndarray
    masks: np.ndarray
    backgrounds: np.ndarray
    fps: float

    def write(self, path: PathLike, *, crf: int = 12) -> Path:
        """Encode the frames as an H.264 MP4 at ``path``."""
        return _encode(path, self.frames, self.fps, crf)


def make_clip(**options: Any) -> SyntheticClip:
    """Make a clip in memory; ``options`` are those of :func:`generate`."""
    frames, masks, backgrounds = zip(*generate(**options))
    return SyntheticClip(np.stack(frames), np.stack(masks), np.stack(backgrounds),
                         options.get("fps", 15.0))


def write_clip(path: PathLike, *, crf: int = 12, **options: Any) -> Path:
    """Encode a clip as an H.264 MP4 one frame at a time, for clips too big to hold in memory."""
    frames = (frame for frame, _, _ in generate(**options))
    return _encode(path, frames, options.get("fps", 15.0), crf)


def _encode(path, frames, fps: float, crf: int) -> Path:
    """Write an iterable of uint8 RGB frames, all of the first one's size, as an H.264 MP4."""
    frames = iter(frames)
    first = next(frames)
    with VideoWriter(path, first.shape[1], first.shape[0], fps, crf=crf) as writer:
        writer.write(first)
        for frame in frames:
            writer.write(frame)
    return Path(path)


def generate(*, width: int = 320, height: int = 240, frames: int = 150, objects: int = 5,
             noise: float = 3.0, drift: float = 0.0, second_scene: bool = False,
             fps: float = 15.0, empty: int = 0, seed: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield (frame (H, W, 3) uint8, mask (H, W) bool, background (H, W, 3) float32) per frame.

    ``drift`` is the amplitude of a slow brightness change (0.1 = +-10 %); the first ``empty``
    frames show the background alone (a live capture of the empty scene); ``fps`` only travels
    with the clip.
    """
    if width < 16 or height < 16 or frames < 2:
        raise ValueError(f"{width}x{height}, {frames} frames: need at least 16x16 and 2 frames.")
    rng = np.random.default_rng(seed)
    scenes = [_background(rng, width, height)]
    if second_scene:
        scenes.append(_background(rng, width, height))
    movers = [_Mover(rng, width, height, i) for i in range(objects)]
    light = 1.0 + drift * np.sin(np.linspace(0, 2 * np.pi, frames, dtype=np.float32))
    # A bank of noise images used in turn: drawing fresh noise for every 1080p frame would
    # dominate the time to make the long clips of the benchmarks.
    bank = rng.standard_normal((min(frames, 25), height, width, 3), dtype=np.float32) * noise
    for t in range(frames):
        scene = scenes[0] if t < frames // len(scenes) else scenes[-1]
        background = np.clip(scene * light[t], 0, 255)
        image = scene * light[t]
        mask = np.zeros((height, width), bool)
        for mover in movers if t >= empty else ():
            shape = mover.draw(t)
            image[shape] = mover.colour * light[t]
            mask |= shape
        image += bank[t % len(bank)]
        yield np.clip(image, 0, 255).round().astype(np.uint8), mask, background


def _background(rng, width, height) -> np.ndarray:
    """Smooth colour fields, some blocks and fine texture, in mid tones."""
    coarse = rng.uniform(70, 180, (6, 8, 3)).astype(np.float32)
    image = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    for _ in range(6):
        x, y = rng.integers(0, width), rng.integers(0, height)
        w, h = rng.integers(width // 10, width // 3), rng.integers(height // 10, height // 3)
        image[y:y + h, x:x + w] = rng.uniform(60, 190, 3)
    texture = cv2.GaussianBlur(rng.normal(0, 12, (height, width, 1)).astype(np.float32), (0, 0), 1.2)
    return np.clip(image + texture.reshape(height, width, 1), 50, 200)


class _Mover:
    """An ellipse or rectangle crossing the frame at constant speed, bouncing off the edges."""

    def __init__(self, rng, width, height, index):
        self.size = (width, height)
        side = min(width, height)
        self.radii = rng.uniform(0.03, 0.10, 2) * side
        self.start = rng.uniform([0, 0], [width, height])
        self.velocity = rng.uniform(1.0, 3.5, 2) * side / 240 * rng.choice([-1, 1], 2)
        self.colour = PALETTE[index % len(PALETTE)]
        self.ellipse = index % 2 == 0

    def draw(self, t) -> np.ndarray:
        width, height = self.size
        # Reflect the straight path into the frame: a triangle wave in each axis.
        span = np.array([width, height], np.float32)
        x, y = np.abs((self.start + self.velocity * t) % (2 * span) - span) % (span + 1)
        canvas = np.zeros((height, width), np.uint8)
        rx, ry = (int(r) for r in self.radii)
        if self.ellipse:
            cv2.ellipse(canvas, (int(x), int(y)), (rx, ry), 0, 0, 360, 1, -1)
        else:
            cv2.rectangle(canvas, (int(x - rx), int(y - ry)), (int(x + rx), int(y + ry)), 1, -1)
        return canvas.astype(bool)


def sample_truth() -> dict[int, np.ndarray]:
    """The exact masks of :func:`write_sample`'s clip by frame index, uint8 0 or 255."""
    return {index: mask.astype(np.uint8) * 255 for index, mask in enumerate(make_clip().masks)}


def write_sample(path: PathLike) -> Path:
    """The app's built-in sample: 10 s of 320x240 at 15 fps, five objects, written once."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # A name of its own: the app's server and a test process may both be writing it.
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".mp4", delete=False) as partial:
            pass
        write_clip(partial.name)
        Path(partial.name).replace(path)
    return path
