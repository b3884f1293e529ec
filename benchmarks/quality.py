"""F-measure and seconds of every method, default settings, on clips with ground truth.

    python benchmarks/quality.py [--data ../shared/data] [--methods svd rpca ...]
    python benchmarks/quality.py --quick    # a small synthetic clip only, for CI

Clips: a synthetic clip of ``bgcore.synthetic`` (``make_clip()``: 320x240, 150 frames, five moving
objects, sensor noise; every frame scored against its exact mask) and bmc-video003 (794 frames,
scored against its 15 annotated frames; skipped where ../shared/data is absent). Runs the whole
pipeline (``bgcore.run``: fit, then export of all frames) per method, OpenCV's MOG2 and KNN
included, and scores the written masks (CDnet 2014 measures). Prints a Markdown table for the README.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import QUICK_CLIP, absent, parser
from bgcore import METHODS, run
from bgcore.datasets import bmc_truth, score_masks
from bgcore.synthetic import make_clip


def synthetic(folder: Path, options: dict):
    """(name, path, truth) of a synthetic clip written into ``folder``, its masks as CDnet truth."""
    clip = make_clip(**options)
    count, height, width = clip.masks.shape
    truth = {index: mask.astype(np.uint8) * 255 for index, mask in enumerate(clip.masks)}
    return f"synthetic {width}x{height}, {count} frames", clip.write(folder / "synthetic.mp4"), truth


def bmc(data: Path) -> list:
    """[(name, path, truth)] of bmc-video003, or [] where it is absent."""
    folder = data / "bmc-video003"
    if not folder.exists():
        print(absent(folder), file=sys.stderr)
        return []
    return [("bmc-video003", folder / "Video_003.avi", bmc_truth(folder))]


def score(source: Path, truth: dict, method: str) -> dict:
    """Run ``method`` with its defaults on ``source``; its scores and seconds."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        report = run(source, out, method=method)
        total = time.perf_counter() - start
        scores = score_masks(Path(out) / "masks", truth)
    return {"f_measure": scores["f_measure"], "precision": scores["precision"],
            "recall": scores["recall"], "fit_s": report["seconds"]["fit"], "total_s": total}


def main(argv=None) -> list[dict]:
    options = parser(__doc__, quick="a small synthetic clip only", data=True, methods=list(METHODS))
    args = options.parse_args(argv)
    rows = []
    print("| clip | method | F-measure | precision | recall | fit s | total s |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        clips = [synthetic(Path(scratch), QUICK_CLIP if args.quick else {})]
        if not args.quick:
            clips += bmc(args.data)
        for name, source, truth in clips:
            for method in args.methods:
                row = {"clip": name, "method": method, **score(source, truth, method)}
                rows.append(row)
                print("| {clip} | {method} | {f_measure:.3f} | {precision:.3f} | {recall:.3f} | "
                      "{fit_s:.1f} | {total_s:.1f} |".format(**row), flush=True)
    return rows


if __name__ == "__main__":
    main()
