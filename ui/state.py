"""Session state and caching, in one place.

A session holds one clip (an upload or the sample) in its own folder, the background models fitted
on it (keyed on the clip's content digest and the fit parameters, so that moving a threshold slider
never decodes or fits again) and the folder of the latest export: its :class:`ui.sessions.Work`,
found again from the id in the page's URL after a reload. Fits and exports run as jobs
(:mod:`ui.jobs`), which go on while the person visits other pages.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import hashlib
import io
import os
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import streamlit as st

import bgcore
from bgcore import estimate, plots
from bgcore.composite import preview
from bgcore.files import unpack_images, zip_files
from bgcore.outputs import OUTPUTS
from bgcore.datasets import score_fitted, zip_truth
from bgcore.synthetic import sample_truth as synthetic_truth, write_sample
from ui import jobs, sessions

VIDEO_TYPES = ("mp4", "mov", "avi", "mkv", "webm", "m4v", "3gp", "mts", "m2ts", "ts", "mpg", "mpeg", "wmv", "flv",
               "ogv", "gif")
"""What an uploader takes as a video: what phones, cameras, camcorders (MTS), Windows (WMV), DVDs
(MPG) and the web (GIF) make, which ffmpeg decodes. Streamlit's uploader refuses any other file in
the browser, with a message only a mouse over the file shows (none on a phone)."""
IMAGE_TYPES = ("png", "jpg", "jpeg")
KNOWN_TYPES = VIDEO_TYPES + IMAGE_TYPES
MAX_FRAMES = 3000
"""Frames the app processes in one go (two minutes at 25 fps): longer selections need a trim or
a lower frame rate (``FRAME_RATES``; a clip over it starts at the highest that fits: :func:`first_fps`)."""
FRAME_RATES = (30, 25, 20, 15, 10, 5)
"""The frame rates the Clip page offers below the clip's own."""
PREVIEW_SECONDS = 120
HISTOGRAM_FRAMES = 8


@dataclass(frozen=True)
class Clip:
    """A video ready to work on: ``source`` (a file or a folder of images) in the session's folder,
    opened (probed) once as ``video``."""

    name: str
    source: str
    digest: str
    video: bgcore.Video
    preview: str

    @property
    def info(self) -> bgcore.VideoInfo:
        return self.video.info


@dataclass(frozen=True)
class Fit:
    """A fitted clip and the key it was fitted under."""

    key: str
    fitted: bgcore.FittedClip


def init() -> None:
    """The session's work: the one named in the URL (a reload, the URL opened later), else a new
    one, whose id then goes into the URL. A malformed or unknown id starts a new one."""
    sessions.start_sweeper()
    current = sessions.get(st.session_state.get("session"))
    if current is None:
        if st.session_state.get("session"):
            st.toast("This session's work was removed after it went unused: upload the clip again.")
        current = sessions.get(st.query_params.get("session")) or sessions.new()
        st.session_state.session = current.id
        for name, value in current.prefs.items():  # the settings the person chose before the reload
            st.session_state.setdefault(name, value)
    if st.query_params.get("session") != current.id:  # a page switch clears the URL's parameters
        st.query_params["session"] = current.id
    current.touch()


def url_params() -> dict:
    """The URL's parameters that name the session's work (:func:`init`)."""
    return {"session": st.session_state.session}


def work() -> sessions.Work:
    return sessions.get(st.session_state.session)


def clip() -> Clip | None:
    """The session's clip; None once its file is gone, as for a session read from disk without it."""
    current = work().clip
    return current if current is not None and Path(current.source).exists() else None


def keep(name: str, default, *, most=None) -> dict:
    """Keyword arguments for a widget whose value outlives a visit to another page.

    Streamlit forgets the state of a widget that a run does not draw; the value is kept under
    ``name`` and handed back to the widget each time it is drawn, brought down to ``most`` (a
    frame number kept from a longer clip or trim: a slider refuses a value over its maximum).
    """
    widget = f"widget.{name}"
    st.session_state.setdefault(name, work().prefs.get(name, default))
    if most is not None and st.session_state[name] > most:
        st.session_state[name] = most
    st.session_state[widget] = st.session_state[name]
    return {"key": widget, "on_change": _store, "args": (widget, name)}


def _store(widget: str, name: str) -> None:
    st.session_state[name] = st.session_state[widget]
    _remember(name, st.session_state[widget])


def _remember(name: str, value) -> None:
    """Keep a setting with the session's work (it comes back after a reload)."""
    current = work()
    with current.lock:  # a job's thread may be saving the session meanwhile
        if current.prefs.get(name, _MISSING) != value:
            current.prefs[name] = value
            sessions.save(current)


_MISSING = object()


def load_upload(name: str, data: bytes) -> Clip:
    """Store an uploaded video or zip of images under a name of our own and open it.

    Raises bgcore.VideoError (a ValueError) with a message for the user; the session's clip
    is then the one it had before.
    """
    if not data:
        raise bgcore.VideoError(f"{name} is empty (0 bytes). Upload the file again, or another one.")
    digest = hashlib.sha256(data).hexdigest()
    current = clip()
    if current is not None and current.digest == digest:  # the same file: its results kept, under the name now given
        return current if current.name == name else _renamed(current, name)
    with _clip_folder(digest) as folder:
        suffix = Path(name).suffix.lower().lstrip(".")
        # ffmpeg reads the content, not the name: the suffix only has to be one it knows.
        source = folder / f"upload.{suffix if suffix in (*VIDEO_TYPES, 'zip') else 'bin'}"
        source.write_bytes(data)
        try:
            if suffix == "zip":
                source = unpack_images(source, folder / "frames")
                (folder / "upload.zip").unlink()
            return _open(name, source, digest, folder)
        except bgcore.VideoError as error:  # named as the person named the file, not as our copy
            raise bgcore.VideoError(f"{name}: {str(error).removeprefix(f'{source.name}: ')}") from None


def _renamed(current: Clip, name: str) -> Clip:
    session = work()
    with session.lock:
        session.clip = replace(current, name=name)
        sessions.save(session)
    return session.clip


MASK_DEFAULTS = {"mask.auto": True, "mask.threshold": 30.0, "mask.cleanup": "Medium"}
"""The mask settings before any choice, which a new clip starts on again: a threshold or a clean-up
chosen for another clip hid the new one's automatic threshold, or wiped out the masks of a small clip."""
SAMPLE_NAME = "Sample clip"


def is_sample(clip: Clip) -> bool:
    return clip.name == SAMPLE_NAME  # an upload's name keeps its extension


@dataclass(frozen=True)
class Truth:
    """True masks by 0-based frame index, and a key for caching scores against them."""

    key: str
    masks: dict


@st.cache_resource(show_spinner=False)
def sample_truth() -> Truth:
    """The sample's exact masks (it is drawn, not filmed)."""
    return Truth("sample", synthetic_truth())


@st.cache_data(max_entries=2, show_spinner="Reading the true masks…")
def truth_from_zip(name: str, data: bytes) -> Truth:
    """A user's zip of true masks (:func:`bgcore.datasets.zip_truth`), read once."""
    try:
        return Truth(hashlib.sha256(data).hexdigest(), zip_truth(io.BytesIO(data)))
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


@st.cache_data(max_entries=16, show_spinner="Scoring against the true masks…")
def scores(fit_key: str, options: bgcore.MaskOptions, truth_key: str, _fit: Fit, _truth: Truth) -> dict | None:
    """CDnet scores of a fit's masks against the truth, kept per fit, mask settings and truth."""
    return score_fitted(_fit.fitted, _truth.masks, options)


def load_sample() -> Clip:
    """The built-in sample clip, written once per server start and copied into the session's
    folder (2 MB), where it outlives a restart as an upload does."""
    data = Path(_sample_path()).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if clip() is not None and clip().digest == digest:
        return clip()
    with _clip_folder(digest) as folder:
        (folder / "sample.mp4").write_bytes(data)
        return _open(SAMPLE_NAME, folder / "sample.mp4", digest, folder)


@contextmanager
def _clip_folder(digest: str):
    """A folder for a new clip, named after its content, so that every cache keyed on a path
    (a frame, a preview) is keyed on the content. If the clip fails its checks, its folder
    goes and the session keeps its clip; else the previous clip's folder goes."""
    clips = work().folder / "clips"
    folder = clips / digest[:16]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        yield folder
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    for old in clips.iterdir():
        if old != folder:
            shutil.rmtree(old, ignore_errors=True)


def _open(name: str, source, digest: str, folder: Path) -> Clip:
    # The one probe, which writes the preview from the same decode; it checks bgcore.limits.LIMITS
    # before decoding.
    preview = folder / "preview.mp4"
    video = bgcore.open_video(source, preview=preview, preview_seconds=PREVIEW_SECONDS)
    bgcore.selection(video.info)  # at least 2 frames
    new = Clip(name, str(source), digest, video, str(preview))
    current = work()
    stop_job()  # a fit or export of the previous clip
    # Every Streamlit call before the switch: any of them ends the run of a browser that left the
    # page, and _clip_folder then removes the new clip's folder, which a switched session kept as its clip.
    for setting in MASK_DEFAULTS:
        st.session_state.pop(setting, None)
    sessions.drop_fits(current)
    with current.lock:  # as every change of the session's work
        current.clip = new
        for setting in MASK_DEFAULTS:
            current.prefs.pop(setting, None)
        sessions.save(current)
    return new


def _sample_path() -> str:
    """The sample clip, written again if something removed it."""
    path = _sample_folder() / "sample.mp4"
    if not path.is_file():
        write_sample(path)
    return str(path)


@st.cache_resource(show_spinner=False)
def _sample_folder() -> Path:
    # A fresh folder per server start, only ours may write in (mkdtemp: mode 0700, a random name):
    # at a fixed shared path, a file planted there would be served to everyone. Removed when the
    # server (or a test process) ends: 2.7 MB each, they piled up in the temporary folder.
    folder = tempfile.mkdtemp(prefix="bgremove-sample-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return Path(folder)


def prep(clip: Clip) -> dict:
    """The preparation chosen for ``clip`` (start, end, fps, scale: keyword arguments of
    bgcore.fit_clip); the defaults until the user changes them on the clip page."""
    chosen = work().prefs.get(f"prep.{clip.digest}", {})
    return {"start": 0.0, "end": None, "fps": None if "fps" in chosen else first_fps(clip.info), "scale": "auto",
            **chosen}


def frame_rates(info: bgcore.VideoInfo) -> dict:
    """The frame rates offered below the clip's own, each a number of ``FRAME_RATES`` (what the
    preparation keeps) for the rate it gives: every n-th frame, n = round(clip's rate / rate), as
    :func:`bgcore.selection` takes them (25 fps of a 50 fps clip, 16.7 for 15 fps; 25 fps of a
    30 fps clip would keep every frame, and is left out)."""
    rates = {}
    for rate in FRAME_RATES:
        step = round(info.fps / rate)
        if step > 1 and all(round(info.fps / other) != step for other in rates):
            rates[rate] = info.fps / step
    return rates


def first_fps(info: bgcore.VideoInfo) -> float | None:
    """The frame rate a clip starts at: its own (None) when its frames are within ``MAX_FRAMES``,
    else the highest of :func:`frame_rates` that brings them within (a phone's minute at 60 fps is
    3,600 frames: at 30 fps, 1,800), else its own, which asks for a trim."""
    if info.frame_count <= MAX_FRAMES:
        return None
    return next((float(rate) for rate in frame_rates(info)
                 if len(bgcore.selection(info, fps=rate)) <= MAX_FRAMES), None)


def longest_trim(clip: Clip) -> float:
    """Seconds: any trim of the clip this long or shorter keeps at most ``MAX_FRAMES`` of its frames
    (where its rate varies, the shortest span of ``MAX_FRAMES`` + 1 frames)."""
    times = clip.video.seconds()
    if times is None or len(times) <= MAX_FRAMES:
        return MAX_FRAMES / clip.info.fps
    return float(np.min(times[MAX_FRAMES:] - times[:-MAX_FRAMES]))


def set_prep(clip: Clip, **prep) -> None:
    _remember(f"prep.{clip.digest}", prep)


def cost(clip: Clip, method: str = bgcore.DEFAULT_METHOD) -> estimate.Cost:
    """:func:`bgcore.estimate.estimate` of ``method`` on the clip as prepared, its trim found by
    the frames' own times as :func:`selected` and the fit find it."""
    return estimate.estimate(clip.info, method=method, **prep(clip), times=clip.video.seconds())


def selected(clip: Clip) -> range:
    """Indices of the frames the preparation keeps."""
    chosen = prep(clip)
    indices = bgcore.selection(clip.info, start=chosen["start"], end=chosen["end"], fps=chosen["fps"],
                               times=clip.video.seconds())
    if len(indices) > MAX_FRAMES:
        raise bgcore.VideoError(f"{len(indices):,} frames is more than the {MAX_FRAMES:,} the app processes at "
                                "once: trim the clip or lower its frame rate.")
    return indices


def fit_key(clip: Clip, method: str, params: dict) -> str:
    """The key of a fit of the clip, prepared as chosen, with ``method`` and ``params``."""
    return hashlib.sha256(repr((clip.digest, method, sorted(params.items()), sorted(prep(clip).items())))
                          .encode()).hexdigest()[:16]


def start_fits(clip: Clip, runs: list, *, title: str, origin: str, then: str | None = None,
               choose: bool = True) -> None:
    """Fit each ``(method, params, label)`` of ``runs`` on the clip, prepared as chosen, in a job;
    with ``choose``, the last becomes the session's fit. No job when every one was fitted before
    (and is in the session's store): nothing to wait for.

    Raises ValueError (a selection of too many frames; another job still running).
    """
    selected(clip)
    current, chosen = work(), prep(clip)
    keys = [fit_key(clip, method, params) for method, params, _ in runs]
    seconds = [cost(clip, method).fit_seconds for method, _, _ in runs]  # told to the runs behind in the line

    def fit_all(job: jobs.Job) -> None:
        # A stop ends fit_clip's decoder at once (it closes what it opens); the clip's Video is
        # shared with the pages, which keep a seeker open on it: not closed here.
        for number, ((method, params, label), key) in enumerate(zip(runs, keys)):
            if key in current.fits:
                continue
            job.detail = label
            with _turn(job, seconds[number]):
                fitted = bgcore.fit_clip(clip.video, method=method, params=params, **chosen,
                                         progress=lambda stage, fraction: job.report(
                                             stage, (number + fraction) / len(runs)))
            sessions.save_fit(current, key, fitted)
        if choose:
            _choose(current, keys[-1])

    if all(key in current.fits for key in keys):
        if choose:
            _choose(current, keys[-1])
        return
    _start(current, jobs.Job(title, fit_all, key=tuple(keys), origin=origin, then=then))


def fits(keys) -> list[Fit] | None:
    """The fits of ``keys`` from the session's store, or None if one of them is missing."""
    store = work().fits
    return [Fit(key, store[key]) for key in keys] if all(key in store for key in keys) else None


def choose_fit(key: str) -> None:
    """Make a fit of the store the one that Results and Export show."""
    _choose(work(), key)


def _choose(current: sessions.Work, key: str) -> None:  # also from a job's thread: no st.session_state
    current.fit_key = key
    sessions.save(current)


RUNS_AT_ONCE = 1
"""Fits and exports the server runs at a time. A fit holds its sample (up to SAMPLE_BUDGET,
256 MB) and about a third as much again; an export's ffmpeg encoders take about 230 MB at 640x360.
Three sessions fitting at once took the server to 764-778 MB, one at a time to 564-628
(benchmarks/server_memory.py), where Community Cloud's smallest app has 690 MB. On two cores, runs
at once gain little time: the three sessions took 88-98 s at once, 78-130 s in turn (a loaded machine)."""


@dataclass(eq=False)
class _Place:
    """A run in the server's line (:func:`_turn`)."""

    job: jobs.Job
    seconds: float
    """Its own estimated time: a fit's ``fit_seconds``, an export's ``export_seconds`` (:mod:`bgcore.estimate`)."""
    began: float | None = None
    """When its turn came (``time.monotonic``)."""


_LINE: list[_Place] = []
"""The runs that run (the first ``RUNS_AT_ONCE``) and those that wait, in the order they asked."""
_LINE_CHANGED = threading.Condition()


@contextmanager
def _turn(job: jobs.Job, seconds: float):
    """Wait for a turn to run, after the runs that asked before (a semaphore let in any waiting run,
    a late one before an early one), saying so through the job's report, which raises when the
    person stops it meanwhile; then hand back to the system the memory the run freed.
    ``seconds``: the run's estimated time, which the runs behind it are told (:func:`wait_ahead`)."""
    place = _Place(job, seconds)
    with _LINE_CHANGED:
        _LINE.append(place)
        try:
            while _LINE.index(place) >= RUNS_AT_ONCE:
                job.report("queue", job.fraction)  # a run of several methods keeps its progress
                _LINE_CHANGED.wait(0.5)
        except BaseException:
            _LINE.remove(place)
            _LINE_CHANGED.notify_all()
            raise
        place.began = time.monotonic()
    try:
        job.report("", job.fraction)  # no longer waiting; a stop pressed meanwhile ends it here
        yield
    finally:
        with _LINE_CHANGED:
            _LINE.remove(place)
            _LINE_CHANGED.notify_all()
        _release_memory()


def wait_ahead(job: jobs.Job) -> tuple[int, float] | None:
    """The runs ahead of ``job``'s in the server's line, and about how many seconds they take yet,
    one after the other as ``RUNS_AT_ONCE`` = 1 has them (with more at once, the most it could be);
    a run past its estimate counts as ending now. None when the job is not waiting."""
    with _LINE_CHANGED:
        line = list(_LINE)
    mine = next((number for number, place in enumerate(line) if place.job is job), None)
    if mine is None or mine < RUNS_AT_ONCE:
        return None
    now = time.monotonic()
    return mine, sum(place.seconds if place.began is None else max(0.0, place.seconds - (now - place.began))
                     for place in line[:mine])


@functools.cache
def _glibc():
    """glibc, whose malloc is tuned here; None elsewhere (macOS, Windows, musl)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


def _release_memory() -> None:
    """Return freed memory to the system. glibc keeps what a run freed for its thread to reuse
    (75 MB after fitting the road clip), and Streamlit runs each rerun in a thread of its own,
    so that sessions one after another would each leave that much behind."""
    if _glibc():
        _glibc().malloc_trim(0)


MMAP_THRESHOLD = 4 << 20
"""Bytes from which glibc's malloc maps each block on its own, given back to the system once freed.
By default the bound rises with every such block freed, up to 32 MB: the frames and masks an export
frees then stay in the heap, held for reuse while ffmpeg's encoders take theirs. Fixed here, one
session on the road clip peaked at 480 MB (server and ffmpeg together) against 542 MB, in the
same time (``benchmarks/server_memory.py``)."""
TOP_PAD = 4 << 20
"""Bytes glibc keeps at the top of a heap it shrinks. With the bound fixed, the default (128 KB)
handed back at once each frame freed, which the next frame then took again page by page: the
road clip's export took 4.4 s against 3.0 s without the bound, 2.9 s with this pad."""
if _glibc():  # once a server, when the app first imports this module
    _glibc().mallopt(-3, MMAP_THRESHOLD)  # -3: M_MMAP_THRESHOLD, from malloc.h
    _glibc().mallopt(-2, TOP_PAD)  # -2: M_TOP_PAD


def current_fit() -> Fit | None:
    """The chosen fit of the current clip."""
    current = work()
    key = current.fit_key
    return Fit(key, current.fits[key]) if key in current.fits else None


def job() -> jobs.Job | None:
    """The session's latest job (running, or ended and not yet cleared)."""
    return work().job


def clear_job(job: jobs.Job) -> None:
    current = work()
    if current.job is job:
        current.job = None


def stop_job() -> None:
    """Stop the session's job, if one runs, and wait until it and its ffmpeg children have ended."""
    running = work().job
    if running is not None and running.running:
        running.stop()


def _start(current: sessions.Work, job: jobs.Job) -> jobs.Job:
    with current.lock:
        if current.job is not None and current.job.running:
            raise ValueError(f"{current.job.title} is still running: wait for it, or stop it, first.")
        current.job = job.start()
    return job


def frame(clip: Clip, index: int):
    """Decoded frame ``index`` of the clip, uint8 RGB, found by a seek. The session keeps the
    latest, so that a slider elsewhere does not decode it again; only one: a 4K frame is 25 MB,
    and a server-wide cache of 64 could hold 1.6 GB."""
    key = (clip.digest, index)
    kept = st.session_state.get("frame")
    if kept is None or kept[0] != key:
        kept = st.session_state["frame"] = (key, clip.video.frame(index))
    return kept[1]


def composite_preview(fit: Fit, *, mask_options: bgcore.MaskOptions, composite: dict) -> tuple:
    """The :func:`busiest_frame` over a new background (``composite``: the options of the
    composite output) as uint8 RGB, and its position among the selected frames. The session keeps
    the latest, so that a rerun (any widget of the page) neither decodes nor blends it again.
    Raises ValueError for a background that cannot be read."""
    fitted = fit.fitted
    position = busiest(fit, mask_options)
    key = (fit.key, mask_options, sorted(composite.items()))
    kept = st.session_state.get("composite_preview")
    if kept is None or kept[0] != key:
        shown = frame(clip(), fitted.indices[position])
        picture = preview(shown, fitted.mask(shown, mask_options), composite["backdrop"], fit=composite["fit"],
                          feather=composite["feather"], plate=fitted.background_image())
        kept = st.session_state["composite_preview"] = (key, picture)
    return position, kept[1]


def looked_at(count: int) -> list[int]:
    """Positions, among ``count`` selected frames, of the few the histogram looks at: from the
    first to the last, evenly spread."""
    taken = min(count, HISTOGRAM_FRAMES)
    return [i * (count - 1) // max(1, taken - 1) for i in range(taken)]


@st.cache_data(max_entries=4, show_spinner=False)
def differences(_fitted: bgcore.FittedClip, key: str):
    """Differences to the background on the frames of :func:`looked_at` (for the histogram),
    each found by a seek."""
    positions = looked_at(len(_fitted.indices))
    return plots.differences(_fitted, (_fitted.video.frame(_fitted.indices[i]) for i in positions))


def busiest(fit: Fit, options: bgcore.MaskOptions) -> int:
    """:func:`busiest_frame` of ``fit`` at the threshold ``options`` give: the frame a page shows first."""
    return busiest_frame(fit.fitted, fit.key, fit.fitted.threshold(options))


@st.cache_data(max_entries=16, show_spinner=False)
def busiest_frame(_fitted: bgcore.FittedClip, key: str, threshold: float) -> int:
    """The position, among the selected frames, of the one with the most foreground before the
    clean-up, of those the histogram looks at: the frame a page shows first, so that it shows
    what was found (road-640x360's middle frame has no car in it: an empty mask)."""
    positions = looked_at(len(_fitted.indices))
    shares = (differences(_fitted, key) > threshold).reshape(len(positions), -1).mean(axis=1)
    return positions[int(np.argmax(shares))]


@st.cache_resource(show_spinner="Drawing the picture…")
def how_it_works() -> dict:
    """Frame, background and mask of the sample's middle frame (median method: quick), once per server.
    On 5 frames a second: the same picture as on all 15, from a third of the memory (+64 MB, not +150,
    at the first visit to the server)."""
    fitted = bgcore.fit_clip(_sample_path(), method="median", fps=5.0)
    middle = fitted.indices[len(fitted.indices) // 2]
    return plots.frame_views(fitted, next(bgcore.read_frames(fitted.source, [middle])))


def export_keys(fit: Fit, *, mask_options: bgcore.MaskOptions, outputs: dict, width: int) -> dict:
    """Each output's key: the fit, the mask settings, the outputs' width and its own options (a
    new background changes the composite's key alone)."""
    return {name: repr((fit.key, mask_options, width, name, sorted(options.items())))
            for name, options in outputs.items()}


def exported(fit: Fit, *, mask_options: bgcore.MaskOptions, outputs: dict, width: int) -> dict:
    """The file of each of ``outputs`` (names of bgcore.outputs.OUTPUTS -> options; "masks" as
    masks.zip) that earlier exports made with the same inputs."""
    done = work().export
    keys = export_keys(fit, mask_options=mask_options, outputs=outputs, width=width)
    return {name: done[key] for name, key in keys.items() if key in done}


def start_export(fit: Fit, *, mask_options: bgcore.MaskOptions, outputs: dict, width: int,
                 origin: str) -> jobs.Job:
    """Make, in a job, the outputs that :func:`exported` does not have, ``width`` wide (the clip's
    width or less), in a new folder of the session's ``exports``; earlier outputs with other inputs
    are removed once it is done. Raises ValueError when another job still runs."""
    current = work()
    keys = export_keys(fit, mask_options=mask_options, outputs=outputs, width=width)

    def export(job: jobs.Job) -> None:
        with current.lock:
            done = {key: path for key, path in current.export.items() if key in keys.values()}
        missing = {name: outputs[name] for name, key in keys.items() if key not in done}
        (current.folder / "exports").mkdir(exist_ok=True)
        out = Path(tempfile.mkdtemp(dir=current.folder / "exports"))
        masks = done.get(keys.get("masks"))  # a kept masks.zip: its PNGs beside it spare the masking
        try:
            with _turn(job, estimate.export_seconds(fit.fitted.info, fit.fitted.indices, fit.fitted.method,
                                                    fit.fitted.scale)):
                bgcore.export(fit.fitted, out, outputs=missing, mask_options=mask_options, width=width,
                              progress=job.report, masks=None if masks is None else masks.parent / "masks")
            if "masks" in missing:
                zip_files(sorted((out / "masks").glob("*.png")), out / "masks.zip")
        except BaseException:  # a stop too: export has closed its decoders and encoders
            shutil.rmtree(out, ignore_errors=True)
            raise
        done.update({keys[name]: out / ("masks.zip" if name == "masks" else OUTPUTS[name].file) for name in missing})
        with current.lock:
            current.export = done
            for folder in (current.folder / "exports").iterdir():
                if folder not in {path.parent for path in done.values()}:
                    shutil.rmtree(folder, ignore_errors=True)
            sessions.save(current)

    return _start(current, jobs.Job("Exporting the videos", export, key=export_job(keys), origin=origin, then=origin))


EXPORT_WIDTHS = (3840, 2560, 1920, 1280, 854, 640)
"""The widths the Export page offers below the clip's own."""
SERVER_BYTES = 360 * 2**20
"""The server's own memory at the peak of one session, ffmpeg aside: 293 to 363 MB on clips of
640x360 to 1920x1080 (``benchmarks/server_memory.py``, with ``--sizes``)."""


def memory_limit() -> int | None:
    """Bytes the server may use: ``$BGREMOVE_MEMORY_MB`` where set (a host that shows no limit),
    else its container's limit (cgroup v2, then v1), as on Community Cloud; None without either."""
    try:
        return int(float(os.environ["BGREMOVE_MEMORY_MB"]) * 2**20)
    except (KeyError, ValueError):
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**50:  # v2 says "max", v1 a huge number, for no limit
            return int(text)
    return None


def export_need(fit: Fit, exports, width: int) -> int:
    """Bytes, about, that the server needs at the peak of the largest of ``exports`` (lists of
    output names, made one after another) of outputs ``width`` wide."""
    clip_size = fit.fitted.size
    size = bgcore.output_size(clip_size, width)
    return SERVER_BYTES + max(estimate.export_memory(clip_size, size, outputs) for outputs in exports)


def export_width(fit: Fit, exports, widths: list) -> int:
    """The first of ``widths`` (widest first) at which ``exports`` fit the server's memory
    (:func:`memory_limit`); the last when none does."""
    limit = memory_limit()
    return next((width for width in widths if limit is None or export_need(fit, exports, width) <= limit), widths[-1])


def choose(name: str, value) -> None:
    """Set ``name`` from a button's callback, kept with the session's work as :func:`keep` keeps a widget's."""
    st.session_state[name] = value
    _remember(name, value)


def export_job(keys: dict) -> tuple:
    """The key of the job that exports the outputs of ``keys`` (:func:`export_keys`)."""
    return ("export", *sorted(keys.values()))


def store_upload(upload) -> str:
    """Keep a supplementary upload (a file_uploader's file: an image for a method, a replacement
    background) under a name made of its digest, so that a fit key holding the path is a key on
    the content; returns the path. Once a file: every rerun of the page hands the same file again
    (up to 200 MB to hash and write)."""
    stored = st.session_state.setdefault("stored_uploads", {})  # the uploader's file id -> path
    path = stored.get(upload.file_id)
    if path is None or not Path(path).is_file():
        data = upload.getvalue()
        suffix = Path(upload.name).suffix.lower()
        folder = work().folder / "extra"
        folder.mkdir(exist_ok=True)
        path = folder / (hashlib.sha256(data).hexdigest()[:16] + (suffix if suffix[1:] in KNOWN_TYPES else ""))
        path.write_bytes(data)
        path = stored[upload.file_id] = str(path)
    return path
