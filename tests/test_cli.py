import json

import cv2
import imageio_ffmpeg
import numpy as np
import pytest

from bgcore.datasets import bmc_truth, score_masks
from bgcore.metrics import evaluate
from bgcore.video import probe
from conftest import bgcore, shared


def video_facts(path):
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    reader.close()
    return meta


@pytest.mark.parametrize("method", ["mode", "median"])
def test_end_to_end_on_the_synthetic_clip(method, clip, clip_path, tmp_path):
    bgcore(clip_path, "--out", tmp_path, "--method", method, check=True)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["method"] == method and report["frame_count"] == 150
    assert set(report["seconds"]) == {"probe", "sample", "fit", "apply"} and report["peak_memory_mb"] > 0
    for name in ("foreground.mp4", "mask.mp4"):
        meta = video_facts(tmp_path / name)
        assert meta["codec"].startswith("h264") and meta["pix_fmt"].startswith("yuv420p")
        assert probe(tmp_path / name).frame_count == 150
    masks = sorted((tmp_path / "masks").iterdir())
    assert [m.name for m in masks[:2]] == ["000001.png", "000002.png"] and len(masks) == 150
    assert cv2.imread(str(tmp_path / "background.png")).shape == (240, 320, 3)
    pairs = ((cv2.imread(str(m), cv2.IMREAD_GRAYSCALE), truth.astype(np.uint8) * 255)
             for m, truth in zip(masks, clip.masks))
    first = cv2.imread(str(masks[0]), cv2.IMREAD_GRAYSCALE)
    assert set(np.unique(first)) <= {0, 255}
    assert evaluate(pairs)["f_measure"] >= 0.9


def test_trim_fps_and_scale(clip_path, tmp_path):
    bgcore(clip_path, "--out", tmp_path, "--method", "median", "--start", "2", "--end", "8",
           "--fps", "5", "--scale", "0.5", check=True)
    report = json.loads((tmp_path / "report.json").read_text())
    # 15 fps, frames 30..119 every 3rd: 30 frames at 5 fps
    assert report["frame_count"] == 30 and report["output_fps"] == 5
    assert probe(tmp_path / "foreground.mp4").frame_count == 30
    assert cv2.imread(str(tmp_path / "masks" / "000030.png")).shape[:2] == (240, 320)


def test_odd_sized_image_folder(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    rng = np.random.default_rng(0)
    background = rng.integers(60, 190, (241, 321, 3), dtype=np.uint8)
    for i in range(1, 31):
        frame = background.copy()
        frame[100:140, 8 * i:8 * i + 30] = (250, 20, 20)
        cv2.imwrite(str(folder / f"in{i:06d}.jpg"), frame)
    out = tmp_path / "out"
    bgcore(folder, "--out", out, "--method", "median", check=True)
    assert probe(out / "mask.mp4").frame_count == 30
    assert (probe(out / "mask.mp4").width, probe(out / "mask.mp4").height) == (322, 242)
    mask = cv2.imread(str(out / "masks" / "000010.png"), cv2.IMREAD_GRAYSCALE)
    assert mask.shape == (241, 321)
    assert mask[105:135, 85:105].mean() > 250 and mask[:90].max() == 0


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    (b"", "empty"),
    (b"hello, I am text\n", "not a video"),
])
def test_bad_input_exits_nonzero_with_one_line(tmp_path, content, message):
    path = tmp_path / "input.mp4"
    if content is not None:
        path.write_bytes(content)
    result = bgcore(path, "--out", tmp_path / "out")
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and message in last and "Traceback" not in result.stderr


def test_errors_found_late_name_what_to_change(clip_path, tmp_path):
    """What is known only once the clip is read or unpacked still comes as one plain line."""
    def last_line(*args):
        result = bgcore(*args)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        return result.stderr.strip().splitlines()[-1]

    assert last_line(clip_path, "--out", tmp_path / "a", "--start", "60") == (
        "error: The trim 60 s to the end keeps no frames of a 10.00 s clip: start before its end.")
    (tmp_path / "frames.zip").write_bytes(b"PK not really a zip")
    assert last_line(tmp_path / "frames.zip", "--out", tmp_path / "b").startswith(
        "error: frames.zip: not a readable zip")
    (tmp_path / "notes.txt").write_text("hello")
    assert last_line(clip_path, "--out", tmp_path / "c", "--replace", tmp_path / "notes.txt").endswith(
        "A picture (JPEG, PNG) works too.")


def test_an_output_folder_that_cannot_be_written_is_refused_before_the_work(clip_path, tmp_path, monkeypatch):
    """A read-only folder was found once the whole fit was done (minutes, on a long clip). As
    root, which these tests may run as, any folder can be written: os.access says otherwise here."""
    import os
    import bgcore as package

    monkeypatch.setattr(os, "access", lambda path, mode: False)
    monkeypatch.setattr(package.pipeline, "fit_clip", lambda *a, **k: pytest.fail("fitted before the check"))
    with pytest.raises(ValueError, match=r"--out .*/out: cannot write there \(permission denied\)\. Choose another"):
        package.run(clip_path, tmp_path / "out")


def test_help_documents_every_option():
    text = bgcore("--help", check=True).stdout
    for option in ("--out", "--method", "--rank", "--threshold", "--scale", "--fps", "--start",
                   "--end", "--measure", "--solver", "--opening", "--closing", "--min-area",
                   "--k", "--reference", "--reference-image", "--channel-threshold", "--max-iter",
                   "--learning-rate", "--replace", "--feather", "--fit", "--foreground-on", "--outputs"):
        assert option in text
    for method in ("svd", "median", "rpca", "kmeans", "reference", "mog2", "knn"):
        assert method in text


@pytest.mark.parametrize("args, message", [
    (["--method", "svd", "--k", "3"], "--k applies to kmeans"),
    (["--method", "kmeans", "--k", "7"], "k=7"),
    (["--method", "reference", "--reference", "999"], "reference=999"),
    (["--method", "reference", "--channel-threshold", "lots"], "--channel-threshold"),
    (["--method", "mog2", "--learning-rate", "fast"], "--learning-rate"),
    (["--replace", "missing.png"], "no such file"),
    (["--fit", "squeeze"], "--fit"),
    (["--foreground-on", "pink"], "--foreground-on"),
    (["--outputs", "foreground,gif"], "gif: use names among"),
    (["--outputs", "composite"], "give --replace too"),
    (["--width", "8"], "--width: 8: use a whole number from 16"),
])
def test_bad_method_values_exit_2_with_one_line(clip_path, tmp_path, args, message):
    result = bgcore(clip_path, "--out", tmp_path / "out", "--end", "2", *args)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and message in last and "Traceback" not in result.stderr


def test_a_photo_of_another_place_is_named_in_the_error(clip_path, tmp_path):
    photo = tmp_path / "beach.png"
    cv2.imwrite(str(photo), np.random.default_rng(0).integers(0, 256, (300, 500, 3), np.uint8))
    result = bgcore(clip_path, "--out", tmp_path / "out", "--method", "reference", "--reference-image", photo)
    last = result.stderr.strip().splitlines()[-1]
    assert result.returncode == 2 and last.startswith(f"error: --reference-image {photo}: The photo of the empty "
                                                      "scene does not match the clip's view")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("method, target", [("mode", 0.89), ("svd", 0.87), ("median", 0.87), ("rpca", 0.88),
                                            ("kmeans", 0.87), ("reference", 0.87)])
def test_bmc_video003_default_settings_reach_their_target(method, target, tmp_path):
    folder = shared("bmc-video003")
    bgcore(folder / "Video_003.avi", "--out", tmp_path, "--method", method, check=True)
    assert len(list((tmp_path / "masks").iterdir())) == 794
    scores = score_masks(tmp_path / "masks", bmc_truth(folder))
    assert scores["f_measure"] >= target, scores
