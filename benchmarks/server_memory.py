"""Peak memory of the app's server: one session, then three at once, each in its own browser.

    PYTHONPATH=$PWD python benchmarks/server_memory.py           # real clips from ../shared/data (~3 min)
    PYTHONPATH=$PWD python benchmarks/server_memory.py --quick   # a 160x120 synthetic clip, for CI
    PYTHONPATH=$PWD python benchmarks/server_memory.py --sizes   # one session on 720p and 1080p clips

Each session uploads a clip, removes its background with the default method, sees the Results
page and exports the videos, as a person would, in Debian's chromium driven by Playwright. The
server is started afresh for each measure (``streamlit run app.py``); its resident memory and its
children's (the ffmpeg decoders and encoders, by their proportional share: they share one binary's
pages) are read from /proc ten times a second. The reference, measured in the same run, is one
session on the first clip: the table gives each figure's ratio to it.
Streamlit Community Cloud's smallest app has 690 MB for the server and its children.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from common import CACHE, QUICK_CLIP, ROOT, absent, parser, synthetic_video

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
CLIPS = ("road-640x360/video.avi", "bmc-video003/Video_003.avi", "lrslibrary-small/escalator.avi")
CLOUD_MB = 690
ONE_TARGET_MB = 600
THREE_TARGET_MB = 1000
"""Issue 15's targets: one session under 600 MB, no peak over 1 GB."""
SLOW_MS = 600_000
QUICK_MS = 90_000
"""How long a session waits for each step: real clips on a loaded machine, or the quick clip (a few
seconds a step). Bounded so that a stuck session is a failure with its screenshot, not a hang."""
LOG = CACHE / "server_memory.log"
STUCK_LOG = CACHE / "server_memory-stuck.log"
"""The latest server's output, for when a session fails; that of the last measure taken again."""


def rss_mb(pid: int, field: str = "VmRSS", file: str = "status") -> float:
    """Resident memory of a process in MB, 0 once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def pss_mb(pid: int) -> float:
    """A process's proportional share of resident memory in MB: its own pages, and an equal share
    of those it shares. The ffmpeg processes (several at once with three sessions) share the pages
    of one 80 MB binary, which their resident sizes would count a dozen times."""
    return rss_mb(pid, "Pss", "smaps_rollup")


def children(pid: int) -> list[int]:
    """All descendants of a process, from the parent ids in /proc."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, stack = [], [pid]
    while stack:
        kids = parents.get(stack.pop(), [])
        found += kids
        stack += kids
    return found


def program(pid: int) -> str | None:
    """The file a process runs, None once it has gone."""
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def started(pid: int) -> list[int]:
    """The descendants of a process that run a program of their own: between fork and exec a
    child is the server's copy, sharing its pages, and counting it would count the server twice."""
    server = program(pid)
    return [child for child in children(pid) if program(child) not in (server, None)]


class Peak:
    """The peak memory of a process alone and with its descendants, sampled in a thread."""

    def __init__(self, pid: int):
        self.pid, self.server, self.ffmpeg, self.total = pid, 0.0, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        while not self._stop.wait(0.1):
            server, ffmpeg = rss_mb(self.pid), sum(map(pss_mb, started(self.pid)))
            self.server, self.ffmpeg = max(self.server, server), max(self.ffmpeg, ffmpeg)
            self.total = max(self.total, server + ffmpeg)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@contextmanager
def serve(env: dict | None = None):
    """A fresh server on a free local port, with a sessions folder of its own and ``env`` added to
    its environment: (its URL, its pid)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as sessions:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.address",
             "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
             # Without it, a file saved in the checkout while this runs reloads the app's modules under the
             # sessions: a clip opened before is then not a bgcore.Video of the new module (a traceback).
             "--server.fileWatcherType", "none"],
            cwd=ROOT, stdout=LOG.open("w"), stderr=subprocess.STDOUT, env={**os.environ, **(env or {}), "BGREMOVE_SESSIONS": sessions})
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("streamlit did not start") from None
                    time.sleep(0.3)
            yield url, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class SessionFailed(RuntimeError):
    """A session did not reach its exported videos."""


def session(url: str, clip: Path, number: int, wait_ms: int, done: list, errors: list, transparent: bool) -> None:
    """One person, in a browser of their own: upload, Next, Remove background, the Results page,
    Export (the videos made, ready to download), and with ``transparent`` the transparent video;
    ``number`` and the videos' size ("854×480") appended to ``done`` at the end, or what went wrong
    to ``errors``.
    (Playwright's sync API belongs to the thread that started it: one a session, so that they overlap.)"""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = page = None
        try:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.goto(url)
            # Upload once the first run is over (the how-it-works picture drawn), as tests/test_browser.py
            # does: a clip chosen during it left the click on Next unanswered now and then (one session
            # of three, in about one run of ten: the Clip page and its Next button, ten minutes later).
            page.get_by_text("Mask", exact=True).wait_for(timeout=wait_ms)
            page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=wait_ms)
            page.locator("input[type=file]").first.set_input_files(str(clip))
            page.get_by_role("button", name="Next: choose a method").click(timeout=wait_ms)
            page.get_by_role("button", name="Remove background").click(timeout=wait_ms)
            page.get_by_text("The background plate").wait_for(timeout=wait_ms)
            page.get_by_role("button", name="Export the videos").click(timeout=wait_ms)
            page.get_by_text("Foreground video (MP4)").wait_for(timeout=wait_ms)
            described = page.get_by_text(re.compile(r"frames at .* fps")).first.inner_text()
            if transparent:
                page.get_by_role("button", name="Make the transparent video").click(timeout=wait_ms)
                page.get_by_text("Transparent video (WebM)").wait_for(timeout=wait_ms)
            done.append((number, re.search(r"\d+×\d+", described)[0]))
        except Exception as error:  # reported at the end, not lost in a thread
            shot = CACHE / f"server_memory-{number}-{clip.stem}.png"
            try:
                page.screenshot(path=str(shot), timeout=10_000)
            except Exception:  # no page, or a page gone with its browser
                shot = "none"
            # Playwright's first line, then its call log: what it waited for.
            lines = str(error).splitlines() or [type(error).__name__]
            step = next((line.strip(" -") for line in lines if "waiting for" in line), "")
            errors.append(f"session {number}, {clip.name}: {lines[0]} {step} (the page: {shot})")
        finally:
            if browser is not None:
                browser.close()


def measure(clips: list[Path], wait_ms: int, env: dict | None = None, transparent: bool = False) -> dict:
    """A fresh server (``env`` added to its environment), one browser session per clip, all at once
    (with ``transparent``, each asks for the transparent video too); the peaks in MB and the seconds.
    Raises SessionFailed unless every session reached its videos."""
    done, errors = [], []
    with serve(env) as (url, pid):
        time.sleep(2)  # settled
        idle = rss_mb(pid)
        started = time.perf_counter()
        with Peak(pid) as peak:
            threads = [threading.Thread(target=session, args=(url, clip, number, wait_ms, done, errors, transparent))
                       for number, clip in enumerate(clips, 1)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    if len(done) < len(clips):
        reasons = errors or [f"{len(clips) - len(done)} session(s) ended without a word"]
        raise SessionFailed(f"{'; '.join(reasons)} (the server's output: {LOG})")
    return {"idle": idle, "server": peak.server, "ffmpeg": peak.ffmpeg, "total": peak.total,
            "seconds": time.perf_counter() - started, "videos": ", ".join(size for _, size in sorted(done))}


SIZES = {"1280x720, 20 s": dict(width=1280, height=720, frames=600, fps=30),
         "1920x1080, 10 s": dict(width=1920, height=1080, frames=300, fps=30)}
"""Synthetic clips whose one session shows how the peak grows with the frame size: ffmpeg's
encoders grow with the videos' size, which the Export page chooses within the server's memory."""


def sizes() -> dict:
    """One session on each of ``SIZES``, on a server that shows no memory limit (the videos at the
    clip's size), then on one told it has Community Cloud's smallest (the page's default size then),
    which also asks for the transparent video; printed as a table."""
    print("| clip | server's memory | videos | server MB | its ffmpeg children MB | together MB | seconds |\n"
          "|---|---|---|---|---|---|---|")
    peaks = {}
    for name, settings in SIZES.items():
        for limit in (None, CLOUD_MB):
            peak = peaks[name, limit] = measure([synthetic_video(CACHE, **settings)], SLOW_MS, transparent=bool(limit),
                                                env=limit and {"BGREMOVE_MEMORY_MB": str(limit)})
            videos = f"{peak['videos']}{', then transparent' if limit else ''}"
            print(f"| {name} | {f'{limit} MB' if limit else 'no limit'} | {videos} | {peak['server']:.0f} "
                  f"| {peak['ffmpeg']:.0f} | {peak['total']:.0f} | {peak['seconds']:.1f} |", flush=True)
    return peaks


def main(argv=None) -> dict:
    options = parser(__doc__, quick="a small synthetic clip in each session, for CI", data=True)
    options.add_argument("--sizes", action="store_true", help="instead, one session on a 1280x720 and a 1920x1080 synthetic clip")
    options = options.parse_args(argv)
    if options.sizes:
        return sizes()
    if options.quick:
        clips = [synthetic_video(CACHE, **QUICK_CLIP)] * 3
    else:
        clips = [options.data / clip for clip in CLIPS]
        missing = [clip for clip in clips if not clip.exists()]
        if missing:
            print(absent(missing[0]))
            return {}
    wait_ms = QUICK_MS if options.quick else SLOW_MS
    stuck = []

    def measured(clips):
        """Measured again, once, where a session failed: in about one run of thirty (CI, 2026-11-23) one
        waited ten minutes for a step, the cause unknown. The failure is kept and reported."""
        try:
            return measure(clips, wait_ms)
        except SessionFailed as error:
            shutil.copy(LOG, STUCK_LOG)
            stuck.append(f"{error}, copied to {STUCK_LOG}")
            print(f"measured again: {stuck[-1]}", file=sys.stderr)
            return measure(clips, wait_ms)

    one = measured(clips[:1])
    three = measured(clips)
    print("| measure | server MB | its ffmpeg children MB | together MB | seconds | ratio to one session |")
    print("|---|---|---|---|---|---|")
    print(f"| idle server | {one['idle']:.0f} | | | | |")
    for what, peak in ((f"one session: {clips[0].name} (reference)", one),
                       (f"three at once: {', '.join(clip.name for clip in clips)}", three)):
        print(f"| {what} | {peak['server']:.0f} | {peak['ffmpeg']:.0f} | {peak['total']:.0f} | "
              f"{peak['seconds']:.1f} | {peak['total'] / one['total']:.2f} |")
    print(f"\nStreamlit Community Cloud's smallest app: {CLOUD_MB} MB; three sessions at once take "
          f"{three['total'] / CLOUD_MB:.0%} of it, one session {one['total'] / CLOUD_MB:.0%}.")
    return {"one": one, "three": three, "clips": [clip.name for clip in clips], "stuck": stuck}


if __name__ == "__main__":
    main()
