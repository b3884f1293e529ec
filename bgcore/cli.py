"""Command line: ``python -m bgcore INPUT --out DIR [options]``."""

from __future__ import annotations

import argparse
import errno
import inspect
import json
import os
import re
import shutil
import signal
import sys
import tempfile
from contextlib import closing
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np

from .composite import MAX_FEATHER, backdrops
from .files import unpack_images
from .limits import LIMITS
from .masks import MAX_RADIUS, MaskOptions
from .models import DEFAULT_METHOD, METHODS
from .models.reference import PhotoError
from .outputs import OPTIONS, OUTPUTS, CompositeVideo
from .pipeline import DEFAULT_OUTPUTS, MIN_SCALE, MIN_WIDTH, WORKING_PIXELS, check_out_dir, run
from .video import IMAGE_SUFFIXES, VideoError, check_image

MAX_FPS = 1000.0


def _number(low: float, high: float, *, whole: bool = False, auto: bool = False):
    """An argparse type: a finite number from ``low`` to ``high`` (nan and inf fail the bounds)."""
    def parse(text: str):
        if auto and text == "auto":
            return text
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high or (whole and value != int(value)):
            kind = "a whole number" if whole else "a number"
            raise argparse.ArgumentTypeError(f"{text}: use {kind} from {low:g} to {high:g}"
                                             + (" or auto" if auto else ""))
        return int(value) if whole else value
    return parse


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        """One line, as for every other error (argparse would print the usage first)."""
        self.exit(2, f"error: {message} (see --help).\n")


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
        for param in (param for param in cls.params if param.shown):
            found.setdefault(param.name, (param, []))[1].append(method)
    return found


def _default(name: str, methods: list) -> str:
    """The default of the methods' parameter ``name``, as their constructors have it."""
    found = {inspect.signature(METHODS[method]).parameters[name].default for method in methods}
    return "the method's" if len(found) > 1 else "none" if found == {None} else str(found.pop())


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        # "bgcore" as the console script, "python -m bgcore" run as a module (argparse would say
        # "__main__.py").
        prog="python -m bgcore" if Path(sys.argv[0]).name == "__main__.py" else "bgcore",
        description="Remove the static background of a video. Writes foreground.mp4, mask.mp4, "
                    "background.png, masks/000001.png... (--outputs) and report.json into --out.")
    p.add_argument("input", help="a video file (mp4, mov, avi, mkv, webm, mts, gif...), a folder of images or a "
                                 "zip of images")
    p.add_argument("--out", required=True, help="folder for the outputs (created if missing)")
    p.add_argument("--method", choices=list(METHODS), default=DEFAULT_METHOD,
                   help="background model (default: %(default)s)")
    for name, (param, methods) in _method_params().items():
        values = "an image file" if param.kind == "image" else param.values()
        p.add_argument(_flag(name), type=_value, default=None, metavar=name.upper(),
                       help=f"{', '.join(methods)}: {param.help} ({values}; default: {_default(name, methods)})")
    p.add_argument("--outputs", type=_names, default=",".join(DEFAULT_OUTPUTS), metavar="NAME,...",
                   help="what to write, among: " + " ".join(f"{name} ({cls.file}): {cls.about()}"
                                                           for name, cls in OUTPUTS.items())
                        + " Default: %(default)s; --replace adds composite.")
    p.add_argument("--foreground-on", choices=OPTIONS["foreground"]["behind"], default="black",
                   help="what foreground.mp4 shows behind the subject; green is the green screen "
                        "#00B140 (default: %(default)s)")
    p.add_argument("--replace", default=None, metavar="PATH|#RRGGBB|blur",
                   help="also write composite.mp4: the foreground over this image or video (looped or "
                        "cut to the clip's length), a colour, or blur (the clip's background out of focus)")
    p.add_argument("--fit", choices=OPTIONS["composite"]["fit"], default="fill",
                   help="with --replace: a picture of another shape is cropped to cover the clip (fill), "
                        "shown whole with black bars (fit) or stretched (default: %(default)s)")
    p.add_argument("--feather", type=_number(0, MAX_FEATHER), default=1.5,
                   help=f"with --replace: blur of the mask edge in pixels, 0 for a hard edge, at most "
                        f"{MAX_FEATHER:g} (default: %(default)s)")
    p.add_argument("--threshold", type=_number(0, 255, auto=True), default="auto",
                   help="difference (0 to 255) above which a pixel is foreground, or 'auto' "
                        "(from the clip's own noise and each pixel's variation; default)")
    p.add_argument("--measure", choices=["rgb", "grey"], default="rgb",
                   help="colour distance or grey-level difference (default: %(default)s)")
    p.add_argument("--opening", type=_number(0, MAX_RADIUS, whole=True), default=MaskOptions.opening,
                   help=f"radius in pixels (0 to {MAX_RADIUS}) of the opening that removes specks "
                        "(default: %(default)s)")
    p.add_argument("--closing", type=_number(0, MAX_RADIUS, whole=True), default=MaskOptions.closing,
                   help=f"radius in pixels (0 to {MAX_RADIUS}) of the closing that joins parts "
                        "(default: %(default)s)")
    p.add_argument("--min-area", type=_number(0, LIMITS.max_pixels, whole=True), default=MaskOptions.min_area,
                   help=f"drop foreground blobs under this many pixels (0 to {LIMITS.max_pixels:,}; default: %(default)s)")
    p.add_argument("--no-fill", action="store_true", help="do not fill holes in the mask")
    p.add_argument("--no-trim", action="store_true",
                   help="keep the outline pixels an object only partly covers")
    p.add_argument("--scale", type=_number(MIN_SCALE, 1, auto=True), default="auto",
                   help=f"working scale from {MIN_SCALE} to 1 for fitting and masking, or 'auto': about "
                        f"{WORKING_PIXELS:,} pixels a frame within a 256 MB budget (default); outputs keep "
                        "the input's size unless --width says")
    p.add_argument("--width", type=_number(MIN_WIDTH, 16384, whole=True),
                   default=None, help="width of the output videos and images in pixels, the height in proportion "
                                      "(default: the input's size; never enlarged). Smaller outputs take less memory")
    p.add_argument("--fps", type=_number(0.01, MAX_FPS), default=None,
                   help=f"keep about this many frames a second, 0.01 to {MAX_FPS:g} (every n-th frame; "
                        "default: all)")
    p.add_argument("--start", type=_number(0, LIMITS.max_seconds), default=0.0,
                   help=f"start at this second (0 to {LIMITS.max_seconds:g}; default: 0)")
    p.add_argument("--end", type=_number(0, LIMITS.max_seconds), default=None,
                   help=f"stop at this second (0 to {LIMITS.max_seconds:g}; default: the end)")
    p.epilog = (f"Limits: clips up to {LIMITS.max_seconds / 60:g} minutes, {LIMITS.max_frames:,} frames, "
                f"{LIMITS.max_pixels / 1e6:.1f} megapixels a frame (images too; a photo given by --replace or "
                f"--reference-image: {LIMITS.max_photo_pixels / 1e6:g}) and "
                f"{LIMITS.max_bytes / 2**30:g} GiB (a zip: unpacked).")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # SIGTERM as an exception: the finally blocks run, ending our ffmpeg children and removing
    # the temporary files (by default the process would die at once and leave both behind).
    stopped = []

    def stop(signum, frame):
        stopped.append(128 + signum)
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        options, params = _check(args)  # every parameter, before any work
        _remove_orphaned_scratch()
        with TemporaryDirectory(prefix=f"bgcore-{os.getpid()}-") as scratch:
            source = _unpacked(args.input, scratch) if _zipped(args.input) else args.input
            report = run(source, args.out, method=args.method, params=params, mask_options=options,
                         measure=args.measure, start=args.start, end=args.end, fps=args.fps,
                         scale=args.scale, outputs=_outputs(args), width=args.width, progress=_Progress())
            if source != args.input:  # unpacked here, gone after: the report names the zip
                written = Path(args.out) / "report.json"
                written.write_text(json.dumps({**report, "input": {**report["input"], "path": args.input}},
                                              indent=2, default=str))
    except (VideoError, ValueError, OSError) as error:
        if stopped:  # an error of the stop itself: an encoder ended under a thread still writing to it
            return _stopped(stopped[0])
        if isinstance(error, PhotoError):
            error = f"--reference-image {args.reference_image}: {error}"
        elif getattr(error, "errno", None) == errno.ENOSPC:
            error = f"{error.filename or args.out}: the disk is full. Free some space or choose another --out."
        elif isinstance(error, OSError) and error.filename and error.strerror:  # not Python's [Errno 20] ...
            out = Path(args.out).resolve()
            if out in (Path(error.filename).resolve(), *Path(error.filename).resolve().parents):
                error = f"--out {args.out}: cannot write there ({error.strerror}). Choose another folder."
            else:
                error = f"{error.filename}: {error.strerror}."
        print(f"\nerror: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return _stopped(130)
    except SystemExit as ended:
        if not stopped:
            raise
        return _stopped(ended.code)
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(f"\n{report['frame_count']} frames written to {args.out}", file=sys.stderr)
    return 0


def _stopped(code: int) -> int:
    print("\nstopped: nothing was written to --out.", file=sys.stderr)
    return code


def _remove_orphaned_scratch() -> None:
    """Remove the temporary folders (an unpacked zip) of runs killed outright (SIGKILL, a power
    cut), which no finally block could clean: ``bgcore-<pid>-...`` whose process is gone."""
    for folder in Path(tempfile.gettempdir()).glob("bgcore-*-*"):
        found = re.fullmatch(r"bgcore-(\d+)-\w+", folder.name)
        if found and folder.is_dir() and not _running(int(found[1])):
            shutil.rmtree(folder, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _zipped(path: str) -> bool:
    return path.lower().endswith(".zip")


def _unpacked(archive: str, folder: str) -> Path:
    """:func:`unpack_images`, its messages naming the zip."""
    try:
        return unpack_images(archive, folder)
    except VideoError as error:
        raise VideoError(f"{Path(archive).name}: {error}") from None


def _names(text: str) -> list:
    """An argparse type: output names, comma-separated, each of OUTPUTS."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r}: name at least one output, among {', '.join(OUTPUTS)}")
    for name in names:
        if name not in OUTPUTS:
            raise argparse.ArgumentTypeError(f"{name}: use names among {', '.join(OUTPUTS)}")
    return names


def _outputs(args) -> dict:
    """The outputs to write and their options."""
    chosen = {name: {} for name in args.outputs}  # argparse has made even the default a list
    if "foreground" in chosen:
        chosen["foreground"] = {"behind": args.foreground_on}
    if args.replace is not None:
        chosen["composite"] = {"backdrop": args.replace, "fit": args.fit, "feather": args.feather}
    elif "composite" in chosen:
        raise ValueError("--outputs composite: give --replace too (a picture, a video, a colour or blur).")
    return chosen


def _check(args) -> tuple[MaskOptions, dict]:
    """The mask options and method parameters; raises ValueError for a bad one or a bad file."""
    source = Path(args.input)
    if not source.exists():
        raise VideoError(f"{source}: no such file.")
    if not (source.is_file() or source.is_dir()):
        raise VideoError(f"{source}: not a regular file or a folder. Give a video file, a folder of "
                         "images or a zip of images.")
    if args.end is not None and args.end <= args.start:
        raise ValueError(f"--end {args.end:g}: must be after --start ({args.start:g}).")
    options = MaskOptions(threshold=args.threshold, opening=args.opening, closing=args.closing,
                          fill_holes=not args.no_fill, trim_outline=not args.no_trim,
                          min_area=args.min_area)
    params = _params_for(args)
    outputs = _outputs(args)
    check_out_dir(args.out, args.input, *CompositeVideo.inputs(outputs.get("composite", {})),
                  params.get("reference_image"))
    if args.replace is not None:  # raises now for a bad file ("blur" needs a plate: any will do)
        try:
            with closing(backdrops(args.replace, (2, 2), role="--replace", plate=np.zeros((2, 2, 3), np.uint8))):
                pass
        except VideoError as error:
            tried = Path(args.replace)
            if not tried.is_file() or tried.suffix.lower() in IMAGE_SUFFIXES:
                raise
            raise VideoError(f"{error} A picture (JPEG, PNG) works too.") from None  # the advice was a video's
    return options, params


def _params_for(args) -> dict:
    """The method parameters given on the command line, checked against their documented values;
    one meant for another method is an error."""
    params = {}
    for name, (param, methods) in _method_params().items():
        value = getattr(args, name)
        if value is None:
            continue
        if args.method not in methods:
            raise ValueError(f"{_flag(name)} applies to {', '.join(methods)}, not {args.method}.")
        if param.kind == "image":  # a path here; the pipeline reads the picture
            check_image(value, name=f"{_flag(name)} {value}", photo=True)
        else:
            param.check(value, name=_flag(name))
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
