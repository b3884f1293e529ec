"""Start-up: what `import bgcore` costs a fresh process, against importing its own dependencies.

    python benchmarks/startup.py            # 7 fresh processes each, the best reported (~10 s)
    python benchmarks/startup.py --quick    # 3 each

Every command-line run and every test subprocess pays it. Reference: NumPy, OpenCV and
imageio-ffmpeg, the imports no run can do without; ours: ``import bgcore``. The best of several
fresh processes, since the shared machine only ever adds time. scikit-learn takes over a second
to import and must stay out (``python -X importtime -c "import bgcore"`` shows what is imported).
"""

from __future__ import annotations

import json
import subprocess
import sys

from common import parser

TARGET = 0.6
"""Seconds ``import bgcore`` may take (issue 11)."""
FLOOR = "numpy, cv2, imageio_ffmpeg"
_TIMED = """
import sys, time
started = time.perf_counter()
import {modules}
print(time.perf_counter() - started, 'sklearn' in sys.modules)
"""


def best_import(modules: str, repeats: int) -> tuple[float, bool]:
    """The fastest of ``repeats`` fresh processes importing ``modules``, in seconds, and whether
    scikit-learn was imported."""
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", _TIMED.format(modules=modules)], check=True,
                             capture_output=True, text=True).stdout.split()
        runs.append((float(out[0]), out[1] == "True"))
    return min(runs)[0], any(sklearn for _, sklearn in runs)


def main(argv=None) -> dict:
    options = parser(__doc__, quick="3 processes each instead of 7")
    args = options.parse_args(argv)
    repeats = 3 if args.quick else 7
    floor, _ = best_import(FLOOR, repeats)
    seconds, sklearn = best_import("bgcore", repeats)
    result = {"repeats": repeats, "floor_seconds": floor, "bgcore_seconds": seconds,
              "imports_sklearn": sklearn}
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
