"""Background replacement: composite.mp4 over an image, a (shorter, looped) video, a colour or the blurred
background, every method; a picture of another shape keeps it (fill, fit) unless stretched."""

import subprocess
from contextlib import closing

import cv2
import numpy as np
import pytest

import bgcore
from bgcore.composite import backdrops, composite, preview
from bgcore.models import METHODS
from bgcore.pipeline import DEFAULT_OUTPUTS
from bgcore.video import VideoWriter, probe, read_frames

RED, BLUE = (230, 20, 20), (20, 20, 230)


def test_feathering_softens_only_the_edge():
    frame = np.full((40, 40, 3), 200, np.uint8)
    backdrop = np.zeros((40, 40, 3), np.uint8)
    mask = np.zeros((40, 40), bool)
    mask[10:30, 10:30] = True
    hard = composite(frame, mask, backdrop, feather=0)
    assert np.array_equal(hard[..., 0] > 0, mask)
    soft = composite(frame, mask, backdrop, feather=1.5)
    assert soft[20, 20, 0] == 200 and soft[0, 0, 0] == 0 and 0 < soft[20, 10, 0] < 200
    with pytest.raises(ValueError, match="feather"):  # checked once, by the preview and the export
        preview(frame, mask, "#000000", feather=-1)


@pytest.fixture(scope="module")
def short_clip(clip, tmp_path_factory):
    path = tmp_path_factory.mktemp("short") / "short.mp4"
    with VideoWriter(path, 320, 240, clip.fps) as writer:
        for frame in clip.frames[:40]:
            writer.write(frame)
    return path


def backdrop_video(path, colours, count):
    """A small video of ``count`` frames in flat ``colours``, one after the other."""
    with VideoWriter(path, 64, 48, 15) as writer:
        for i in range(count):
            writer.write(np.full((48, 64, 3), colours[i * len(colours) // count], np.uint8))
    return path


def test_replacement_by_a_shorter_video_loops_it(clip, short_clip, tmp_path):
    video = backdrop_video(tmp_path / "backdrop.mp4", [RED, BLUE], 30)  # 15 red, 15 blue
    bgcore.run(short_clip, tmp_path / "out", method="median", outputs={"composite": {"backdrop": video}})
    out = tmp_path / "out" / "composite.mp4"
    assert probe(out).frame_count == 40 and (probe(out).width, probe(out).height) == (320, 240)
    frames = list(read_frames(out))
    for t, colour in ((2, RED), (20, BLUE), (32, RED)):  # 32 = the second loop's red half
        outside = ~cv2.dilate(clip.masks[t].astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
        assert np.abs(np.median(frames[t][outside], axis=0) - colour).max() < 8, t
        inside = cv2.erode(clip.masks[t].astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
        assert np.abs(frames[t][inside].astype(int) - clip.frames[t][inside]).mean() < 8, t


def test_a_backdrop_video_is_checked_by_the_decode_that_plays_it(tmp_path, monkeypatch):
    video = backdrop_video(tmp_path / "backdrop.mp4", [RED, BLUE], 10)
    started = []
    popen = subprocess.Popen
    monkeypatch.setattr(subprocess, "Popen", lambda args, **kwargs: started.append(args) or popen(args, **kwargs))
    with closing(backdrops(video, (32, 24))) as pictures:  # checked: its first frame is decoded
        colours = [tuple(next(pictures)[0, 0]) for _ in range(15)]  # once round, and half again
    assert len(started) == 2 and colours[0] == colours[10] != colours[5]


def test_a_still_gif_backdrop_is_decoded_once(tmp_path, monkeypatch):
    gif = tmp_path / "still.gif"
    subprocess.run([bgcore.video.imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    "color=c=red:size=64x48", "-frames:v", "1", str(gif)], check=True)
    started = []
    popen = subprocess.Popen
    monkeypatch.setattr(subprocess, "Popen", lambda args, **kwargs: started.append(args) or popen(args, **kwargs))
    with closing(backdrops(gif, (32, 24))) as pictures:
        first = next(pictures)
        opened = len(started)  # (twice: a GIF's frames are not YUV, and come as RGB)
        colours = {tuple(next(pictures)[0, 0]) for _ in range(20)}
    assert len(started) == opened <= 2 and colours == {tuple(first[0, 0])} and first[0, 0, 0] > 200


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_replaces_the_background_with_an_image(method, short_clip, tmp_path):
    image = tmp_path / "backdrop.png"
    cv2.imwrite(str(image), np.full((480, 640, 3), BLUE[::-1], np.uint8))
    outputs = {**dict.fromkeys(DEFAULT_OUTPUTS, {}), "composite": {"backdrop": image, "fit": "stretch"}}
    report = bgcore.run(short_clip, tmp_path / "out", method=method, outputs=outputs, scale=0.5)
    assert report["frame_count"] == 40 and report["outputs"]["composite.mp4"]["backdrop"] == str(image)
    for name in ("composite.mp4", "foreground.mp4", "mask.mp4"):
        assert probe(tmp_path / "out" / name).frame_count == 40
    last = list(read_frames(tmp_path / "out" / "composite.mp4"))[-1]
    mask = cv2.imread(str(tmp_path / "out" / "masks" / "000040.png"), cv2.IMREAD_GRAYSCALE)
    background = cv2.erode((mask == 0).astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    assert background.mean() > 0.5
    assert np.abs(np.median(last[background], axis=0) - BLUE).max() < 8


def circle_picture(path, size=(320, 180), radius=60):
    """A 16:9 picture: a white circle on black, in its centre."""
    image = np.zeros((size[1], size[0], 3), np.uint8)
    cv2.circle(image, (size[0] // 2, size[1] // 2), radius, (255, 255, 255), -1)
    cv2.imwrite(str(path), image)
    return path


def aspect(image) -> float:
    """Width over height of the white shape in ``image``."""
    ys, xs = np.nonzero(image[..., 0] > 127)
    return (xs.max() - xs.min() + 1) / (ys.max() - ys.min() + 1)


@pytest.mark.parametrize("fit, expected", [("fill", 1.0), ("fit", 1.0), ("stretch", (160 / 320) / (120 / 180))])
def test_a_16_9_picture_behind_a_4_3_clip_keeps_its_shape_unless_stretched(fit, expected, tmp_path):
    picture = next(backdrops(circle_picture(tmp_path / "circle.png"), (160, 120), fit=fit))
    assert picture.shape == (120, 160, 3)
    assert abs(aspect(picture) - expected) < 0.05, fit
    if fit == "fit":  # whole, with black bars above and below
        assert not picture[:14].any() and not picture[-14:].any() and picture[60, 80].all()
    if fit == "fill":  # cropped at the sides, not squeezed: the circle fills the height as before
        assert picture[:, 0].max() == 0 and abs(aspect(picture[:, 40:120]) - 1) < 0.05


def test_the_composite_video_of_a_16_9_picture_behind_a_4_3_clip_keeps_circles_round(tmp_path):
    still = tmp_path / "still.mp4"  # nothing moves: all background, the composite is the picture
    with VideoWriter(still, 160, 120, 10) as writer:
        for _ in range(6):
            writer.write(np.full((120, 160, 3), 100, np.uint8))
    bgcore.run(still, tmp_path / "out", method="median",
               outputs={"composite": {"backdrop": circle_picture(tmp_path / "circle.png")}})
    frame = next(read_frames(tmp_path / "out" / "composite.mp4"))
    assert abs(aspect(frame) - 1) < 0.05


def test_a_colour_or_the_blurred_background_needs_no_file():
    plate = np.zeros((40, 60, 3), np.uint8)
    plate[:, ::2] = 255  # stripes: sharp detail
    green = next(backdrops("#00B140", (60, 40)))
    assert green.shape == (40, 60, 3) and (green == (0, 177, 64)).all()
    soft = next(backdrops("blur", (60, 40), plate=plate))
    assert soft.shape == plate.shape and soft.std() < plate.std() / 10 and abs(soft.mean() - plate.mean()) < 10
    with pytest.raises(ValueError, match="blur"):
        backdrops("blur", (60, 40))
    assert next(backdrops((1, 2, 3), (4, 4)))[0, 0].tolist() == [1, 2, 3]


def test_preview_is_one_frame_of_the_composite():
    frame = np.full((40, 60, 3), 200, np.uint8)
    mask = np.zeros((40, 60), bool)
    mask[10:30, 20:40] = True
    picture = preview(frame, mask, "#FF0000", feather=0)
    assert (picture[mask] == 200).all() and (picture[~mask] == (255, 0, 0)).all()
