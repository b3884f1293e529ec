"""Step 4, export: every output of bgcore.outputs.OUTPUTS plays or shows here first, then
downloads, at the size chosen (by default the largest the server's memory allows); the transparent
videos (WebM for browsers, MOV for editors) once asked for, the composite over a new background once
its one-frame preview is approved."""

import re
from pathlib import Path

import streamlit as st

from bgcore.composite import BLUR, FITS
from bgcore.outputs import OPTIONS, OUTPUTS
from bgcore.pipeline import output_size
from ui import state
from ui.widgets import (backdrop_check, job_outcome_ui, job_running, kept_upload_ui, mask_options, media_width,
                        method_label, named, require_fit_ui)

# (Comments, not docstrings: Streamlit's magic would show a page's bare strings.)
COMPOSITE = "composite"  # made on request: it needs a new background
TRANSPARENT = "transparent"  # made on request: its VP9 encoder takes more memory than the others together
EDITOR = "editor"  # made on request, under the transparent video: only editors read it, and ProRes files are large
PLAYS = ("video/mp4", "video/webm")  # in a browser, which shows them on the page
DOWNLOAD_SHARE = 0.25  # of the server's memory, at most, that one download may take: Streamlit holds it whole
# Plain words for the outputs' options (bgcore.outputs.OPTIONS).
CHOICES = {"black": "Black", "white": "White", "green": "Green screen", "fill": "Fill (crop to cover)",
           "fit": "Fit (whole, with bars)", "stretch": "Stretch"}
OPTION_LABELS = {"behind": "Behind the subject", "fit": "If its shape differs from the clip's"}
KINDS = {"none": "None", "colour": "A colour", "blur": "The background, blurred", "file": "A picture or video"}
FORMATS = {".mp4": "MP4", ".webm": "WebM", ".mov": "MOV", ".png": "PNG", ".zip": "ZIP"}


def output_options(name: str) -> dict:
    """The options last chosen for an output (the first of each list before any choice), without
    drawing anything: its widgets come under it, once it is made (:func:`options_ui`)."""
    return {option: st.session_state.get(f"export.{name}.{option}", choices[0])
            for option, choices in OPTIONS.get(name, {}).items()}


def options_ui(name: str) -> None:
    """A choice for each of the output's options that has a list of them (foreground: behind)."""
    for option, choices in OPTIONS.get(name, {}).items():
        st.selectbox(OPTION_LABELS.get(option, option.capitalize()), choices, format_func=CHOICES.get,
                     **state.keep(f"export.{name}.{option}", choices[0]))


def backdrop_ui(fit: state.Fit, options) -> dict | None:
    """The new background (a colour, the blurred background, a picture or video) and its shape,
    a preview of one frame, and a button that makes the video; returns the composite's options
    once asked for, else None."""
    st.markdown("##### On a new background")
    kind = st.radio("New background", list(KINDS), format_func=KINDS.get, horizontal=True,
                    **state.keep("export.backdrop", "none"))
    chosen, shown = {"fit": "fill", "feather": 1.5}, KINDS[kind]
    if kind == "none":
        return None
    if kind == "colour":
        chosen["backdrop"] = st.color_picker("Colour", **state.keep("export.colour", "#00B140"))
    elif kind == "blur":
        chosen["backdrop"] = BLUR
    else:
        kept = kept_upload_ui("An image or a video to put behind the foreground", state.KNOWN_TYPES, "replacement",
                              backdrop_check)
        if kept is None:
            return None
        shown, chosen["backdrop"] = kept
        chosen["fit"] = st.radio(OPTION_LABELS["fit"], FITS, format_func=CHOICES.get,
                                 horizontal=True, **state.keep("export.fit", "fill"))
    if st.session_state.get("export.composite") == chosen:  # asked for (its preview went well): the video shows
        return chosen
    try:
        shown_at, picture = state.composite_preview(fit, mask_options=options, composite=chosen)
    except ValueError as error:  # a broken or huge upload: named as the user named it
        st.error(named(shown, error), icon=":material/error:")
        return None
    st.image(picture, caption=f"Preview: frame {shown_at + 1} of {len(fit.fitted.indices)}",
             width=media_width(fit.fitted.size))
    # A callback: it runs before the page's next run, which then draws no preview.
    st.button("Make the video on this background", type="primary", icon=":material/movie:",
              on_click=state.choose, args=("export.composite", chosen))
    return None


def output_ui(name: str, path: Path, shown_at: float, width) -> None:
    """The output shown as it is (a video plays from ``shown_at`` seconds, a picture shows), at
    ``width`` (:func:`media_width`), what it is, and its download."""
    output = OUTPUTS[name]
    if output.mime.startswith("video/"):
        st.markdown(f"##### {output.title}")
    if output.mime in PLAYS:
        st.video(str(path), format=output.mime, start_time=shown_at, width=width)
    elif path.suffix == ".png":
        st.image(str(path), width=width)
    st.caption(output.about())
    if name != COMPOSITE:  # the composite's are chosen above it, with the preview
        options_ui(name)
    mime = "application/zip" if path.suffix == ".zip" else output.mime
    size, limit = path.stat().st_size, state.memory_limit()
    named = f"{output.label} ({FORMATS[path.suffix]}) · {file_size(size)}"
    if limit is not None and size > DOWNLOAD_SHARE * limit:  # ProRes at 1080p: about 20 MB a second
        st.warning(f"{named}: too large to hand over from this server, which holds a download in its memory "
                   f"({limit / 2**20:,.0f} MB in all). Choose a smaller size above, or trim the clip on the "
                   "Clip page.", icon=":material/warning:")
        return
    # The file read when the button is clicked, not at every run of the page to be held for the
    # session: road-640x360's outputs take 3.2 MB, so at that rate the 3000 frames of 1080p the
    # app takes at most would hold about 200 MB of the server's memory. No rerun on a click: one
    # gave the button's file a new id, and a click in between (a second download) found none.
    st.download_button(named, path.read_bytes, file_name=f"{clip_stem()}_{path.name}", mime=mime,
                       type="primary" if name == "foreground" else "secondary", icon=":material/download:",
                       width="stretch", on_click="ignore")


def file_size(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 0.1 * 2**20 else f"{max(1, round(size / 2**10))} KB"


def clip_stem() -> str:
    """The clip's name without its extension, in characters every file system takes."""
    stem = re.sub(r"[^\w-]+", "-", Path(state.clip().name).stem).strip("-")
    return stem[:60] or "clip"


def size_ui(fit: state.Fit, exports) -> tuple[int, bool]:
    """The outputs' width, the clip's or less, by default the widest that the server's memory
    allows for each of ``exports``, and whether the one chosen needs more (a warning says so)."""
    size = fit.fitted.size
    widths = [size[0], *(width for width in state.EXPORT_WIDTHS if width < size[0])]
    if len(widths) == 1:  # a small clip: its own size
        return size[0], False
    width = st.selectbox("Size of the videos and images", widths, width=300,
                         format_func=lambda width: "{}×{}".format(*output_size(size, width))
                         + (" (the clip's)" if width == size[0] else ""),
                         help="Smaller ones take less time and memory to make.",
                         **state.keep(f"export.width.{state.clip().digest}", state.export_width(fit, exports, widths)))
    limit, need = state.memory_limit(), state.export_need(fit, exports, width)
    over = limit is not None and need > limit
    if over:
        st.warning(f"At this size the export needs about {need / 2**20:,.0f} MB of memory, more than this "
                   f"server has ({limit / 2**20:,.0f} MB): the app could stop, for everyone using it. "
                   "Choose a smaller size.", icon=":material/warning:")
    return width, over


def export_ui(fit: state.Fit, options, outputs: dict, width: int, over: bool) -> None:
    """The outputs not made yet: started now in a job, whose progress shows on top of every page;
    when it failed, its message; when the person stopped it, or the size is ``over`` the server's
    memory, a button to start it."""
    keys = state.export_keys(fit, mask_options=options, outputs=outputs, width=width)
    key, job = state.export_job(keys), state.job()
    if job_running(key):
        st.info("Exporting: the progress is at the top of the page. You can visit other pages meanwhile.",
                icon=":material/hourglass_top:")
    elif job_running(None):
        st.info("The export starts when the work in progress (at the top) is done.", icon=":material/hourglass_top:")
    elif job is not None and job.key == key and job.error:
        job_outcome_ui("export", key)
    else:
        stopped = job is not None and job.key == key and job.stopped  # not again by itself, even after a reload
        if stopped:
            st.info("The export was stopped.", icon=":material/stop_circle:")
        if not (stopped or over) or st.button("Export again" if stopped else "Export at this size anyway",
                                              icon=":material/replay:" if stopped else ":material/warning:"):
            state.start_export(fit, mask_options=options, outputs=outputs, width=width, origin="export")
            st.rerun()  # the progress on top


def request_ui(name: str, asked: str) -> None:
    """What an output made on request is, and the button that asks for it (sets ``asked``)."""
    output = OUTPUTS[name]
    st.markdown(f"##### {output.title}")
    st.caption(output.about())
    st.button(f"Make the {output.label.lower()}", icon=":material/layers:", width="stretch",
              on_click=state.choose, args=(asked, True))


def caption(fitted, width: int) -> str:
    """The method and the videos' frames, rate and length; the trimmed part's place in the clip, when
    the clip is trimmed (in its frames' own times: a phone's frame rate varies)."""
    indices, info = fitted.indices, fitted.info
    start, rate, shown = fitted.timing()
    frames = len(indices) if shown is None else int(shown.sum())
    seconds = frames / rate
    part = (f" (from {start:.1f} s to {start + seconds:.1f} s of the clip)"
            if indices.start > 0 or indices.stop < info.frame_count else "")
    varying = ("" if frames == len(indices) else
               f" The clip's {len(indices):,} frames come at a varying rate: the videos show a frame again where "
               f"it slowed, as editors do, and the masks' zip holds one PNG for each of the {len(indices):,}.")
    return (f"{method_label(fitted.method)} · {frames:,} frames at {round(rate, 2):g} fps, "
            "{}×{}, {:.1f} s{}.{}".format(*output_size(fitted.size, width), seconds, part, varying))


fit = require_fit_ui()
st.title("Export")
names = [name for name in OUTPUTS if name != COMPOSITE]
asked = {name: f"export.{name}.{state.clip().digest}" for name in (TRANSPARENT, EDITOR)}  # once a clip, like its size
made = [name for name in names if name not in asked or st.session_state.get(asked[name])]
described = st.empty()
# The outputs made on request each made alone once asked for, after the others.
width, over = size_ui(fit, [made, *([name] for name in asked if name not in made)])
described.caption(caption(fit.fitted, width))
status = st.container()
videos = [name for name in names if OUTPUTS[name].mime in PLAYS]
columns = dict(zip(videos, st.columns(len(videos), gap="medium")))
columns[EDITOR] = columns[TRANSPARENT]
stills, new_background = st.columns([1, 2], gap="medium")
options = mask_options()
chosen = {name: output_options(name) for name in made}
with new_background:
    composite = backdrop_ui(fit, options)
if composite is not None:
    chosen[COMPOSITE] = composite
paths = state.exported(fit, mask_options=options, outputs=chosen, width=width)
if len(paths) < len(chosen):
    with status:
        export_ui(fit, options, chosen, width, over)
# The videos start near the frame with the most foreground that the Results page shows first (at
# the whole second before it: Streamlit's start time): from their first frame, a clip that starts
# empty (road-640x360) looked as if nothing was found. Not in their last second, though, where a
# player looks played to its end (bmc-video003's busiest frame is its last).
shown_at = 0.0
if any(name in columns for name in paths):
    last = fit.fitted.shown_at(len(fit.fitted.indices) - 1)
    shown_at = min(fit.fitted.shown_at(state.busiest(fit, options)), max(0.0, last - 1))
if any(name not in columns and name != COMPOSITE for name in paths):
    stills.markdown("##### Background and masks")  # on a phone, under the foreground: not a part of it
for name in OUTPUTS:  # in its order: the WebM over the MOV in their column, asked for or not
    with columns.get(name, new_background if name == COMPOSITE else stills):
        if name in paths:
            output_ui(name, paths[name], shown_at, media_width(fit.fitted.size))
        elif name in chosen and name in OPTIONS and name != COMPOSITE:  # made again for an option just chosen
            st.markdown(f"##### {OUTPUTS[name].title}")
            st.caption("Being made with the option below: the progress is at the top of the page.")
            options_ui(name)  # still there, to change one's mind
        elif name in asked and name not in chosen:
            request_ui(name, asked[name])
