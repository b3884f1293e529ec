"""The app's time estimate against the real time, for every method on the shared clips.

    python benchmarks/estimate.py [--data ../shared/data]   # 3 shared clips, 8 methods (a few minutes)
    python benchmarks/estimate.py --methods mode svd        # some methods
    python benchmarks/estimate.py --quick                   # a 160x120 2 s clip, for CI

For each clip and method: :func:`bgcore.estimate.estimate` (what the Method page shows before the
run) against the seconds of :func:`bgcore.run` with the app's outputs (foreground and mask H.264,
PNG masks, background) after the probe: sampling, fitting and applying, which the estimate
covers. Printed beside: the rates the run reached, per pixel of the sample and frame (fitting)
and per output pixel and frame (applying), by the clock and by this process's CPU time (what
they would be on an idle machine, near enough: the encoders run beside it), against the model's
constants that the estimate uses. The applying rate by the clock is after
``bgcore.estimate.FRAME_SECONDS`` a frame, as the estimate counts it.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time

import bgcore
from bgcore.estimate import FRAME_SECONDS, estimate
from bgcore.masks import working_size
from bgcore.models import METHODS
from bgcore.outputs import OUTPUTS
from common import QUICK_CLIP, absent, parser, synthetic_video

TARGET = 2.0
"""The estimate within this factor of the real time, either way."""
CLIPS = {"road-640x360": "road-640x360/video.avi", "bmc-video003": "bmc-video003/Video_003.avi",
         "escalator": "lrslibrary-small/escalator.avi"}


APP_OUTPUTS = [name for name in OUTPUTS if name not in ("composite", "transparent", "editor")]
"""What the Export page makes at once (the composite and the transparent videos wait to be asked for)."""


def measure(name: str, path, method: str) -> dict:
    video = bgcore.open_video(path)
    cost = estimate(video.info, method=method)
    cpu = {}  # this process's CPU seconds when each stage began and ended (within a frame): on a loaded
    # machine, wall time is not the work

    def progress(stage, fraction):
        cpu.setdefault(stage, time.process_time())
        cpu[stage + " end"] = time.process_time()

    with tempfile.TemporaryDirectory() as out:
        report = bgcore.run(video, out, method=method, outputs=APP_OUTPUTS, progress=progress)  # probed once
    cpu["end"] = time.process_time()
    seconds = report["seconds"]
    real = seconds["sample"] + seconds["fit"] + seconds["apply"]
    fit_pixels = cost.sample_frames * math.prod(working_size(video.info.size, cost.scale))
    apply_pixels = cost.frames * video.info.width * video.info.height
    return {"clip": name, "method": method, "frames": cost.frames, "estimate": cost.seconds, "real": real,
            "ratio": cost.seconds / real, "fit_rate": fit_pixels / max(seconds["fit"], 1e-3),
            "apply_rate": apply_pixels / max(seconds["apply"] - cost.frames * FRAME_SECONDS, 1e-3),
            "fit_cpu_rate": fit_pixels / max(cpu["apply"] - cpu["sample end"], 1e-3),
            "apply_cpu_rate": apply_pixels / max(cpu["end"] - cpu["apply"], 1e-3)}


def main(argv=None) -> list[dict]:
    options = parser(__doc__, quick="one small synthetic clip, for CI", data=True, cache=True,
                     methods=list(METHODS))
    args = options.parse_args(argv)
    if args.quick:
        clips = {"synthetic 160x120": synthetic_video(args.cache, **QUICK_CLIP)}
    else:
        clips = {name: args.data / path for name, path in CLIPS.items()}
    rows = []
    print("| clip | method | estimate s | real s | estimate / real | fit pixel-frames/s (model's) | "
          "apply pixel-frames/s (model's) |\n|---|---|---|---|---|---|---|")
    for name, path in clips.items():
        if not path.exists():
            print(absent(path), file=sys.stderr)
            continue
        for method in args.methods:
            r = measure(name, path, method)
            model = METHODS[method]
            rows.append(r)
            print(f"| {name} | {method} | {r['estimate']:.1f} | {r['real']:.1f} | {r['ratio']:.2f} | "
                  f"{r['fit_rate'] / 1e6:.2f}M, CPU {r['fit_cpu_rate'] / 1e6:.2f}M ({model.fit_pixels_per_s / 1e6:g}M) | "
                  f"{r['apply_rate'] / 1e6:.2f}M, CPU {r['apply_cpu_rate'] / 1e6:.2f}M "
                  f"({model.apply_pixels_per_s / 1e6:g}M) |", flush=True)
    return rows


if __name__ == "__main__":
    sys.exit(0 if all(1 / TARGET <= row["ratio"] <= TARGET for row in main()) else 1)
