"""Video in and out: an opened video (:func:`open_video`: probed once, frames in order or one by
index with a seek), frame streams from files or image folders, H.264 and PNG writers.

Decoding runs the ffmpeg bundled in the imageio-ffmpeg wheel in a subprocess, not OpenCV's
``VideoCapture``: it reads every codec we accept, and a decoder crash on a hostile file ends
that subprocess, not ours (OpenCV aborts the whole process on ``../shared/data/hostile``).
"""

from __future__ import annotations

import logging
import math
import os
import re
import shutil
import subprocess
import threading
import weakref
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO, Iterator, Sequence

import cv2
import imageio_ffmpeg
import numpy as np

from .hints import PathLike
from .limits import LIMITS, Limits
from .masks import shrink

# imageio-ffmpeg starts ffmpeg with preexec_fn=os.setpgrp unless this is set. A preexec_fn makes
# Python fork() for real, running the atfork handlers of OpenBLAS: when another thread of the
# app's server is inside a matrix product at that moment, the fork never returns and that
# session hangs for good (seen with two people at once: one fitting, one uploading). Without
# it, ffmpeg starts through vfork/exec, which runs no handlers.
os.environ["IMAGEIO_FFMPEG_NO_PREVENT_SIGINT"] = "1"

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}
FOLDER_FPS = 25.0
"""Frame rate assumed for a folder of images, which states none."""
ENCODER_THREADS = ("-threads", "1")
"""ffmpeg's options for each encoder we run: one thread. An export runs two to four encoders at
once beside the masks' own threads, and an encoder's frame threads there cost memory (13 MB each
at 640x360) and CPU: the 1080p 60 s clip's foreground and mask took 49 s, against 55 s with
x264's own choice of threads. One thread encodes 1080p at about 50 frames a second (x264's
veryfast, VP9's realtime), faster than our masks come."""
HDR_TO_SDR = "zscale=t=bt709:p=bt709:m=bt709:r=tv:npl=203"
"""ffmpeg's filter that brings the frames of an HDR clip (HLG or PQ: a phone's 10-bit HEVC, an
iPhone's by default) to SDR BT.709, the HDR reference white (203 cd/m², ITU-R BT.2408) as SDR's
white; what is brighter (highlights, a bright sky) is clipped. Decoded as they are, without it,
such frames came out grey and washed out (PQ) or dark and dull (HLG), in the preview and in every
video we write: bmc-video003 made HDR came out 16 (HLG) and 26 (PQ) grey levels from the clip on
average, 2.5 and 4 with it. A tone curve (``tonemap``) keeps the highlights but darkens the
rest, and took 3 times as long. See :func:`_to_sdr`."""
HDR_TRANSFERS = ("arib-std-b67", "smpte2084")
"""ffmpeg's names of the HDR transfer functions, HLG and PQ, as its description of a stream gives them."""
SEEK_PIXELS = 3e8
"""A selection of a file's frames that starts past this many pixels of frames (150 frames of 1080p,
about half a second's decoding) is read from a seek (:meth:`Video.frames`): decoding the 3,600
frames before 2:00 of a 1080p clip took 6 s, the seek 0.8 s. Sooner, the seek's own costs (its
check, a second decoder) outweigh what it saves."""
PREVIEW_WIDTH = 480
"""Width of a browser preview (:func:`write_preview`), at most."""
PREVIEW_X264 = {"crf": 26, "preset": "ultrafast"}
"""x264 settings of a preview, which is only looked at: its encode runs beside the probe's decode
of every upload, and veryfast's took longer than that decode (2x on road-640x360). Against
veryfast at crf 20: SSIM 0.982 not 0.986, a file 1.5x the size."""


class VideoError(ValueError):
    """The input cannot be read as a video; the message says why and what to do."""


@dataclass(frozen=True)
class VideoInfo:
    """What a source holds. ``frame_count`` is counted by decoding, not read from a header."""

    width: int
    height: int
    fps: float
    frame_count: int
    hdr: bool = False
    """An HDR clip (HLG or PQ), whose frames are brought to SDR as they are decoded (``HDR_TO_SDR``)."""

    @property
    def size(self) -> tuple[int, int]:
        """(width, height), the order of every size in bgcore (and of OpenCV's)."""
        return self.width, self.height

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps


def probe(source: PathLike, *, limits: Limits = LIMITS) -> VideoInfo:
    """Size, frame rate and decoded frame count of a video file or a folder of images.

    The header's size, duration and the file's bytes are checked against ``limits`` before
    anything is decoded; the frame count is then found by decoding (headers often overstate it).
    :func:`open_video` does the same and keeps what it found, to seek.
    """
    return open_video(source, limits=limits).info


def open_video(source: PathLike, *, limits: Limits = LIMITS, preview: PathLike | None = None,
               preview_seconds: float = 60.0) -> Video:
    """A video file or a folder of images, probed once (:func:`probe`); use as a context manager
    (``with open_video(path) as video:``), which stops the decoders of unfinished reads.

    With a ``preview`` path, also writes there what :func:`write_preview` writes (the first
    ``preview_seconds``), from the probe's own decode of a video file: an upload is decoded once.
    """
    return Video(source, limits=limits, preview=preview, preview_seconds=preview_seconds)


def as_video(source: PathLike | Video) -> Video:
    """``source`` as a :class:`Video`: one already opened as it is, a path opened (probed) now."""
    return source if isinstance(source, Video) else open_video(source)


class Video:
    """An opened video: ``info`` (:class:`VideoInfo`), its frames in order (``for frame in video``,
    :meth:`frames`) and one frame by index (``video[i]``, :meth:`frame`), found by a seek.

    Frames are uint8 RGB arrays (H, W, 3), numbered as decoded (``info.frame_count`` of them).
    """

    REORDER = 16
    """Frames a decoder may hold back to show later (H.264's and HEVC's most)."""

    def __init__(self, source, *, limits: Limits = LIMITS, preview=None, preview_seconds: float = 60.0):
        self.source = Path(source)
        self._readers = weakref.WeakSet()
        self._seeker = None  # a _Seeker, opened on the first frame asked for; False: none
        self.info, self._times, self._start = _probe(self.source, limits,
                                                     None if preview is None else (Path(preview), preview_seconds))
        if preview is not None and self.source.is_dir():  # no decode to share
            write_preview(self, preview, seconds=preview_seconds)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __getstate__(self):
        # Pickled with its probe (an app keeps a session's clip on disk) and without its readers
        # and seeker, which are ffmpeg processes and a PyAV decoder of this one run.
        return {**self.__dict__, "_readers": None, "_seeker": None}

    def __setstate__(self, state):
        self.__dict__.update(state, _readers=weakref.WeakSet())

    def close(self) -> None:
        """Stop the decoders of the reads not finished (the video can still be read after)."""
        for reader in list(self._readers):
            reader.close()
        if self._seeker:
            self._seeker.close()
        self._seeker = None

    def __len__(self) -> int:
        return self.info.frame_count

    _start = None  # a Video pickled before the file's start was kept: its first frame's time

    def seconds(self) -> np.ndarray | None:
        """Each frame's time in seconds from the file's start, where a player shows it and the
        sound runs (a phone's frame rate varies; a file cut without re-encoding may begin with
        frames that cannot be decoded); None without timestamps to trust (an image folder)."""
        if self._times is None or self._times[1] is None:
            return None
        times, base = self._times
        seconds = np.asarray(times, np.float64) * float(base)
        return seconds - (seconds[0] if self._start is None else self._start)

    def __iter__(self) -> Iterator[np.ndarray]:
        return self.frames()

    def frames(self, indices: Sequence[int] | None = None, *,
               size: tuple[int, int] | None = None) -> Iterator[np.ndarray]:
        """:func:`read_frames` of this video; a selection that starts far into a file (a trim,
        ``SEEK_PIXELS``) is read from a seek to the keyframe before its first frame, not decoded
        from the file's start."""
        far = (isinstance(indices, range) and indices and indices.start * self.info.width * self.info.height > SEEK_PIXELS
               and self._times is not None and self._times[1] is not None and self._seekable())
        reader = (self._from_seek(indices, size) if far else
                  read_frames(self.source, indices, size=size, hdr=self.info.hdr))
        self._readers.add(reader)
        return reader

    def _from_seek(self, indices: range, size) -> Iterator[np.ndarray]:
        """:meth:`frames` from a seek by the ffmpeg program, in a file the :class:`_Seeker` reads (its
        index finds keyframes: AVI's and MPEG-TS's seeks took longer than decoding from the start):
        to the time of the frame ``REORDER`` before the first, taking frames from halfway between the
        first and the one before it. Unless the first frame is the one :meth:`frame` gives, the
        frames are decoded from the start."""
        times, base = self._times
        first = indices.start
        seek = (times[max(0, first - self.REORDER)] * base, (times[first - 1] + times[first]) / 2 * base)
        reader = read_frames(self.source, indices, size=size, hdr=self.info.hdr, seek=seek)
        try:
            frame = next(reader, None)
            expected = self.frame(first)
            if frame is None or not np.array_equal(frame, expected if size is None else shrink(expected, size)):
                reader.close()
                reader = read_frames(self.source, indices, size=size, hdr=self.info.hdr)
            else:
                yield frame
            yield from reader
        finally:
            reader.close()

    def __getitem__(self, index: int) -> np.ndarray:
        return self.frame(index)

    def frame(self, index: int) -> np.ndarray:
        """Decoded frame ``index`` (0-based; negative counts from the end).

        The frame is found from the last keyframe at or before its timestamp (found by the probe),
        not by decoding all those before it: in this process for an MP4, MOV, MKV or WebM file
        (:class:`_Seeker`: a decoder kept open, so that the next frame asked for costs one more
        decode), else (and for an HDR clip) by an ffmpeg seek. Either way the same frame as a
        decode from the start.
        """
        count = self.info.frame_count
        if not -count <= index < count:
            raise IndexError(f"frame {index}: the clip has {count} frames (0 to {count - 1}).")
        index %= count
        if self._times is None or index == 0:  # an image folder, or no timestamps to trust
            return next(read_frames(self.source, [index]))
        times, base = self._times
        if self._seekable():
            frame = self._seeker.frame(index, times[index])
            if frame is not None:
                return frame
            self._seeker.close()  # not a file for it: ffmpeg seeks from now on
            self._seeker = False
        after = (times[index - 1] + times[index]) / 2 * base
        before = (times[index] + times[index + 1]) / 2 * base if index + 1 < count else None
        # A seek goes to the keyframe before a time by the times frames are decoded at, which come
        # before those they are shown at where frames are reordered (B-frames): it can land past
        # the frame. Then the frame is looked for from the time of the frame REORDER before (H.264
        # and HEVC reorder at most 16), then from the start.
        for start in (index, max(0, index - self.REORDER)):
            frame = self._sought(times[start] * base, after, before)
            if frame is not None:
                return frame
        return next(read_frames(self.source, [index]))

    def _seekable(self) -> bool:
        """Whether the file is one :class:`_Seeker` reads (its index finds keyframes by time)."""
        if self._seeker is None:  # HDR frames are brought to SDR by a filter only the ffmpeg program has
            self._seeker = not self.info.hdr and _Seeker.open(self.source, (self.info.width, self.info.height))
        return bool(self._seeker)

    def _sought(self, start, after, before) -> np.ndarray | None:
        """The first frame shown between the times ``after`` and ``before`` (None: to the end), by
        an ffmpeg seek to the keyframe before ``start`` (seconds, as the frames carry them); None
        if the seek landed past it."""
        # trim ends the decode at ``before``: with nothing in between, no frame comes.
        kept = [f"select=gte(t\\,{float(after):.9f})", *([] if before is None else [f"trim=end={float(before):.9f}"])]
        reader, meta = _open(self.source, kept, _seek_to(start), ["-frames:v", "1"], hdr=self.info.hdr)
        try:
            return _to_rgb(next(reader), *meta["size"], meta["matrix"])
        except StopIteration:
            return None
        finally:
            reader.close()

    @property
    def decoded(self) -> int:
        """Frames decoded in this process by :meth:`frame` so far (for tests: what a seek costs)."""
        return self._seeker.decoded if self._seeker else 0


class _Seeker:
    """A PyAV decoder kept open on one file, for :meth:`Video.frame`.

    A seek to a frame far from the last one goes to the keyframe before it; the frames between
    are decoded, except those no other frame refers to (``skip_frame``: about half of them with
    x264's B-frames), which cost nothing. A frame just ahead of the last one (a slider moved on)
    is decoded forward, without a seek. Only for containers whose timestamps PyAV reads as the
    ffmpeg program does (AVI's are reordered differently); the file was probed, so fully decoded
    by ffmpeg in a subprocess, before any of it is decoded here.
    """

    FORMATS = {"mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm"}
    FORWARD = 30
    """Frames ahead of the last one that are decoded forward rather than sought."""

    def __init__(self, container, size):
        self._container = container
        self._stream = container.streams.video[0]
        self._stream.thread_type = "AUTO"
        self._size = size
        # The stream's colour space as the ffmpeg program's header gives it, for every frame (as
        # read_frames does), even where frames later say another (clips joined without re-encoding).
        context = self._stream.codec_context
        self._space = context.colorspace == 1, context.color_range == 2  # AVCOL_SPC_BT709, AVCOL_RANGE_JPEG
        self._lock = threading.Lock()
        self._packets = None  # the demuxing in progress, from the last seek
        self._pending = deque()  # frames decoded and not yet asked for
        self._last = None  # index of the last frame given
        self.decoded = 0

    @classmethod
    def open(cls, path: Path, size) -> _Seeker | bool:
        """A seeker on ``path``, or False where the ffmpeg program must seek instead."""
        import av  # here: importing bgcore stays quick

        try:
            container = av.open(str(path))
        except av.FFmpegError:
            return False
        if not cls.FORMATS & set(container.format.name.split(",")) or not container.streams.video:
            container.close()
            return False
        return cls(container, size)

    def frame(self, index: int, pts: int) -> np.ndarray | None:
        """Frame ``index``, whose timestamp is ``pts``; None if it is not found as expected (a
        rotated video, which the ffmpeg program turns upright, or timestamps that do not match)."""
        import av

        with self._lock:
            if self._packets is None or self._last is None or not 0 < index - self._last <= self.FORWARD:
                self._container.seek(pts, stream=self._stream, backward=True, any_frame=False)
                self._packets, self._pending = self._container.demux(self._stream), deque()
            try:
                frame = self._next(pts)
            except (StopIteration, av.FFmpegError):
                frame = None
            if frame is None or frame.pts != pts or (frame.width, frame.height) != self._size or frame.rotation:
                self._packets = self._last = None
                return None
            self._last = index
            matrix = _matrix(frame.format.name, frame.width, frame.height, *self._space)  # as read_frames gives it
            return _to_rgb(frame.to_ndarray(), frame.width, frame.height, matrix) if matrix \
                else frame.to_ndarray(format="rgb24")

    def _next(self, pts: int):
        """The first frame decoded from here on whose timestamp is ``pts`` or later."""
        context = self._stream.codec_context
        while True:
            while self._pending:
                frame = self._pending.popleft()
                if frame.pts is not None and frame.pts >= pts:
                    return frame
            packet = next(self._packets)
            # Frames shown before the one asked for are only decoded when others refer to them.
            context.skip_frame = "NONREF" if packet.pts is not None and packet.pts < pts else "DEFAULT"
            frames = packet.decode()
            self.decoded += len(frames)
            self._pending.extend(frames)

    def close(self) -> None:
        with self._lock:  # not while another thread decodes
            self._container.close()


def _probe(source: Path, limits: Limits, preview=None) -> tuple[VideoInfo, tuple | None, float]:
    """The facts of :func:`probe`, each frame's timestamp (integers, time base) for a file and
    the file's start in seconds (its streams' earliest time); ``preview`` (path, seconds) of a
    file is written by the same decode."""
    if source.is_dir():
        files = image_files(source)
        first = read_image(files[0])
        info = VideoInfo(first.shape[1], first.shape[0], FOLDER_FPS, len(files))
        _check(source.name, limits, size=info.size, seconds=info.duration)
        return info, None, 0.0
    _check_file(source)
    if source.stat().st_size > limits.max_bytes:
        raise VideoError(f"{source.name}: {source.stat().st_size / 2**20:.0f} MB is over the "
                         f"{limits.max_bytes / 2**20:.0f} MB limit. Trim or compress the clip first.")
    width, height, fps, hdr, start = _header(source, limits)
    times = _frame_times(source, limits, preview and _preview_output(*preview, (width, height), fps, hdr))
    frames = len(times[0])
    if frames == 0:
        raise VideoError(f"{source.name}: the file holds no video frames that can be decoded.")
    _check(source.name, limits, frames=frames)
    if frames > 1 and times[1] is not None:
        seconds = float((times[0][-1] - times[0][0]) * times[1]) * frames / (frames - 1)
        _check(source.name, limits, seconds=seconds)
        if seconds > 0 and abs(frames / seconds - fps) > 0.05 * fps:
            fps = frames / seconds  # variable frame rate: the header's figure is not the average
    return VideoInfo(width, height, fps, frames, hdr), times if _increasing(times[0]) else None, start


def _header(path: Path, limits: Limits) -> tuple[int, int, float, bool, float]:
    """Width and height of the first video stream's frames as decoded (a rotated phone video
    upright), its frame rate as the header states it, whether it is HDR (:func:`_hdr`) and the
    file's start in seconds, from
    one ffmpeg process that also counts its packets, stopping past ``limits`` (frames, duration)
    with a VideoError.

    A header may state no duration (a raw stream) or a false one: counting packets is quick (no
    decoding) and refuses an overlong clip before :func:`_frame_times` decodes it all. Only the
    first frame is decoded here (the second output), for its size. A stream without timestamps
    gets its seconds from the frame rate.
    """
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-i", _url(path),
               "-map", "0:v:0", "-c", "copy", "-frames:v", str(limits.max_frames + 1),
               "-t", str(limits.max_seconds + 1), "-f", "null", "-",
               "-map", "0:v:0", "-frames:v", "1", "-f", "null", "-"]
    result = subprocess.run(command, capture_output=True)
    text = result.stderr.decode(errors="replace")
    header, _, decoded = text.partition("\nOutput #1")
    stream = re.search(r"\n\s*Stream #0:\d+\S*: Video: (.*)", header)
    size = re.search(r"\n\s*Stream #1:0\S*: Video: .*? (\d+)x(\d+)[ ,]", decoded)
    stats = re.findall(r"frame=\s*(\d+).*?time=\s*(\S+)", text)
    if result.returncode != 0 or not (stream and size and stats):
        raise VideoError(f"{path.name}: {_reason(text)}")
    width, height = int(size[1]), int(size[2])
    rate = re.search(r" (\d+(?:\.\d+)?)(k?) fps", stream[1])  # ffmpeg writes 1000 as "1k"
    fps = float(rate[1]) * (1000 if rate[2] else 1) if rate else 0.0
    duration = re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", header)
    start = re.search(r"Duration: [^\n]*?, start: (-?\d+(?:\.\d+)?)", header)
    frames, time = int(stats[-1][0]), stats[-1][1]
    if re.fullmatch(r"\d+:\d+:[\d.]+", time):
        hours, minutes, seconds = map(float, time.split(":"))
        seconds += 60 * minutes + 3600 * hours
    else:  # N/A
        seconds = frames / fps if fps > 0 else 0.0
    if duration:
        seconds = max(seconds, 3600 * int(duration[1]) + 60 * int(duration[2]) + float(duration[3]))
    _check(path.name, limits, size=(width, height), seconds=seconds, frames=frames)
    return width, height, fps, _hdr(stream[1]), float(start[1]) if start else 0.0


def _frame_times(path: Path, limits: Limits, outputs=()) -> tuple[list[int], Fraction | None]:
    """Decode every frame once, as :func:`read_frames` does, and return their timestamps as the
    file has them (integers in the stream's time base, and that time base in seconds; None for
    a file without timestamps). ``-stats_enc_pre`` writes a line a frame; the count is the length.
    Decoding stops one frame past ``limits.max_frames``. ``outputs``: more ffmpeg outputs of
    the same decode (a preview)."""
    # subprocess.run kills ffmpeg if anything (Ctrl-C, SIGTERM turned into SystemExit) stops us.
    # One thread a filter graph: the preview's scaling took a tenth more CPU and time in two
    # (road-640x360 0.23 -> 0.20 s, the 1080p 60 s clip 4.5 -> 4.1 s), the decoder and encoder
    # having the cores.
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-filter_threads", "1", "-copyts", "-i", _url(path),
         "-map", "0:v:0", "-fps_mode", "passthrough", "-enc_time_base:v", "demux",
         "-frames:v", str(limits.max_frames + 1),
         "-stats_enc_pre", "pipe:1", "-stats_enc_pre_fmt", "{pts} {tb}", "-f", "null", "-", *(outputs or ())],
        capture_output=True, text=True)
    if result.returncode != 0:
        raise VideoError(f"{path.name}: {_reason(result.stderr)}")
    lines = [line.split() for line in result.stdout.splitlines() if line.strip()]
    try:
        return [int(pts) for pts, _ in lines], Fraction(lines[0][1]) if lines else None
    except ValueError:  # "N/A": a stream without timestamps (raw H.264...)
        return [0] * len(lines), None


def _increasing(times: list[int]) -> bool:
    return all(a < b for a, b in zip(times, times[1:]))


def _check(name: str, limits: Limits, *, size=None, seconds=None, frames=None) -> None:
    """A VideoError naming ``name`` if any of what is given is over ``limits``: ``size`` (width,
    height) of a frame, ``seconds`` of the clip, its decoded ``frames``."""
    if size is not None and size[0] * size[1] > limits.max_pixels:
        raise VideoError(f"{name}: frames of {size[0]}x{size[1]} are over the limit of "
                         f"{limits.max_pixels / 1e6:.1f} megapixels (4K). Downscale the clip first.")
    if seconds is not None and seconds > limits.max_seconds:
        limit = f"{limits.max_seconds / 60:g} minutes" if limits.max_seconds >= 60 else f"{limits.max_seconds:g} seconds"
        raise VideoError(f"{name}: the clip runs over the limit of {limit}, the whole file whatever part is "
                         "chosen. Cut it shorter first.")
    if frames is not None and frames > limits.max_frames:
        raise VideoError(f"{name}: more than {limits.max_frames} frames is over the limit. Trim the clip "
                         "or lower its frame rate first.")


def _url(path) -> str:
    """A path for ffmpeg that it cannot take for a protocol (``concat:a.mp4``, ``pipe:1``)."""
    return "file:" + str(path)


def disk_state(path: PathLike) -> str:
    """Why writing under ``path`` may have failed, for a message: a full disk or else the folder."""
    try:
        if shutil.disk_usage(Path(path).parent).free < 2**20:
            return "the disk is full: free some space or choose another folder"
    except OSError:
        pass
    return "does the folder exist and may it be written to? Is the disk full?"


def selection(info: VideoInfo, *, start: float = 0.0, end: float | None = None,
              fps: float | None = None, times: np.ndarray | None = None) -> range:
    """Indices of the decoded frames kept by a trim (seconds from the first frame) and a
    frame-rate cap.

    ``times``: each frame's time in seconds (:meth:`Video.seconds`), where a frame rate varies
    (a phone's, in dim light): the trim then finds its frames by them, not at the average rate,
    which put a trim 0.4 s off by the gap of a clip missing 0.7 s of frames. Subsampling keeps
    every n-th frame, n = round(source fps / fps), so the kept frames are evenly spaced and their
    number is known before decoding.
    """
    if not (0 <= start < math.inf) or (end is not None and not (start < end < math.inf)):
        raise ValueError(f"start={start}, end={end}: need 0 <= start < end, in seconds.")
    if fps is not None and not (0 < fps < math.inf):
        raise ValueError(f"fps={fps}: must be a positive number.")
    if times is not None and len(times) == info.frame_count > 1:
        # Each frame counts until halfway to the next (as round() at a steady rate; a frame just
        # halfway, within the times' rounding, is in).
        shown = times - times[0] + np.diff(times, append=2 * times[-1] - times[-2]) / 2
        first = int(np.searchsorted(shown, start - 1e-6))
        last = info.frame_count if end is None else int(np.searchsorted(shown, end + 1e-6))
    else:
        first = round(start * info.fps)
        last = info.frame_count if end is None else min(info.frame_count, round(end * info.fps))
    step = 1 if fps is None else max(1, round(info.fps / fps))
    if first >= last:
        trim = f"{start:g} s to the end" if end is None else f"{start:g} to {end:g} s"
        raise VideoError(f"The trim {trim} keeps no frames of a {info.duration:.2f} s clip: start before its end.")
    if len(range(first, last, step)) < 2:
        still = info.frame_count < 2  # a still image or a broken video: no trim helps
        why = ("the clip has only 1 frame that can be decoded (a still image, or a video cut short?)" if still
               else "only 1 frame to work on")
        what = "another clip" if still else "a wider trim or a higher frame rate"
        raise VideoError(f"{why}. Telling background from foreground needs at least 2 frames, better a "
                         f"few seconds of video: use {what}.")
    return range(first, last, step)


def read_frames(source: PathLike, indices: Sequence[int] | None = None, *,
                size: tuple[int, int] | None = None, hdr: bool | None = None,
                seek: tuple[float, float] | None = None) -> Iterator[np.ndarray]:
    """Yield the frames of ``source`` as uint8 RGB arrays of shape (H, W, 3), in order.

    ``indices`` (increasing, e.g. from :func:`selection`) picks which decoded frames are
    yielded; all by default. ``size`` (width, height) scales them down by area averaging
    (:func:`bgcore.masks.shrink`). Only one frame is in memory at a time. ``hdr``: whether the
    file is HDR (``VideoInfo.hdr``), when known; else ffmpeg's header tells, and an HDR file is
    opened a second time, brought to SDR (:func:`_to_sdr`). ``seek`` (seconds, seconds, as the
    frames carry their times) with a range of ``indices``: decoding starts at the keyframe before the
    first time, and ``indices.start`` is the first frame from the second time on (see :meth:`Video.frames`).
    """
    source = Path(source)
    if source.is_dir():
        yield from _read_folder(source, indices, size)
        return
    filters, ends, seeking, dummy = [], [], [], False
    if seek is not None:  # the frames from seek[1] on, numbered from 1 (the keyframe sought is 0)
        seeking = _seek_to(seek[0])
        filters.append(f"select=eq(n\\,0)+gte(t\\,{float(seek[1]):.9f})")
        indices = range(1, 1 + len(indices) * indices.step, indices.step)
    if isinstance(indices, range) and (indices.step > 1 or indices.start > 0):
        # Let ffmpeg drop the frames we skip (and those before a trim's start): converting and piping
        # every full-size frame would cost more than decoding it (a tenth of a 10-minute 1080p clip,
        # from its middle: 7.7 s, not 8.9 s). Told how many frames come, ffmpeg ends there: else it
        # decoded on to the file's end and held the last frame until then (the first 10 s of a
        # 10-minute 1080p clip took 39 s to sample, not 1.4 s). The first frame goes through all
        # the same, dropped here (``dummy``): ffmpeg writes the header that imageio-ffmpeg waits
        # for, 10 s at most, once a frame comes out, and frames from 2:00 of a 1080p clip took 7 s.
        first, last = indices.start, indices[-1] if indices else indices.start
        filters.append(f"select=eq(n\\,0)+between(n\\,{first}\\,{last})*not(mod(n-{first}\\,{indices.step}))")
        dummy = first > 0
        ends = ["-frames:v", str(len(indices) + dummy)]
        wanted = None
    else:
        wanted = None if indices is None else set(indices)
    reader, meta = _open(source, filters, seeking, ends, hdr=hdr)
    width, height = meta["size"]
    remaining = None if indices is None else len(indices)
    try:
        for i, raw in enumerate(reader):
            if remaining == 0:
                break
            if wanted is not None and i not in wanted or dummy and i == 0:
                continue
            frame = _to_rgb(raw, width, height, meta["matrix"])
            yield frame if size is None else shrink(frame, size)
            if remaining is not None:
                remaining -= 1
                if remaining == 0:  # not a frame more asked for, which would not come before the file's end
                    break
    finally:
        reader.close()


def _seek_to(seconds) -> list[str]:
    """ffmpeg's input options for a decode from the keyframe before ``seconds``, the time as the
    frames carry it (``-seek_timestamp``, ``-copyts``), not from the file's start."""
    return ["-seek_timestamp", "1", "-ss", f"{math.floor(seconds * 10**6) / 10**6:.6f}", "-noaccurate_seek", "-copyts"]


def _read_folder(folder: Path, indices, size) -> Iterator[np.ndarray]:
    files = image_files(folder)
    first = read_image(files[0]).shape
    for i in indices if indices is not None else range(len(files)):
        image = read_image(files[i])
        if image.shape != first:
            raise VideoError(f"{files[i].name} is {image.shape[1]}x{image.shape[0]} but "
                             f"{files[0].name} is {first[1]}x{first[0]}: the images of a folder "
                             "make one clip and must all have the same size.")
        yield image if size is None else shrink(image, size)


def image_files(folder: Path) -> list[Path]:
    """Image files in ``folder`` in natural order (``2.png`` before ``10.png``)."""
    # Regular files only: a FIFO named 4.png would block the read for good.
    files = [p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    if not files:
        raise VideoError(f"{folder}: the folder holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}).")
    return sorted(files, key=lambda path: _natural_key(path.name))


def _natural_key(name: str):
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def read_image(path: PathLike, *, limits: Limits = LIMITS, role: str = "", photo: bool = False) -> np.ndarray:
    """An image file as uint8 RGB (H, W, 3). Its size is read from its header and checked against
    ``limits.max_pixels`` before it is decoded: a 2 KB PNG can claim 20000 x 20000 pixels (1.2 GB).
    A ``photo`` (one picture, not a frame of a clip) may have up to ``limits.max_photo_pixels``, and
    is read at the largest of a half, a quarter or an eighth of its size within ``max_pixels``.
    ``role`` names the file in messages (a parameter such as "--replace")."""
    name = f"{role} {Path(path).name}" if role else Path(path).name
    width, height = check_image(path, limits=limits, name=name, photo=photo)
    shrink = next(factor for factor in (1, 2, 4, 8) if width * height <= limits.max_pixels * factor**2)
    image = cv2.imread(str(path), _REDUCED[shrink])
    if image is None:
        raise VideoError(f"{name}: cannot be read as an image.")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


_REDUCED = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}


def check_image(path: PathLike, *, limits: Limits = LIMITS, name: str | None = None,
                photo: bool = False) -> tuple[int, int]:
    """Check that ``path`` is a regular image file within ``limits.max_pixels`` (a ``photo``:
    ``limits.max_photo_pixels``), from its header alone, and return its (width, height); raises
    VideoError naming it ``name`` (by default, its file name)."""
    path = Path(path)
    name = name or path.name
    if not path.is_file():
        raise VideoError(f"{name}: no such file (or not a regular file). Give an image file.")
    width, height = image_size(path, name)
    most = limits.max_photo_pixels if photo else limits.max_pixels
    if width * height > most:
        limit = f"{most / 1e6:g} megapixels" if photo else f"{most / 1e6:.1f} megapixels (4K)"
        raise VideoError(f"{name}: an image of {width}x{height} is over the limit of {limit}. Downscale it first.")
    return width, height


def image_size(path: PathLike | BinaryIO, name: str) -> tuple[int, int]:
    """(width, height) from an image file's header (a path or a file object), without decoding it;
    raises VideoError naming it ``name``."""
    from PIL import Image  # here: importing bgcore stays quick

    try:
        with Image.open(path) as image:
            return image.size
    except Image.DecompressionBombError:  # Pillow's own limit, far above ours
        return 2**16, 2**16
    except (OSError, ValueError, SyntaxError):  # Pillow's "cannot identify", broken headers
        raise VideoError(f"{name}: cannot be read as an image.") from None


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise VideoError(f"{path}: not a regular file (a pipe, a device?). Give a video file." if path.exists()
                         else f"{path}: no such file.")
    if path.stat().st_size == 0:
        raise VideoError(f"{path.name}: the file is empty.")


def _open(path: Path, filters=(), input_params=(), output_params=(), *, pix_fmt="yuv420p", hdr: bool | None = None):
    """An imageio-ffmpeg reader of ``path``'s frames and its header: frames for :func:`_to_rgb`.

    A yuv420p clip of even sizes (most are) comes as decoded: RGB is made here, for less CPU and
    half the bytes in the pipe (:func:`_to_rgb`); others as rgb24 (``meta["matrix"]`` says which).
    An HDR clip (``hdr``; None: as the header says) comes through :func:`_to_sdr`.
    """
    _check_file(path)
    # passthrough: every decoded frame once, as counted; by default ffmpeg would duplicate or drop
    # frames of a variable-frame-rate clip to reach a constant rate.
    chain = [*filters, _to_sdr(pix_fmt)] if hdr else list(filters)
    vf = ["-vf", ",".join(chain)] if chain else []
    reader = imageio_ffmpeg.read_frames(_url(path), pix_fmt=pix_fmt, bits_per_pixel=12 if pix_fmt == "yuv420p" else 24,
                                        input_params=list(input_params),
                                        output_params=["-fps_mode", "passthrough", *vf, *output_params])
    try:
        with _resize_expected():
            meta = next(reader)
    except (OSError, RuntimeError, StopIteration) as error:
        reader.close()
        if hdr and pix_fmt == "yuv420p":  # an HDR clip of odd sizes, which yuv420p cannot hold
            return _open(path, filters, input_params, output_params, pix_fmt="rgb24", hdr=True)
        raise VideoError(f"{path.name}: {_reason(str(error))}") from None
    if hdr is None and _hdr(meta["pix_fmt"]):  # not known before: opened again, brought to SDR
        reader.close()
        return _open(path, filters, input_params, output_params, pix_fmt=pix_fmt, hdr=True)
    # _to_sdr's frames are BT.709, whatever the header says of the stream as decoded.
    matrix = _matrix("yuv420p", *meta["size"], bt709=True) if hdr else _header_matrix(meta["pix_fmt"], *meta["size"])
    meta["matrix"] = matrix if pix_fmt == "yuv420p" else None
    if pix_fmt == "yuv420p" and meta["matrix"] is None:
        reader.close()
        return _open(path, filters, input_params, output_params, pix_fmt="rgb24", hdr=hdr)
    return reader, meta


@contextmanager
def _resize_expected():
    """Drop imageio-ffmpeg's warning that the frames read differ in size from the source's while
    one of our readers opens: they do whenever we scale them, or ffmpeg turns a rotated phone
    video upright, as we want, and the warning tells the user nothing. Its other warnings (ffmpeg
    killed, nothing written) still show, and nothing is dropped outside this block."""
    logger = logging.getLogger("imageio_ffmpeg")
    # A filter of this call's own: another thread's reader may be opening at the same time.
    quiet = lambda record: not record.getMessage().startswith("The frame size for reading")  # noqa: E731
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def _reason(ffmpeg_output: str) -> str:
    """What ffmpeg's complaint means for someone who just wants their clip read."""
    if "Audio:" in ffmpeg_output and "Video:" not in ffmpeg_output:
        return "the file holds sound but no video. Choose a video file."
    if "moov atom not found" in ffmpeg_output and "misdetection possible" not in ffmpeg_output:
        return ("the file is incomplete (its end is missing, as when a recording or a copy was cut "
                "short). Use the complete file.")
    return ("not a video that can be decoded (damaged, or another kind of file). "
            "Try an MP4, MOV, AVI, MKV or WebM file.")


_RGB_FORMATS = {3: "rgb24", 4: "rgba"}


class VideoWriter:
    """H.264 MP4 (yuv420p) writer that browsers play; use as a context manager.

    Frames are uint8 RGB (H, W, 3) or grey (H, W). An odd width or height is padded by one
    black pixel, since yuv420p needs even sizes; frames are never rescaled.
    """

    _i420 = True
    """Frames of even sizes go to ffmpeg as yuv420p, made here (:func:`_to_i420`)."""

    def __init__(self, path, width: int, height: int, fps: float, *, crf: int = 20, preset: str = "veryfast"):
        self.path = Path(path)
        self._size = (width, height)
        self._args = dict(fps=fps, crf=crf, preset=preset)
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
            self._i420 = (self._i420 and self._size[0] % 2 == 0 and self._size[1] % 2 == 0
                          and (frame.ndim == 2 or frame.shape[2] == 3))
            self._writer = self._start("yuv420p" if self._i420 else
                                       "gray" if frame.ndim == 2 else _RGB_FORMATS[frame.shape[2]])
        try:
            self._writer.send(_to_i420(frame) if self._i420 else np.ascontiguousarray(frame))
        except OSError:  # imageio-ffmpeg's "Broken pipe" and the whole ffmpeg command
            self._writer = None
            raise OSError(f"{self.path}: the video could not be written ({disk_state(self.path)}).") from None
        self.frame_count += 1

    def _start(self, pix_fmt_in: str):
        writer = imageio_ffmpeg.write_frames(
            _url(self.path), self._size, pix_fmt_in=pix_fmt_in, pix_fmt_out="yuv420p",
            fps=self._args["fps"], codec="libx264", quality=None, macro_block_size=1, ffmpeg_log_level="fatal",
            # Said in the file: players guess BT.709 for HD that does not say (OpenCV and ffmpeg make BT.601).
            output_params=[*_x264_options(self._args["crf"], self._args["preset"]), *ENCODER_THREADS,
                           "-colorspace", "smpte170m", "-color_range", "tv"])
        writer.send(None)
        return writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            # ffmpeg that cannot create the file (no such folder, no space) says nothing back
            # through imageio-ffmpeg: check for the file.
            if not self.path.is_file() or self.path.stat().st_size == 0:
                raise OSError(f"{self.path}: the video could not be written ({disk_state(self.path)}).")


class TransparentWriter(VideoWriter):
    """VP9 WebM writer with an alpha channel (yuva420p), which Chrome and Firefox play with
    transparency; use as a context manager. Frames are uint8 RGBA (H, W, 4), any size."""

    _i420 = False

    def __init__(self, path, width: int, height: int, fps: float, *, crf: int = 30):
        super().__init__(path, width, height, fps, crf=crf)

    def _start(self, pix_fmt_in: str):
        # realtime / cpu-used 8: about 400 frames/s at 320x240 here, against a few with VP9's defaults.
        # No look-ahead (without alt-ref frames it gives little): 44 MB less at 640x360, 493 KB not 497.
        writer = imageio_ffmpeg.write_frames(
            _url(self.path), self._size, pix_fmt_in=pix_fmt_in, pix_fmt_out="yuva420p",
            fps=self._args["fps"], codec="libvpx-vp9", quality=None, macro_block_size=1, ffmpeg_log_level="fatal",
            output_params=["-crf", str(self._args["crf"]), "-b:v", "0", "-deadline", "realtime",
                           "-cpu-used", "8", "-row-mt", "1", "-auto-alt-ref", "0", "-lag-in-frames", "0",
                           *ENCODER_THREADS])
        writer.send(None)
        return writer


class ProResWriter(TransparentWriter):
    """ProRes 4444 MOV writer with an alpha channel (yuva444p10le), which video editors import
    with its transparency (Premiere Pro, Final Cut Pro, DaVinci Resolve) where they take no VP9;
    use as a context manager. Frames are uint8 RGBA (H, W, 4); an odd width or height is padded
    by one transparent pixel (the encoder takes even sizes only)."""

    def _start(self, pix_fmt_in: str):
        # prores_aw: about 300 frames/s at 640x360 on one thread here, 61 MB at most; prores_ks took 4 times
        # as long. Its profile 4 is ProRes 4444 (ap4h), the one with an alpha channel.
        writer = imageio_ffmpeg.write_frames(
            _url(self.path), self._size, pix_fmt_in=pix_fmt_in, pix_fmt_out="yuva444p10le",
            fps=self._args["fps"], codec="prores_aw", quality=None, macro_block_size=1, ffmpeg_log_level="fatal",
            output_params=["-profile:v", "4", *ENCODER_THREADS, "-colorspace", "smpte170m", "-color_range", "tv",
                           "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2:color=black@0"])
        writer.send(None)
        return writer


def _matrix(pix_fmt: str, width: int, height: int, bt709: bool = False, full_range: bool = False) -> str | None:
    """How frames of a clip in ``pix_fmt`` are made RGB here (:func:`_to_rgb`): "bt709" or "bt601" for
    limited-range yuv420p of even sizes (imageio-ffmpeg's yuv420p), taken as decoded so that the
    ffmpeg program and PyAV give the same planes (a conversion of theirs could differ); None for
    rgb24 from ffmpeg. As ffmpeg's converter, a clip that does not say BT.709 is taken as BT.601
    (the rare others, SMPTE 240M or 8-bit BT.2020, come near it)."""
    if pix_fmt != "yuv420p" or width % 2 or height % 2 or full_range:
        return None
    return "bt709" if bt709 else "bt601"


def _to_sdr(pix_fmt: str) -> str:
    """``HDR_TO_SDR``, then the frames in ``pix_fmt``: "yuv420p", for a clip of even sizes; else
    planar RGB (for rgb24: a repacking), from 4:4:4, since zscale takes no odd sizes in 4:2:0."""
    if pix_fmt == "yuv420p":
        return f"{HDR_TO_SDR},format=yuv420p"
    return f"format=yuv444p16le,{HDR_TO_SDR},format=gbrp"


def _hdr(description: str) -> bool:
    """Whether ffmpeg's description of a stream's pixels ("yuv420p10le(tv, bt2020nc/bt2020/arib-std-b67,
    progressive)") names an HDR transfer (``HDR_TRANSFERS``)."""
    return any(name in description for name in HDR_TRANSFERS)


def _header_matrix(pix_fmt: str, width: int, height: int) -> str | None:
    """:func:`_matrix` of a stream as ffmpeg's header gives it: "yuv420p(tv, bt709/unknown/unknown,
    progressive)", the colour space first of its slashes and left out where unknown."""
    name, _, details = pix_fmt.partition("(")
    details = [part.strip() for part in details.rstrip(")").split(",")]
    return _matrix(name, width, height, any(part.split("/")[0] == "bt709" for part in details), "pc" in details)


def _to_rgb(raw, width: int, height: int, matrix: str | None) -> np.ndarray:
    """A frame read (bytes or a uint8 array: yuv420p planes if ``matrix``, else rgb24) as uint8 RGB
    (height, width, 3).

    Sent as rgb24, ffmpeg's converter cost more CPU than the decoding (1.6 s against 0.9 s for 600
    frames of 1280x720) and twice the bytes in the pipe; OpenCV's takes 0.3 ms a frame for BT.601,
    1.2 ms for BT.709 (phones' and cameras' HD), which OpenCV has no conversion for. All frames of
    a clip come one way (the fitting sample, the export, a seek), within a grey level or two of
    ffmpeg's RGB (a mean of 0.5 on a BT.709 test pattern).
    """
    raw = np.frombuffer(raw, np.uint8) if isinstance(raw, bytes) else raw
    if matrix is None:
        return raw.reshape(height, width, 3)
    planes = raw.reshape(height * 3 // 2, width)
    if matrix == "bt601":
        return cv2.cvtColor(planes, cv2.COLOR_YUV2RGB_I420)
    chroma = planes[height:].reshape(2, height // 2, width // 2)
    u, v = (cv2.resize(plane, (width, height), interpolation=cv2.INTER_NEAREST) for plane in chroma)
    return cv2.transform(cv2.merge([planes[:height], u, v]), _BT709)


def _yuv_to_rgb(kr: float, kb: float) -> np.ndarray:
    """The 3 x 4 matrix from limited-range (Y, U, V, 1) to RGB (0-255) of luma weights ``kr``, ``kb``."""
    kg = 1 - kr - kb
    luma, chroma = 255 / 219, 255 / 112
    rows = np.array([[luma, 0, chroma * (1 - kr)],
                     [luma, -chroma * (1 - kb) * kb / kg, -chroma * (1 - kr) * kr / kg],
                     [luma, chroma * (1 - kb), 0]])
    return np.hstack([rows, -(rows @ [16, 128, 128])[:, None]]).astype(np.float32)


_BT709 = _yuv_to_rgb(0.2126, 0.0722)


def _to_i420(frame: np.ndarray) -> np.ndarray:
    """A uint8 RGB (H, W, 3) or grey (H, W) frame of even sizes as yuv420p planes (H * 3/2, W).

    OpenCV's conversion takes 0.2 ms a 1280x720 frame and matches ffmpeg's (BT.601, limited range)
    within a grey level; given rgb24 or gray instead, the encoders spent a third more CPU on the
    foreground and a sixth more on the mask, converting them one at a time.
    """
    if frame.ndim == 3:
        return cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420)
    return np.vstack([cv2.LUT(frame, _GREY_TO_Y), np.full((frame.shape[0] // 2, frame.shape[1]), 128, np.uint8)])


_GREY_TO_Y = np.rint(16 + np.arange(256) * 219 / 255).astype(np.uint8)
"""Grey levels (0 to 255) as limited-range luma (16 to 235)."""


def read_alpha(path: PathLike) -> Iterator[np.ndarray]:
    """Yield the alpha plane (H, W) uint8 of each frame of a video with transparency: a VP9 WebM
    or a ProRes 4444 MOV.

    ffmpeg's native VP9 decoder drops alpha; libvpx-vp9 keeps it.
    """
    reader = imageio_ffmpeg.read_frames(_url(path), pix_fmt="rgba", bits_per_pixel=32,
                                        input_params=["-c:v", "libvpx-vp9"] if Path(path).suffix == ".webm" else [])
    try:
        width, height = next(reader)["size"]
        for raw in reader:
            yield np.frombuffer(raw, np.uint8).reshape(height, width, 4)[..., 3]
    finally:
        reader.close()


def _x264_options(crf: int, preset: str, filters=()) -> list[str]:
    """ffmpeg's output options of every H.264 file we write, after ``filters``: an odd width or
    height is padded by one black pixel (yuv420p needs even sizes), the index goes first (a
    browser plays the file while it loads)."""
    return ["-crf", str(crf), "-preset", preset, "-vf", ",".join([*filters, "pad=ceil(iw/2)*2:ceil(ih/2)*2"]),
            "-movflags", "+faststart"]


def _preview_size(width: int, height: int, preview_width: int) -> tuple[int, int]:
    scale = min(1.0, preview_width / width)
    return max(2, round(width * scale)), max(2, round(height * scale))


def _preview_output(path: Path, seconds: float, size: tuple[int, int], fps: float, hdr: bool) -> list[str]:
    """ffmpeg's output options for :func:`write_preview`'s file, frames numbered afresh at ``fps``
    as :class:`VideoWriter` writes them (``hdr``: brought to SDR as :func:`read_frames` does)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = _preview_size(*size, PREVIEW_WIDTH)
    to_sdr = [_to_sdr("yuv420p" if size[0] % 2 == size[1] % 2 == 0 else "rgb24")] if hdr else []
    return ["-map", "0:v:0", "-fps_mode", "passthrough", "-frames:v", str(max(1, round(seconds * fps))),
            # One encoder thread: at 480 wide it keeps up with any decode, and its frame threads
            # cost a fifth more CPU, which the upload waits for on a busy machine.
            "-c:v", "libx264", *ENCODER_THREADS, "-pix_fmt", "yuv420p", "-an", "-y",
            *_x264_options(**PREVIEW_X264, filters=[*to_sdr, f"scale={width}:{height}:flags=area",
                                                    f"setpts=N/({fps:.6f}*TB)"]),
            _url(path)]


def write_preview(source: PathLike | Video, path: PathLike, *, width: int = PREVIEW_WIDTH, seconds: float = 60.0) -> Path:
    """A small H.264 MP4 of the first ``seconds`` of ``source`` (a path or an opened
    :class:`Video`) that any browser plays (AVI, MKV, MPEG-4 Part 2 or image folders do not play
    in a browser as they are). :func:`open_video` writes the same while it probes a file."""
    video = as_video(source)
    info = video.info
    size = _preview_size(info.width, info.height, width)
    count = min(info.frame_count, max(1, round(seconds * info.fps)))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with VideoWriter(path, *size, info.fps, **PREVIEW_X264) as writer:
        for frame in video.frames(range(count)):
            # resized whenever the sizes differ: a 1x1 clip becomes 2x2, the least yuv420p takes
            writer.write(frame if frame.shape[1::-1] == size else
                         cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
    return Path(path)
