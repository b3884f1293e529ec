"""Every output of bgcore.outputs (one class each, one registry), the sound they carry, and the
other files the app writes: browser previews, zips of masks and image zips."""

import json
import subprocess
import zipfile

import cv2
import imageio_ffmpeg
import numpy as np
import pytest

import bgcore
from bgcore.files import unpack_images, zip_files
from bgcore.limits import Limits
from bgcore.outputs import OUTPUTS, Output, Source, mask_image
from bgcore.synthetic import make_clip
from bgcore.video import TransparentWriter, VideoError, read_alpha, read_frames, write_preview
from media import H264, audio_track, ffmpeg, make_flash_clip, make_sound_clip, make_testsrc

SIZE = (33, 25)  # odd: the H.264 outputs pad it, the others keep it


def _frames_and_masks():
    frames = np.zeros((3, SIZE[1], SIZE[0], 3), np.uint8)
    frames[...] = (200, 60, 30)
    masks = np.zeros((3, SIZE[1], SIZE[0]), bool)
    for t in range(3):
        masks[t, 5:20, 4 + 3 * t:20 + 3 * t] = True
    return frames, masks


def _decoded(path):
    return np.stack([frame[:SIZE[1], :SIZE[0]] for frame in read_frames(path)]).astype(int)


def _check_foreground(path, frames, masks):
    video = _decoded(path)
    assert np.abs(video[~masks] - 255).mean() < 6 and np.abs(video[masks] - frames[masks]).mean() < 12


def _check_mask(path, frames, masks):
    assert np.mean((_decoded(path)[..., 0] > 127) == masks) > 0.98


def _check_composite(path, frames, masks):
    assert np.abs(_decoded(path)[~masks] - (0, 0, 255)).mean() < 12


def _check_transparent(path, frames, masks):
    assert np.mean((np.stack(list(read_alpha(path))) > 127) == masks) > 0.98


def _check_editor(path, frames, masks):
    alpha = np.stack(list(read_alpha(path)))
    assert alpha.shape == (3, SIZE[1] + 1, SIZE[0] + 1)  # padded to even sizes, by transparent pixels
    assert np.array_equal(alpha[:, :SIZE[1], :SIZE[0]], masks * 255)
    assert not alpha[:, SIZE[1]].any() and not alpha[:, :, SIZE[0]].any()
    assert "prores (4444)" in subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-i", str(path)], capture_output=True, text=True).stderr
    picture = _decoded(path)  # black where transparent, the clip where the subject is
    assert picture[~masks].mean() < 1 and np.abs(picture[masks] - frames[masks]).mean() < 2


def _check_masks(path, frames, masks):
    pngs = [cv2.imread(str(png), cv2.IMREAD_GRAYSCALE) for png in sorted(path.iterdir())]
    assert [png.name for png in sorted(path.iterdir())] == ["000001.png", "000002.png", "000003.png"]
    assert np.array_equal(np.stack(pngs), masks.astype(np.uint8) * 255)


def _check_background(path, frames, masks):
    assert np.array_equal(cv2.imread(str(path))[..., ::-1], np.full((SIZE[1], SIZE[0], 3), 90, np.uint8))


CHECKS = {"foreground": ({"behind": "white"}, _check_foreground), "mask": ({}, _check_mask),
          "composite": ({"backdrop": "#0000FF", "feather": 0}, _check_composite),
          "transparent": ({}, _check_transparent), "editor": ({}, _check_editor), "masks": ({}, _check_masks),
          "background": ({}, _check_background)}


def test_every_output_is_checked_here():
    assert set(CHECKS) == set(OUTPUTS)


@pytest.mark.parametrize("name", list(CHECKS))
def test_each_output_writes_what_it_says(name, tmp_path):
    options, check = CHECKS[name]
    frames, masks = _frames_and_masks()
    source = Source(SIZE, 10.0, np.full((SIZE[1], SIZE[0], 3), 90, np.uint8))
    with OUTPUTS[name](tmp_path, source, **options) as output:
        for frame, mask in zip(frames, masks):
            output.write(frame, mask_image(mask))
    check(tmp_path / OUTPUTS[name].file, frames, masks)
    assert OUTPUTS[name].about().endswith(".") and OUTPUTS[name].title


@pytest.mark.parametrize("name, options, message", [
    ("foreground", {"behind": "pink"}, "behind='pink'"),
    ("composite", {"backdrop": "#00B140", "fit": "squeeze"}, "fit='squeeze'"),
    ("composite", {"backdrop": "no-such.png"}, "no such file"),
    ("composite", {"backdrop": "blue", "feather": 99}, "feather"),
])
def test_an_output_refuses_a_bad_option_before_any_frame(tmp_path, name, options, message):
    source = Source(SIZE, 10.0, np.zeros((SIZE[1], SIZE[0], 3), np.uint8))
    with pytest.raises(ValueError, match=message):
        OUTPUTS[name](tmp_path, source, **options)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def small_fit(tmp_path_factory):
    path = make_clip(width=64, height=48, frames=12).write(tmp_path_factory.mktemp("small") / "small.mp4")
    return bgcore.fit_clip(path, method="median")


def test_a_new_output_is_one_class_and_one_registry_line(small_fit, tmp_path, monkeypatch):
    class Coverage(Output):
        """The share of each frame that is foreground, one number a line."""

        name, file = "coverage", "coverage.txt"

        def __init__(self, folder, source):
            super().__init__(folder, source)
            self.shares = []

        def write(self, frame, mask):
            self.shares.append(f"{mask.mean():.4f}")

        def close(self):
            self.path.write_text("\n".join(self.shares))

    monkeypatch.setitem(OUTPUTS, "coverage", Coverage)
    report = bgcore.export(small_fit, tmp_path, outputs=["coverage", "mask"])
    assert len((tmp_path / "coverage.txt").read_text().split()) == report["frame_count"] == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == ["coverage.txt", "mask.mp4", "report.json"]
    with pytest.raises(ValueError, match="output 'gif': use one of"):
        bgcore.export(small_fit, tmp_path, outputs=["gif"])


@pytest.fixture(scope="module")
def sound_clip(tmp_path_factory):
    return make_sound_clip(tmp_path_factory.mktemp("sound") / "sound.mp4")


def test_the_foreground_composite_and_editors_video_carry_the_trimmed_clips_sound(sound_clip, tmp_path):
    fitted = bgcore.fit_clip(sound_clip, method="median", start=1.0, end=2.5)  # silent before 1 s
    report = bgcore.export(fitted, tmp_path, outputs={"foreground": {}, "mask": {}, "editor": {}, "transparent": {},
                                                      "composite": {"backdrop": "blur"}, "masks": {}})
    assert report["frame_count"] == 23  # frames 15..37 at 15 fps
    for name in ("foreground.mp4", "composite.mp4", "foreground.mov", "foreground.webm"):
        codec, seconds, samples = audio_track(tmp_path / name)
        assert codec == ("opus" if name.endswith(".webm") else "aac") and abs(seconds - 23 / 15) < 0.1, (name, seconds)
        # The tone at once: the trim's sound, not the start's (Opus's decoder delay: 6.5 ms at 48 kHz)
        assert np.abs(samples[:4410]).max() > 0.3, name
        assert bgcore.probe(tmp_path / name).frame_count == 23
    assert audio_track(tmp_path / "mask.mp4") is None
    masks = np.stack([cv2.imread(str(png), cv2.IMREAD_GRAYSCALE) for png in sorted((tmp_path / "masks").iterdir())])
    _check_transparent(tmp_path / "foreground.webm", None, masks > 127)  # its alpha kept with the sound


@pytest.mark.parametrize("edit", [
    # Cut without re-encoding between keyframes: its first 15 frames cannot be decoded.
    ("-ss", "0.5", "-c", "copy", "-copyinkf"),
    # A frame rate that varies (a phone's in dim light): frames 30 to 50 missing, the others at their times.
    ("-vf", "select='not(between(n,30,50))'", "-fps_mode", "passthrough", "-c:v", "libx264", "-c:a", "copy"),
])
def test_the_sound_keeps_time_with_the_picture(tmp_path, edit):
    ffmpeg("-i", make_flash_clip(tmp_path / "flash.mp4"), *edit, tmp_path / "edited.mp4")
    bgcore.export(bgcore.fit_clip(tmp_path / "edited.mp4", method="median"), tmp_path / "out", outputs=["foreground"])
    video = tmp_path / "out" / "foreground.mp4"
    brightness = [frame.mean() for frame in bgcore.read_frames(video)]
    flash = next(i for i, level in enumerate(brightness) if level > 230) / bgcore.probe(video).fps
    _, _, samples = audio_track(video)
    beep = np.argmax(np.abs(samples) > 0.3) / 44100
    assert abs(flash - beep) < 1.5 / 30, (flash, beep)


@pytest.mark.parametrize("name, rate", [("steady.mkv", 60), ("steady.webm", 30)])
def test_a_steady_clip_timed_in_milliseconds_gives_one_frame_a_frame(tmp_path, name, rate):
    """MKV and WebM keep times in whole milliseconds (gaps of 16 and 17 ms at 60 fps): no frame
    repeated or dropped, at the clip's own rate."""
    codec = ("-c:v", "libvpx", "-b:v", "1M") if name.endswith(".webm") else H264
    clip = make_testsrc(tmp_path / name, rate=rate, seconds=2, extra=codec)
    report = bgcore.export(bgcore.fit_clip(clip, method="median"), tmp_path / "out", outputs=["mask"])
    assert report["output_fps"] == rate and report["output_frames"] == 2 * rate
    assert bgcore.probe(tmp_path / "out" / "mask.mp4").frame_count == 2 * rate


def test_the_slow_part_of_a_clip_whose_rate_varies_plays_at_its_own_rate(tmp_path):
    """60 frames at 30 fps, then 60 at 5 fps (a phone in dim light): the slow part trimmed out of it
    runs at 5 fps, not at the whole clip's average of 8.7 (a video 1.7 times too fast for its sound)."""
    clip = make_testsrc(tmp_path / "vfr.mp4", rate=30, seconds=4, extra=(
        "-vf", "setpts='if(lt(N,60),N/30/TB,(2+(N-60)/5)/TB)'", "-fps_mode", "vfr", *H264))
    fitted = bgcore.fit_clip(clip, method="median", start=2.0)
    assert len(fitted.indices) == 60 and fitted.fps > 8
    report = bgcore.export(fitted, tmp_path / "out", outputs=["mask"])
    assert report["output_fps"] == 5 and report["output_frames"] == 60
    assert bgcore.probe(tmp_path / "out" / "mask.mp4").duration == pytest.approx(12.0)


def test_a_failed_export_of_videos_with_sound_says_what_failed(sound_clip, tmp_path):
    fitted = bgcore.fit_clip(sound_clip, method="median", end=1.0)
    bgcore.export(fitted, tmp_path / "first", outputs=["masks"])
    (tmp_path / "first" / "masks" / "000001.png").unlink()  # nothing written yet
    for name in ("foreground", "editor"):  # not "the sound could not be added" to a half-made file
        with pytest.raises(ValueError, match="000001.png is missing"):
            bgcore.export(fitted, tmp_path / name, outputs=[name], masks=tmp_path / "first" / "masks")


def test_outputs_without_sound_start_no_ffmpeg_to_look_for_it(sound_clip, tmp_path, monkeypatch):
    started = []
    popen = subprocess.Popen
    monkeypatch.setattr(subprocess, "Popen", lambda args, **kwargs: started.append(args) or popen(args, **kwargs))
    fitted = bgcore.fit_clip(sound_clip, method="median")
    started.clear()
    bgcore.export(fitted, tmp_path, outputs=["mask", "masks", "background"])
    # The decoder and the mask's encoder, nothing more.
    assert len(started) == 2 and audio_track(tmp_path / "mask.mp4") is None


def test_a_clip_without_sound_gives_videos_without_sound(small_fit, tmp_path):
    bgcore.export(small_fit, tmp_path, outputs=["foreground"])
    assert audio_track(tmp_path / "foreground.mp4") is None
    assert json.loads((tmp_path / "report.json").read_text())["outputs"] == {"foreground.mp4": {}}


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


def test_an_export_made_smaller_gives_every_output_that_size_with_the_masks_made_at_full_size(clip_path, tmp_path):
    fitted = bgcore.fit_clip(clip_path, method="median", end=1.0)
    bgcore.export(fitted, tmp_path / "full", outputs=["masks"])
    report = bgcore.export(fitted, tmp_path / "half", width=161,
                           outputs=["foreground", "mask", "transparent", "masks", "background"])
    assert report["output_size"] == [160, 120]  # even, in proportion
    for name in ("foreground.mp4", "mask.mp4", "foreground.webm"):
        info = bgcore.probe(tmp_path / "half" / name)
        assert (info.size, info.frame_count) == ((160, 120), 15), name
    assert cv2.imread(str(tmp_path / "half" / "background.png")).shape == (120, 160, 3)
    full, half = (np.stack([cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
                            for path in sorted((tmp_path / folder / "masks").iterdir())]) for folder in ("full", "half"))
    assert half.shape == (15, 120, 160) and set(np.unique(half)) == {0, 255}
    shrunk = np.stack([cv2.resize(mask, (160, 120), interpolation=cv2.INTER_AREA) for mask in full])
    assert np.mean((shrunk > 127) == (half > 127)) > 0.99
    frames = [cv2.resize(frame, (160, 120), interpolation=cv2.INTER_AREA)
              for frame in read_frames(clip_path, fitted.indices)]
    foreground = np.stack(list(read_frames(tmp_path / "half" / "foreground.mp4"))).astype(int)
    inside = half > 127
    # The clip's texture, too fine for H.264 at that size, averages out: its colours are the frames'.
    assert np.abs(foreground[inside].mean(axis=0) - np.stack(frames)[inside].mean(axis=0)).max() < 3


def test_output_size_never_enlarges_and_refuses_a_few_pixels():
    assert bgcore.output_size((1920, 1080), 1280) == (1280, 720)
    assert bgcore.output_size((1918, 1080), 855) == (854, 480)
    assert bgcore.output_size((640, 360), 1280) == bgcore.output_size((640, 360), None) == (640, 360)
    with pytest.raises(ValueError, match="width=8: give at least 16 pixels"):
        bgcore.output_size((640, 360), 8)


def test_the_export_memory_estimate_grows_with_the_sizes_and_encoders():
    from bgcore.estimate import export_memory
    hd, small = (1920, 1080), (640, 360)
    assert export_memory(hd, hd, ["foreground", "mask"]) > 2 * export_memory(hd, small, ["foreground", "mask"])
    assert export_memory(hd, small, ["foreground", "mask"]) > export_memory(small, small, ["foreground", "mask"])
    assert export_memory(hd, hd, ["transparent"]) > export_memory(hd, hd, ["foreground", "mask"])
    assert export_memory(hd, hd, ["masks", "background"]) == export_memory(hd, small, ["masks", "background"])


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
    # Named as in the zip, not as unpacked (000002.png)
    ({"f1.png": _png(1), "f2.png": cv2.imencode(".png", np.zeros((4, 6, 3), np.uint8))[1].tobytes()},
     r"^f2\.png is 6x4 but f1\.png is 8x8: the images of a zip make one clip and must all have the same size\.$"),
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


def test_an_export_can_read_the_masks_of_an_earlier_one_instead_of_masking_again(small_fit, tmp_path, monkeypatch):
    bgcore.export(small_fit, tmp_path / "first", outputs=["masks", "mask"])
    monkeypatch.setattr(type(small_fit), "mask", lambda *args: pytest.fail("masked again"))
    bgcore.export(small_fit, tmp_path / "again", outputs=["mask"], masks=tmp_path / "first" / "masks")
    assert np.array_equal(np.stack(list(read_frames(tmp_path / "again" / "mask.mp4"))),
                          np.stack(list(read_frames(tmp_path / "first" / "mask.mp4"))))
    (tmp_path / "first" / "masks" / "000012.png").unlink()
    with pytest.raises(ValueError, match="000012.png is missing"):
        bgcore.export(small_fit, tmp_path / "third", outputs=["mask"], masks=tmp_path / "first" / "masks")


def test_run_takes_an_opened_video(clip_path, tmp_path):
    with bgcore.open_video(clip_path) as video:
        report = bgcore.run(video, tmp_path / "out", method="median", outputs=["mask"], end=2)
    assert bgcore.probe(tmp_path / "out" / "mask.mp4").frame_count == report["frame_count"] == 30


@pytest.mark.parametrize("method", ["mode", "mog2"])
def test_masks_made_in_threads_are_each_frames_own_in_order(clip_path, tmp_path, monkeypatch, method):
    monkeypatch.setattr(bgcore.pipeline, "WORKERS", 3)
    bgcore.export(bgcore.fit_clip(clip_path, method=method, end=2), tmp_path, outputs=["masks"])
    fitted = bgcore.fit_clip(clip_path, method=method, end=2)  # MOG2 learns from each frame: a fresh one
    expected = [fitted.mask(frame) for frame in read_frames(clip_path, fitted.indices)]
    written = [cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) > 127 for path in sorted((tmp_path / "masks").iterdir())]
    assert len(written) == len(expected) == 30
    assert all(np.array_equal(mask, truth) for mask, truth in zip(written, expected))
