"""What the benchmark scripts share: where the project and the shared clips are, synthetic clips
made once into a cache, and the options every script takes."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from bgcore.models import METHODS
from bgcore.synthetic import write_clip

ROOT = Path(__file__).resolve().parents[1]

DATA = ROOT.parent / "shared" / "data"
"""The shared research clips, beside the checkout (never copied into it)."""
CACHE = Path(tempfile.gettempdir()) / "bgcore-bench"
MAIN_METHODS = [m for m in ("mode", "svd", "median", "kmeans") if m in METHODS]
"""The methods the speed targets are set for."""
QUICK_CLIP = dict(width=160, height=120, frames=60, fps=30.0)
"""The synthetic clip of every quick mode: a smoke test, its figures mean little."""


def parser(doc: str, *, quick: str, data=False, cache=False, methods=None) -> argparse.ArgumentParser:
    """An argument parser with ``--quick`` and, as asked, ``--data``, ``--cache`` and ``--methods``."""
    options = argparse.ArgumentParser(description=doc.splitlines()[0])
    options.add_argument("--quick", action="store_true", help=quick)
    if data:
        options.add_argument("--data", type=Path, default=DATA, help="the shared clips (default: %(default)s)")
    if cache:
        options.add_argument("--cache", type=Path, default=CACHE, help="synthetic clips, made once")
    if methods:
        options.add_argument("--methods", nargs="+", default=methods, choices=list(METHODS))
    return options


def absent(path: Path) -> str:
    return f"skipped {path}: it is absent (the shared clips are not on this machine)"


def synthetic_video(cache: Path, **options) -> Path:
    """A synthetic H.264 clip (options of ``bgcore.synthetic.generate``), made once into ``cache``."""
    extra = "".join(f"-{key}{value:g}" for key, value in sorted(options.items())
                    if key not in ("width", "height", "frames", "fps"))
    path = cache / "synthetic-{width}x{height}-{frames}{extra}.mp4".format(**options, extra=extra)
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        # A name of its own first: another benchmark or test may be making the same clip.
        with tempfile.NamedTemporaryFile(dir=cache, suffix=".mp4", delete=False) as partial:
            pass
        write_clip(partial.name, crf=23, **options)
        Path(partial.name).replace(path)
    return path


_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def peak_rss(args: list[str], **options) -> float:
    """Run ``python *args`` to its end; its peak resident memory in MB (its children's included).

    Linux counts in a child's peak the memory its parent had when it started the child (up to the
    ``exec``), so a bare Python launcher starts it, not this process with its NumPy and data.
    ``options`` go to ``subprocess.run``; a failure raises ``CalledProcessError``.
    """
    launcher = subprocess.run([sys.executable, "-c", _LAUNCHER, *args], stdout=subprocess.PIPE,
                              text=True, check=True, **options)
    return int(launcher.stdout.split()[-1]) / 1024
