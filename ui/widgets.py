"""Widgets more than one page draws. ``*_ui`` functions draw and return plain values."""

from __future__ import annotations

import re
import string
from contextlib import closing
from pathlib import Path

import streamlit as st

import bgcore
from bgcore.composite import backdrops
from ui import state

STAGES = {"queue": "Waiting for a turn", "probe": "Reading the clip",
          "sample": "Decoding frames", "fit": "Fitting the background", "apply": "Encoding the videos"}
CLEANUP = {
    # strength: (opening radius, closing radius, fill holes and trim outlines, smallest blob in
    # pixels), working scale
    "Off": (0, 0, False, 0),
    "Light": (1, 2, True, 10),
    "Medium": (1, 4, True, 30),  # MaskOptions' defaults
    "Strong": (2, 6, True, 120),
}
PAGES = {"clip": "app_pages/upload.py", "method": "app_pages/method.py", "results": "app_pages/results.py",
         "export": "app_pages/export.py", "compare": "app_pages/compare.py", "live": "app_pages/live.py"}


def switch_page(key: str) -> None:
    """``st.switch_page`` to ``PAGES[key]`` with the session in the URL. Without it the switch
    clears the URL's parameters, :func:`ui.state.init` puts the session back, and each switch left
    three entries in the browser's history: Back took three presses to leave a page."""
    st.switch_page(PAGES[key], query_params=state.url_params())


def page_link(key: str, container=st, **options) -> None:
    """``st.page_link`` to ``PAGES[key]`` that keeps the session in the URL (:func:`switch_page`)."""
    container.page_link(PAGES[key], query_params=state.url_params(), **options)


def job_ui(page: str) -> None:
    """The session's job, on top of every page (``page``: the key in PAGES of the one shown).
    While it runs: its progress, polled twice a second, and a Stop button. Once it has ended: the
    page it leads to (at once on the page it was started from), its error, or that it stopped."""
    job = state.job()
    if job is None:
        return
    if job.running:
        job_progress_ui()
    elif job.ok:
        if job.then and page in (job.origin, job.then):
            state.clear_job(job)
            if page != job.then:
                switch_page(job.then)
        elif job.then is None:
            state.clear_job(job)
        else:
            done, link = st.columns([3, 1], vertical_alignment="center")
            done.success(f"{job.title}: done.", icon=":material/check_circle:")
            page_link(job.then, link, label="See it", icon=":material/arrow_forward:")
    elif job.stopped:  # kept, so that a page does not start it again by itself, even after a reload
        if st.session_state.get("job.told") != job.number:
            st.session_state["job.told"] = job.number
            st.toast(f"{job.title}: stopped.", icon=":material/stop_circle:")
    elif page not in (job.origin, job.then):  # there the page itself says what went wrong
        message, dismiss = st.columns([5, 1], vertical_alignment="center")
        message.error(f"{job.title}: {job.error}", icon=":material/error:")
        if dismiss.button("Dismiss", key="job.dismiss", width="stretch"):
            state.clear_job(job)
            st.rerun()


@st.fragment(run_every=0.5)  # a job's page comes a quarter of a second after its end, on average
def job_progress_ui() -> None:
    job = state.job()
    if job is None or not job.running:
        st.rerun()  # the whole page, now with the job's result
    if job.stage != "queue" and st.session_state.pop("page.says_queued", False):
        st.rerun()  # the whole page, which said the run waits for its turn (require_fit_ui)
    detail = f" ({job.detail})" if job.detail else ""
    stage = STAGES.get(job.stage, job.stage.capitalize()) or "Starting"
    if job.stage == "queue":
        stage = queue_text(state.wait_ahead(job)) or stage
    bar, stop = st.columns([5, 1], vertical_alignment="bottom")
    bar.progress(job.fraction, text=f"{job.title}{detail} · {stage}… {job.fraction:.0%}")
    if stop.button("Stop", key="job.stop", icon=":material/stop_circle:", width="stretch"):
        with st.spinner("Stopping…"):
            job.stop()
        st.rerun()


def queue_text(ahead: tuple[int, float] | None) -> str | None:
    """:func:`ui.state.wait_ahead` in words: "Waiting: 2 runs on this server go first, about 40 s"."""
    if ahead is None:
        return None
    runs, seconds = ahead
    first = "another run on this server goes first" if runs == 1 else f"{runs} runs on this server go first"
    return f"Waiting: {first}, " + (f"about {duration_text(seconds)}" if seconds >= 1 else "any moment now")


def job_outcome_ui(origin: str, key=None) -> bool:
    """How the session's job started on page ``origin`` (on inputs ``key``, when given) ended, if
    not well: its error, or that it was stopped (the toast that says so on top goes by). Returns
    whether it said so."""
    job = state.job()
    if job is None or job.origin != origin or (key is not None and job.key != key):
        return False
    if job.error:
        st.error(job.error, icon=":material/error:")
    elif job.stopped:
        st.info(f"{job.title}: stopped.", icon=":material/stop_circle:")
    return bool(job.error or job.stopped)


def job_running(key) -> bool:
    """Whether the session's job runs, on inputs ``key`` (any inputs when None)."""
    job = state.job()
    return job is not None and job.running and (key is None or job.key == key)


PAGES_SECONDS = 3.0
"""What the app adds to :func:`bgcore.estimate.estimate`'s fit and export, whatever the clip: the
pages' switches, the progress polled twice a second, the Results page's views and histogram. From
the click on Remove background to the Results page, then to the Export page's downloads, in
Chromium on the same two cores as the server: the sample 2.5 to 3.7 s against 1.3 s estimated,
road-640x360 7.0 to 10.3 s against 4.7 s."""


def estimate_text(seconds: float) -> str:
    """:func:`bgcore.estimate.estimate`'s seconds in words, with what the pages add (``PAGES_SECONDS``):
    "12 s", "3 min"."""
    return duration_text(seconds + PAGES_SECONDS)


def duration_text(seconds: float) -> str:
    """Seconds in words: "12 s", "3 min"."""
    return f"{max(1, round(seconds))} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def method_label(name: str) -> str:
    """A method's name in plain words ("svd" -> "Classic: people passing by"); a method without
    one is named as in code ("svd" -> "SVD", "median" -> "Median": short names read as acronyms)."""
    return bgcore.METHODS[name].label or (name.upper() if len(name) <= 4 else name.capitalize())


def defaults(cls) -> dict:
    """The default values of a method's parameters that have widgets."""
    every = cls().get_params()
    return {param.name: every[param.name] for param in cls.params if param.shown}


def method_params_ui(name: str, clip: state.Clip) -> dict:
    """A widget for each parameter of method ``name``, built from its ``params`` description: a
    frame or a photo in plain view, numbers and choices under "Advanced" with the technical name."""
    cls = bgcore.METHODS[name]
    start = defaults(cls)
    shown = [param for param in cls.params if param.shown]
    plain = [param for param in shown if param.kind != "value"]
    chosen = {param.name: _param_ui(param, start.get(param.name), f"param.{name}.{param.name}", clip)
              for param in plain}
    with st.expander("Advanced"):
        st.caption(f"Technical name: {cls.technical or name} (`{name}` on the command line).")
        for param in shown:
            if param not in plain:
                chosen[param.name] = _param_ui(param, start.get(param.name), f"param.{name}.{param.name}", clip)
    return chosen


def _param_ui(param, default, key: str, clip: state.Clip):
    if param.kind == "frame":
        return _frame_ui(param, default, key, clip)
    if param.kind == "image":  # a picture of this clip's scene: kept with the clip
        kept = kept_upload_ui(param.label, state.IMAGE_TYPES, f"{key}.{clip.digest}",
                              lambda stored: bgcore.video.read_image(stored, photo=True),
                              use=param.help[0].lower() + param.help[1:].rstrip("."), help=param.help)
        return kept and kept[1]
    if param.choices is not None:
        default = default if default in param.choices else param.choices[0]
        return st.selectbox(param.label, param.choices, help=param.help, format_func=lambda v: str(v).capitalize(),
                            **state.keep(key, default))
    low, high = (int(param.low), int(param.high)) if param.whole else (float(param.low), float(param.high))
    default = min(max(default if isinstance(default, (int, float)) else low, low), high)
    return st.slider(param.label, low, high, help=param.help, **state.keep(key, default))


def _frame_ui(param, default, key: str, clip: state.Clip):
    """ "auto", or a frame number among the selected frames, with the frame shown."""
    if not st.toggle(f"{param.label}: choose it myself", help=param.help, **state.keep(key + ".own", False)):
        return "auto"
    indices = state.selected(clip)
    number = st.slider(param.label, 1, len(indices), **state.keep(key, 1, most=len(indices)))
    st.image(state.frame(clip, indices[number - 1]), caption=f"Frame {number}", width="stretch")
    return number - 1


def mask_options_ui(auto: float | None = None) -> bgcore.MaskOptions:
    """Threshold (auto or a number) and clean-up strength. ``auto``: the fitted model's automatic
    threshold, shown on the slider while it is in use, and where the slider starts when it is not."""
    threshold_ui(auto, "mask", help="Chosen from the clip: how much its background varies, at each "
                 "spot and overall.", waiting="The automatic threshold is set from the clip when its "
                 "background is removed.")
    st.select_slider("Clean-up", list(CLEANUP), help="Removes specks and fills holes in the mask.",
                     **state.keep("mask.cleanup", state.MASK_DEFAULTS["mask.cleanup"]))
    return mask_options()


def threshold_ui(auto: float | None, key: str, *, help: str, waiting: str) -> float | None:
    """An "Automatic threshold" toggle and its slider, kept under ``key``.auto and ``key``.threshold:
    while automatic, the slider shows ``auto`` (while that is unknown, ``waiting`` is said instead:
    no slider with a made-up value); switched off, the slider starts from it. Returns the threshold
    chosen, or None for automatic."""
    automatic = st.toggle("Automatic threshold", help=help, **state.keep(f"{key}.auto", True))
    if automatic and auto is None:
        st.caption(waiting)
        return None
    if automatic:  # to a tenth, as the captions and the histogram say it
        st.session_state[f"{key}.threshold"] = min(120.0, max(1.0, round(auto, 1)))
    st.slider("Threshold", 1.0, 120.0, step=0.1, format="%.1f", disabled=automatic,
              help="How different from the background a pixel must be to count as foreground, "
                   "in grey levels (0-255). Lower finds more, and more noise.",
              **state.keep(f"{key}.threshold", state.MASK_DEFAULTS["mask.threshold"]))
    return None if automatic else float(st.session_state[f"{key}.threshold"])


def mask_options() -> bgcore.MaskOptions:
    """The mask settings last chosen (the defaults before any choice), without drawing anything."""
    chosen = {key: st.session_state.get(key, default) for key, default in state.MASK_DEFAULTS.items()}
    opening, closing, tidy, min_area = CLEANUP[chosen["mask.cleanup"]]
    # float: a session saved before the slider took tenths holds 25, which the export's key told from 25.0
    return bgcore.MaskOptions(threshold="auto" if chosen["mask.auto"] else float(chosen["mask.threshold"]),
                              opening=opening, closing=closing, fill_holes=tidy, trim_outline=tidy,
                              min_area=min_area)


def require_clip_ui() -> state.Clip:
    """The session's clip, or a pointer to the clip page and the end of this run."""
    if state.clip() is None:
        st.info("Start with a clip: upload a video or take the sample.")
        page_link("clip", label="Choose a clip", icon=":material/upload:")
        st.stop()
    return state.clip()


def require_fit_ui() -> state.Fit:
    """The latest fit, or a pointer to the method page and the end of this run."""
    require_clip_ui()
    fit = state.current_fit()
    if job_running(None) and (fit is None or state.job().then == "results"):  # not the fit before
        queued = st.session_state["page.says_queued"] = state.job().stage == "queue"
        st.info("Waiting for the runs before this one on the server (the top says how long): this page fills in "
                "once the background is removed." if queued else
                "The background is being removed (its progress is at the top): this page fills in when it is done.",
                icon=":material/hourglass_top:")
        st.stop()
    if fit is None:
        st.info("Choose a method and remove the background first.")
        page_link("method", label="Choose a method", icon=":material/tune:")
        st.stop()
    return fit


def named(name: str, error: Exception) -> str:
    """``error``'s message about a stored upload (which bgcore names by its path or a role and
    path: "replacement 18dc2a27.png: ...") with the upload named as the person named it (Markdown)."""
    return f"{plain(name)}: {str(error).split(': ', 1)[-1]}"


def kept_upload_ui(label: str, types, key: str, check, *, use: str | None = None,
                   **options) -> tuple[str, str] | None:
    """A file uploader whose file is kept with the session's work once ``check(path)`` reads it:
    Streamlit forgets an uploader's file when a run does not draw it (another page, another choice
    beside it) and at a reload, and the next run went on without it (a photo of the empty scene:
    the fit took a frame of the clip instead). It stays until another file replaces it (one that
    fails the check too) or the person removes it. Returns its name (as the person named it) and
    stored path, or None: nothing kept, or the error of the file just uploaded in its place,
    naming it so. Checked once a file: a page's every rerun would decode the picture again (a 4K
    photo, a tenth of a second). ``use`` says, once a file is in use, what it does; ``options``
    go to ``st.file_uploader``."""
    st.file_uploader(label, type=list(types), key=key, on_change=_upload_changed, args=(key, check), **options)
    if error := st.session_state.get(f"{key}.error"):
        if st.session_state.get(key) is not None:  # (not over an empty uploader, on a return to the page)
            st.error(error, icon=":material/error:")
        return None
    kept = st.session_state.get(f"{key}.kept")  # (name, stored path)
    if not kept:
        return None
    if not Path(kept[1]).is_file():  # (the server's files were cleared)
        st.warning(f"{plain(kept[0])} is no longer on the server: upload it again.", icon=":material/warning:")
        state.choose(f"{key}.kept", None)
        return None
    if st.session_state.get(key) is None:  # the uploader shows no file (after a reload, another page): no ✕ there
        st.caption(f"In use: {plain(kept[0])}{', ' + use if use else ''}. Upload another file to replace it.")
        st.button("Stop using it", key=f"{key}.remove", icon=":material/close:", on_click=state.choose,
                  args=(f"{key}.kept", None))
    elif use:  # said in plain view what it does to the settings beside it ("replaces the reference frame")
        st.caption(f"In use: {use}.")
    return kept


def _upload_changed(key: str, check) -> None:
    upload, kept, error = st.session_state.get(key), None, None
    if upload is not None:
        path = state.store_upload(upload)
        try:
            check(path)
            kept = (upload.name, path)
        except bgcore.VideoError as failure:
            error = named(upload.name, failure)
    state.choose(f"{key}.kept", kept)
    st.session_state[f"{key}.error"] = error


def backdrop_check(path) -> None:
    """Read the first frame of a new background (a picture or a video), for :func:`kept_upload_ui`."""
    with closing(backdrops(path, (64, 48))) as frames:
        next(frames)


def plain(text: str) -> str:
    """``text`` (a file name) as Markdown that shows it as it is: bold, colours, links and
    formulas in an upload's name stay characters (Markdown lets a backslash escape any ASCII punctuation)."""
    return re.sub(f"([{re.escape(string.punctuation)}])", r"\\\1", text)


def clip_caption(clip: state.Clip) -> str:
    info = clip.info
    return (f"{plain(clip.name)} · {info.width}×{info.height} · {info.fps:g} fps · {info.frame_count} frames · "
            f"{info.duration:.1f} s")


TALLEST = 540
"""Pixels a picture or video of the clip stands at most on a page, where it takes a column's width:
a phone's upright clip stretched over a desktop's column stood 870 px tall over what followed it."""


def media_width(size) -> int | str:
    """``width`` for ``st.image`` or ``st.video`` of a picture of ``size`` (width, height): its
    column's, or for an upright one whatever keeps it ``TALLEST`` pixels tall (less on a phone,
    whose column is narrower)."""
    width, height = size
    return "stretch" if width >= height else max(120, round(TALLEST * width / height))


TWO_BY_TWO = """<style>
@media (max-width: 640px) {{
  .st-key-{key} [data-testid="stHorizontalBlock"] {{ flex-wrap: wrap; gap: 0.5rem; }}
  .st-key-{key} [data-testid="stColumn"] {{ width: calc(50% - 0.25rem) !important;
    min-width: calc(50% - 0.25rem) !important; flex: 0 0 calc(50% - 0.25rem) !important; }}
}}
</style>"""
"""Streamlit stacks columns into one below 640 px: four pictures then make a long column on a
phone. This keeps them two by two there (one row of four on wider screens)."""


def images_ui(images: dict, key: str) -> None:
    """Pictures side by side, each with its title as caption; two by two on a phone."""
    with st.container(key=key):
        st.html(TWO_BY_TWO.format(key=key))
        for column, (title, image) in zip(st.columns(len(images)), images.items()):
            column.image(image, caption=title, width="stretch")
