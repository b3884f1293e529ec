"""What a choice of trim, frame rate and working scale costs, before anything is decoded."""

from __future__ import annotations

from dataclasses import dataclass

from .hints import Scale
from .masks import working_size
from .pipeline import plan_sample
from .video import VideoInfo, selection

# Rates measured on the project's 2-core machine (see DESIGN.md), rounded down: an estimate
# should disappoint pleasantly.
DECODE_PIXELS_PER_S = 60e6
"""Decoding and resizing the frames read for the fitting sample."""
FIT_BYTES_PER_S = 35e6
"""Fitting, per byte of the float32 sample: one rate for every method, so a rough one (measured
on road-640x360's 260 MB sample: svd about 470 MB/s, k-means 160 MB/s; rpca on bmc-video003's
about 11 MB/s)."""
APPLY_PIXELS_PER_S = 12e6
"""Masking, clean-up and encoding the output videos and PNGs, per output pixel."""


@dataclass(frozen=True)
class Cost:
    frames: int
    """Frames in the output videos."""
    sample_frames: int
    """Frames held in memory for fitting."""
    scale: float
    """Working scale of the fitting sample."""
    memory: int
    """Bytes of the fitting sample (float32)."""
    seconds: float
    """Rough time to fit and export."""


def estimate(info: VideoInfo, *, start: float = 0.0, end: float | None = None, fps: float | None = None,
             scale: Scale = "auto", channels: int = 3) -> Cost:
    """The cost of removing the background of the frames that a trim and a frame-rate cap keep."""
    indices = selection(info, start=start, end=end, fps=fps)
    scale, picked = plan_sample(info, indices, channels=channels, scale=scale)
    width, height = working_size(info.size, scale)
    memory = len(picked) * height * width * channels * 4
    pixels = info.width * info.height
    seconds = (picked[-1] + 1) * pixels / DECODE_PIXELS_PER_S + memory / FIT_BYTES_PER_S \
        + len(indices) * pixels / APPLY_PIXELS_PER_S
    return Cost(len(indices), len(picked), scale, memory, seconds)
