"""F-measure, automatic threshold and seconds of every method, default settings, on every clip with ground truth.

    python benchmarks/quality.py [--data ../shared/data] [--methods mode svd ...]
    python benchmarks/quality.py --quick    # a small synthetic clip and ucsd-peds, for CI

Clips: a synthetic clip of ``bgcore.synthetic`` (``make_clip()``: 320x240, 150 frames, five moving
objects, sensor noise; every frame scored against its exact mask), bmc-video003 (794 frames, 15
annotated) and the eight folders of ``groundtruth-clips/`` (``bgcore.datasets.shared_clips``;
those absent are skipped). Runs the whole pipeline (``bgcore.run``: fit, then export of all
frames) per method, OpenCV's MOG2 and KNN included, and scores the written masks with
``bgcore.metrics`` (CDnet 2014: 170 and 85 not scored). Prints a Markdown table a run, then each
method's mean and minimum over ``groundtruth-clips``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import QUICK_CLIP, absent, parser
from bgcore import METHODS, run
from bgcore.datasets import Clip, score_masks, shared_clips
from bgcore.synthetic import make_clip

QUICK_CLIPS = ("ucsd-peds",)
"""The shared clip of the quick mode: 25 frames."""
GROUNDTRUTH = "groundtruth-clips"


def synthetic(folder: Path, options: dict) -> Clip:
    """A synthetic clip written into ``folder``, its masks as CDnet truth."""
    clip = make_clip(**options)
    count, height, width = clip.masks.shape
    truth = {index: mask.astype(np.uint8) * 255 for index, mask in enumerate(clip.masks)}
    return Clip(f"synthetic {width}x{height}, {count} frames", clip.write(folder / "synthetic.mp4"), truth)


def score(clip: Clip, method: str) -> dict:
    """Run ``method`` with its defaults on ``clip``; its scores, threshold and seconds."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        report = run(clip.source, out, method=method)
        total = time.perf_counter() - start
        scores = score_masks(Path(out) / "masks", clip.truth)
    return {"f_measure": np.nan_to_num(scores["f_measure"]), "precision": scores["precision"],
            "recall": scores["recall"], "threshold": report["parameters"]["mask"]["threshold_used"],
            "fit_s": report["seconds"]["fit"], "total_s": total}


def summary(rows: list[dict]) -> list[dict]:
    """Each method's mean and minimum F over the clips of ``groundtruth-clips``."""
    out = []
    for method in dict.fromkeys(r["method"] for r in rows):
        scores = [r["f_measure"] for r in rows if r["method"] == method and r["set"] == GROUNDTRUTH]
        if scores:
            out.append({"method": method, "clips": len(scores), "mean": float(np.mean(scores)),
                        "min": float(np.min(scores))})
    return out


def main(argv=None) -> dict:
    options = parser(__doc__, quick="a small synthetic clip and ucsd-peds only", data=True,
                     methods=list(METHODS))
    args = options.parse_args(argv)
    rows = []
    print("| clip | method | F-measure | precision | recall | threshold | fit s | total s |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        clips = [(None, synthetic(Path(scratch), QUICK_CLIP if args.quick else {}))]
        shared = shared_clips(args.data)
        if not shared:
            print(absent(args.data), file=sys.stderr)
        clips += [(GROUNDTRUTH if clip.source.parent.parent.name == GROUNDTRUTH else None, clip)
                  for clip in shared if not args.quick or clip.name in QUICK_CLIPS]
        for group, clip in clips:
            for method in args.methods:
                row = {"clip": clip.name, "set": group, "method": method, **score(clip, method)}
                rows.append(row)
                print("| {clip} | {method} | {f_measure:.3f} | {precision:.3f} | {recall:.3f} | "
                      "{threshold:.1f} | {fit_s:.1f} | {total_s:.1f} |".format(**row), flush=True)
    means = summary(rows)
    if means:
        print(f"\n| method | mean F over {GROUNDTRUTH} | minimum | clips |\n|---|---|---|---|")
        for m in means:
            print("| {method} | {mean:.3f} | {min:.3f} | {clips} |".format(**m))
    return {"rows": rows, "summary": means}


if __name__ == "__main__":
    main()
