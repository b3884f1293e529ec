"""Peak resident memory of the command line on long, large clips.

    python benchmarks/memory.py            # 1080p 60 s and 720p 10 min synthetic clips (~15 min)
    python benchmarks/memory.py --quick    # a 640x360 10 s clip, for CI (~1 min)

Each run is a fresh ``python -m bgcore`` process with full-resolution outputs; its peak RSS comes
from the operating system (``os.wait4``), the ffmpeg children's from its report.json. The clips
are made once into ``--cache`` (synthetic, so nothing from ../shared/data is needed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bgcore.models import METHODS  # noqa: E402
from bgcore.synthetic import write_clip  # noqa: E402

BUDGET_MB = 1000
FULL = [("1080p, 30 fps, 60 s", dict(width=1920, height=1080, fps=30.0, frames=1800), 1),
        ("720p, 30 fps, 10 min", dict(width=1280, height=720, fps=30.0, frames=1800), 10)]
QUICK = [("360p, 30 fps, 10 s", dict(width=640, height=360, fps=30.0, frames=300), 1)]


def clip(cache: Path, options: dict, loops: int) -> Path:
    """A synthetic clip, made once; ``loops`` > 1 repeats it by stream copy (no re-encoding)."""
    base = cache / "synthetic-{width}x{height}-{frames}.mp4".format(**options)
    if not base.exists():
        write_clip(base, crf=23, **options)
    if loops == 1:
        return base
    looped = base.with_name(f"{base.stem}-x{loops}.mp4")
    if not looped.exists():
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y",
                        "-stream_loop", str(loops - 1), "-i", str(base), "-c", "copy", str(looped)],
                       check=True)
    return looped


def measure(source: Path, method: str) -> dict:
    """Run the command line once; its peak RSS in MB, seconds and frame count."""
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "bgcore", str(source), "--out", out,
                                    "--method", method], stderr=subprocess.DEVNULL,
                                   cwd=Path(__file__).resolve().parents[1])
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        if status != 0:
            raise RuntimeError(f"bgcore failed on {source} with {method}")
        report = json.loads((Path(out) / "report.json").read_text())
    return {"peak_mb": usage.ru_maxrss / 1024, "ffmpeg_mb": report["peak_memory_ffmpeg_mb"],
            "seconds": seconds, "frames": report["frame_count"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one small clip, for CI")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "bgcore-bench")
    parser.add_argument("--methods", nargs="+", default=[m for m in ("svd", "median", "kmeans")
                                                          if m in METHODS])
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    rows, worst = [], 0.0
    print("| clip | method | frames | peak RSS (MB) | largest ffmpeg child (MB) | seconds |")
    print("|---|---|---|---|---|---|")
    for name, options, loops in QUICK if args.quick else FULL:
        source = clip(args.cache, options, loops)
        for method in args.methods:
            result = measure(source, method)
            worst = max(worst, result["peak_mb"])
            rows.append({"clip": name, "method": method, **result})
            print(f"| {name} | {method} | {result['frames']} | {result['peak_mb']:.0f} | "
                  f"{result['ffmpeg_mb']:.0f} | {result['seconds']:.1f} |", flush=True)
    print(f"\nlargest peak: {worst:.0f} MB, budget {BUDGET_MB} MB: "
          f"{'met' if worst <= BUDGET_MB else 'NOT met'}")
    return 0 if worst <= BUDGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
