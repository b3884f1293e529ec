"""A clip whose camera shakes (a hand holding it) is held on one view before its background is
modelled, and its masks land back on its own frames; a clip on a tripod is left as it is."""

import cv2
import numpy as np
import pytest

import bgcore
from bgcore import stabilize
from bgcore.metrics import evaluate
from bgcore.synthetic import make_clip
from bgcore.video import VideoWriter


def shaken(path, shake: float, *, seed: int = 3):
    """The default synthetic clip moved by ``shake`` pixels (a random shift and rotation each frame,
    the edges cut off), written to ``path``; its truth moved alike (CDnet labels)."""
    clip = make_clip()
    rng = np.random.default_rng(seed)
    height, width = clip.frames.shape[1:3]
    edge = int(4 * shake) + 2
    size = (width - 2 * edge, height - 2 * edge)
    truth = []
    with VideoWriter(path, *size, clip.fps, crf=12) as writer:
        for frame, mask in zip(clip.frames, clip.masks):
            matrix = cv2.getRotationMatrix2D((width / 2, height / 2), rng.normal(0, 0.2), 1.0)
            matrix[:, 2] += rng.normal(0, shake, 2)
            moved = cv2.warpAffine(frame, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
            writer.write(moved[edge:-edge, edge:-edge])
            labels = cv2.warpAffine(mask.astype(np.uint8) * 255, matrix, (width, height), flags=cv2.INTER_NEAREST)
            truth.append(labels[edge:-edge, edge:-edge])
    return path, truth


def f_measure(fitted, path, truth) -> float:
    return evaluate(zip((fitted.mask(frame) for frame in bgcore.read_frames(path)), truth))["f_measure"]


def test_a_shaking_camera_is_held_still_and_its_masks_come_back_to_its_frames(tmp_path, monkeypatch):
    path, truth = shaken(tmp_path / "shaken.mp4", shake=3.0)
    held = bgcore.fit_clip(path)
    assert held.stabilizer is not None
    steadied = f_measure(held, path, truth)
    monkeypatch.setattr(stabilize, "SHAKE", np.inf)  # as before: the model sees the frames as they come
    moving = bgcore.fit_clip(path)
    assert moving.stabilizer is None
    assert steadied > 0.9 and steadied > f_measure(moving, path, truth) + 0.2


@pytest.mark.parametrize("method", ["median", "mog2"])
def test_the_export_and_a_model_that_learns_frame_by_frame_work_on_the_steadied_frames(tmp_path, method):
    path, truth = shaken(tmp_path / "shaken.mp4", shake=3.0)
    fitted = bgcore.fit_clip(path, method=method)
    assert fitted.stabilizer is not None
    report = bgcore.export(fitted, tmp_path / "out", outputs=["masks"])
    masks = [cv2.imread(str(png), cv2.IMREAD_GRAYSCALE) for png in sorted((tmp_path / "out" / "masks").iterdir())]
    assert report["frame_count"] == len(truth) == 150 and report["steadied"]
    assert evaluate(zip(masks[30:], truth[30:]))["f_measure"] > 0.8  # MOG2 learns over the first second


def test_a_clip_on_a_tripod_is_not_moved(clip_path):
    assert bgcore.fit_clip(clip_path).stabilizer is None


def test_the_results_page_says_the_camera_shook(tmp_path):
    from test_app import click, open_app, upload
    path, _ = shaken(tmp_path / "shaken.mp4", shake=3.0)
    app = upload(open_app(), "shaken.mp4", path.read_bytes())
    click(app, "Next: choose a method")
    click(app, "Remove background")
    assert [t.value for t in app.title] == ["Results"] and not app.exception
    assert "the camera shook" in app.caption[0].value
