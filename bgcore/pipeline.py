"""The whole run: probe, sample, fit, then apply frame by frame into the output files."""

from __future__ import annotations

import json
import resource
import time
from contextlib import ExitStack
from pathlib import Path

import cv2
import numpy as np

from .masks import MaskOptions, make_mask, to_working
from .models import METHODS
from .video import VideoInfo, VideoWriter, probe, read_frames, selection

SAMPLE_BUDGET = 256 * 2**20
"""Bytes the float32 fitting sample may take; the working scale shrinks to stay under it."""
MAX_SAMPLE = 200
"""Frames in the fitting sample at most, spread evenly over the selected frames."""


def plan_sample(info: VideoInfo, indices, *, channels: int, scale="auto",
                budget: int = SAMPLE_BUDGET, max_frames: int = MAX_SAMPLE):
    """The working scale and the frame indices to fit on.

    With ``scale="auto"`` the scale is the largest (at most 1) that keeps
    frames x height x width x channels x 4 bytes under ``budget``.
    """
    count = min(len(indices), max_frames)
    picked = [indices[i] for i in np.linspace(0, len(indices) - 1, count).round().astype(int)]
    if scale == "auto":
        full = count * info.width * info.height * channels * 4
        scale = min(1.0, float(np.sqrt(budget / full)))
    elif not 0 < scale <= 1:
        raise ValueError(f"scale={scale}: use a number in (0, 1] or 'auto'.")
    return scale, sorted(set(picked))


def run(source, out_dir, *, method: str = "svd", params: dict | None = None,
        mask_options: MaskOptions = MaskOptions(), measure: str = "rgb",
        start: float = 0.0, end: float | None = None, fps: float | None = None,
        scale="auto", progress=None) -> dict:
    """Remove the background of ``source`` (a video file or an image folder) into ``out_dir``.

    Writes foreground.mp4 (foreground on black), mask.mp4 (white foreground), background.png,
    masks/000001.png ... (0 background, 255 foreground, input resolution) and report.json,
    whose content is returned. ``progress(stage, fraction)`` is called as the work goes on.
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r}: use one of {', '.join(METHODS)}.")
    progress = progress or (lambda stage, fraction: None)
    out_dir = Path(out_dir)
    seconds = {}
    clock = time.perf_counter()

    def lap(stage):
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] = round(now - clock, 3)
        clock = now

    progress("probe", 0.0)
    info = probe(source)
    indices = selection(info, start=start, end=end, fps=fps)
    channels = 1 if measure == "grey" else 3
    scale, picked = plan_sample(info, indices, channels=channels, scale=scale)
    lap("probe")

    sample = []
    for frame in read_frames(source, picked):
        sample.append(to_working(frame, measure=measure, scale=scale))
        progress("sample", len(sample) / len(picked))
    sample = np.stack(sample)
    lap("sample")

    model = METHODS[method](**(params or {}))
    model.fit(sample, progress=lambda fraction: progress("fit", fraction))
    del sample
    threshold = mask_options.resolve_threshold(model.noise_)
    lap("fit")

    out_fps = info.fps / indices.step
    frame_count = apply(model, source, indices, out_dir, fps=out_fps, size=(info.width, info.height),
                        measure=measure, scale=scale, mask_options=mask_options,
                        threshold=threshold, progress=lambda f: progress("apply", f))
    lap("apply")

    report = {
        "method": method,
        "parameters": {**(params or {}), "measure": measure, "scale": round(scale, 4),
                       "start": start, "end": end, "fps": fps,
                       "mask": {**vars(mask_options), "threshold_used": round(threshold, 3)}},
        "input": {"path": str(source), "width": info.width, "height": info.height,
                  "fps": info.fps, "frame_count": info.frame_count},
        "frame_count": frame_count,
        "output_fps": out_fps,
        "seconds": seconds,
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    (out_dir / "report.json").write_text(json.dumps(report, indent=2))
    return report


def apply(model, source, indices, out_dir: Path, *, fps: float, size, measure: str, scale: float,
          mask_options: MaskOptions, threshold: float, progress) -> int:
    """Stream the selected frames through ``model`` into the output files; returns the frame count."""
    width, height = size
    (out_dir / "masks").mkdir(parents=True, exist_ok=True)
    background = _to_display(model.background_, size)
    cv2.imwrite(str(out_dir / "background.png"), cv2.cvtColor(background, cv2.COLOR_RGB2BGR))
    with ExitStack() as stack:
        foreground_video = stack.enter_context(VideoWriter(out_dir / "foreground.mp4", width, height, fps))
        mask_video = stack.enter_context(VideoWriter(out_dir / "mask.mp4", width, height, fps))
        for number, frame in enumerate(read_frames(source, indices), start=1):
            work = to_working(frame, measure=measure, scale=scale)
            mask = make_mask(model.difference(work), mask_options, threshold)
            mask = upscale_mask(mask, size)
            foreground_video.write(frame * mask[..., None])
            mask_image = mask.astype(np.uint8) * 255
            mask_video.write(mask_image)
            cv2.imwrite(str(out_dir / "masks" / f"{number:06d}.png"), mask_image)
            progress(number / len(indices))
    return number


def upscale_mask(mask: np.ndarray, size) -> np.ndarray:
    """A bool mask at the working scale resized to ``size`` (width, height), with smooth edges."""
    if mask.shape[::-1] == tuple(size):
        return mask
    return cv2.resize(mask.astype(np.uint8) * 255, size, interpolation=cv2.INTER_LINEAR) > 127


def _to_display(image: np.ndarray, size) -> np.ndarray:
    """A float32 (H, W, C) working image as uint8 RGB (height, width, 3) at ``size``."""
    image = np.clip(image, 0, 255).round().astype(np.uint8)
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    if image.shape[1::-1] != tuple(size):
        image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    return image
