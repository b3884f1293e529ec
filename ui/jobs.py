"""Work that runs on while the person moves between pages: a fit or an export in a thread of its own.

Streamlit stops a page's script when the person leaves the page; a job's thread is not tied to a
script run, so it goes on, and every page shows its progress. A job ends when its work does, or at
the next progress report after :meth:`Job.stop`: bgcore closes its ffmpeg readers and writers as the
exception unwinds (its ``with`` blocks and generators), so nothing is left running.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import re
import threading
import time

logger = logging.getLogger(__name__)
_numbers = itertools.count(1)
_running: set = set()
_lock = threading.Lock()
_FOLDERS = re.compile(r"(?<![\w.-])(?:[A-Za-z]:)?[\\/](?:[^\s\\/:]+[\\/])+")
"""The folders of an absolute path ("/tmp/bgremove-sessions-0/<session>/clips/…/"), which a message
shows no one: they say nothing to the person and name the server's session folders."""


class Stopped(Exception):
    """The person pressed Stop: raised from the progress callback inside bgcore's loops."""


class Job:
    """``work(job)`` run in a daemon thread. ``work`` calls :meth:`report` as it goes, which is
    where a stop takes effect. ``title`` says what runs ("Removing the background"), ``detail``
    for what ("Mode"), ``stage`` and ``fraction`` how far it is; afterwards ``error`` holds the
    message of a failure and ``stopped`` says whether Stop ended it."""

    def __init__(self, title: str, work, *, key=None, origin: str | None = None, then: str | None = None):
        self.number = next(_numbers)
        self.title, self.detail, self.stage, self.fraction = title, "", "", 0.0
        self.key, self.origin, self.then = key, origin, then
        self.error: str | None = None
        self.stopped = False
        self.ended: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, args=(work,), name=f"bgremove-job-{self.number}",
                                        daemon=True)

    def start(self) -> Job:
        with _lock:
            _running.add(self)
        self._thread.start()
        return self

    def report(self, stage: str, fraction: float) -> None:
        if self._stop.is_set():
            raise Stopped
        self.stage, self.fraction = stage, min(max(fraction, 0.0), 1.0)

    @property
    def running(self) -> bool:
        return self.ended is None

    @property
    def ok(self) -> bool:
        return self.ended is not None and self.error is None and not self.stopped

    def stop(self, timeout: float = 60) -> None:
        """Ask the work to stop and wait until it has (and its ffmpeg children with it)."""
        self._stop.set()
        self.wait(timeout)

    def wait(self, timeout: float | None = None) -> None:
        if self._thread.ident is not None:
            self._thread.join(timeout)

    def _main(self, work) -> None:
        try:
            work(self)
        except Stopped:
            self.stopped = True
        except ValueError as error:  # bgcore's messages for the person (a bad parameter, a bad file)
            self.error = without_folders(str(error))
        except Exception as error:  # noqa: BLE001 - the page shows it instead of a dead thread
            logger.exception("job %s failed", self.title)
            self.error = without_folders(f"Something went wrong ({type(error).__name__}: {error}). "
                                         "Try again, or another method.")
        finally:
            self.ended = time.time()
            with _lock:
                _running.discard(self)


def without_folders(message: str) -> str:
    """``message`` with each absolute path cut to its file's name."""
    return _FOLDERS.sub("", message)


def running() -> list[Job]:
    with _lock:
        return list(_running)


@atexit.register
def _stop_all() -> None:
    # The server is stopping (SIGTERM, Ctrl-C): end the jobs so that their ffmpeg children go too.
    for job in running():
        job.stop(timeout=10)
