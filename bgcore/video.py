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


def probe(source) -> VideoInfo:
    """Size, frame rate and decoded frame count of a video file or a folder of images."""
    source = Path(source)
    if source.is_dir():
        files = image_files(source)
        first = _read_image(files[0])
        return VideoInfo(first.shape[1], first.shape[0], FOLDER_FPS, len(files))
    meta = _open(source)[1]
    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(source))
    if frames == 0:
        raise VideoError(f"{source.name}: the file holds no video frames that can be decoded.")
    width, height = meta["size"]
    return VideoInfo(width, height, float(meta["fps"]), frames)


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
        raise VideoError(f"{path.name}: not a video that can be decoded ({_first_line(error)}). "
                         "Try an MP4, MOV, AVI, MKV or WebM file.") from None
    return reader, meta


def _first_line(error: Exception) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(error).__name__


_RGB_FORMATS = {3: "rgb24", 4: "rgba"}


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
            self._writer = self._start("gray" if frame.ndim == 2 else _RGB_FORMATS[frame.shape[2]])
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


class TransparentWriter(VideoWriter):
    """VP9 WebM writer with an alpha channel (yuva420p), which Chrome and Firefox play with
    transparency; use as a context manager. Frames are uint8 RGBA (H, W, 4), any size."""

    def __init__(self, path, width: int, height: int, fps: float, *, crf: int = 30):
        super().__init__(path, width, height, fps, crf=crf)

    def _start(self, pix_fmt_in: str):
        # realtime / cpu-used 8: about 400 frames/s at 320x240 here, against a few with VP9's defaults.
        writer = imageio_ffmpeg.write_frames(
            str(self.path), self._size, pix_fmt_in=pix_fmt_in, pix_fmt_out="yuva420p",
            fps=self._args["fps"], codec="libvpx-vp9", quality=None, macro_block_size=1,
            output_params=["-crf", str(self._args["crf"]), "-b:v", "0", "-deadline", "realtime",
                           "-cpu-used", "8", "-row-mt", "1", "-auto-alt-ref", "0"])
        writer.send(None)
        return writer


def read_alpha(path) -> Iterator[np.ndarray]:
    """Yield the alpha plane (H, W) uint8 of each frame of a VP9 WebM with transparency.

    ffmpeg's native VP9 decoder drops alpha; libvpx-vp9 keeps it.
    """
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgba", bits_per_pixel=32,
                                        input_params=["-c:v", "libvpx-vp9"])
    try:
        width, height = next(reader)["size"]
        for raw in reader:
            yield np.frombuffer(raw, np.uint8).reshape(height, width, 4)[..., 3]
    finally:
        reader.close()


def write_preview(source, path, *, width: int = 480, seconds: float = 60.0) -> Path:
    """A small H.264 MP4 of the first ``seconds`` of ``source`` that any browser plays
    (AVI, MKV, MPEG-4 Part 2 or image folders do not play in a browser as they are)."""
    info = probe(source)
    scale = min(1.0, width / info.width)
    size = (max(2, round(info.width * scale)), max(2, round(info.height * scale)))
    count = min(info.frame_count, max(1, round(seconds * info.fps)))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with VideoWriter(path, *size, info.fps) as writer:
        for frame in read_frames(source, range(count)):
            writer.write(frame if scale == 1 else cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
    return Path(path)
