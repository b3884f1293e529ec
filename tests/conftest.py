import io
import os
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import cv2
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from bgcore.cli import main
from bgcore.synthetic import make_clip

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared(relative: str) -> Path:
    """A clip in ../shared/data, or a skip when that folder is absent (it is never copied here)."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared research clips are not on this machine")
    return path


def room(rng: np.random.Generator) -> np.ndarray:
    """A 320x240 uint8 RGB scene with details to match (a room's edges and corners): 80 rectangles."""
    scene = np.full((240, 320, 3), 128, np.uint8)
    for _ in range(80):
        corner = rng.integers(0, (320, 240))
        cv2.rectangle(scene, tuple(map(int, corner)), tuple(map(int, corner + rng.integers(5, 60, 2))),
                      tuple(map(int, rng.integers(0, 256, 3))), -1)
    return scene


def phone_photo(picture: np.ndarray, *, turn: float = 1.5, gains=(1.15, 1.05, 0.95)) -> np.ndarray:
    """``picture`` as a phone would take it: 2.5 times the pixels, turned ``turn`` degrees, another
    exposure and white balance, through JPEG."""
    big = cv2.resize(np.clip(picture, 0, 255).astype(np.uint8), None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC)
    turned = cv2.warpAffine(big, cv2.getRotationMatrix2D((big.shape[1] / 2, big.shape[0] / 2), turn, 1.0),
                            big.shape[1::-1], flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    exposed = np.clip(turned * np.array(gains), 0, 255).astype(np.uint8)
    return cv2.imdecode(cv2.imencode(".jpg", exposed, [cv2.IMWRITE_JPEG_QUALITY, 90])[1], cv2.IMREAD_UNCHANGED)


def bgcore(*args, cwd=None, check=False) -> subprocess.CompletedProcess:
    """``python -m bgcore ARGS`` run in this process (``cli.main``), from folder ``cwd``: its exit
    code, standard output and error. A traceback fails the test that called it. Tests of signals
    and of a fresh process's environment start a real one instead."""
    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    try:
        os.chdir(cwd or here)
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main([str(arg) for arg in args])
            except SystemExit as stop:  # argparse's --help and its errors
                code = stop.code
    finally:
        os.chdir(here)
    result = subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())
    if check:
        assert code == 0, result.stderr
    return result


@pytest.fixture(scope="session")
def clip():
    """The default synthetic clip (150 frames, 320x240) with its exact ground truth."""
    return make_clip()


@pytest.fixture(scope="session")
def clip_path(clip, tmp_path_factory):
    return clip.write(tmp_path_factory.mktemp("clip") / "synthetic.mp4")


@pytest.fixture(scope="session", autouse=True)
def sessions_folder(tmp_path_factory):
    """The app's sessions (ui/sessions.py) in a folder of the test run's, not the machine's; the
    servers the browser tests start inherit it."""
    folder = tmp_path_factory.mktemp("sessions")
    folder.chmod(0o700)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BGREMOVE_SESSIONS", str(folder))
        yield folder


@pytest.fixture(scope="session", autouse=True)
def one_blas_thread():
    """One BLAS thread: on the shared 2-core machine OpenBLAS's threads spin against the other
    jobs (measured: the RPCA contract fit took 69 s with two threads, 5 s with one)."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield
