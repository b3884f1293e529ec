"""What a choice of trim, frame rate and working scale costs, before anything is decoded; what
an export's encoders take in memory."""

from __future__ import annotations

from dataclasses import dataclass

from .hints import Scale, Size
from .masks import working_size
from .models import DEFAULT_METHOD, METHODS
from .outputs import OUTPUTS
from .pipeline import as_decoded, plan_sample
from .video import SEEK_PIXELS, VideoInfo, selection

# How the figures below and each method's rates were found: every method's run of five clips
# (road-640x360, bmc-video003, escalator, sbi-Foliage's images, the synthetic 1280x720 20 s clip,
# at a third), sample, fit and apply timed apart; the constants that put the estimate of each
# part nearest (in ratio) to 1.15 times its real time, rounded. 1.15: the same runs took up to
# 1.4x as long on other days on this shared machine, and a wait told too short is the worse.
DECODE_PIXELS_PER_S = 600e6
"""Decoding the clip up to the fitting sample's last frame (ffmpeg drops the frames not kept): 0.5
to 1.2 billion pixels a second measured here on road-640x360 (MPEG-4), bmc-video003 and H.264
clips of 1280x720 and 1920x1080; a detailed phone clip decodes slower."""
SAMPLE_PIXELS_PER_S = 400e6
"""Bringing the sample's frames to the working scale and type, in working pixels a second.
Fitting and applying go at each method's own rates, its ``fit_seconds``, ``fit_pixels_per_s``
and ``apply_pixels_per_s`` (``benchmarks/estimate.py`` checks them)."""
FRAME_SECONDS = 0.0027
"""What applying costs a frame whatever its size (a PNG mask written, four encoders fed, hand-offs
between threads), which one per-pixel rate alone put 1.5x apart on clips of 21 to 920 thousand
pixels a frame."""
OUTPUT_PIXELS_PER_S = 70e6
"""The part of applying done at the clip's size whatever the working scale (reading the frames,
bringing the masks back to size, encoding the outputs), in output pixels a second. Each method's
``apply_pixels_per_s`` is measured at full scale and includes it; the rest shrinks with the
working area (the 1280x720 clip, at a third, sets it)."""
FFMPEG_BYTES = 60 * 2**20
"""What an export's ffmpeg processes take whatever the sizes: each program's own. With the decoder's
``DECODER_BYTES_PER_PIXEL`` of the clip and each output's ``memory_per_pixel``, from the peaks of
ffmpeg's processes together in one app session (``benchmarks/server_memory.py --sizes``: foreground
and mask of a 1280x720 clip 268 MB, at 854x480 174 MB; of a 1920x1080 clip 508 MB, at 854x480 221 MB)
and in command-line exports of the 1920x1080 clip (the transparent video alone: 641 MB at 1920x1080,
332 MB at 1280x720)."""
DECODER_BYTES_PER_PIXEL = 40
"""The decoder's frames, per pixel of the clip, which is decoded at its own size whatever the outputs'."""
START_SECONDS = 0.15
"""What every run costs whatever the clip's size (starting the decoders and the model)."""


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
    fit_seconds: float
    """Rough time to fit (decode the sample and fit the model)."""
    export_seconds: float
    """Rough time to export every frame (:func:`export_seconds`)."""

    @property
    def seconds(self) -> float:
        """Rough time to fit and export."""
        return self.fit_seconds + self.export_seconds


def estimate(info: VideoInfo, *, method: str = DEFAULT_METHOD, start: float = 0.0, end: float | None = None,
             fps: float | None = None, scale: Scale = "auto", channels: int = 3, times=None) -> Cost:
    """The cost of removing the background of the frames that a trim and a frame-rate cap keep
    with ``method`` (fitting, then exporting what the app exports); ``times``: the frames' own,
    where the clip has them (:meth:`bgcore.Video.seconds`), which a trim follows as the fit does."""
    model = METHODS[method]
    indices = selection(info, start=start, end=end, fps=fps, times=times)
    scale, picked = plan_sample(info, indices, channels=channels, scale=scale)
    width, height = working_size(info.size, scale)
    memory = len(picked) * height * width * channels * (1 if as_decoded(model, channels=channels) else 4)
    fit = START_SECONDS + _decoded(info, picked) * info.width * info.height / DECODE_PIXELS_PER_S + model.fit_seconds \
        + len(picked) * height * width * (1 / SAMPLE_PIXELS_PER_S + 1 / model.fit_pixels_per_s)
    return Cost(len(indices), len(picked), scale, memory, fit, export_seconds(info, indices, method, scale))


def export_seconds(info: VideoInfo, indices: range, method: str, scale: float) -> float:
    """Rough time to export the frames ``indices`` (:func:`bgcore.video.selection`) of a clip fitted
    with ``method`` at working ``scale``; the frames a lower frame rate leaves out between them are
    decoded too (a one-minute 60 fps phone clip at 30 fps: 1,800 of them), as are some before a trim's
    start (:func:`_decoded`)."""
    model = METHODS[method]
    apply = 1 / OUTPUT_PIXELS_PER_S + max(0.0, 1 / model.apply_pixels_per_s - 1 / OUTPUT_PIXELS_PER_S) * scale**2
    skipped = _decoded(info, indices) - len(indices)
    return info.width * info.height * (len(indices) * apply + skipped / DECODE_PIXELS_PER_S) + len(indices) * FRAME_SECONDS


def _decoded(info: VideoInfo, indices) -> float:
    """Frames a read of ``indices`` decodes: those up to the last, from the file's start or, for a
    trim far in (``SEEK_PIXELS``), from a seek to a keyframe (taken as that many pixels before:
    an MP4, MOV, MKV or WebM file; an AVI one is decoded from its start, but seldom that long)."""
    return indices[-1] + 1 - max(0.0, indices[0] - SEEK_PIXELS / (info.width * info.height))


def export_memory(clip_size: Size, size: Size, outputs) -> int:
    """Bytes, about, that ffmpeg's decoder and encoders take at once in an export of a clip of
    ``clip_size`` (width, height) into ``outputs`` (names of :data:`bgcore.outputs.OUTPUTS`) of
    ``size``: unlike the rest of an export, they grow with the sizes."""
    return (FFMPEG_BYTES + clip_size[0] * clip_size[1] * DECODER_BYTES_PER_PIXEL
            + size[0] * size[1] * sum(OUTPUTS[name].memory_per_pixel for name in outputs))
