"""Peak resident memory of the command line on long, large clips.

    python benchmarks/memory.py                 # 1080p 60 s and 720p 10 min synthetic clips (~35 min)
    python benchmarks/memory.py --clips 1080p   # the 1080p 60 s clip only (a few minutes)
    python benchmarks/memory.py --quick         # a 160x120 2 s clip, for CI (seconds)

Each run is a fresh ``python -m bgcore`` process with full-resolution outputs; its peak RSS comes
from the operating system (``common.peak_rss``: the larger of its own and its ffmpeg children's),
the ffmpeg children's from its report.json; the latter is only an upper bound, since Linux counts
in a child's peak the memory its parent had when it started the child (up to the ``exec``).
The clips are made once into ``--cache`` (synthetic, so nothing from ../shared/data is needed).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg

from common import MAIN_METHODS, QUICK_CLIP, ROOT, parser, peak_rss, synthetic_video
from bgcore.datasets import score_masks

BUDGET_MB = 600
"""Issue 11: every method at its defaults on the 1080p 60 s clip, rpca included (benchmarks/rpca.py)."""
CLIPS = {"1080p": ("1080p, 30 fps, 60 s", dict(width=1920, height=1080, fps=30.0, frames=1800), 1),
         "720p-10min": ("720p, 30 fps, 10 min", dict(width=1280, height=720, fps=30.0, frames=1800), 10),
         "quick": ("160x120, 30 fps, 2 s", QUICK_CLIP, 1)}
"""name: (what, options of bgcore.synthetic.generate, times the clip is looped)."""


def clip(cache: Path, options: dict, loops: int) -> Path:
    """A synthetic clip, made once; ``loops`` > 1 repeats it by stream copy (no re-encoding)."""
    base = synthetic_video(cache, **options)
    if loops == 1:
        return base
    looped = base.with_name(f"{base.stem}-x{loops}.mp4")
    if not looped.exists():
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y",
                        "-stream_loop", str(loops - 1), "-i", str(base), "-c", "copy", str(looped)],
                       check=True)
    return looped


def measure(source: Path, method: str, truth: dict | None = None) -> dict:
    """Run the command line once; its peak RSS in MB, seconds and frame count, and with
    ``truth`` (masks by frame index) the F-measure of the masks it wrote."""
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        peak_mb = peak_rss(["-m", "bgcore", str(source), "--out", out, "--method", method],
                           stderr=subprocess.DEVNULL, cwd=ROOT)
        seconds = time.perf_counter() - started
        report = json.loads((Path(out) / "report.json").read_text())
        scores = score_masks(Path(out) / "masks", truth) if truth else {}
    return {"peak_mb": peak_mb, "ffmpeg_mb": report["peak_memory_ffmpeg_mb"],
            "seconds": seconds, "frames": report["frame_count"], "f_measure": scores.get("f_measure")}


def main(argv=None) -> list[dict]:
    options = parser(__doc__, quick="one small clip, for CI", cache=True, methods=MAIN_METHODS)
    options.add_argument("--clips", nargs="+", default=["1080p", "720p-10min"], choices=list(CLIPS))
    args = options.parse_args(argv)
    rows = []
    print("| clip | method | frames | peak RSS (MB) | largest ffmpeg child (MB) | seconds |")
    print("|---|---|---|---|---|---|")
    for key in ["quick"] if args.quick else args.clips:
        name, settings, loops = CLIPS[key]
        source = clip(args.cache, settings, loops)
        for method in args.methods:
            result = measure(source, method)
            rows.append({"clip": name, "method": method, **result})
            print(f"| {name} | {method} | {result['frames']} | {result['peak_mb']:.0f} | "
                  f"{result['ffmpeg_mb']:.0f} | {result['seconds']:.1f} |", flush=True)
    worst = max(row["peak_mb"] for row in rows)
    print(f"\nlargest peak: {worst:.0f} MB, budget {BUDGET_MB} MB: "
          f"{'met' if worst <= BUDGET_MB else 'NOT met'}")
    return rows


if __name__ == "__main__":
    sys.exit(0 if all(row["peak_mb"] <= BUDGET_MB for row in main()) else 1)
