"""Session state and caching, in one place.

A session holds one clip (an upload or the sample) in its own temporary folder, the background
models fitted on it (keyed on the clip's content digest and the fit parameters, so that moving a
threshold slider never decodes or fits again) and the folder of the latest export.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import os
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

import bgcore
from bgcore import plots
from bgcore.files import unpack_images, zip_files
from bgcore.datasets import score_fitted, zip_truth
from bgcore.synthetic import sample_truth as synthetic_truth, write_sample
from bgcore.video import write_preview

VIDEO_TYPES = ("mp4", "mov", "avi", "mkv", "webm")
IMAGE_TYPES = ("png", "jpg", "jpeg")
KNOWN_TYPES = VIDEO_TYPES + IMAGE_TYPES
MAX_FRAMES = 3000
"""Frames the app processes in one go (two minutes at 25 fps): longer selections need a trim."""
PREVIEW_SECONDS = 120
KEPT_FITS = 5
"""Fits a session keeps: the four of a comparison and one more."""
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


SESSION_IDLE = 3600
"""Seconds after its last run that a session's files (clip, preview, exports) are removed: Streamlit
forgets a closed session only when another one connects, so with nobody visiting they would stay."""
SWEEP_EVERY = 600
"""Seconds between two looks for idle sessions' files."""


def init() -> None:
    """Session defaults. The session's temporary folder goes when the session does (its finaliser
    runs) or after SESSION_IDLE seconds without a run, whichever comes first."""
    _sweeper()
    workdir = st.session_state.get("workdir")
    if workdir is not None and not Path(workdir.name).is_dir():
        st.toast("This session was idle for over an hour, so its clip was removed: upload it again.")
        for key in ("workdir", "clip", "fits", "fit", "export", "upload_id"):
            st.session_state.pop(key, None)
    if "workdir" not in st.session_state:
        st.session_state.workdir = tempfile.TemporaryDirectory(prefix="session-", dir=_sessions_folder(),
                                                               ignore_cleanup_errors=True)
    os.utime(st.session_state.workdir.name)  # its last run, for sweep()
    for key, default in (("clip", None), ("fits", {}), ("fit", None), ("export", None)):
        if key not in st.session_state:
            st.session_state[key] = default


@st.cache_resource(show_spinner=False)
def _sessions_folder() -> str:
    return tempfile.mkdtemp(prefix="bgremove-sessions-")


def sweep(folder, idle: float = SESSION_IDLE) -> list:
    """Remove the session folders in ``folder`` whose last run is over ``idle`` seconds ago;
    returns their paths."""
    removed = []
    for session in Path(folder).iterdir():
        try:
            if time.time() - session.stat().st_mtime > idle:
                shutil.rmtree(session, ignore_errors=True)
                removed.append(session)
        except FileNotFoundError:  # its session ended meanwhile
            pass
    return removed


@st.cache_resource(show_spinner=False)
def _sweeper() -> threading.Thread:
    """One thread a server, sweeping the session folders every SWEEP_EVERY seconds."""
    folder = _sessions_folder()

    def loop():
        while True:
            time.sleep(SWEEP_EVERY)
            sweep(folder)

    thread = threading.Thread(target=loop, name="bgremove-sweeper", daemon=True)
    thread.start()
    return thread


def keep(name: str, default) -> dict:
    """Keyword arguments for a widget whose value outlives a visit to another page.

    Streamlit forgets the state of a widget that a run does not draw; the value is kept under
    ``name`` and handed back to the widget each time it is drawn.
    """
    widget = f"widget.{name}"
    st.session_state.setdefault(name, default)
    st.session_state[widget] = st.session_state[name]
    return {"key": widget, "on_change": _store, "args": (widget, name)}


def _store(widget: str, name: str) -> None:
    st.session_state[name] = st.session_state[widget]


def _folder(name: str) -> Path:
    """A fresh folder ``name`` in the session's temporary folder (emptied if it was there)."""
    folder = Path(st.session_state.workdir.name) / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def load_upload(name: str, data: bytes) -> Clip:
    """Store an uploaded video or zip of images under a name of our own and open it.

    Raises bgcore.VideoError (a ValueError) with a message for the user; the session's clip
    is then the one it had before.
    """
    if not data:
        raise bgcore.VideoError(f"{name} is empty (0 bytes). Upload the file again, or another one.")
    digest = hashlib.sha256(data).hexdigest()
    current = st.session_state.clip
    if current is not None and current.digest == digest:
        return current
    with _clip_folder(digest) as folder:
        suffix = Path(name).suffix.lower().lstrip(".")
        if suffix == "zip":
            (folder / "upload.zip").write_bytes(data)
            source = unpack_images(folder / "upload.zip", folder / "frames")
            (folder / "upload.zip").unlink()
        else:
            # ffmpeg reads the content, not the name: the suffix only has to be one it knows.
            source = folder / f"upload.{suffix if suffix in VIDEO_TYPES else 'bin'}"
            source.write_bytes(data)
        return _open(name, source, digest, folder)


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
    """The built-in sample clip, written once per server start and shared read-only by the sessions."""
    source = _sample_path()
    digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    if st.session_state.clip is not None and st.session_state.clip.digest == digest:
        return st.session_state.clip
    with _clip_folder(digest) as folder:
        return _open(SAMPLE_NAME, source, digest, folder)


@contextmanager
def _clip_folder(digest: str):
    """A folder for a new clip, named after its content, so that every cache keyed on a path
    (a frame, a preview) is keyed on the content. If the clip fails its checks, its folder
    goes and the session keeps its clip; else the previous clip's folder goes."""
    clips = Path(st.session_state.workdir.name) / "clips"
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
    video = bgcore.open_video(source)  # the one probe; checks bgcore.limits.LIMITS before decoding
    bgcore.selection(video.info)  # at least 2 frames
    preview = write_preview(video, folder / "preview.mp4", seconds=PREVIEW_SECONDS)
    clip = Clip(name, str(source), digest, video, str(preview))
    st.session_state.clip = clip
    st.session_state.fit = st.session_state.export = None
    return clip


def _sample_path() -> str:
    """The sample clip, written again if something removed it."""
    path = _sample_folder() / "sample.mp4"
    if not path.is_file():
        write_sample(path)
    return str(path)


@st.cache_resource(show_spinner=False)
def _sample_folder() -> Path:
    # A fresh folder per server start, only ours may write in (mkdtemp: mode 0700, a random name):
    # at a fixed shared path, a file planted there would be served to everyone.
    return Path(tempfile.mkdtemp(prefix="bgremove-sample-"))


def prep(clip: Clip) -> dict:
    """The preparation chosen for ``clip`` (start, end, fps, scale: keyword arguments of
    bgcore.fit_clip); the defaults until the user changes them on the clip page."""
    return {"start": 0.0, "end": None, "fps": None, "scale": "auto",
            **st.session_state.get(f"prep.{clip.digest}", {})}


def set_prep(clip: Clip, **prep) -> None:
    st.session_state[f"prep.{clip.digest}"] = prep


def selected(clip: Clip) -> range:
    """Indices of the frames the preparation keeps."""
    chosen = prep(clip)
    indices = bgcore.selection(clip.info, start=chosen["start"], end=chosen["end"], fps=chosen["fps"])
    if len(indices) > MAX_FRAMES:
        raise bgcore.VideoError(f"{len(indices):,} frames is more than the {MAX_FRAMES:,} the app processes at "
                                "once: trim the clip or lower its frame rate.")
    return indices


def fit(clip: Clip, *, method: str, params: dict, progress=None) -> Fit:
    """The clip, prepared as chosen, fitted with ``method``: from the session's store when these
    inputs were fitted before, else fitted now."""
    selected(clip)
    chosen = prep(clip)
    key = hashlib.sha256(repr((clip.digest, method, sorted(params.items()), sorted(chosen.items())))
                         .encode()).hexdigest()[:16]
    fits = st.session_state.fits
    if key not in fits:
        with _turn(progress):
            fits[key] = bgcore.fit_clip(clip.video, method=method, params=params, progress=progress,
                                        **chosen)
        for old in list(fits)[:-KEPT_FITS]:
            del fits[old]
    st.session_state.fit = Fit(key, fits[key])
    return st.session_state.fit


RUNS_AT_ONCE = 1
"""Fits and exports the server runs at a time. A fit holds its sample (up to SAMPLE_BUDGET,
256 MB) and about a third as much again; an export's ffmpeg encoders take about 230 MB at 640x360.
Three sessions fitting at once took the server to 764-778 MB, one at a time to 564-628
(benchmarks/server_memory.py), where Community Cloud's smallest app has 690 MB. On two cores, runs
at once gain little time: the three sessions took 88-98 s at once, 78-130 s in turn (a loaded machine)."""


@st.cache_resource(show_spinner=False)
def _turns() -> threading.Semaphore:
    return threading.Semaphore(RUNS_AT_ONCE)


@contextmanager
def _turn(progress=None):
    """Wait for a turn to run (saying so through ``progress`` when others are running), then hand
    back to the system the memory the run freed."""
    turns = _turns()
    if not turns.acquire(blocking=False):
        if progress:
            progress("queue", 0.0)
        turns.acquire()
    try:
        yield
    finally:
        turns.release()
        _release_memory()


def _release_memory() -> None:
    """Return freed memory to the system. glibc keeps what a run freed for its thread to reuse
    (75 MB after fitting the road clip), and Streamlit runs each rerun in a thread of its own,
    so that sessions one after another would each leave that much behind."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def current_fit() -> Fit | None:
    """The latest fit, if it belongs to the current clip."""
    return st.session_state.fit


def frame(clip: Clip, index: int):
    """Decoded frame ``index`` of the clip, uint8 RGB, found by a seek. The session keeps the
    latest, so that a slider elsewhere does not decode it again; only one: a 4K frame is 25 MB,
    and a server-wide cache of 64 could hold 1.6 GB."""
    key = (clip.digest, index)
    kept = st.session_state.get("frame")
    if kept is None or kept[0] != key:
        kept = st.session_state["frame"] = (key, clip.video.frame(index))
    return kept[1]


@st.cache_data(max_entries=4, show_spinner=False)
def differences(_fitted: bgcore.FittedClip, key: str):
    """Differences to the background on a few frames spread over the clip (for the histogram),
    each found by a seek."""
    indices = _fitted.indices
    picked = sorted({indices[i] for i in range(0, len(indices), max(1, len(indices) // HISTOGRAM_FRAMES))})
    return plots.differences(_fitted, (_fitted.video.frame(i) for i in picked[:HISTOGRAM_FRAMES]))


@st.cache_resource(show_spinner="Drawing the picture…")
def how_it_works() -> dict:
    """Frame, background and mask of the sample's middle frame (median method: quick), once per server.
    On 5 frames a second: the same picture as on all 15, from a third of the memory (+64 MB, not +150,
    at the first visit to the server)."""
    fitted = bgcore.fit_clip(_sample_path(), method="median", fps=5.0)
    middle = fitted.indices[len(fitted.indices) // 2]
    return plots.frame_views(fitted, next(bgcore.read_frames(fitted.source, [middle])))


def export(fit: Fit, *, mask_options: bgcore.MaskOptions, replacement: str | None = None,
           progress=None) -> Path:
    """The output folder for these inputs, exported now unless the latest export had them.

    Holds foreground.mp4, mask.mp4, foreground.webm, background.png, masks.zip, report.json
    (and composite.mp4 with a replacement).
    """
    key = (fit.key, mask_options, replacement)
    latest = st.session_state.export
    if latest is not None and latest[0] == key:
        return latest[1]
    st.session_state.export = None  # its folder is emptied now: a failed export must not leave it named
    out = _folder("export")
    extra = {"replacement": replacement} if replacement else {}
    with _turn(progress):
        bgcore.export(fit.fitted, out, mask_options=mask_options, transparent=True, progress=progress, **extra)
    zip_files(sorted((out / "masks").glob("*.png")), out / "masks.zip")
    st.session_state.export = (key, out)
    return out


def store_upload(name: str, data: bytes) -> str:
    """Keep a supplementary upload (an image for a method, a replacement background) under a name
    made of its digest, so that a fit key holding the path is a key on the content; returns the path."""
    suffix = Path(name).suffix.lower()
    folder = Path(st.session_state.workdir.name) / "extra"
    folder.mkdir(exist_ok=True)
    path = folder / (hashlib.sha256(data).hexdigest()[:16] + (suffix if suffix[1:] in KNOWN_TYPES else ""))
    path.write_bytes(data)
    return str(path)
