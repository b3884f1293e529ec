"""Command line: ``python -m bgcore INPUT --out DIR [options]``."""

from __future__ import annotations

import argparse
import sys
from tempfile import TemporaryDirectory

from .masks import MaskOptions
from .models import METHODS
from .pipeline import run
from .files import unpack_images
from .video import VideoError


def _threshold(text: str):
    return text if text == "auto" else float(text)


def _scale(text: str):
    return text if text == "auto" else float(text)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bgcore",
        description="Remove the static background of a video. Writes foreground.mp4, mask.mp4, "
                    "background.png, masks/000001.png... and report.json into --out.")
    p.add_argument("input", help="a video file (mp4, mov, avi, mkv, webm), a folder of images or a "
                                 "zip of images")
    p.add_argument("--out", required=True, help="folder for the outputs (created if missing)")
    p.add_argument("--method", choices=list(METHODS), default="svd",
                   help="background model (default: %(default)s)")
    p.add_argument("--rank", type=int, default=1,
                   help="svd: components in the background; 2 or more for two scenes (default: 1)")
    p.add_argument("--solver", choices=["randomized", "exact"], default="randomized",
                   help="svd: randomized truncated SVD, or the notebook's full SVD (default: %(default)s)")
    p.add_argument("--threshold", type=_threshold, default="auto",
                   help="difference (0-255) above which a pixel is foreground, or 'auto' "
                        "(8 x the clip's noise level, at least 15; default)")
    p.add_argument("--measure", choices=["rgb", "grey"], default="rgb",
                   help="colour distance or grey-level difference (default: %(default)s)")
    p.add_argument("--opening", type=int, default=MaskOptions.opening,
                   help="radius in pixels of the opening that removes specks (default: %(default)s)")
    p.add_argument("--closing", type=int, default=MaskOptions.closing,
                   help="radius in pixels of the closing that joins parts (default: %(default)s)")
    p.add_argument("--min-area", type=int, default=MaskOptions.min_area,
                   help="drop foreground blobs under this many pixels (default: %(default)s)")
    p.add_argument("--no-fill", action="store_true", help="do not fill holes in the mask")
    p.add_argument("--scale", type=_scale, default="auto",
                   help="working scale in (0, 1] for fitting, or 'auto' to fit a 256 MB budget "
                        "(default); outputs keep the input's size")
    p.add_argument("--fps", type=float, default=None,
                   help="keep about this many frames a second (every n-th frame; default: all)")
    p.add_argument("--start", type=float, default=0.0, help="start at this second (default: 0)")
    p.add_argument("--end", type=float, default=None, help="stop at this second (default: the end)")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    params = {"rank": args.rank, "solver": args.solver} if args.method == "svd" else {}
    try:
        with TemporaryDirectory() as scratch:
            zipped = args.input.lower().endswith(".zip")
            report = _run(unpack_images(args.input, scratch) if zipped else args.input, args, params)
    except (VideoError, ValueError, OSError) as error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 2
    print(f"\n{report['frame_count']} frames written to {args.out}", file=sys.stderr)
    return 0


def _run(source, args, params) -> dict:
    options = MaskOptions(threshold=args.threshold, opening=args.opening, closing=args.closing,
                          fill_holes=not args.no_fill, min_area=args.min_area)
    return run(source, args.out, method=args.method, params=params, mask_options=options,
               measure=args.measure, start=args.start, end=args.end, fps=args.fps,
               scale=args.scale, progress=_Progress())


class _Progress:
    """Progress on stderr, one line rewritten in place, at most once a percent."""

    def __init__(self):
        self.shown = None

    def __call__(self, stage: str, fraction: float) -> None:
        now = (stage, int(fraction * 100))
        if now != self.shown:
            self.shown = now
            print(f"\r{stage:>7}: {now[1]:3d}%", end="", file=sys.stderr, flush=True)
