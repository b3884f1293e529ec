"""Step 4, export: the videos play here first, then download; a composite over a new background
when bgcore offers one."""

import re
from pathlib import Path

import streamlit as st

from ui import state
from ui.widgets import job_error_ui, job_running, mask_options, method_label, require_fit_ui


def replacement_ui() -> str | None:
    """An upload of a new background (image or video); returns its stored path."""
    upload = st.file_uploader("New background (optional): an image or a video to put behind the foreground",
                              type=list(state.KNOWN_TYPES), key="replacement")
    return state.store_upload(upload.name, upload.getvalue()) if upload else None


def download_ui(out: Path, name: str, label: str, mime: str, *, primary: bool = False) -> None:
    """A download of ``out / name``, saved as ``<clip>_<name>`` (walk_foreground.mp4), with its size."""
    path = out / name
    st.download_button(f"{label} · {file_size(path.stat().st_size)}", path.read_bytes(),
                       file_name=f"{clip_stem()}_{name}", mime=mime, type="primary" if primary else "secondary",
                       icon=":material/download:", width="stretch")


def file_size(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 0.1 * 2**20 else f"{max(1, round(size / 2**10))} KB"


def clip_stem() -> str:
    """The clip's name without its extension, in characters every file system takes."""
    stem = re.sub(r"[^\w-]+", "-", Path(state.clip().name).stem).strip("-")
    return stem[:60] or "clip"


def video_ui(out: Path, name: str, title: str, label: str, mime: str, *, primary: bool = False) -> None:
    st.markdown(f"##### {title}")
    st.video(str(out / name), format=mime)
    download_ui(out, name, label, mime, primary=primary)


def export_ui(fit: state.Fit, replacement: str | None) -> Path:
    """The export of these inputs: ready, or started now in a job, whose progress shows on top of
    every page; when it failed, its message; when the person stopped it, a button to start again."""
    options = {"mask_options": mask_options(), "replacement": replacement}
    out = state.exported(fit, **options)
    if out is not None:
        return out
    key, job = state.export_key(fit, **options), state.job()
    if job_running(key):
        st.info("Exporting: the progress is at the top of the page. You can visit other pages meanwhile.",
                icon=":material/hourglass_top:")
    elif job_running(None):
        st.info("The export starts when the work in progress (at the top) is done.", icon=":material/hourglass_top:")
    elif job is not None and job.key == key and job.error:
        job_error_ui("export", key)
    else:
        stopped = job is not None and job.key == key and job.stopped  # not again by itself, even after a reload
        if stopped:
            st.info("The export was stopped.", icon=":material/stop_circle:")
        if not stopped or st.button("Export again", icon=":material/replay:"):
            state.start_export(fit, origin="export", **options)
            st.rerun()  # the progress on top
    st.stop()


fit = require_fit_ui()
st.title("Export")
st.caption(f"{method_label(fit.fitted.method)} · {len(fit.fitted.indices):,} frames at "
           f"{fit.fitted.fps:g} fps, {fit.fitted.size[0]}×{fit.fitted.size[1]}.")
videos = st.columns(3, gap="medium")
stills, composite = st.columns([1, 2], gap="medium")
with composite:
    replacement = replacement_ui()
out = export_ui(fit, replacement)

with videos[0]:
    video_ui(out, "foreground.mp4", "Foreground", "Foreground video (MP4)", "video/mp4", primary=True)
with videos[1]:
    video_ui(out, "mask.mp4", "Mask", "Mask video (MP4)", "video/mp4")
with videos[2]:
    video_ui(out, "foreground.webm", "Transparent", "Transparent video (WebM)", "video/webm")
    st.caption("VP9 with an alpha channel: the background is see-through in editors and browsers that "
               "support it.")
with stills:
    st.markdown("##### Background and masks")
    st.image(str(out / "background.png"), width="stretch")
    download_ui(out, "background.png", "Background image (PNG)", "image/png")
    download_ui(out, "masks.zip", "Masks, one PNG a frame (ZIP)", "application/zip")
if (out / "composite.mp4").exists():
    with composite:
        video_ui(out, "composite.mp4", "On the new background", "Composite video (MP4)", "video/mp4")
