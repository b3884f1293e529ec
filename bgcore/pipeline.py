"""The whole run: probe, sample and fit (:func:`fit_clip`), then apply frame by frame into the
output files (:func:`export`). :func:`run` does both; the app calls them apart, so that a new
threshold re-exports without decoding the sample or fitting again.
"""

from __future__ import annotations

import json
import math
import os
import re
import resource
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing, suppress
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from threadpoolctl import threadpool_limits

from .hints import PathLike, Progress, Scale, Size
from .masks import MaskOptions, grow, to_uint8, to_working, working_size
from .models import DEFAULT_METHOD, METHODS, BackgroundModel
from .outputs import OUTPUTS, Source, mask_image, sound_of
from .stabilize import Stabilizer, restore
from .stats import THREADS
from .video import Video, VideoInfo, as_video, read_image, selection

SAMPLE_BUDGET = 256 * 2**20
"""Bytes the fitting sample may take as float32 (a model that fits colour frames as decoded,
uint8, takes a quarter: see :func:`as_decoded`)."""
MAX_SAMPLE = 200
"""Frames in the fitting sample at most, evenly spaced over the selected frames."""
MIN_SAMPLE = 50
"""Frames the fitting sample keeps before the working scale is reduced to fit the budget."""
WORKING_PIXELS = 110_000
"""``scale="auto"`` works on frames of about this many pixels (1280x720 at a third: 427x240).
The clean-up's radii and smallest blob are counted in working pixels and were set on clips of
19,000 to 103,000 pixels, and finer work finds no more: bmc-video003 upscaled to 640x480 scores
F 0.899 at full size and 0.901 at half; a synthetic 1280x720 clip 0.958 at full size, 0.976 at
half and 0.972 at a quarter, in a third of the time. Below about 60,000 pixels small people
are lost (bmc-video003 at 224x168: 0.872)."""
MIN_SCALE = 0.01
"""The smallest working scale: below it a frame shrinks to a few pixels and nothing is found."""
MIN_WIDTH = 16
"""The narrowest outputs :func:`export` makes, in pixels."""
WORKERS = THREADS
"""Threads that make masks at once (:func:`export`)."""
RATE_QUANTILE = 0.1
"""The output videos' rate (:meth:`FittedClip.timing`) is that of the gaps between frames within a
tenth of this quantile of them: the clip's fastest steady rate, whatever share of it runs slower."""
STEADY = 0.01
"""Frames kept that run at a steady rate within this share of the clip's stated one are written
at the stated one (timestamps in milliseconds put a 30 fps clip's at 29.97 to 30.03)."""
MAX_RATE = 4
"""The output videos' frame rate is at most this many times the clip's average (see
:meth:`FittedClip.timing`): a few frames of a clip close together in time must not make its videos long."""
DEFAULT_OUTPUTS = ("foreground", "mask", "masks", "background")
"""What :func:`export` writes unless told (names of :data:`bgcore.outputs.OUTPUTS`)."""
WRITTEN = (*(output.file for output in OUTPUTS.values()), "report.json")
"""What :func:`export` may write into its folder. An export replaces all of them, so that no file
of an earlier run stays beside a later run's (an extra mask PNG, an old composite)."""


def plan_sample(info: VideoInfo, indices: range, *, channels: int, scale: Scale = "auto",
                budget: int = SAMPLE_BUDGET, max_frames: int = MAX_SAMPLE,
                min_frames: int = MIN_SAMPLE) -> tuple[float, range]:
    """The working scale and the evenly spaced frames to fit on, within a memory budget.

    With ``scale="auto"`` a frame is brought down to about ``WORKING_PIXELS`` by the nearest whole
    factor (1/2, 1/3...: area averaging by a whole factor is 40 times faster than by any other);
    then the sample gives up frames (down to ``min_frames``), then size, to fit the budget.
    """
    if scale == "auto":
        frame_bytes = info.width * info.height * channels * 4
        factor = max(1, round(math.sqrt(info.width * info.height / WORKING_PIXELS)))
        while min(len(indices), min_frames) * frame_bytes > budget * factor**2:
            factor += 1
        scale = 1 / factor
    elif not (isinstance(scale, (int, float)) and MIN_SCALE <= scale <= 1):
        raise ValueError(f"scale={scale}: use a number from {MIN_SCALE} to 1 or 'auto'.")
    width, height = working_size(info.size, scale)
    count = max(2, min(len(indices), max_frames, budget // (width * height * channels * 4)))
    return scale, indices[::math.ceil(len(indices) / count)]


@dataclass
class FittedClip:
    """A background model fitted on a clip, with what is needed to apply it to any of its frames."""

    video: Video
    indices: range
    """The selected frames (after trim and frame-rate cap), as decoded-frame indices."""
    sampled: list[int]
    """The decoded-frame indices of the sample the model was fitted on, in its order."""
    method: str
    params: dict
    measure: str
    scale: float
    model: BackgroundModel
    seconds: dict = field(default_factory=dict)
    stabilizer: Stabilizer | None = None
    """Where the camera shakes, what holds each frame on one view for the model."""

    @property
    def source(self) -> str:
        return str(self.video.source)

    @property
    def info(self) -> VideoInfo:
        return self.video.info

    @property
    def fps(self) -> float:
        """Frame rate of the selected frames."""
        return self.info.fps / self.indices.step

    @property
    def size(self) -> tuple[int, int]:
        return self.info.size

    def times(self) -> np.ndarray | None:
        """The selected frames' times in seconds from the file's start (:meth:`Video.seconds`)."""
        seconds = self.video.seconds()
        return None if seconds is None else seconds[np.asarray(self.indices)]

    def timing(self) -> tuple[float, float, np.ndarray | None]:
        """Where the selected frames start in the clip's sound (seconds), the output videos' frame
        rate, and how many of their frames each selected frame stands for (None: one each).

        A phone's frame rate varies (it slows in dim light), and a video plays at one rate: written one
        frame a frame at the average rate, a 30 fps clip missing 0.7 s of frames had its picture up to
        0.4 s off its sound. The videos take the clip's fastest steady rate, from its shortest usual
        gap between frames (``RATE_QUANTILE``: MKV and WebM keep times in whole milliseconds, so a
        30 fps clip's gaps are 33 and 34 ms), and repeat a frame where the clip slowed down, as video
        editors do, so that every frame shows when it did. A file cut without re-encoding may begin
        with frames that cannot be decoded: the sound starts where the first decoded frame shows."""
        picked = self.times()
        if picked is None:
            return self.indices.start / self.info.fps, self.fps, None
        if len(picked) < 2:
            return max(0.0, float(picked[0])), self.fps, None
        gaps = np.diff(picked)
        short = np.quantile(gaps, RATE_QUANTILE)
        rate = min(1 / gaps[np.abs(gaps - short) <= 0.1 * short].mean(), MAX_RATE * self.fps)
        marks = np.round((picked - picked[0]) * rate)
        shown = np.diff(marks, append=marks[-1] + 1).astype(int)
        start = max(0.0, float(picked[0]))
        if not (shown == 1).all():
            return start, float(rate), shown
        # Steady: at the clip's stated rate, unless the frames kept run at another (a phone
        # clip's dim, slower part, trimmed out of it, against the whole clip's average).
        return start, self.fps if abs(rate - self.fps) <= STEADY * self.fps else float(rate), None

    def shown_at(self, position: int) -> float:
        """Where the selected frame at ``position`` shows in the exported videos, in seconds."""
        times = self.times()
        return position / self.fps if times is None else float(times[position] - times[0])

    def threshold(self, options: MaskOptions) -> float:
        return options.resolve_threshold(self.model.auto_threshold_)

    def difference(self, frame: np.ndarray) -> np.ndarray:
        """Distance (h, w) float32 at the working scale between a uint8 RGB frame and its background."""
        work, matrix = self.working(frame)
        return restore(self.model.difference(work), matrix)

    def mask(self, frame: np.ndarray, options: MaskOptions = MaskOptions(), size: Size | None = None) -> np.ndarray:
        """The bool mask of a uint8 RGB frame (H, W, 3), at ``size`` (width, height; the clip's by default)."""
        return self.working_mask(*self.working(frame), options, size)

    def working_mask(self, work: np.ndarray, matrix: np.ndarray | None, options: MaskOptions = MaskOptions(),
                     size: Size | None = None) -> np.ndarray:
        """:meth:`mask` of a frame already made a working one by :meth:`working` (``work``, ``matrix``)."""
        found = self.model.mask(work, options)
        if self.stabilizer is not None:
            found = restore(found & self.stabilizer.seen, matrix)
        return upscale_mask(found, size or self.size)

    def working(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """A uint8 RGB frame as the model takes it: at the working scale, on the reference view where
        the camera shakes; and the matrix that moved it there (None: not moved), for
        :func:`bgcore.stabilize.restore`."""
        work = to_working(frame, measure=self.measure, scale=self.scale)
        return (work, None) if self.stabilizer is None else self.stabilizer.align(work)

    def background_image(self, size: Size | None = None) -> np.ndarray:
        """The background plate as uint8 RGB at ``size`` (width, height; the input's by default)."""
        return to_display(self.model.background_, size or self.size)


def fit_clip(source: PathLike | Video, *, method: str = DEFAULT_METHOD, params: dict | None = None, measure: str = "rgb",
             start: float = 0.0, end: float | None = None, fps: float | None = None,
             scale: Scale = "auto", progress: Progress | None = None) -> FittedClip:
    """Probe ``source`` (a video file or an image folder; an opened :class:`~bgcore.video.Video`
    is not probed again), sample it and fit ``method`` on it.

    ``progress(stage, fraction)`` is called as the work goes on (stages probe, sample, fit).
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r}: use one of {', '.join(METHODS)}.")
    if measure not in ("grey", "rgb"):
        raise ValueError(f"measure={measure!r}: use 'grey' or 'rgb'.")
    progress = progress or (lambda stage, fraction: None)
    timer = _Timer()
    progress("probe", 0.0)
    video = as_video(source)
    info = video.info
    indices = selection(info, start=start, end=end, fps=fps, times=video.seconds())
    channels = 1 if measure == "grey" else 3
    scale, picked = plan_sample(info, indices, channels=channels, scale=scale)
    picked, model_params = _model_params(METHODS[method], params or {}, indices, picked)
    timer.lap("probe")

    model = METHODS[method](**model_params)
    keep = as_decoded(model, channels=channels)
    sample = None
    # Closed here, not left to the garbage collector: a stop (an exception from progress) ends
    # the decoder at once, and a shared ``source`` Video stays open for others.
    with closing(video.frames(picked, size=None if scale == 1 else working_size(info.size, scale))) as frames:
        for i, frame in enumerate(frames):
            work = frame if keep else to_working(frame, measure=measure)
            if sample is None:  # filled in place: a list then np.stack would hold the sample twice
                sample = np.empty((len(picked), *work.shape), work.dtype)
            sample[i] = work
            progress("sample", (i + 1) / len(picked))
    progress("fit", 0.0)  # the page says fitting from here on, not "decoding, 100 %"
    stabilizer = Stabilizer.fit(sample)
    if stabilizer is not None:
        stabilizer.steady(sample)
    timer.lap("sample")

    model.fit(sample, progress=lambda fraction: progress("fit", fraction))
    timer.lap("fit")
    return FittedClip(video, indices, list(picked), method, dict(params or {}), measure, scale, model,
                      timer.seconds, stabilizer)


def as_decoded(model: BackgroundModel | type[BackgroundModel], *, channels: int) -> bool:
    """Whether ``model``'s fitting sample holds colour frames as decoded (uint8), a quarter of
    float32's memory and no conversion: when it fits them so (``fits_uint8``) and works in colour."""
    return model.fits_uint8 and channels == 3


def _model_params(cls, params: dict, indices: range, picked: list):
    """The model's parameters from the caller's. Parameters of kind "image" may be a file, read
    here. Those of kind "frame" name a frame of the selection, and the model sees only the sample:
    each such frame is added to the sample and the model gets its position there."""
    model_params = dict(params)
    for param in cls.params:
        value = params.get(param.name)
        if param.kind == "image" and isinstance(value, (str, Path)):
            model_params[param.name] = read_image(value, role=param.name, photo=True)
        elif param.kind == "frame" and isinstance(value, (int, np.integer)):
            if not 0 <= value < len(indices):
                raise ValueError(f"{param.name}={value}: use a frame number from 0 to {len(indices) - 1}.")
            picked = sorted(set(picked) | {indices[value]})
            model_params[param.name] = picked.index(indices[value])
    return picked, model_params


def export(fitted: FittedClip, out_dir: PathLike, *, outputs=DEFAULT_OUTPUTS,
           mask_options: MaskOptions = MaskOptions(), width: int | None = None, masks: PathLike | None = None,
           progress: Progress | None = None) -> dict:
    """Apply a fitted model to every selected frame, streaming, and write the ``outputs``.

    outputs : names of :data:`bgcore.outputs.OUTPUTS` (foreground.mp4, mask.mp4, masks/000001.png...,
    background.png by default), or a mapping of such names to each one's options (keyword arguments
    of its class: ``{"foreground": {"behind": "green"}, "composite": {"backdrop": "beach.jpg"}}``).
    width : the outputs' width in pixels, their height in proportion (:func:`output_size`); the
    clip's size by default. Smaller outputs take less memory: ffmpeg's encoders grow with them.
    Also writes report.json, whose content is returned. The foreground and composite MP4s and the
    editors' MOV carry the clip's sound, cut to the selected part, when it has some.

    masks : the folder of an earlier export's mask PNGs, made with the same fit, ``mask_options`` and
    ``width``, read instead of computing the masks again (the app re-renders a composite over a new
    background this way: in about half the time on bmc-video003).
    """
    chosen = check_outputs(outputs)
    check_out_dir(out_dir, fitted.source, *_inputs(chosen), fitted.params.get("reference_image"))
    return _export(fitted, Path(out_dir), chosen, mask_options, width, masks, progress)


def output_size(size: Size, width: int | None) -> Size:
    """(width, height) of the outputs ``width`` wide of a clip of ``size``: the clip's size for None or
    any width from the clip's up (never enlarged), else the height in proportion, both even."""
    if width is None or width >= size[0]:
        return tuple(size)
    if width < MIN_WIDTH:
        raise ValueError(f"width={width}: give at least {MIN_WIDTH} pixels.")
    width -= width % 2
    return width, max(2, round(size[1] * width / size[0] / 2) * 2)


def _export(fitted: FittedClip, out_dir: Path, chosen: dict, mask_options: MaskOptions, width, masks, progress) -> dict:
    """:func:`export` of outputs checked (:func:`check_outputs`, :func:`check_out_dir`)."""
    progress = progress or (lambda stage, fraction: None)
    timer = _Timer()
    start, rate, shown = fitted.timing()
    written = len(fitted.indices) if shown is None else int(shown.sum())  # frames of each video
    sound = None
    if any(OUTPUTS[name].sound for name in chosen):  # else no ffmpeg to look for it
        sound = sound_of(fitted.source, start, written / rate)
    size = output_size(fitted.size, width)
    source = Source(size, rate, fitted.background_image(size), sound)
    with ExitStack() as stack:
        # Written into a fresh hidden folder in out_dir (a parent may not be writable), moved in
        # once complete: a run stopped halfway leaves no cut-short video among the outputs of an
        # earlier one. Every output checks its options when made, before the first frame.
        if not out_dir.exists():  # made here: a run stopped halfway leaves none (rmdir takes only an empty one)
            out_dir.mkdir(parents=True)
            stack.callback(_remove_if_empty, out_dir)
        staging = Path(tempfile.mkdtemp(prefix=".bgcore-partial-", dir=out_dir))
        stack.callback(shutil.rmtree, staging, ignore_errors=True)
        writers = ExitStack()
        made = [writers.enter_context(OUTPUTS[name](staging, source, **options))
                for name, options in chosen.items()]
        # A frame's products are too small to share between threads: BLAS threads waiting for
        # work cost more than they give, and much more when other jobs hold the cores (SVD's
        # apply took twice median's on a loaded machine, 0.2 ms more a frame on a quiet one).
        def at_size(item):  # the frame and its mask at the outputs' size
            number, frame = item
            mask = mask_image(fitted.mask(frame, mask_options, size)) if masks is None else _read_mask(masks, number)
            return frame if size == fitted.size else cv2.resize(frame, size, interpolation=cv2.INTER_AREA), mask

        workers = 1 if fitted.model.in_order else WORKERS
        with writers, threadpool_limits(limits=1, user_api="blas"):
            frames = writers.enter_context(closing(fitted.video.frames(fitted.indices)))
            for (number, _), (frame, mask) in _in_threads(at_size, enumerate(frames, start=1), workers):
                for output in made:
                    for _ in range(1 if shown is None or not output.timed else shown[number - 1]):
                        output.write(frame, mask)
                progress("apply", number / len(fitted.indices))
        timer.lap("apply")
        # As written: options given as paths come back as text.
        report = json.dumps(_report(fitted, mask_options, chosen, source, number, written, timer), indent=2, default=str)
        (staging / "report.json").write_text(report)
        _move_in(staging, out_dir)
    return json.loads(report)


def _in_threads(function, items, workers: int):
    """(item, function(item)) for each of ``items``, in order, ``workers`` items at a time in
    threads. A mask is NumPy and OpenCV work, which lets go of Python's lock: two threads cut the
    export of the road clip by a third on a loaded 2-core machine (1.4x), beside the ffmpeg decoder and
    encoders."""
    if workers == 1:
        yield from ((item, function(item)) for item in items)
        return
    with ThreadPoolExecutor(workers) as pool:
        pending = deque()
        for item in items:
            pending.append((item, pool.submit(function, item)))
            if len(pending) > 2 * workers:  # a few frames ahead: memory stays a few frames
                item, future = pending.popleft()
                yield item, future.result()
        for item, future in pending:
            yield item, future.result()


def _read_mask(folder, number: int) -> np.ndarray:
    """A mask PNG as :func:`bgcore.outputs.mask_image` makes it (uint8, 0 or 255)."""
    mask = cv2.imread(str(Path(folder) / f"{number:06d}.png"), cv2.IMREAD_GRAYSCALE)
    if mask is None:
        raise ValueError(f"{folder}: mask {number:06d}.png is missing or unreadable; export the masks again.")
    return cv2.threshold(mask, 127, 255, cv2.THRESH_BINARY)[1]


def check_outputs(outputs) -> dict:
    """``outputs`` of :func:`export` as a mapping of names to options; a ValueError for an unknown one."""
    chosen = dict(outputs) if isinstance(outputs, Mapping) else {name: {} for name in outputs}
    for name in chosen:
        if name not in OUTPUTS:
            raise ValueError(f"output {name!r}: use one of {', '.join(OUTPUTS)}.")
    return chosen


def _inputs(chosen: dict) -> list:
    return [path for name, options in chosen.items() for path in OUTPUTS[name].inputs(options)]


def _report(fitted: FittedClip, mask_options: MaskOptions, chosen, source: Source, number, written, timer) -> dict:
    info = fitted.info
    return {
        "method": fitted.method,
        "parameters": {**fitted.params, "measure": fitted.measure, "scale": round(fitted.scale, 4),
                       "mask": {**vars(mask_options),
                                "threshold_used": round(fitted.threshold(mask_options), 3),
                                "threshold_auto": round(fitted.model.auto_threshold_, 3),
                                "noise_level": round(fitted.model.noise_, 3)}},
        "input": {"path": fitted.source, "width": info.width, "height": info.height,
                  "fps": info.fps, "frame_count": info.frame_count,
                  "selected": {"first": fitted.indices.start, "stop": fitted.indices.stop,
                               "step": fitted.indices.step}},
        "outputs": {OUTPUTS[name].file: options for name, options in chosen.items()},
        "frame_count": number,
        "steadied": fitted.stabilizer is not None,
        "output_fps": source.fps,  # the videos' rate and frames (see FittedClip.timing)
        "output_frames": written,
        "output_size": list(source.size),
        "seconds": {**fitted.seconds, **timer.seconds},
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        # The ffmpeg decoders and encoders run as child processes: the largest of them.
        "peak_memory_ffmpeg_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
    }


def _remove_if_empty(folder: Path) -> None:
    with suppress(OSError):  # not empty: the outputs are in
        folder.rmdir()


def _move_in(staging: Path, out_dir: Path) -> None:
    """Replace the outputs in ``out_dir`` (every name of ``WRITTEN``) with those finished in
    ``staging``; other files stay, in ``masks/`` too: only PNGs named as ours (000001.png...)
    are an earlier run's."""
    for name in WRITTEN:
        old = out_dir / name
        if name == "masks" and old.is_dir() and not old.is_symlink():
            for png in old.iterdir():
                if re.fullmatch(r"\d{6}\.png", png.name) and not png.is_dir():
                    png.unlink()
            _remove_if_empty(old)  # else an empty masks/ stayed from a run that made masks
        elif old.exists() or old.is_symlink():
            old.unlink()
    for path in staging.iterdir():
        target = out_dir / path.name
        if path.is_dir() and target.is_dir():
            for inner in path.iterdir():
                inner.replace(target / inner.name)
        else:
            path.replace(target)


def check_out_dir(out_dir: PathLike, *inputs: PathLike | None) -> None:
    """Refuse an output folder that is or holds one of ``inputs`` (paths or None), or whose
    outputs would replace it: they would overwrite it, or land among the images of an image
    folder as frames of its clip. An input in a subfolder of its own is fine."""
    out = Path(out_dir).resolve()
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out_dir}: a file of that name is there; choose a folder for the outputs.")
    made = next(folder for folder in out.parents if folder.exists())  # what the outputs' folder would be made in
    if not made.is_dir():
        raise ValueError(f"--out {out_dir}: {made} is a file, where a folder would be made; choose another folder.")
    if not os.access(out if out.exists() else made, os.W_OK | os.X_OK):  # known before the work, not after it
        raise ValueError(f"--out {out_dir}: cannot write there (permission denied). Choose another folder.")
    for path in filter(None, inputs):
        path = Path(path).resolve()
        if out in (path, path.parent) or any(out / name in (path, *path.parents) for name in WRITTEN):
            raise ValueError(f"--out {out_dir}: the folder holds the input {path}, which the outputs "
                             "would overwrite or mix with. Choose another folder for the outputs.")


def run(source: PathLike | Video, out_dir: PathLike, *, method: str = DEFAULT_METHOD, params: dict | None = None,
        mask_options: MaskOptions = MaskOptions(), measure: str = "rgb",
        start: float = 0.0, end: float | None = None, fps: float | None = None,
        scale: Scale = "auto", outputs=DEFAULT_OUTPUTS, width: int | None = None,
        progress: Progress | None = None) -> dict:
    """Remove the background of ``source`` into ``out_dir``: :func:`fit_clip` then :func:`export`
    of ``outputs``, ``width`` wide."""
    chosen = check_outputs(outputs)
    path = source.source if isinstance(source, Video) else source
    check_out_dir(out_dir, path, *_inputs(chosen), (params or {}).get("reference_image"))
    fitted = fit_clip(source, method=method, params=params, measure=measure, start=start, end=end,
                      fps=fps, scale=scale, progress=progress)
    return _export(fitted, Path(out_dir), chosen, mask_options, width, None, progress)


def upscale_mask(mask: np.ndarray, size: Size) -> np.ndarray:
    """A bool mask at the working scale resized to ``size`` (width, height), with smooth edges."""
    if mask.shape[::-1] == tuple(size):
        return mask
    return grow(mask.astype(np.uint8) * 255, size) > 127


def to_display(image: np.ndarray, size: Size) -> np.ndarray:
    """A float32 (h, w, C) working image as uint8 RGB (height, width, 3) at ``size``."""
    image = to_uint8(image)
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    if image.shape[1::-1] != tuple(size):
        image = grow(image, size)
    return image


class _Timer:
    """Seconds per stage, in the order the stages ran."""

    def __init__(self):
        self.seconds = {}
        self._clock = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = round(now - self._clock, 3)
        self._clock = now
