"""What a choice of trim, frame rate and working scale costs, before anything is decoded."""

from __future__ import annotations

from dataclasses import dataclass

from .hints import Scale
from .masks import working_size
from .models import DEFAULT_METHOD, METHODS
from .pipeline import as_decoded, plan_sample
from .video import VideoInfo, selection

DECODE_PIXELS_PER_S = 60e6
"""Decoding and resizing the frames read for the fitting sample, measured on the project's
2-core machine (see DESIGN.md). Fitting and applying go at each method's own rates, its
``fit_seconds``, ``fit_pixels_per_s`` and ``apply_pixels_per_s`` (``benchmarks/estimate.py``
checks them)."""
OUTPUT_PIXELS_PER_S = 70e6
"""The part of applying done at the clip's size whatever the working scale (reading the frames,
bringing the masks back to size, making the outputs), in output pixels a second of this process's
CPU. Each method's ``apply_pixels_per_s`` is measured at full scale and includes it; the rest
shrinks with the working area (a 1280x720 clip at a third: about 40 % of the full-scale time)."""
START_SECONDS = 0.5
"""What every run costs whatever the clip's size: starting the encoders and the model, writing
the files (a 160x130 clip of 198 frames takes about 1 s)."""


@dataclass(frozen=True)
class Cost:
    frames: int
    """Frames in the output videos."""
    sample_frames: int
    """Frames held in memory for fitting."""
    scale: float
    """Working scale of the fitting sample."""
    memory: int
    """Bytes of the fitting sample."""
    seconds: float
    """Rough time to fit and export."""


def estimate(info: VideoInfo, *, method: str = DEFAULT_METHOD, start: float = 0.0, end: float | None = None,
             fps: float | None = None, scale: Scale = "auto", channels: int = 3) -> Cost:
    """The cost of removing the background of the frames that a trim and a frame-rate cap keep
    with ``method`` (fitting, then exporting what the app exports)."""
    model = METHODS[method]
    indices = selection(info, start=start, end=end, fps=fps)
    scale, picked = plan_sample(info, indices, channels=channels, scale=scale)
    width, height = working_size(info.size, scale)
    memory = len(picked) * height * width * channels * (1 if as_decoded(model, channels=channels) else 4)
    pixels = info.width * info.height
    apply = 1 / OUTPUT_PIXELS_PER_S + max(0.0, 1 / model.apply_pixels_per_s - 1 / OUTPUT_PIXELS_PER_S) * scale**2
    seconds = START_SECONDS + (picked[-1] + 1) * pixels / DECODE_PIXELS_PER_S + model.fit_seconds \
        + len(picked) * height * width / model.fit_pixels_per_s + len(indices) * pixels * apply
    return Cost(len(indices), len(picked), scale, memory, seconds)
