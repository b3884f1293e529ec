"""End to end against OpenCV's MOG2: decode, model, mask, H.264 foreground and mask videos.

    python benchmarks/pipeline.py [--data ../shared/data]   # road-640x360, a synthetic 1280x720 20 s clip
    python benchmarks/pipeline.py --quick   # a synthetic 160x120 2 s clip, one repeat, for CI

The reference is the same job built on OpenCV: ``cv2.VideoCapture`` decoding,
``BackgroundSubtractorMOG2.apply`` per frame, and the same H.264 encoder as ours. Ours is
``bgcore.run`` with each method's defaults, writing the same two videos (the per-frame PNG masks
are switched off on both sides). The floor is the job without any model: one ffmpeg pass that
decodes the clip and encodes the same two outputs with the same settings (the frames themselves
as the foreground, their grey as the mask). Runs alternate; medians of the repeats are
reported, and the figure that matters is the ratio of wall times, since this machine is shared
and noisy. The CPU seconds of the process and of its ffmpeg children are printed beside.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import subprocess

import cv2
import imageio_ffmpeg
import numpy as np

from common import MAIN_METHODS, QUICK_CLIP, absent, parser, synthetic_video
from bgcore import VideoWriter, run

ROAD = Path("road-640x360") / "video.avi"
"""In the shared data folder."""
TARGET = 1.5
"""Our wall time at most this many times MOG2's."""
FLOOR_TARGET = 1.3
"""The default method's wall time at most this many times the floor's."""
REFERENCE = "mog2 (OpenCV)"
FLOOR = "floor (ffmpeg, no model)"
SYNTHETIC = dict(width=1280, height=720, fps=30.0, frames=600)


def mog2_pipeline(source: Path, out: Path) -> int:
    """The reference: OpenCV decoding and MOG2, then the same encoder as ours."""
    capture = cv2.VideoCapture(str(source))
    width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    fps = capture.get(cv2.CAP_PROP_FPS)
    subtractor = cv2.createBackgroundSubtractorMOG2()
    count = 0
    with VideoWriter(out / "foreground.mp4", width, height, fps) as foreground, \
            VideoWriter(out / "mask.mp4", width, height, fps) as mask_video:
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            mask = subtractor.apply(bgr) == 255  # 127 marks shadows, which are background
            foreground.write(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) * mask[..., None])
            mask_video.write(mask.astype(np.uint8) * 255)
            count += 1
    capture.release()
    return count


def floor_pipeline(source: Path, out: Path) -> None:
    """The floor: decode once, encode foreground.mp4 and mask.mp4 as bgcore.VideoWriter does."""
    encode = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]
    even = "pad=ceil(iw/2)*2:ceil(ih/2)*2"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(source),
                    "-map", "0:v:0", "-vf", even, *encode, str(out / "foreground.mp4"),
                    "-map", "0:v:0", "-vf", f"format=gray,{even}", *encode, str(out / "mask.mp4")], check=True)


def timed(job) -> tuple[float, float, float]:
    """Seconds of ``job(folder)``: by the clock, of this process's CPU and of its children's
    (the ffmpeg decoders and encoders)."""
    with tempfile.TemporaryDirectory() as out:
        before, started = _cpu(), time.perf_counter()
        job(Path(out))
        wall = time.perf_counter() - started
        after = _cpu()
        return wall, after[0] - before[0], after[1] - before[1]


def _cpu() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def compare(clip: str, source: Path, methods, repeats: int) -> list[dict]:
    times = {REFERENCE: [], FLOOR: [], **{m: [] for m in methods}}
    frames = None
    for _ in range(repeats):
        times[REFERENCE].append(timed(lambda out: mog2_pipeline(source, out)))
        times[FLOOR].append(timed(lambda out: floor_pipeline(source, out)))
        for method in methods:
            def ours(out, method=method):
                nonlocal frames
                frames = run(source, out, method=method, outputs=("foreground", "mask", "background"))["frame_count"]
            times[method].append(timed(ours))
    wall = {name: median(t[0] for t in runs) for name, runs in times.items()}
    return [{"clip": clip, "pipeline": name, "frames": frames, "seconds": wall[name], "fps": frames / wall[name],
             "cpu_s": median(t[1] for t in runs), "ffmpeg_cpu_s": median(t[2] for t in runs),
             "ratio_to_mog2": wall[name] / wall[REFERENCE], "ratio_to_floor": wall[name] / wall[FLOOR]}
            for name, runs in times.items()]


def main(argv=None) -> list[dict]:
    options = parser(__doc__, quick="one small clip, one repeat", data=True, cache=True,
                     methods=MAIN_METHODS)
    options.add_argument("--repeats", type=int, default=3)
    args = options.parse_args(argv)
    if args.quick:
        clips = [("synthetic 160x120, 2 s", synthetic_video(args.cache, **QUICK_CLIP))]
    else:
        clips = [("road-640x360", args.data / ROAD),
                 ("synthetic 1280x720, 20 s", synthetic_video(args.cache, **SYNTHETIC))]
    rows = []
    for name, path in clips:
        if not path.exists():
            print(absent(path), file=sys.stderr)
            continue
        rows += compare(name, path, args.methods, 1 if args.quick else args.repeats)
    print(json.dumps(rows, indent=2))
    return rows


if __name__ == "__main__":
    main()
