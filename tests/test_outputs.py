"""The outputs added for the app: transparent WebM, browser previews, zips of masks and image zips."""

import zipfile

import cv2
import numpy as np
import pytest

import bgcore
from bgcore.files import unpack_images, zip_files
from bgcore.limits import Limits
from bgcore.video import TransparentWriter, VideoError, read_alpha, write_preview


def test_transparent_writer_keeps_the_alpha_channel_at_an_odd_size(tmp_path):
    frames = np.zeros((12, 41, 63, 4), np.uint8)
    frames[..., :3] = (30, 160, 90)
    for t in range(12):
        frames[t, 10:30, 2 * t:2 * t + 20, 3] = 255
    with TransparentWriter(tmp_path / "a.webm", 63, 41, 10) as writer:
        for frame in frames:
            writer.write(frame)
    alpha = np.stack(list(read_alpha(tmp_path / "a.webm")))
    assert alpha.shape == (12, 41, 63)
    assert np.mean((alpha > 127) == (frames[..., 3] > 127)) > 0.99


def test_export_writes_a_transparent_foreground_whose_alpha_is_the_mask(clip_path, tmp_path):
    fitted = bgcore.fit_clip(clip_path, method="median", end=3.0)
    report = bgcore.export(fitted, tmp_path, outputs=("transparent", "masks"))
    alpha = np.stack(list(read_alpha(tmp_path / "foreground.webm")))
    masks = np.stack([cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in sorted((tmp_path / "masks").glob("*.png"))])
    assert len(alpha) == report["frame_count"] == len(masks) == 45
    assert np.mean((alpha > 127) == (masks > 127)) > 0.99


def test_export_writes_no_webm_unless_asked(clip_path, tmp_path):
    bgcore.export(bgcore.fit_clip(clip_path, method="median", end=1.0), tmp_path)
    assert not (tmp_path / "foreground.webm").exists()


def test_preview_is_a_small_h264_mp4_of_the_first_seconds(clip_path, tmp_path):
    preview = write_preview(clip_path, tmp_path / "preview.mp4", width=200, seconds=2.0)
    info = bgcore.probe(preview)
    assert (info.width, info.height, info.frame_count) == (200, 150, 30)


def test_preview_of_an_image_folder(tmp_path):
    for number in range(1, 6):
        cv2.imwrite(str(tmp_path / f"{number}.png"), np.full((31, 41, 3), 40 * number, np.uint8))
    info = bgcore.probe(write_preview(tmp_path, tmp_path / "out" / "preview.mp4"))
    assert (info.width, info.height, info.frame_count) == (42, 32, 5)


def _zip(path, entries: dict):
    with zipfile.ZipFile(path, "w") as bundle:
        for name, data in entries.items():
            bundle.writestr(name, data)
    return path


def _png(value: int) -> bytes:
    return cv2.imencode(".png", np.full((8, 8, 3), value, np.uint8))[1].tobytes()


def test_unpack_images_in_natural_order_without_using_the_names_as_paths(tmp_path):
    archive = _zip(tmp_path / "frames.zip", {"clip/10.png": _png(100), "clip/2.png": _png(20),
                                             "../../evil/1.png": _png(10), "__MACOSX/clip/._2.png": b"x",
                                             "notes.txt": b"hello"})
    folder = unpack_images(archive, tmp_path / "frames")
    assert sorted(p.name for p in folder.iterdir()) == ["000001.png", "000002.png", "000003.png"]
    assert [frame[0, 0, 0] for frame in bgcore.read_frames(folder)] == [10, 20, 100]
    assert not (tmp_path.parent / "evil").exists()


@pytest.mark.parametrize("content, message", [
    (b"not a zip at all", "not a readable zip"),
    ({"readme.txt": b"no images"}, "no images"),
    ({f"{i}.png": b"" for i in range(5)}, "too many"),
])
def test_unpack_images_refuses_what_is_not_a_zip_of_images(tmp_path, content, message):
    archive = tmp_path / "upload.zip"
    if isinstance(content, bytes):
        archive.write_bytes(content)
    else:
        _zip(archive, content)
    with pytest.raises(VideoError, match=message):
        unpack_images(archive, tmp_path / "frames", limits=Limits(max_frames=4))


def test_zip_files_stores_them_flat(tmp_path):
    for name in ("000001.png", "000002.png"):
        (tmp_path / name).write_bytes(_png(1))
    archive = zip_files(sorted(tmp_path.glob("*.png")), tmp_path / "masks.zip")
    with zipfile.ZipFile(archive) as bundle:
        assert bundle.namelist() == ["000001.png", "000002.png"]
