"""F-measure and seconds of every method, default settings, on bmc-video003.

    python benchmarks/quality.py [--data ../shared/data] [--methods svd rpca ...]

Runs the whole pipeline (``bgcore.run``: fit, then export of all 794 frames) per method and
scores the written masks against the 15 annotated frames (CDnet 2014 measures). Prints a
Markdown table for the README.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bgcore import METHODS, run  # noqa: E402
from bgcore.datasets import bmc_truth, score_masks  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    args = parser.parse_args()
    folder = Path(args.data) / "bmc-video003"
    truth = bmc_truth(folder)
    print("| method | F-measure | precision | recall | fit s | total s |")
    print("|---|---|---|---|---|---|")
    for method in args.methods:
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            report = run(folder / "Video_003.avi", out, method=method)
            total = time.perf_counter() - start
            scores = score_masks(Path(out) / "masks", truth)
        print(f"| {method} | {scores['f_measure']:.3f} | {scores['precision']:.3f} | "
              f"{scores['recall']:.3f} | {report['seconds']['fit']:.1f} | {total:.1f} |", flush=True)


if __name__ == "__main__":
    main()
