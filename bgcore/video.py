"""Video in and out: probe, frame streams from files or image folders, H.264 and PNG writers.

Decoding runs the ffmpeg bundled in the imageio-ffmpeg wheel in a subprocess, not OpenCV's
``VideoCapture``: it reads every codec we accept, and a decoder crash on a hostile file ends
that subprocess, not ours (OpenCV aborts the whole process on ``../shared/data/hostile``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import cv2
import imageio_ffmpeg
import numpy as np

from .limits import LIMITS, Limits

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}
FOLDER_FPS = 25.0
"""Frame rate assumed for a folder of images, which states none."""


class VideoError(ValueError):
    """The input cannot be read as a video; the message says why and what to do."""


@dataclass(frozen=True)
class VideoInfo:
    """What a source holds. ``frame_count`` is counted by decoding, not read from a header."""

    width: int
    height: int
    fps: float
    frame_count: int

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps


def probe(source, *, limits: Limits = LIMITS) -> VideoInfo:
    """Size, frame rate and decoded frame count of a video file or a folder of images.

    The header's size, duration and the file's bytes are checked against ``limits`` before
    anything is decoded; the frame count is then found by decoding (headers often overstate it).
    """
    source = Path(source)
    if source.is_dir():
        files = image_files(source)
        first = _read_image(files[0])
        info = VideoInfo(first.shape[1], first.shape[0], FOLDER_FPS, len(files))
        _check(info.width, info.height, info.duration, source.name, limits)
        return info
    reader, meta = _open(source)
    reader.close()
    if source.stat().st_size > limits.max_bytes:
        raise VideoError(f"{source.name}: {source.stat().st_size / 2**20:.0f} MB is over the "
                         f"{limits.max_bytes / 2**20:.0f} MB limit. Trim or compress the clip first.")
    width, height = meta["size"]
    _check(width, height, meta.get("duration") or 0.0, source.name, limits)
    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(source))
    if frames == 0:
        raise VideoError(f"{source.name}: the file holds no video frames that can be decoded.")
    if frames > limits.max_frames:
        raise VideoError(f"{source.name}: {frames} frames is over the limit of {limits.max_frames}. "
                         "Trim the clip or lower its frame rate first.")
    return VideoInfo(width, height, float(meta["fps"]), frames)


def _check(width, height, seconds, name, limits: Limits) -> None:
    if width * height > limits.max_pixels:
        raise VideoError(f"{name}: frames of {width}x{height} are over the limit of "
                         f"{limits.max_pixels / 1e6:.1f} megapixels (4K). Downscale the clip first.")
    if seconds > limits.max_seconds:
        raise VideoError(f"{name}: {seconds / 60:.1f} minutes is over the limit of "
                         f"{limits.max_seconds / 60:.0f} minutes. Trim the clip first.")


def selection(info: VideoInfo, *, start: float = 0.0, end: float | None = None,
              fps: float | None = None) -> range:
    """Indices of the decoded frames kept by a trim (seconds) and a frame-rate cap.

    Subsampling keeps every n-th frame, n = round(source fps / fps), so the kept
    frames are evenly spaced and their number is known before decoding.
    """
    if start < 0 or (end is not None and end <= start):
        raise ValueError(f"start={start}, end={end}: need 0 <= start < end.")
    if fps is not None and fps <= 0:
        raise ValueError(f"fps={fps}: must be positive.")
    first = round(start * info.fps)
    last = info.frame_count if end is None else min(info.frame_count, round(end * info.fps))
    step = 1 if fps is None else max(1, round(info.fps / fps))
    if first >= last:
        raise VideoError(f"The trim {start}-{end} s keeps no frames of a {info.duration:.2f} s clip.")
    return range(first, last, step)


def read_frames(source, indices: Sequence[int] | None = None) -> Iterator[np.ndarray]:
    """Yield the frames of ``source`` as uint8 RGB arrays of shape (H, W, 3), in order.

    ``indices`` (increasing, e.g. from :func:`selection`) picks which decoded frames are
    yielded; all by default. Only one frame is in memory at a time.
    """
    source = Path(source)
    if source.is_dir():
        files = image_files(source)
        for i in indices if indices is not None else range(len(files)):
            yield _read_image(files[i])
        return
    reader, meta = _open(source)
    width, height = meta["size"]
    wanted = None if indices is None else set(indices)
    last = None if indices is None else max(indices, default=-1)
    try:
        for i, raw in enumerate(reader):
            if wanted is not None:
                if i > last:
                    break
                if i not in wanted:
                    continue
            yield np.frombuffer(raw, np.uint8).reshape(height, width, 3)
    finally:
        reader.close()


def image_files(folder: Path) -> list[Path]:
    """Image files in ``folder`` in natural order (``2.png`` before ``10.png``)."""
    files = [p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise VideoError(f"{folder}: the folder holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}).")
    return sorted(files, key=_natural_key)


def _natural_key(path: Path):
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def _read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise VideoError(f"{path.name}: cannot be read as an image.")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _open(path: Path):
    if not path.is_file():
        raise VideoError(f"{path}: no such file.")
    if path.stat().st_size == 0:
        raise VideoError(f"{path.name}: the file is empty.")
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    try:
        meta = next(reader)
    except (OSError, RuntimeError, StopIteration) as error:
        reader.close()
        raise VideoError(f"{path.name}: {_reason(str(error))}") from None
    return reader, meta


def _reason(ffmpeg_output: str) -> str:
    """What ffmpeg's complaint means for someone who just wants their clip read."""
    if "Audio:" in ffmpeg_output and "Video:" not in ffmpeg_output:
        return "the file holds sound but no video. Choose a video file."
    if "moov atom not found" in ffmpeg_output and "misdetection possible" not in ffmpeg_output:
        return ("the file is incomplete (its end is missing, as when a recording or a copy was cut "
                "short). Use the complete file.")
    return ("not a video that can be decoded (damaged, or another kind of file). "
            "Try an MP4, MOV, AVI, MKV or WebM file.")


class VideoWriter:
    """H.264 MP4 (yuv420p) writer that browsers play; use as a context manager.

    Frames are uint8 RGB (H, W, 3) or grey (H, W). An odd width or height is padded by one
    black pixel, since yuv420p needs even sizes; frames are never rescaled.
    """

    def __init__(self, path, width: int, height: int, fps: float, *, crf: int = 20):
        self.path = Path(path)
        self._size = (width, height)
        self._args = dict(fps=fps, crf=crf)
        self._writer = None
        self.frame_count = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def write(self, frame: np.ndarray) -> None:
        if frame.shape[1::-1] != self._size:
            raise ValueError(f"frame of size {frame.shape[1::-1]} sent to a {self._size} writer")
        if self._writer is None:
            self._writer = self._start("gray" if frame.ndim == 2 else "rgb24")
        self._writer.send(np.ascontiguousarray(frame))
        self.frame_count += 1

    def _start(self, pix_fmt_in: str):
        writer = imageio_ffmpeg.write_frames(
            str(self.path), self._size, pix_fmt_in=pix_fmt_in, pix_fmt_out="yuv420p",
            fps=self._args["fps"], codec="libx264", quality=None, macro_block_size=1,
            output_params=["-crf", str(self._args["crf"]), "-preset", "veryfast",
                           "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-movflags", "+faststart"])
        writer.send(None)
        return writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
