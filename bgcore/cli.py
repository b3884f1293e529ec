"""Command line: ``python -m bgcore INPUT --out DIR [options]``."""

from __future__ import annotations

import argparse
import sys
from tempfile import TemporaryDirectory

from .masks import MaskOptions
from .models import DEFAULT_METHOD, METHODS
from .pipeline import run
from .files import unpack_images
from .video import VideoError


def _threshold(text: str):
    return text if text == "auto" else float(text)


def _scale(text: str):
    return text if text == "auto" else float(text)


def _value(text: str):
    """A method parameter from the command line: a whole number, a number, or the text as is
    (the method checks it and names it in its error)."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _method_params() -> dict:
    """Each method parameter's name -> (its Param, the methods that take it)."""
    found = {}
    for method, cls in METHODS.items():
        for param in cls.params:
            found.setdefault(param.name, (param, []))[1].append(method)
    return found


def _values(param) -> str:
    if param.kind == "frame":
        return "a frame number from 0, or auto"
    if param.kind == "image":
        return "an image file"
    if param.choices:
        return " | ".join(map(str, param.choices))
    return f"{param.low:g} to {param.high:g}"


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bgcore",
        description="Remove the static background of a video. Writes foreground.mp4, mask.mp4, "
                    "background.png, masks/000001.png... and report.json into --out.")
    p.add_argument("input", help="a video file (mp4, mov, avi, mkv, webm), a folder of images or a "
                                 "zip of images")
    p.add_argument("--out", required=True, help="folder for the outputs (created if missing)")
    p.add_argument("--method", choices=list(METHODS), default=DEFAULT_METHOD,
                   help="background model (default: %(default)s)")
    for name, (param, methods) in _method_params().items():
        p.add_argument(_flag(name), type=_value, default=None, metavar=name.upper(),
                       help=f"{', '.join(methods)}: {param.help} ({_values(param)}; "
                            "default: the method's)")
    p.add_argument("--replace", default=None, metavar="PATH",
                   help="also write composite.mp4: the foreground over this image or video "
                        "(looped or cut to the clip's length, resized to its size)")
    p.add_argument("--feather", type=float, default=1.5,
                   help="with --replace: blur of the mask edge in pixels, 0 for a hard edge "
                        "(default: %(default)s)")
    p.add_argument("--threshold", type=_threshold, default="auto",
                   help="difference (0-255) above which a pixel is foreground, or 'auto' "
                        "(from the clip's own noise and each pixel's variation; default)")
    p.add_argument("--measure", choices=["rgb", "grey"], default="rgb",
                   help="colour distance or grey-level difference (default: %(default)s)")
    p.add_argument("--opening", type=int, default=MaskOptions.opening,
                   help="radius in pixels of the opening that removes specks (default: %(default)s)")
    p.add_argument("--closing", type=int, default=MaskOptions.closing,
                   help="radius in pixels of the closing that joins parts (default: %(default)s)")
    p.add_argument("--min-area", type=int, default=MaskOptions.min_area,
                   help="drop foreground blobs under this many pixels (default: %(default)s)")
    p.add_argument("--no-fill", action="store_true", help="do not fill holes in the mask")
    p.add_argument("--no-trim", action="store_true",
                   help="keep the outline pixels an object only partly covers")
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
    try:
        with TemporaryDirectory() as scratch:
            zipped = args.input.lower().endswith(".zip")
            report = _run(unpack_images(args.input, scratch) if zipped else args.input, args)
    except (VideoError, ValueError, OSError) as error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 2
    print(f"\n{report['frame_count']} frames written to {args.out}", file=sys.stderr)
    return 0


def _run(source, args) -> dict:
    options = MaskOptions(threshold=args.threshold, opening=args.opening, closing=args.closing,
                          fill_holes=not args.no_fill, trim_outline=not args.no_trim,
                          min_area=args.min_area)
    return run(source, args.out, method=args.method, params=_params_for(args), mask_options=options,
               measure=args.measure, start=args.start, end=args.end, fps=args.fps,
               scale=args.scale, replacement=args.replace, feather=args.feather,
               progress=_Progress())


def _params_for(args) -> dict:
    """The method parameters given on the command line; one meant for another method is an error."""
    params = {}
    for name, (param, methods) in _method_params().items():
        value = getattr(args, name)
        if value is None:
            continue
        if args.method not in methods:
            raise ValueError(f"{_flag(name)} applies to {', '.join(methods)}, not {args.method}.")
        params[name] = value
    return params


class _Progress:
    """Progress on stderr, one line rewritten in place, at most once a percent."""

    def __init__(self):
        self.shown = None

    def __call__(self, stage: str, fraction: float) -> None:
        now = (stage, int(fraction * 100))
        if now != self.shown:
            self.shown = now
            print(f"\r{stage:>7}: {now[1]:3d}%", end="", file=sys.stderr, flush=True)
