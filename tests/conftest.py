from pathlib import Path

import pytest

from bgcore.synthetic import make_clip

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared(relative: str) -> Path:
    """A clip in ../shared/data, or a skip when that folder is absent (it is never copied here)."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared research clips are not on this machine")
    return path


@pytest.fixture(scope="session")
def clip():
    """The default synthetic clip (150 frames, 320x240) with its exact ground truth."""
    return make_clip()


@pytest.fixture(scope="session")
def clip_path(clip, tmp_path_factory):
    return clip.write(tmp_path_factory.mktemp("clip") / "synthetic.mp4")
