"""A new background on the Export page: the composite re-rendered alone, against the export of
every output that a change of background used to repeat.

    OPENBLAS_NUM_THREADS=1 python benchmarks/rerender.py     # bmc-video003 (794 frames), or a synthetic clip
    python benchmarks/rerender.py --quick                    # the 160x120 clip, for CI

Reference: one ``bgcore.export`` of the page's outputs (foreground, mask, transparent WebM, mask
PNGs, background) and the composite, which the page ran again for each new background (issue 11:
26.7 s against 16.5 s for the first export of a 795-frame clip). Ours: what the page runs now,
the composite alone, its masks read from the kept mask PNGs (the other outputs are kept, keyed on
the fit, mask and their own options). Same fitted clip (mode, the default), same run; the ratio
is what counts on a shared machine.
"""

from __future__ import annotations

import tempfile
import time

from common import QUICK_CLIP, absent, parser, synthetic_video
import bgcore

PAGE = ("foreground", "mask", "transparent", "masks", "background")


def timed(fitted, out, outputs, **options) -> float:
    started = time.perf_counter()
    bgcore.export(fitted, out, outputs=outputs, **options)
    return time.perf_counter() - started


def main(argv=None) -> dict:
    options = parser(__doc__, quick="the 160x120 synthetic clip", data=True, cache=True).parse_args(argv)
    clip = options.data / "bmc-video003" / "Video_003.avi"
    if options.quick or not clip.exists():
        if not options.quick:
            print(absent(clip))
        clip = synthetic_video(options.cache, **(QUICK_CLIP if options.quick else
                                                 dict(width=320, height=240, frames=300, fps=25.0)))
    fitted = bgcore.fit_clip(clip)
    composite = {"composite": {"backdrop": "blur"}}
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as again:
        everything = timed(fitted, first, {**dict.fromkeys(PAGE, {}), **composite})
        alone = timed(fitted, again, composite, masks=f"{first}/masks")
    result = {"clip": clip.name, "frames": len(fitted.indices), "all_s": everything, "composite_s": alone,
              "ratio": alone / everything}
    print(f"{clip.name}, {len(fitted.indices)} frames: every output {everything:.1f} s, the composite alone "
          f"{alone:.1f} s ({alone / everything:.2f}x)")
    return result


if __name__ == "__main__":
    main()
