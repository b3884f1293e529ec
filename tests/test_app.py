"""The app's pages through streamlit's AppTest: the sample path, uploads, methods, downloads, errors."""

import re
import shutil
import subprocess
import threading
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import streamlit.testing.v1.app_test as app_test_module
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.runtime.scriptrunner_utils.exceptions import StopException
from streamlit.runtime.state.session_state_proxy import SessionStateProxy
from streamlit.testing.v1 import AppTest

import bgcore
from bgcore.estimate import estimate
from bgcore.models import BackgroundModel, Param
from conftest import shared
from ui.widgets import method_label
from media import CASES, H264, make_case, make_testsrc, png_header
from ui import jobs, sessions, state
from ui.widgets import PAGES, PAGES_SECONDS, plain, queue_text

TIMEOUT = 180


@pytest.fixture
def downloads(monkeypatch):
    """The bytes behind each download button: AppTest keeps them in a media store it makes per run,
    and the callable of a button whose data is made on the click in the run's media manager."""
    stores, managers = [], []

    class Recording(MemoryMediaFileStorage):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            stores.append(self)

    class Managing(MediaFileManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            managers.append(self)

    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", Recording)
    monkeypatch.setattr(app_test_module, "MediaFileManager", Managing)

    def stored(button):
        # No URL for data made on the click: the click's call, as the browser's click makes it.
        url = button.proto.url or managers[-1].execute_deferred(button.proto.deferred_file_id)
        return stores[-1].get_file(url.rsplit("/", 1)[-1])

    def data(button) -> bytes:
        return stored(button).content

    data.file_name = lambda button: stored(button).filename
    return data


def open_app() -> AppTest:
    app = AppTest.from_file("../app.py", default_timeout=TIMEOUT).run()
    assert not app.exception
    return app


def click(app: AppTest, label: str) -> AppTest:
    [button] = [b for b in app.button if b.label == label]
    button.click().run()
    assert not app.exception, app.exception
    return settle(app)


def visit(app: AppTest, page: str) -> AppTest:
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return settle(app)


def settle(app: AppTest) -> AppTest:
    """Wait for the session's job, as a person watches its progress, then run the page again, or
    the page it leads to, as the progress on top does in a browser (its poll is a fragment run
    every half second, which AppTest does not run by itself)."""
    job = work(app).job
    if job is None or job.ended is not None and job.number in _settled:
        return app
    job.wait()
    _settled.add(job.number)
    if job.ok and job.then and job.then != job.origin:
        app.switch_page(PAGES[job.then])
    app.run()
    assert not app.exception, app.exception
    return settle(app)  # the page may have started the next one


_settled = set()


def work(app: AppTest) -> sessions.Work:
    return sessions.get(app.session_state["session"])


def current_fit(app: AppTest):
    current = work(app)
    return current.fits.get(current.fit_key)


def captions(app: AppTest) -> list:
    return [caption for image in app.get("image") for caption in image.captions]


def titles(app: AppTest) -> list:
    return [title.value for title in app.title]


def download(app: AppTest, label: str):
    [button] = [b for b in app.get("download_button") if b.label.startswith(label)]
    return button


def upload(app: AppTest, name: str, data: bytes, mime: str = "video/mp4") -> AppTest:
    app.file_uploader[0].set_value((name, data, mime)).run()
    assert not app.exception, app.exception
    return app


def test_the_first_page_offers_an_upload_the_sample_and_how_it_works():
    app = open_app()
    assert titles(app) == ["Remove the background from a video"]
    assert set(app.file_uploader[0].allowed_type) >= {".mp4", ".mov", ".avi", ".mkv", ".webm", ".zip", ".mts", ".gif", ".png"}
    assert [b.label for b in app.button] == ["Use the sample clip"]
    assert captions(app) == ["Original", "Background", "Mask"]


def test_the_sample_reaches_a_downloaded_foreground_in_four_clicks(downloads, tmp_path):
    app = open_app()
    click(app, "Use the sample clip")  # 1: loads the sample and moves on to the method page
    assert titles(app) == ["Choose a method"]
    click(app, "Remove background")  # 2: defaults (SVD, rank 1), then the results page
    assert titles(app) == ["Results"]
    [way_on] = [b for b in app.button if b.label == "Export the videos"]
    assert way_on.proto.type == "primary" and titles(way_on.click().run()) == ["Export"]  # 3: the way on
    visit(app, "app_pages/export.py")  # AppTest runs again the page it was last told to, not the one switched to
    assert titles(app) == ["Export"] and not app.exception
    # The videos show first the frame the Results page does, the one with the most foreground.
    current = work(app)
    fitted = current_fit(app)
    busiest = state.busiest_frame(fitted, current.fit_key, fitted.threshold(bgcore.MaskOptions()))
    assert {video.proto.start_time for video in app.get("video")} == {int(busiest / fitted.fps)} != {0}
    foreground = download(app, "Foreground video (MP4)")
    assert foreground.proto.type == "primary"  # 4: the button that stands out
    (tmp_path / "foreground.mp4").write_bytes(downloads(foreground))
    assert bgcore.probe(tmp_path / "foreground.mp4").frame_count == 150
    for label in ("Mask video (MP4)", "Background image (PNG)", "Masks, one PNG a frame (ZIP)"):
        assert len(downloads(download(app, label))) > 1000, label
    # Saved under the clip's name; small files in KB.
    assert downloads.file_name(foreground) == "Sample-clip_foreground.mp4"
    assert downloads.file_name(download(app, "Masks, one PNG")) == "Sample-clip_masks.zip"
    assert download(app, "Background image (PNG)").label.endswith(" KB")
    # The transparent video once asked for (its encoder takes the most memory), from the kept masks.
    assert not [b for b in app.get("download_button") if b.label.startswith("Transparent")]
    settle(click(app, "Make the transparent video"))
    assert len(downloads(download(app, "Transparent video (WebM)"))) > 1000
    # The one for editors, under it, downloaded (a browser does not play ProRes: no player).
    videos = len(app.get("video"))
    settle(click(app, "Make the transparent video for editors"))
    (tmp_path / "editor.mov").write_bytes(downloads(download(app, "Transparent video for editors (MOV)")))
    assert bgcore.probe(tmp_path / "editor.mov").frame_count == 150 and len(app.get("video")) == videos


def test_the_videos_do_not_open_in_their_last_second(monkeypatch):
    """Where the most foreground is in the last frame (bmc-video003), a player opened there looked played."""
    app = open_app()
    click(app, "Use the sample clip")
    click(app, "Remove background")
    monkeypatch.setattr(state, "busiest", lambda fit, options: len(fit.fitted.indices) - 1)
    visit(app, "app_pages/export.py")
    assert {video.proto.start_time for video in app.get("video")} == {int(149 / 15 - 1)}  # 8 s of 9.9, not 9


def test_an_uploaded_video_shows_its_facts_preparation_and_cost(clip_path):
    app = upload(open_app(), "my holiday.MP4", clip_path.read_bytes())
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics == {"Size": "320×240", "Frame rate": "15 fps", "Frames": "150", "Duration": "10.0 s"}
    assert [s.label for s in app.slider] == ["Trim (seconds)"]
    assert {s.label for s in app.selectbox} == {"Frame rate", "Working scale"}
    assert any("150 frames to process" in caption.value for caption in app.caption)
    # The estimate with what the pages add to the work itself.
    seconds = round(estimate(work(app).clip.info).seconds + PAGES_SECONDS)
    assert any(f"about {seconds} s in all" in caption.value for caption in app.caption)
    app.slider[0].set_value((2.0, 6.0)).run()
    app.selectbox(key="widget.prep." + work(app).clip.digest + ".fps").set_value(5).run()
    assert any("20 frames to process (4.0 s)" in caption.value for caption in app.caption)
    [video] = app.get("video")  # the preview plays the trimmed part
    assert (video.proto.start_time, video.proto.end_time) == (2, 6)
    # Streamlit plays whole seconds: a trim within one second plays that second (1-1 was refused).
    for trim, played in (((1.2, 1.8), (1, 2)), ((1.5, 1.5), (1, 2)), ((0.0, 0.0), (0, 1))):
        app.slider[0].set_value(trim).run()
        [video] = app.get("video")
        assert not app.exception and (video.proto.start_time, video.proto.end_time) == played, trim
    app.slider[0].set_value((2.0, 6.0)).run()
    click(app, "Next: choose a method")
    assert titles(app) == ["Choose a method"]
    click(app, "Remove background")
    assert len(current_fit(app).indices) == 20


def test_a_zip_of_images_is_a_clip(tmp_path):
    frames = bgcore.synthetic.make_clip(width=64, height=48, frames=12).frames
    archive = tmp_path / "frames.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for number, frame in enumerate(frames, start=1):
            bundle.writestr(f"shot/{number}.png", _png(frame))
    app = upload(open_app(), "frames.zip", archive.read_bytes(), "application/zip")
    metrics = {metric.label: metric for metric in app.metric}
    assert metrics["Frames"].value == "12" and metrics["Frame rate"].value == "25 fps"
    assert metrics["Frame rate"].proto.help.startswith("Still images have no frame rate")  # said, not assumed


@pytest.mark.parametrize("name, data, message", [
    ("notes.mp4", b"these are my notes, not a video", "not a video that can be decoded"),
    ("empty.mov", b"", "is empty"),
    ("frames.zip", b"PK not really a zip", "not a readable zip (not a zip file, or one cut short)"),
])
def test_a_file_that_is_not_a_video_gets_a_message_not_a_traceback(name, data, message):
    app = upload(open_app(), name, data)
    assert len(app.error) == 1 and plain(message) in app.error[0].value
    assert app.error[0].value.startswith(plain(name))  # which file, as the person named it
    assert "upload\\." not in app.error[0].value  # the person's name for the file, not our copy's
    assert work(app).clip is None


@pytest.mark.parametrize("case", list(CASES))
def test_every_odd_or_broken_file_works_or_gets_a_message(case, tmp_path):
    name, path, expected = make_case(case, tmp_path)
    app = upload(open_app(), name, path.read_bytes())
    if expected is None:
        assert not app.error
        frames = {metric.label: metric.value for metric in app.metric}["Frames"]
        assert frames == f"{bgcore.probe(path).frame_count:,}"
    else:
        assert len(app.error) == 1 and expected in app.error[0].value
        assert work(app).clip is None


def test_a_corrupt_video_gets_a_message(clip_path):
    data = clip_path.read_bytes()
    app = upload(open_app(), "cut.mp4", data[:2000])
    assert len(app.error) == 1 and "Try an MP4" in app.error[0].value


def test_a_clip_that_crashes_opencv_goes_through():
    app = upload(open_app(), "demo.avi", shared("hostile/demo.avi").read_bytes(), "video/x-msvideo")
    assert not app.error and {metric.label: metric.value for metric in app.metric}["Size"] == "48×48"
    click(app, "Next: choose a method")
    click(app, "Remove background")
    assert titles(app) == ["Results"]


def test_a_clip_over_the_frames_the_app_processes_starts_at_a_rate_that_fits(clip_path, monkeypatch):
    """A phone's minute at 60 fps is 3,600 frames, over the app's 3,000: it starts at the highest
    rate offered that fits, and says so; at its own rate it asks for a trim."""
    monkeypatch.setattr(state, "MAX_FRAMES", 100)  # the clip: 150 frames at 15 fps
    app = upload(open_app(), "clip.mp4", clip_path.read_bytes())
    assert not app.error and app.selectbox[0].value == 10 and "Next: choose a method" in [b.label for b in app.button]
    # "10 fps" keeps every 2nd frame: 7.5 fps; 25 and 20 fps, which kept every frame, are not offered.
    assert app.selectbox[0].options == ["Original (15 fps)", "7.5 fps", "5 fps"]
    assert "At its own 15 fps the clip has 150 frames, more than the 100 the app processes at once: it is " \
           "processed at 7.5 fps. To keep every frame, trim it to 6 s or less and choose “Original”." in [c.value for c in app.caption]
    app.selectbox[0].set_value("original").run()
    assert "trim the clip or lower its frame rate" in app.error[0].value
    assert "Next: choose a method" not in [b.label for b in app.button]
    app.slider[0].set_value((0.0, 3.0)).run()
    assert not app.error and "Next: choose a method" in [b.label for b in app.button]


def test_the_frame_rates_offered_are_those_the_preparation_gives():
    """Every n-th frame, n = round(clip's rate / rate): each offered rate changes n, and is named
    by what it gives; the trim that keeps every frame follows the frames' own times."""
    def offered(fps):
        return {rate: round(given, 2) for rate, given in state.frame_rates(bgcore.VideoInfo(64, 48, fps, 100)).items()}

    assert offered(60) == {30: 30, 20: 20, 15: 15, 10: 10, 5: 5}
    assert offered(50) == {30: 25, 15: 16.67, 10: 10, 5: 5}
    assert offered(29.97) == {15: 14.98, 10: 9.99, 5: 5}
    assert state.first_fps(bgcore.VideoInfo(64, 48, 60, 3600)) == 30 and state.first_fps(bgcore.VideoInfo(64, 48, 60, 3000)) is None
    # 40 s at 60 fps, then 40 s at 30 fps (its average, 45 fps, would allow 66 s: 3,180 frames from the start).
    times = np.concatenate([np.arange(2400) / 60, 40 + np.arange(1200) / 30])
    clip = SimpleNamespace(info=bgcore.VideoInfo(64, 48, 45, 3600), video=SimpleNamespace(seconds=lambda: times))
    assert state.longest_trim(clip) == pytest.approx(60.0)
    assert len(bgcore.selection(clip.info, end=60.0, times=times)) <= state.MAX_FRAMES


def test_a_clip_no_rate_brings_within_the_frames_asks_for_a_trim(clip_path, monkeypatch):
    monkeypatch.setattr(state, "MAX_FRAMES", 20)  # at 5 fps, the least offered, every 3rd frame: 50
    app = upload(open_app(), "clip.mp4", clip_path.read_bytes())
    assert app.selectbox[0].value == "original" and "trim the clip or lower its frame rate" in app.error[0].value


def sample_fitted_with_median() -> AppTest:
    app = open_app()
    click(app, "Use the sample clip")
    app.radio[0].set_value("median").run()
    return click(app, "Remove background")


@pytest.fixture
def ffmpeg_runs(monkeypatch):
    """The command lines of the ffmpeg processes started from now on (decoders, encoders, probes)."""
    started = []
    popen = subprocess.Popen

    def spy(args, **kwargs):
        started.append([str(arg) for arg in args])
        return popen(args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", spy)
    return started


def test_moving_the_mask_sliders_neither_decodes_nor_fits_again(monkeypatch, ffmpeg_runs):
    app = sample_fitted_with_median()
    fits = []
    fit_clip = bgcore.fit_clip
    monkeypatch.setattr(bgcore, "fit_clip", lambda *args, **kwargs: fits.append(args) or fit_clip(*args, **kwargs))
    ffmpeg_runs.clear()
    mask = _image(app, "Mask")
    app.toggle(key="widget.mask.auto").set_value(False).run()
    app.slider(key="widget.mask.threshold").set_value(5).run()
    app.select_slider(key="widget.mask.cleanup").set_value("Off").run()
    assert (_image(app, "Mask") != mask) and not fits and not ffmpeg_runs
    app.switch_page("app_pages/method.py").run()
    assert app.slider(key="widget.mask.threshold").value == 5  # kept while away
    click(app, "Remove background")
    assert not fits and titles(app) == ["Results"]


def test_the_threshold_slider_says_the_automatic_threshold_as_the_captions_do():
    app = open_app()
    click(app, "Use the sample clip")
    click(app, "Remove background")
    auto = current_fit(app).model.auto_threshold_
    assert round(auto, 1) != round(auto)  # the sample's (12.5) has a tenth that a whole number loses
    slider = app.slider(key="widget.mask.threshold")
    assert slider.disabled and slider.value == round(auto, 1)
    assert f"(automatic: {auto:.1f})" in " ".join(caption.value for caption in app.caption)
    visit(app, "app_pages/method.py")  # known there too, for the method fitted; not for another
    assert app.slider(key="widget.mask.threshold").value == round(auto, 1)
    app.radio[0].set_value("median").run()
    assert "Threshold" not in [s.label for s in app.slider]
    assert any(c.value.startswith("The automatic threshold is set from the clip") for c in app.caption)
    app.radio[0].set_value(bgcore.DEFAULT_METHOD).run()
    app.toggle(key="widget.mask.auto").set_value(False).run()  # the slider starts from it
    assert not app.slider(key="widget.mask.threshold").disabled
    assert app.slider(key="widget.mask.threshold").value == round(auto, 1)


def test_an_upload_is_probed_once_on_its_way_to_the_results(clip_path, ffmpeg_runs):
    """The probe decodes the whole clip to count its frames (42 s under load for a long one): the
    upload's check, its preview and the fit share one; the preview is written by that decode.
    Before it, one more ffmpeg reads the header and counts packets (each start costs ~20 ms)."""
    app = upload(open_app(), "clip.mp4", clip_path.read_bytes())
    previews = [command for command in ffmpeg_runs if any(arg.endswith("preview.mp4") for arg in command)]
    assert len(previews) == 1 and "-stats_enc_pre" in previews[0]
    assert len(ffmpeg_runs) == 2 and "copy" in ffmpeg_runs[0]
    click(app, "Next: choose a method")
    click(app, "Remove background")
    assert titles(app) == ["Results"]
    probes = [command for command in ffmpeg_runs
              if "-stats_enc_pre" in command and command[command.index("-i") + 1].endswith("upload.mp4")]
    assert len(probes) == 1


def test_every_method_is_offered_with_its_summary():
    app = open_app()
    click(app, "Use the sample clip")
    radio = app.radio[0]
    assert radio.options == [method_label(name) for name in bgcore.METHODS]
    assert radio.value == bgcore.DEFAULT_METHOD and radio.options[0] == "Recommended: any still camera"
    assert list(radio.proto.captions) == [cls.summary for cls in bgcore.METHODS.values()]
    assert any(s.value.startswith("Recommended: the most accurate") for s in app.success)
    # Plain words first; the technical names and settings wait under "Advanced".
    jargon = ("SVD", "RPCA", "MOG2", "KNN", "rank", "sparse", "matrix", "max_iter", "learning_rate")
    for text in [*radio.options[:6], *radio.proto.captions]:
        assert not any(word in text for word in jargon), text
    # Before any fit the automatic threshold has no value yet: no slider showing a made-up one.
    assert "Threshold" not in [s.label for s in app.slider]
    radio.set_value("svd").run()
    [advanced] = app.expander
    assert advanced.label == "Advanced" and "Low-rank SVD" in advanced.caption[0].value
    assert [s.label for s in advanced.slider] == ["Rank"]


class FakeClusters(BackgroundModel):
    """A stand-in for methods added later: a choice with "auto", a frame, an image."""

    name = "fakeclusters"
    summary = "A test method."
    params = (Param("k", "Clusters", "How many.", choices=("auto", 2, 3, 4)),
              Param("frame", "Reference frame", "Which frame.", kind="frame"),
              Param("image", "Clean background", "A photo of the empty scene.", kind="image"))

    def __init__(self, *, k="auto", frame="auto", image=None):
        self.k, self.frame, self.image = k, frame, image

    def _fit(self, frames, progress):
        self.background_ = np.median(frames, axis=0)
        self.k_ = 2 if self.k == "auto" else self.k
        self.cluster_sizes_ = np.array([70, 30])


def test_a_new_method_gets_widgets_from_its_params_and_its_details_shown(monkeypatch, tmp_path):
    monkeypatch.setitem(bgcore.METHODS, "fakeclusters", FakeClusters)
    app = open_app()
    click(app, "Use the sample clip")
    app.radio[0].set_value("fakeclusters").run()
    assert app.selectbox(key="widget.param.fakeclusters.k").options == ["Auto", "2", "3", "4"]
    app.selectbox(key="widget.param.fakeclusters.k").set_value(3).run()
    app.toggle(key="widget.param.fakeclusters.frame.own").set_value(True).run()
    app.slider(key="widget.param.fakeclusters.frame").set_value(20).run()
    assert "Frame 20" in captions(app)
    app.file_uploader(key=photo_key(app, "fakeclusters", "image")).set_value(
        ("empty.png", _png(np.zeros((8, 8, 3))), "image/png")).run()
    click(app, "Remove background")
    params = current_fit(app).params
    assert params["k"] == 3 and params["frame"] == 19 and params["image"].endswith(".png")
    assert "empty" not in params["image"]  # stored under a name of our own
    assert {metric.label: metric.value for metric in app.metric} == {"K": "3"}
    assert "The SVD, component by component" not in [m.value for m in app.markdown]


def test_the_results_open_on_a_frame_where_something_was_found(tmp_path):
    """A car passes in the last quarter only: the middle frame's mask would be empty."""
    rng = np.random.default_rng(0)
    scene = cv2.GaussianBlur(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8), (9, 9), 0)
    path = tmp_path / "late.mp4"
    with bgcore.VideoWriter(path, 160, 120, 15.0, crf=12) as writer:
        for index in range(60):
            frame = scene.copy()
            if index >= 45:
                x = 8 * (index - 45)
                frame[40:80, x:x + 40] = (230, 40, 40)
            writer.write(frame)
    app = upload(open_app(), "late.mp4", path.read_bytes())
    click(app, "Next: choose a method")
    click(app, "Remove background")
    number = app.slider(key=f"widget.frame.{work(app).fit_key}").value
    assert 45 < number <= 60  # not 31, the middle
    fitted = current_fit(app)
    shown = fitted.video.frame(fitted.indices[number - 1])
    assert fitted.mask(shown, bgcore.MaskOptions()).mean() > 0.02
    # Compare opens there too
    app.switch_page(PAGES["compare"]).run()
    app.multiselect[0].set_value(["mode", "median"]).run()
    click(app, "Compare")
    assert 45 < app.slider(key="widget.compare.frame").value <= 60


def test_the_svd_results_show_its_spectrum_components_and_histogram():
    app = open_app()
    click(app, "Use the sample clip")
    app.radio[0].set_value("svd").run()
    click(app, "Remove background")
    headings = [m.value for m in app.markdown]
    assert "##### The SVD, component by component" in headings
    assert "##### Why pixels became foreground" in headings
    assert {"The background plate", "Original", "Background", "Mask", "Foreground", "U1", "U4"} <= set(captions(app))
    assert len(app.get("vega_lite_chart")) == 4  # histogram, singular values, energy, V rows
    assert any(c.value.startswith("The first component forms the background and holds") for c in app.caption)  # rank 1
    # What to do when the plate shows the subject: with a photo, the plate is that photo.
    hint = "Someone in the plate? They were in view for most of the clip."
    assert any(c.value.startswith(hint) for c in app.caption)
    visit(app, PAGES["method"])
    app.radio[0].set_value("reference").run()
    click(app, "Remove background")
    assert "The background plate" in captions(app) and not any(c.value.startswith(hint) for c in app.caption)


def exported(app: AppTest, file: str) -> Path:
    """The file the latest export made (foreground.mp4...)."""
    [path] = [path for path in work(app).export.values() if path.name == file]
    return path


def busiest_preview(app: AppTest) -> str:
    """The composite preview's caption: the frame with the most foreground before the clean-up
    of those the histogram looks at."""
    fitted = current_fit(app)
    positions = state.looked_at(len(fitted.indices))
    threshold = fitted.threshold(bgcore.MaskOptions())
    shares = [(fitted.difference(fitted.video.frame(fitted.indices[i])) > threshold).mean() for i in positions]
    return f"Preview: frame {positions[int(np.argmax(shares))] + 1} of {len(fitted.indices)}"


def test_composite_over_an_uploaded_background_after_a_preview(downloads, tmp_path, monkeypatch):
    app = sample_fitted_with_median()
    visit(app, "app_pages/export.py")
    app.radio(key="widget.export.backdrop").set_value("file").run()
    beach = np.zeros((90, 160, 3), np.uint8)
    beach[:, :, 0] = 255  # blue, in OpenCV's BGR
    blends, blend = [], state.preview
    monkeypatch.setattr(state, "preview", lambda *args, **kwargs: blends.append(args) or blend(*args, **kwargs))
    settle(app.file_uploader(key="replacement").set_value(("beach.png", _png(beach), "image/png")).run())
    assert not app.exception and busiest_preview(app) in captions(app)
    assert not [b for b in app.get("download_button") if b.label.startswith("Composite")]  # not before asked
    [stored] = (work(app).folder / "extra").iterdir()
    written = stored.stat().st_mtime_ns
    app.run()  # any widget: the upload is neither stored nor blended again
    click(app, "Make the video on this background")
    assert len(blends) == 1 and stored.stat().st_mtime_ns == written
    saved = tmp_path / "composite.mp4"
    saved.write_bytes(downloads(download(app, "Composite video (MP4)")))
    assert bgcore.probe(saved).frame_count == 150
    # Where the sample's background was, the composite shows the uploaded picture.
    frame = next(bgcore.read_frames(saved))
    mask = next(bgcore.read_frames(exported(app, "mask.mp4")))[..., 0] < 128
    assert frame[mask][:, 2].mean() > 200 and frame[mask][:, 0].mean() < 60
    # Another kind of background and back, or a reload (the uploader then empty): the picture is kept.
    app.radio(key="widget.export.backdrop").set_value("colour").run()
    app.radio(key="widget.export.backdrop").set_value("file").run()
    assert download(app, "Composite video (MP4)") and any(c.value.startswith("In use: beach") for c in app.caption)
    stored.unlink()  # the server's files cleared meanwhile: said, not a composite of nothing
    app.run()
    assert [w.value for w in app.warning] == [r"beach\.png is no longer on the server: upload it again."]


def test_a_new_background_colour_re_renders_the_composite_alone(tmp_path):
    app = sample_fitted_with_median()
    visit(app, "app_pages/export.py")
    app.radio(key="widget.export.backdrop").set_value("colour").run()
    click(app, "Make the video on this background")
    kept = {name: (exported(app, name), exported(app, name).stat().st_mtime_ns)
            for name in ("foreground.mp4", "mask.mp4", "masks.zip")}
    first = exported(app, "composite.mp4")
    green = next(bgcore.read_frames(first))[0, 0]
    app.color_picker(key="widget.export.colour").set_value("#FF0000").run()
    assert not [b for b in app.get("download_button") if b.label.startswith("Composite")]  # the preview first
    click(app, "Make the video on this background")
    red = next(bgcore.read_frames(exported(app, "composite.mp4")))[0, 0]
    assert np.abs(green.astype(int) - (0, 177, 64)).max() < 12 and np.abs(red.astype(int) - (255, 0, 0)).max() < 12
    assert {name: (exported(app, name), exported(app, name).stat().st_mtime_ns) for name in kept} == kept
    app.radio(key="widget.export.backdrop").set_value("blur").run()
    assert busiest_preview(app) in captions(app)


def test_a_clip_too_large_for_the_servers_memory_is_exported_smaller_unless_chosen(tmp_path, monkeypatch):
    monkeypatch.setattr(state, "memory_limit", lambda: 600 * 2**20)  # under Community Cloud's smallest app
    app = upload(open_app(), "hd.mp4", make_testsrc(tmp_path / "hd.mp4", size="1280x720", seconds=1).read_bytes())
    click(app, "Next: choose a method")
    app.radio[0].set_value("median").run()
    click(app, "Remove background")
    settle(visit(app, "app_pages/export.py"))
    size = app.selectbox(key=f"widget.export.width.{work(app).clip.digest}")
    assert size.options == ["1280×720 (the clip's)", "854×480", "640×360"] and size.value == 854
    assert not app.warning and "854×480" in app.caption[0].value
    assert bgcore.probe(exported(app, "foreground.mp4")).size == (854, 480)
    size.set_value(1280).run()  # the clip's size: said to need more than the server has, made once confirmed
    job = work(app).job  # none running: the export before it ended (and, shown ended, was let go)
    assert "more than this server has (600 MB)" in app.warning[0].value and (job is None or not job.running)
    settle(click(app, "Export at this size anyway"))
    assert bgcore.probe(exported(app, "mask.mp4")).size == (1280, 720)


def test_a_file_too_large_for_the_servers_memory_is_not_handed_over(monkeypatch):
    app = sample_fitted_with_median()
    settle(visit(app, "app_pages/export.py"))
    mask, foreground = (exported(app, name).stat().st_size for name in ("mask.mp4", "foreground.mp4"))
    assert mask < foreground
    # A server a quarter of whose memory is more than the mask video but less than the foreground.
    monkeypatch.setattr(state, "memory_limit", lambda: 2 * (mask + foreground))
    app.run()
    labels = [button.label for button in app.get("download_button")]
    assert not [label for label in labels if label.startswith("Foreground video")]
    assert [label for label in labels if label.startswith("Mask video")]
    assert any(w.value.startswith("Foreground video (MP4)") and "too large to hand over" in w.value for w in app.warning)


def test_the_foreground_can_show_white_or_green_behind_the_subject():
    app = sample_fitted_with_median()
    visit(app, "app_pages/export.py")
    app.selectbox(key="widget.export.foreground.behind").set_value("green").run()
    # While it is made again, its choice stays on the page, to change one's mind (it went for 10 s at 1080p).
    assert app.selectbox(key="widget.export.foreground.behind").value == "green"
    assert any(c.value.startswith("Being made with the option below") for c in app.caption)
    settle(app)
    assert not app.exception
    frame = next(bgcore.read_frames(exported(app, "foreground.mp4")))
    mask = next(bgcore.read_frames(exported(app, "mask.mp4")))[..., 0] < 128
    assert np.abs(np.median(frame[mask], axis=0) - (0, 177, 64)).max() < 8


@pytest.mark.parametrize("page", ["app_pages/method.py", "app_pages/results.py", "app_pages/export.py"])
def test_later_pages_point_back_when_there_is_nothing_yet(page):
    app = open_app().switch_page(page).run()
    assert not app.exception and len(app.info) == 1


def _png(image) -> bytes:
    import cv2
    return cv2.imencode(".png", np.asarray(image, np.uint8))[1].tobytes()


def _image(app, caption):
    """The media URL of the image with ``caption``: it changes when the picture does."""
    return next(image.proto.imgs[0].url for image in app.get("image") if caption in image.captions)


def test_a_second_upload_shows_its_own_frames_not_the_first_ones(tmp_path):
    first = make_testsrc(tmp_path / "first.mp4", size="160x120")
    second = make_testsrc(tmp_path / "second.mp4", size="320x240", source="testsrc2")
    app = upload(open_app(), "clip.mp4", first.read_bytes())
    click(app, "Next: choose a method")
    app.radio[0].set_value("median").run()
    click(app, "Remove background")
    app.switch_page("app_pages/upload.py").run()
    upload(app, "clip.mp4", second.read_bytes())  # the same name, as when a user uploads a new cut
    app.switch_page("app_pages/method.py").run()  # AppTest runs the page it last switched to
    click(app, "Remove background")  # the frame views of a 320x240 clip (a traceback if 160x120 came)
    assert titles(app) == ["Results"]
    assert state.frame(work(app).clip, 0).shape == (240, 320, 3)


def test_the_same_file_under_another_name_keeps_its_results_and_takes_the_name(tmp_path):
    data = make_testsrc(tmp_path / "clip.mp4").read_bytes()
    app = upload(open_app(), "PHONE.MOV", data)
    click(app, "Next: choose a method")
    click(app, "Remove background")
    fit = current_fit(app)
    app.switch_page("app_pages/upload.py").run()
    upload(app, "road trip.mp4", data)
    assert work(app).clip.name == "road trip.mp4" and current_fit(app) == fit
    assert app.subheader[0].value == "road trip\\.mp4"


def test_export_says_how_a_clip_of_varying_rate_is_shown(tmp_path):
    """Frames 10 to 20 missing, the others at their times: the videos repeat frames to keep time,
    the masks do not, and the page says why their counts differ."""
    gap = ("-vf", "select=not(between(n\\,10\\,20))", "-fps_mode", "passthrough", *H264)
    app = upload(open_app(), "phone.mp4", make_testsrc(tmp_path / "vfr.mp4", seconds=3, extra=gap).read_bytes())
    click(app, "Next: choose a method")
    click(app, "Remove background")
    visit(app, "app_pages/export.py")
    [caption] = [c.value for c in app.caption if "varying rate" in c.value]
    assert "45 frames at 15 fps" in caption and "one PNG for each of the 34" in caption


def test_a_bad_upload_named_with_a_backslash_gets_its_message(tmp_path):
    app = upload(open_app(), "take\\1 \\v.mp4", b"not a video at all")
    assert len(app.error) == 1 and app.error[0].value.startswith("take\\\\1 \\\\v\\.mp4\\: not a video")


def test_a_gif_is_a_clip_and_a_picture_is_told_why_it_is_not(tmp_path):
    """Streamlit's uploader refuses a file of another type in the browser, and says why only to a
    mouse over it: a picture reaches the page, which says why it is not a clip."""
    gif, png = make_testsrc(tmp_path / "walk.gif", seconds=2, extra=()), tmp_path / "frame.png"
    cv2.imwrite(str(png), np.zeros((48, 64, 3), np.uint8))
    app = upload(open_app(), "frame.png", png.read_bytes(), "image/png")
    assert len(app.error) == 1 and app.error[0].value.startswith("frame\\.png\\: the clip has only 1 frame")
    assert "still image" in app.error[0].value and work(app).clip is None
    upload(app, "walk.gif", gif.read_bytes(), "image/gif")
    assert not app.error and work(app).clip.name == "walk.gif" and work(app).clip.info.frame_count == 30


def test_a_bad_upload_after_a_good_one_keeps_the_good_clip(clip_path):
    app = upload(open_app(), "good.mp4", clip_path.read_bytes())
    good = work(app).clip
    upload(app, "bad.mp4", b"not a video at all")
    assert len(app.error) == 1 and "not a video that can be decoded" in app.error[0].value
    assert app.error[0].value.startswith("bad\\.mp4\\: ") and "The clip in use is still good\\.mp4" in app.error[0].value
    assert work(app).clip == good and Path(good.preview).is_file() and Path(good.source).is_file()
    click(app, "Next: choose a method")
    click(app, "Remove background")
    assert titles(app) == ["Results"]


def test_results_say_when_hardly_anything_was_found(tmp_path):
    app = upload(open_app(), "still.mp4", make_testsrc(tmp_path / "still.mp4", source="color").read_bytes())
    click(app, "Next: choose a method")
    click(app, "Remove background")
    assert titles(app) == ["Results"] and [i.value for i in app.info if i.value.startswith("Hardly anything differs")]
    app = upload(open_app(), "moving.mp4", make_testsrc(tmp_path / "moving.mp4").read_bytes())
    click(app, "Next: choose a method")
    click(app, "Remove background")
    assert titles(app) == ["Results"] and not [i for i in app.info if i.value.startswith("Hardly anything")]


def test_a_page_left_while_a_clip_opens_keeps_a_clip_whose_files_are_there(tmp_path, monkeypatch):
    """A browser that leaves (a reload, another page) ends its run at the next Streamlit call, which
    removes the folder of the clip being opened: the session kept that clip as its own, and every
    page failed on its missing file until another upload."""
    app = open_app()
    click(app, "Use the sample clip")
    sample = work(app).clip
    calls = []

    def leave(self, key, *default):  # the browser left: Streamlit's next call ends the run
        calls.append(key)
        raise StopException()

    with monkeypatch.context() as patched:
        patched.setattr(SessionStateProxy, "pop", leave)
        app.switch_page("app_pages/upload.py").run()
        upload(app, "mine.mp4", make_testsrc(tmp_path / "clip.mp4").read_bytes())
    assert calls and work(app).clip == sample and Path(sample.source).is_file() and Path(sample.preview).is_file()
    app.run()  # the person back on the page: the upload is read again
    mine = work(app).clip
    assert not app.exception and mine.name == "mine.mp4" and Path(mine.source).is_file()
    # And a session whose clip's files went anyway (a cleaned temporary folder) starts afresh.
    shutil.rmtree(Path(mine.source).parent)
    app.run()
    assert not app.exception and "Next: choose a method" not in [b.label for b in app.button]  # no clip to go on with
    click(app, "Use the sample clip")
    assert titles(app) == ["Choose a method"] and Path(work(app).clip.source).is_file()


def test_the_sample_asks_before_it_replaces_an_uploaded_clip_and_its_results(tmp_path):
    app = upload(open_app(), "mine.mp4", make_testsrc(tmp_path / "clip.mp4").read_bytes())
    click(app, "Next: choose a method")
    click(app, "Remove background")
    mine = work(app).clip
    visit(app, PAGES["clip"])
    click(app, "Use the sample clip")
    assert "replaces mine\\.mp4, its results" in app.warning[0].value
    click(app, "Keep mine\\.mp4")
    assert work(app).clip == mine and current_fit(app) is not None and not app.warning
    click(app, "Use the sample clip")
    upload(app, "other.mp4", make_testsrc(tmp_path / "other.mp4", size="320x240").read_bytes())
    assert not app.warning  # the question was about mine.mp4, answered by another upload
    click(app, "Use the sample clip")
    click(app, "Use the sample")
    assert state.is_sample(work(app).clip) and titles(app) == ["Choose a method"]


def test_a_new_clip_starts_on_the_automatic_threshold_and_the_usual_clean_up(tmp_path):
    app = sample_fitted_with_median()
    app.toggle(key="widget.mask.auto").set_value(False).run()
    app.slider(key="widget.mask.threshold").set_value(60).run()
    app.select_slider(key="widget.mask.cleanup").set_value("Strong").run()
    visit(app, PAGES["clip"])
    upload(app, "clip.mp4", make_testsrc(tmp_path / "clip.mp4").read_bytes())
    visit(app, PAGES["method"])
    assert app.toggle(key="widget.mask.auto").value and app.select_slider(key="widget.mask.cleanup").value == "Medium"
    assert not {"mask.auto", "mask.threshold", "mask.cleanup"} & set(work(app).prefs)


def test_the_sample_is_made_again_when_it_went_missing():
    Path(state._sample_path()).unlink()
    app = click(open_app(), "Use the sample clip")
    assert titles(app) == ["Choose a method"] or work(app).clip.name == "Sample clip"
    assert Path(work(app).clip.source).is_file()


def test_markdown_in_an_upload_name_is_shown_as_text(clip_path):
    name = "**bold** :red[red] [link](x.html).mp4"
    app = upload(open_app(), name, clip_path.read_bytes())
    [title] = app.subheader
    assert title.value == r"\*\*bold\*\* \:red\[red\] \[link\]\(x\.html\)\.mp4"


def test_a_bad_new_background_gets_a_message_and_the_export_comes_back_without_it():
    app = sample_fitted_with_median()
    visit(app, "app_pages/export.py")
    assert not app.exception and download(app, "Foreground video (MP4)")
    huge = png_header(20000, 20000)  # 2 KB that would decode to 1.2 GB
    app.radio(key="widget.export.backdrop").set_value("file").run()
    settle(app.file_uploader(key="replacement").set_value(("huge.png", huge, "image/png")).run())
    assert not app.exception and len(app.error) == 1 and "megapixels" in app.error[0].value
    assert app.error[0].value.startswith(r"huge\.png: ") and "/" not in app.error[0].value  # the user's name
    settle(app.file_uploader(key="replacement").set_value(None).run())
    assert not app.exception and not app.error and download(app, "Foreground video (MP4)")


def photo_key(app: AppTest, method: str, param: str) -> str:
    """The key of a method's picture uploader: the clip's own (a photo of its scene)."""
    return f"param.{method}.{param}.{work(app).clip.digest}"


def test_a_huge_background_photo_for_the_reference_method_gets_a_message():
    app = click(open_app(), "Use the sample clip")
    app.radio[0].set_value("reference").run()
    huge = png_header(20000, 20000)
    uploader = photo_key(app, "reference", "reference_image")
    app.file_uploader(key=uploader).set_value(("empty.png", huge, "image/png")).run()
    # At once, under it, named as the person named it; the reference frame stays in use.
    assert len(app.error) == 1 and app.error[0].value.startswith(r"empty\.png: an image of") and "megapixels" in app.error[0].value
    assert not any(c.value.startswith("In use:") for c in app.caption)
    good = cv2.imencode(".png", np.zeros((120, 160, 3), np.uint8))[1].tobytes()
    app.file_uploader(key=uploader).set_value(("empty.png", good, "image/png")).run()
    # Beside the reference frame's own settings, it says which of the two is used.
    assert not app.error and any(c.value == "In use: a photo of the empty scene, taken from where the camera "
                                 "stood (any size: it is lined up with the clip); replaces the reference frame."
                                 for c in app.caption)


def test_the_photo_of_the_empty_scene_stays_when_the_person_comes_back_to_the_method():
    """Streamlit forgets an uploader's file when a run does not draw it: the next fit took a frame
    of the clip instead of the photo, without a word."""
    app = click(open_app(), "Use the sample clip")
    app.radio[0].set_value("reference").run()
    uploader = photo_key(app, "reference", "reference_image")
    wrong = _png(np.random.default_rng(0).integers(0, 256, (300, 500, 3)))  # another place
    app.file_uploader(key=uploader).set_value(("beach.png", wrong, "image/png")).run()
    click(app, "Remove background")  # on to the Results page, which says why it failed
    assert any("does not match the clip's view" in e.value for e in app.error)
    assert "Back to the method" in [link.label for link in app.get("page_link")]
    visit(app, "app_pages/method.py")
    assert any("does not match" in e.value for e in app.error)  # the run of this photo failed...
    empty = next(bgcore.read_frames(work(app).clip.source))[..., ::-1]
    app.file_uploader(key=uploader).set_value(("empty.png", _png(empty), "image/png")).run()
    assert not app.error  # ...not that of this one
    visit(app, "app_pages/export.py")
    visit(app, "app_pages/method.py")
    app.radio[0].set_value("median").run()
    app.radio[0].set_value("reference").run()
    assert app.file_uploader(key=uploader).value is None  # Streamlit's uploader is empty again, but:
    assert any(c.value.startswith(r"In use: empty\.png, a photo of the empty scene") for c in app.caption)
    click(app, "Remove background")
    assert not app.error and current_fit(app).params["reference_image"].endswith(".png")
    # The wrong photo again: the results shown under its error are said to be the last ones that worked.
    visit(app, "app_pages/method.py")
    app.file_uploader(key=uploader).set_value(("beach.png", wrong, "image/png")).run()
    click(app, "Remove background")
    visit(app, "app_pages/results.py")  # (where the button leads: AppTest stays on a page it was sent to)
    assert any("does not match" in e.value for e in app.error) and titles(app) == ["Results"]
    assert "Below: the results of the last run that worked." in [c.value for c in app.caption]
    # Back on the Method page the uploader is empty, with no ✕ to remove the photo: a button does.
    visit(app, "app_pages/method.py")
    click(app, "Stop using it")
    assert not any(c.value.startswith("In use:") for c in app.caption) and not app.error


def test_a_failed_job_names_its_files_without_the_server_folders(tmp_path):
    """A job's error is shown to the person: the session's folders on the server say nothing to
    them and name the session (its id is what keeps it private)."""
    missing, unwritable = tmp_path / "session" / "clips" / "sample.mp4", tmp_path / "exports" / "mask.mp4"

    def read(job):
        bgcore.open_video(missing)

    def write(job):
        raise OSError(f"{unwritable}: the video could not be written (is the disk full?).")

    errors = []
    for work in (read, write):
        job = jobs.Job("run", work).start()
        job.wait(60)
        errors.append(job.error)
    assert errors[0] == "sample.mp4: no such file."
    assert errors[1].startswith("Something went wrong (OSError: mask.mp4: the video could not be written")
    assert not any(str(tmp_path) in error for error in errors)


def test_one_run_at_a_time_on_the_server_in_the_order_asked_and_the_others_are_told_how_long():
    """A fit holds its sample (up to 256 MB), an export its encoders: other sessions wait for their
    turn, first come first served, and are told how many runs go first and for about how long."""
    first_may_end = threading.Event()
    order, runs = [], [jobs.Job(f"run {n}", lambda job: None) for n in range(3)]
    inside = [threading.Event() for _ in runs]

    def session(number, seconds):
        with state._turn(runs[number], seconds):
            order.append(number)
            inside[number].set()
            if number == 0:
                first_may_end.wait(10)

    threads = [threading.Thread(target=session, args=(number, seconds)) for number, seconds in enumerate((60, 20, 5))]
    try:
        threads[0].start()
        assert inside[0].wait(10) and state.wait_ahead(runs[0]) is None  # its turn: not waiting
        for thread in threads[1:]:
            thread.start()
            time.sleep(0.3)  # the third asks after the second
        assert not inside[1].wait(1.0) and not inside[2].is_set() and runs[2].stage == "queue"  # the page says why
        runs_ahead, seconds = state.wait_ahead(runs[2])
        assert runs_ahead == 2 and 75 < seconds <= 80  # the first's 60 s, 2 of them gone, and the second's 20
        said = queue_text(state.wait_ahead(runs[1]))
        assert re.fullmatch(r"Waiting: another run on this server goes first, about 5\d s", said), said
        assert queue_text((2, 0.4)) == "Waiting: 2 runs on this server go first, any moment now"
    finally:
        first_may_end.set()
        for thread in threads:
            thread.join(10)
    assert order == [0, 1, 2]  # the turns went in the order asked
    assert not state._LINE


def test_the_results_page_says_a_run_waits_for_its_turn():
    app = open_app()
    click(app, "Use the sample clip")
    may_end, holding = threading.Event(), threading.Event()

    def hold():  # another session's run
        with state._turn(jobs.Job("other", lambda job: None), 30):
            holding.set()
            may_end.wait(30)

    holder = threading.Thread(target=hold)
    try:
        holder.start()
        assert holding.wait(10)
        [button] = [b for b in app.button if b.label == "Remove background"]
        button.click().run()
        while work(app).job.stage != "queue":
            time.sleep(0.05)
        app.switch_page("app_pages/results.py").run()
        [info] = app.info
        assert info.value.startswith("Waiting for the runs before this one on the server")
    finally:
        may_end.set()
        holder.join(10)
    settle(app)
    assert titles(app) == ["Results"] and not app.info and current_fit(app) is not None


def test_a_run_stopped_while_it_waits_leaves_the_line():
    running, may_end = threading.Event(), threading.Event()
    first, second, stopped = jobs.Job("first", lambda job: None), jobs.Job("second", lambda job: None), []

    def hold():
        with state._turn(first, 10):
            running.set()
            may_end.wait(10)

    def wait():
        try:
            with state._turn(second, 10):
                pass
        except jobs.Stopped:
            stopped.append(True)

    holder, waiter = threading.Thread(target=hold), threading.Thread(target=wait)
    try:
        holder.start()
        assert running.wait(10)
        waiter.start()
        while second.stage != "queue":
            time.sleep(0.05)
        second._stop.set()  # Stop pressed while it waits
        waiter.join(5)
        assert stopped and state.wait_ahead(second) is None and [place.job for place in state._LINE] == [first]
    finally:
        may_end.set()
        holder.join(10)
    assert not state._LINE
