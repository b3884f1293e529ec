"""A person's work (clip, fits, exports, settings), kept on the server under an id that the page's
URL carries, so that a reload, a phone that slept or the same URL opened later comes back to it.

Each session has a folder in the sessions folder: its clip (and preview), ``fits/<key>.pkl``
(the fitted models, a few MB each, at most ``KEPT_FITS``), ``exports/``, ``extra/`` (uploaded
pictures) and ``session.pkl`` (what ties them together). While it is in use its :class:`Work`
is also held in memory; :func:`sweep`, run every ``SWEEP_EVERY`` seconds, lets go of the memory of
sessions unused for ``MEMORY_IDLE`` seconds (the folder brings them back), removes the folders of
sessions unused for ``SESSION_AGE`` seconds, and the least recently used ones past ``DISK_BOUND``.

No streamlit here: jobs' threads save their results through this module too.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import pickle
import re
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

SESSION_AGE = 24 * 3600
"""Seconds after its last use that a session's folder is removed (a reload or the URL opened the
next day still finds the work; a forgotten one does not stay for ever)."""
MEMORY_IDLE = 15 * 60
"""Seconds after its last use that a session's work leaves memory (it is read back from its folder
when the person returns): Streamlit keeps a closed tab's state until another session connects."""
DISK_BOUND = 4 * 2**30
"""Bytes all sessions' folders may use; past it, the least recently used sessions go first."""
SWEEP_EVERY = 300
"""Seconds between two sweeps."""
KEPT_FITS = 5
"""Fits a session keeps: the four of a comparison and one more."""
_ID = re.compile(r"[0-9a-f]{32}")


@dataclass
class Work:
    """One session's work. ``fits`` maps a fit key to its :class:`bgcore.FittedClip` (all of the
    current clip), ``fit_key`` is the chosen one's, ``export`` the file of each output made
    (by its key: ``ui.state.export_keys``), ``prefs`` the person's settings, ``job`` the latest :class:`ui.jobs.Job`,
    ``live`` the Live page's :class:`bgcore.live.LiveProcessor` (in memory only: its empty scene
    outlives a reload, not a restart)."""

    id: str
    folder: Path
    clip: object = None
    fits: dict = field(default_factory=dict)
    fit_key: str | None = None
    export: dict = field(default_factory=dict)
    prefs: dict = field(default_factory=dict)
    job: object = None
    live: object = None
    used: float = field(default_factory=time.time)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def touch(self) -> None:
        self.used = time.time()
        try:
            os.utime(self.folder)  # the last use, for the sweep after a restart
        except FileNotFoundError:
            pass


_works: dict[str, Work] = {}
_lock = threading.Lock()


def root() -> Path:
    """The sessions folder: ``$BGREMOVE_SESSIONS``, else one in the temporary folder kept across
    server restarts. Only this user may enter it (a folder someone else made there is not used)."""
    folder = Path(os.environ.get("BGREMOVE_SESSIONS") or Path(tempfile.gettempdir()) / f"bgremove-sessions-{os.getuid()}")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(folder)
    if not folder.is_dir() or folder.is_symlink() or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise RuntimeError(f"{folder} is not a private folder of this user: set BGREMOVE_SESSIONS to one.")
    return folder


def new() -> Work:
    session_id = secrets.token_hex(16)
    work = Work(session_id, root() / session_id)
    work.folder.mkdir()
    with _lock:
        _works[work.id] = work
    return work


def get(session_id) -> Work | None:
    """The work of ``session_id`` (from memory, else from its folder), or None for an unknown or
    malformed id (it never names a path: 32 hexadecimal digits or nothing)."""
    if not isinstance(session_id, str) or not _ID.fullmatch(session_id):
        return None
    with _lock:
        work = _works.get(session_id)
        if work is None:
            work = _load(root() / session_id)
            if work is not None:
                _works[session_id] = work
    if work is not None and not work.folder.is_dir():  # swept while the person was away
        forget(work)
        return None
    return work


def forget(work: Work) -> None:
    with _lock:
        if _works.get(work.id) is work:
            del _works[work.id]


def save(work: Work) -> None:
    """Write what ties the session's files together (small: the clip's probe, settings, keys)."""
    with work.lock:
        state = {"clip": work.clip, "prefs": work.prefs, "fits": list(work.fits),
                 "fit": work.fit_key,
                 "export": {key: str(path.relative_to(work.folder)) for key, path in work.export.items()}}
        _write(work.folder / "session.pkl", state)


def save_fit(work: Work, key: str, fitted) -> None:
    """Keep a fit in the session's folder (without its video: the clip's, restored with it), and
    drop the fits past KEPT_FITS. A model that cannot be pickled (OpenCV's MOG2, KNN) is kept in
    memory only: after a restart it is fitted again."""
    with work.lock:
        work.fits[key] = fitted
        for old in list(work.fits)[:-KEPT_FITS]:
            del work.fits[old]
            (work.folder / "fits" / f"{old}.pkl").unlink(missing_ok=True)
        (work.folder / "fits").mkdir(exist_ok=True)
        try:
            _write(work.folder / "fits" / f"{key}.pkl", dataclasses.replace(fitted, video=None))
        except (TypeError, pickle.PicklingError, AttributeError) as error:
            logger.info("fit %s kept in memory only: %s", key, error)
        save(work)


def drop_fits(work: Work) -> None:
    """A new clip: the fits of the previous one go, from memory and disk."""
    with work.lock:
        work.fits.clear()
        work.fit_key, work.export = None, {}
        shutil.rmtree(work.folder / "fits", ignore_errors=True)
        shutil.rmtree(work.folder / "exports", ignore_errors=True)


def _write(path: Path, value) -> None:
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as file:
        pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(partial, path)  # a session read while it is written sees the old or the new, whole


def _load(folder: Path) -> Work | None:
    # Only folders this server made are read: the id is 32 hex digits inside root(), mode 0700.
    try:
        with (folder / "session.pkl").open("rb") as file:
            state = pickle.load(file)
    except FileNotFoundError:
        return Work(folder.name, folder) if folder.is_dir() else None
    except Exception as error:  # noqa: BLE001 - a damaged session starts afresh
        logger.warning("session %s could not be read: %s", folder.name, error)
        return None
    work = Work(folder.name, folder, prefs=state["prefs"])
    clip = state["clip"]
    if clip is None or not Path(clip.source).exists():
        return work
    work.clip = clip
    for key in state["fits"]:
        try:
            with (folder / "fits" / f"{key}.pkl").open("rb") as file:
                work.fits[key] = dataclasses.replace(pickle.load(file), video=clip.video)
        except FileNotFoundError:  # a model kept in memory only
            continue
    work.fit_key = state["fit"] if state["fit"] in work.fits else None
    work.export = {key: folder / path for key, path in state["export"].items() if (folder / path).is_file()}
    return work


def sweep(*, now: float | None = None) -> list[Path]:
    """Let go of idle sessions' memory; remove old sessions' folders, then the least recently used
    past DISK_BOUND; returns the folders removed. A session with a running job is left alone."""
    now = time.time() if now is None else now
    busy = set()
    with _lock:
        for work in list(_works.values()):
            if work.job is not None and work.job.running:
                busy.add(work.id)
            elif now - work.used > MEMORY_IDLE:
                del _works[work.id]
    folders = []
    for folder in root().iterdir():
        try:
            folders.append((folder.stat().st_mtime, folder))
        except FileNotFoundError:
            pass
    removed = []
    sizes = {folder: _size(folder) for _, folder in folders}
    total = sum(sizes.values())
    for used, folder in sorted(folders):  # the least recently used first
        if folder.name in busy or now - used < MEMORY_IDLE:
            continue
        if now - used > SESSION_AGE or total > DISK_BOUND:
            with _lock:
                _works.pop(folder.name, None)
            shutil.rmtree(folder, ignore_errors=True)
            total -= sizes[folder]
            removed.append(folder)
    return removed


def _size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def _sweeper() -> None:
    while True:
        time.sleep(SWEEP_EVERY)
        try:
            sweep()
        except Exception:  # noqa: BLE001 - the next sweep tries again
            logger.exception("sweep failed")


_started = False


def start_sweeper() -> None:
    """One sweeping thread a server."""
    global _started
    with _lock:
        if not _started:
            threading.Thread(target=_sweeper, name="bgremove-sweeper", daemon=True).start()
            _started = True
