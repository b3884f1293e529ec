"""Work that is never lost: a session's clip, fits, exports and settings found again from the id in
the page's URL (in memory, or from its folder after a restart); old sessions swept by age and disk
use; fits and exports that run as jobs and stop with their ffmpeg children."""

import os
import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import bgcore
from media import make_testsrc
from test_app import TIMEOUT, click, current_fit, download, open_app, titles, upload, visit, work
from test_hostile import ffmpeg_processes
from ui import sessions


@pytest.fixture
def computed(monkeypatch):
    """The fits, exports and probes done from now on."""
    done = {"fit": 0, "export": 0, "probe": 0}
    for name, module in (("fit_clip", "fit"), ("export", "export"), ("open_video", "probe")):
        real = getattr(bgcore, name)

        def spy(*args, real=real, module=module, **kwargs):
            done[module] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(bgcore, name, spy)
    return done


def reload(session: str) -> AppTest:
    """The page opened again at its URL: a new Streamlit session, the same id."""
    app = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    app.query_params["session"] = session
    app.run()
    assert not app.exception
    return app


def sample_exported() -> AppTest:
    app = open_app()
    click(app, "Use the sample clip")
    app.radio[0].set_value("median").run()
    app.toggle(key="widget.mask.auto").set_value(False).run()
    app.slider(key="widget.mask.threshold").set_value(25).run()
    click(app, "Remove background")
    visit(app, "app_pages/export.py")
    assert download(app, "Foreground video (MP4)")
    return app


def test_a_threshold_saved_as_a_whole_number_comes_back():
    """Sessions saved before the slider took tenths hold the threshold as an int."""
    app = open_app()
    click(app, "Use the sample clip")
    current = work(app)
    current.prefs.update({"mask.auto": False, "mask.threshold": 25})
    sessions.save(current)
    app = reload(app.session_state["session"])
    visit(app, "app_pages/method.py")
    assert app.slider(key="widget.mask.threshold").value == 25.0 and not app.exception


def test_the_live_page_keeps_its_choices_over_a_reload():
    """(Its empty scene too: see test_live_page, in a browser.)"""
    app = open_app()
    # Photo mode as if chosen on the radio (AppTest cannot run the stream the page opens on).
    app.session_state["live.mode"] = work(app).prefs["live.mode"] = "Photo"
    visit(app, "app_pages/live.py")
    app.radio(key="widget.photo.view").set_value("blur").run()
    app = reload(app.session_state["session"])
    visit(app, "app_pages/live.py")
    assert app.radio(key="widget.live.mode").value == "Photo"
    assert app.radio(key="widget.photo.view").value == "blur"


@pytest.mark.parametrize("restart", [False, True], ids=["reload", "restart"])
def test_a_reload_comes_back_to_the_clip_fit_export_and_settings_without_computing_again(restart, computed):
    first = sample_exported()
    session, fit = first.session_state["session"], current_fit(first)
    if restart:  # the server's memory is gone (a restart, or the sweep of an idle session): the folder stays
        sessions.forget(work(first))
    computed.update(fit=0, export=0, probe=0)
    app = reload(session)
    assert app.session_state["session"] == session and app.subheader[0].value == "Sample clip"
    visit(app, "app_pages/method.py")
    assert app.radio[0].value == "median" and app.slider(key="widget.mask.threshold").value == 25
    visit(app, "app_pages/results.py")
    assert titles(app) == ["Results"] and "The background plate" in [c for i in app.get("image") for c in i.captions]
    assert (current_fit(app).model.background_ == fit.model.background_).all()
    visit(app, "app_pages/export.py")
    assert download(app, "Foreground video (MP4)") and download(app, "Masks, one PNG a frame (ZIP)")
    assert computed == {"fit": 0, "export": 0, "probe": 0}


@pytest.mark.parametrize("session", ["../../etc", "x" * 32, "0" * 32, "", "a" * 31 + "/"])
def test_an_unknown_or_malformed_id_starts_a_fresh_session(session, sessions_folder):
    app = reload(session)
    assert app.session_state["session"] != session and work(app).clip is None
    assert titles(app) == ["Remove the background from a video"]
    names = [path.name for path in sessions_folder.iterdir()]
    assert all(re.fullmatch("[0-9a-f]{32}", name) for name in names) and "0" * 32 not in names


def test_the_sweep_frees_idle_memory_and_removes_old_or_excess_folders(monkeypatch, sessions_folder):
    now = time.time()
    old, idle, recent, busy = (sessions.new() for _ in range(4))
    for work_, age in ((old, sessions.SESSION_AGE + 60), (idle, sessions.MEMORY_IDLE + 60), (recent, 60),
                       (busy, sessions.SESSION_AGE + 60)):
        (work_.folder / "data").write_bytes(b"x" * 1000)
        work_.used = now - age
        os.utime(work_.folder, (now - age, now - age))

    class Running:
        running = True

    busy.job = Running()
    removed = sessions.sweep(now=now)
    assert removed == [old.folder] and not old.folder.exists()
    # Out of memory but on disk: a person coming back gets it again from the folder.
    assert idle.id not in sessions._works and sessions.get(idle.id).folder == idle.folder
    assert recent.id in sessions._works and busy.folder.is_dir()
    # Past the disk bound, the least recently used go first; recently used ones stay.
    monkeypatch.setattr(sessions, "DISK_BOUND", 1)
    busy.job = None
    removed = sessions.sweep(now=now)
    assert busy.folder in removed and idle.folder in removed and recent.folder.is_dir()


def _until(condition, seconds=120):
    """Wait for ``condition()`` to hold (a job reaching a stage), polling."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("stage", ["sample", "apply"])
def test_stop_ends_a_fit_or_an_export_and_its_ffmpeg_processes(stage, tmp_path, sessions_folder):
    clip = make_testsrc(tmp_path / "long.mp4", size="640x480", seconds=40)
    app = upload(open_app(), "long.mp4", clip.read_bytes())
    click(app, "Next: choose a method")
    app.radio[0].set_value("median").run()
    if stage == "apply":
        click(app, "Remove background")
        app.switch_page("app_pages/export.py").run()
    else:
        [button] = [b for b in app.button if b.label == "Remove background"]
        button.click().run()
    job = work(app).job
    video = work(app).clip.video
    video.frame(300)  # a page's seek: its decoder stays open on the clip, shared with the job
    _until(lambda: job.stage == stage and job.fraction > 0)
    folder = str(sessions_folder / work(app).id)
    assert ffmpeg_processes(folder)  # the decoder (and the encoders of an export) at work
    decoded = video.decoded
    job.stop()
    assert job.stopped and not job.running and not ffmpeg_processes(folder)
    # The job left the page's decoder open (closed, it would count 0): the next frame costs one decode.
    assert video.decoded == decoded > 0
    video.frame(301)
    assert video.decoded == decoded + 1
    if stage == "apply":
        assert work(app).export == {} and not list((Path(folder) / "exports").iterdir())
    else:
        assert work(app).fits == {} and current_fit(app) is None
