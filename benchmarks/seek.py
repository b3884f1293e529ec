"""One frame by index, as the Results page's slider asks for it: a seek against a decode from the start.

    python benchmarks/seek.py                  # synthetic 720p 30 s, 1080p 60 s (two ways) and 10 min (~15 min)
    python benchmarks/seek.py --clips 720p     # one clip
    python benchmarks/seek.py --quick          # the 160x120 2 s clip, for CI

Ours: ``open_video(clip)[i]`` (a decoder kept open seeks to the keyframe before frame i and decodes
from there, skipping the frames nothing refers to) on ten frames spread over the clip, the last
included; the slowest counts. Beside it, frame i + 1 right after i (the slider moved on by one),
and the first frame asked for, timed apart: it opens the decoder (and imports PyAV, once a
process). Reference: what the page did before, ``next(read_frames(clip, [i]))`` (a decode from the
start) for the last frame, the slowest case, on the same clip in the same run. The probe (:func:`bgcore.probe`: one decode of
the whole clip, once per upload) is shown beside. The clips are H.264 from libx264 with its
default keyframe interval (250 frames: a seek decodes up to that many frames), and the 1080p one
also re-encoded with a keyframe every second, as phones record.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from statistics import median

import imageio_ffmpeg
import numpy as np

import memory
from common import QUICK_CLIP, parser
from bgcore.video import open_video, read_frames

TARGET = 0.5
"""Seconds any frame may take to show."""
CLIPS = {"720p": ("720p, 30 fps, 30 s", dict(width=1280, height=720, fps=30.0, frames=900), 1),
         "1080p": memory.CLIPS["1080p"],
         "1080p-10min": ("1080p, 30 fps, 10 min", memory.CLIPS["1080p"][1], 10),
         "1080p-gop30": ("1080p, 30 fps, 60 s, a keyframe a second", memory.CLIPS["1080p"][1], 1),
         "quick": ("160x120, 30 fps, 2 s", QUICK_CLIP, 1)}
"""name: (what, options of bgcore.synthetic.generate, times the clip is looped)."""
REFERENCE_FRAMES = 3600
"""The decode from the start is timed on clips of at most this many frames (it takes minutes beyond)."""


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def keyframe_every_second(source: Path) -> Path:
    """``source`` re-encoded with a keyframe every 30 frames, made once beside it."""
    path = source.with_name(f"{source.stem}-gop30.mp4")
    if not path.exists():
        partial = path.with_suffix(".partial.mp4")
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(source),
                        "-c:v", "libx264", "-preset", "veryfast", "-g", "30", "-pix_fmt", "yuv420p", str(partial)],
                       check=True)
        partial.replace(path)
    return path


def main(argv=None) -> list[dict]:
    options = parser(__doc__, quick="one small clip, for CI", cache=True)
    options.add_argument("--clips", nargs="+", default=["720p", "1080p", "1080p-gop30", "1080p-10min"],
                         choices=[name for name in CLIPS if name != "quick"])
    args = options.parse_args(argv)
    rows = []
    print("| clip | frames | probe s | seek s, slowest of 10 | median | next frame s, slowest | "
          "decode from the start s (last frame) |\n|---|---|---|---|---|---|---|")
    for key in ["quick"] if args.quick else args.clips:
        name, settings, loops = CLIPS[key]
        source = memory.clip(args.cache, settings, loops)
        if key.endswith("-gop30"):
            source = keyframe_every_second(source)
        video, probe_seconds = timed(open_video, source)
        last = len(video) - 1
        first = timed(video.frame, last // 2)[1]  # opens the decoder (and imports PyAV, once a process)
        seconds, steps = [], []
        for i in np.linspace(1, last - 1, 10).astype(int):
            seconds.append(timed(video.frame, int(i))[1])
            steps.append(timed(video.frame, int(i) + 1)[1])
        reference = timed(lambda: next(read_frames(source, [last])))[1] if len(video) <= REFERENCE_FRAMES else None
        rows.append({"clip": name, "frames": len(video), "probe_seconds": probe_seconds,
                     "seek_max": max(seconds), "seek_median": median(seconds), "step_max": max(steps),
                     "first_seconds": first,
                     "reference_seconds": reference})
        shown = "—" if reference is None else f"{reference:.1f}"
        print(f"| {name} | {len(video)} | {probe_seconds:.1f} | {max(seconds):.2f} | {median(seconds):.2f} | "
              f"{max(steps):.3f} | {shown} |", flush=True)
    return rows


if __name__ == "__main__":
    sys.exit(0 if all(row["seek_max"] <= TARGET for row in main()) else 1)
