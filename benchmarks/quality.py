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

    python benchmarks/quality.py --exposure step --methods mode knn

scores every clip as a phone's automatic exposure would film it (:data:`EXPOSURE`), and

    python benchmarks/quality.py --crf 28 --methods mode knn

as a phone would store it: H.264 at that CRF (x264's medium preset; a phone's own encoder keeps
still parts of the picture alike from frame to frame as x264 does), and

    python benchmarks/quality.py --shake 0.01 --methods mode knn

as a hand holding the camera would film it (:func:`shaken`: here by about 1 % of the width), and

    python benchmarks/quality.py --noise 6 --crf 23 --methods mode knn

as a camera in low light would film it (:func:`noisy`), then store it.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from common import QUICK_CLIP, absent, parser
from bgcore import METHODS, VideoWriter, open_video, run
from bgcore.datasets import Clip, score_masks, shared_clips
from bgcore.synthetic import make_clip

QUICK_CLIPS = ("ucsd-peds",)
"""The shared clip of the quick mode: 25 frames."""
GROUNDTRUTH = "groundtruth-clips"
EXPOSURE = {"step": lambda x: 1.0 if x < 0.5 else 0.88, "ramp": lambda x: 0.85 + 0.3 * x}
"""``--exposure``: the gain of a clip's frame at ``x`` (0 its first, 1 its last): the exposure
stepping down 12 % halfway, or rising from 0.85 to 1.15."""


def synthetic(folder: Path, options: dict) -> Clip:
    """A synthetic clip written into ``folder``, its masks as CDnet truth."""
    clip = make_clip(**options)
    count, height, width = clip.masks.shape
    truth = {index: mask.astype(np.uint8) * 255 for index, mask in enumerate(clip.masks)}
    return Clip(f"synthetic {width}x{height}, {count} frames", clip.write(folder / "synthetic.mp4"), truth)


def filmed(clip: Clip, folder: Path, change) -> Clip:
    """``clip`` with each frame changed by ``change(frame, x)`` (uint8 RGB; x from 0, its first
    frame, to 1, its last) as PNGs in ``folder``; the same truth."""
    folder.mkdir()
    with open_video(clip.source) as video:
        for index, frame in enumerate(video):
            frame = np.clip(change(frame, index / max(1, len(video) - 1)), 0, 255).round().astype(np.uint8)
            cv2.imwrite(str(folder / f"{index:06d}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    return Clip(clip.name, folder, clip.truth)


def exposed(clip: Clip, gain, folder: Path) -> Clip:
    """``clip`` as a camera whose exposure changes would film it: frame x of 0..1 times ``gain(x)``."""
    return filmed(clip, folder, lambda frame, x: frame * gain(x))


def noisy(clip: Clip, sigma: float, folder: Path) -> Clip:
    """``clip`` as a camera in low light would film it: Gaussian noise of ``sigma`` grey levels
    added to each channel of each pixel, fresh every frame."""
    rng = np.random.default_rng(0)
    return filmed(clip, folder, lambda frame, x: frame + rng.normal(0, sigma, frame.shape))


def shaken(clip: Clip, amount: float, folder: Path) -> Clip:
    """``clip`` as a hand holding the camera would film it, as PNGs in ``folder``, its truth alike:
    each frame moved by a shift of about ``amount`` times the width (a tremor: random, smoothed over
    5 frames) and a rotation of about 30 * ``amount`` degrees, its edges cut off (as much as the
    largest shift, at most a sixth of each side; CDnet's 85, not scored, where the truth has none)."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    with open_video(clip.source) as video:
        count, (width, height) = len(video), video.info.size

        def tremor(scale: float, frames: int = 5) -> np.ndarray:
            noise = np.convolve(rng.normal(size=count + 2 * frames), np.ones(frames) / frames, mode="same")
            return scale * noise[frames:-frames] / noise.std()

        shifts, turns = np.stack([tremor(amount * width), tremor(amount * width)], axis=1), tremor(30 * amount)
        edge = min(int(np.abs(shifts).max() + np.abs(turns).max() * np.pi / 360 * max(width, height)) + 1,
                   width // 6, height // 6)

        def moved(image, index, **options):
            matrix = cv2.getRotationMatrix2D((width / 2, height / 2), turns[index], 1.0)
            matrix[:, 2] += shifts[index]
            return cv2.warpAffine(image, matrix, (width, height), **options)[edge:height - edge, edge:width - edge]

        for index, frame in enumerate(video):
            cv2.imwrite(str(folder / f"{index:06d}.png"),
                        cv2.cvtColor(moved(frame, index, borderMode=cv2.BORDER_REFLECT), cv2.COLOR_RGB2BGR))
    truth = {index: moved(mask, index, flags=cv2.INTER_NEAREST, borderValue=85) for index, mask in clip.truth.items()}
    return Clip(clip.name, folder, truth)


def encoded(clip: Clip, crf: int, folder: Path) -> Clip:
    """``clip`` as H.264 at ``crf`` in ``folder``, cut to even sizes (yuv420p's), its truth too."""
    path = folder / f"{clip.name}-crf{crf}.mp4"
    with open_video(clip.source) as video:
        width, height = video.info.width // 2 * 2, video.info.height // 2 * 2
        with VideoWriter(path, width, height, video.info.fps, crf=crf, preset="medium") as writer:
            for frame in video:
                writer.write(np.ascontiguousarray(frame[:height, :width]))
    return Clip(clip.name, path, {index: mask[:height, :width] for index, mask in clip.truth.items()})


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
    options.add_argument("--exposure", choices=list(EXPOSURE), help="every clip with its exposure changing")
    options.add_argument("--crf", type=int, help="every clip stored as H.264 at this CRF")
    options.add_argument("--shake", type=float, help="every clip filmed by a hand that shakes by about "
                                                     "this share of the width (0.01: 1 %%)")
    options.add_argument("--noise", type=float, help="every clip filmed in low light: Gaussian noise of this "
                                                     "many grey levels")
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
            if args.exposure:
                clip = exposed(clip, EXPOSURE[args.exposure], Path(scratch) / f"{clip.name}-{args.exposure}")
            if args.shake:
                clip = shaken(clip, args.shake, Path(scratch) / f"{clip.name}-shaken")
            if args.noise:  # the sensor's, after the hand's motion
                clip = noisy(clip, args.noise, Path(scratch) / f"{clip.name}-noisy")
            if args.crf is not None:
                clip = encoded(clip, args.crf, Path(scratch))
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
