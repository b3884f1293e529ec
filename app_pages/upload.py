"""Step 1, the clip: an upload or the sample, a preview, its facts and how to prepare it."""

import math
from pathlib import Path

import streamlit as st

from bgcore.pipeline import WORKING_PIXELS
from ui import state
from ui.widgets import estimate_text, images_ui, media_width, plain, switch_page

SCALES = ("auto", 1.0, 0.75, 0.5, 0.25)
HOW_IT_WORKS = """
A camera that stands still sees the same background in every frame; what moves in front of it is
the foreground. The app learns the background from many frames of the clip, for example as each
pixel's typical value over time, or as the simplest part of the video seen as one big matrix (a
low-rank SVD). Every pixel that differs from that background by more than a threshold becomes
foreground, and a clean-up removes specks and fills holes. Best results: a fixed camera, steady
light, and people or things that keep moving.
"""


def source_ui() -> None:
    """The uploader and the sample button; loads what the user picks (the sample moves on to the
    method page at once: it needs no preparation)."""
    upload_column, sample_column = st.columns([3, 2], gap="large")
    upload = upload_column.file_uploader(
        # Pictures too: the page says why one is not a clip, where the uploader said it only to a mouse.
        "Upload a video", type=[*state.VIDEO_TYPES, "zip", *state.IMAGE_TYPES],
        help="MP4, MOV, AVI, MKV, WebM, MTS, WMV, MPG, GIF… or a zip of the frames as numbered images.")
    try:
        if upload is not None and upload.file_id != st.session_state.get("upload_id"):
            st.session_state.upload_error = None
            with st.spinner("Reading the clip…"):
                state.load_upload(upload.name, upload.getvalue())
            # Marked as read once read: a run stopped before (another rerun came) reads it again.
            st.session_state.upload_id = upload.file_id
    except ValueError as error:
        if upload is not None:
            st.session_state.upload_id = upload.file_id
        st.session_state.upload_error = str(error)
    if upload is not None and st.session_state.get("upload_error"):
        still = "" if state.clip() is None else f" The clip in use is still {state.clip().name}, below."
        # Under the uploader (on a phone, above the sample's button); plain: it may name the file
        upload_column.error(plain(st.session_state.upload_error + still), icon=":material/error:")
    with sample_column:
        if sample_ui():
            with st.spinner("Preparing the sample…"):
                state.load_sample()
            switch_page("method")


def sample_ui() -> bool:
    """The sample's button, quieter once the person's own clip is in (drawn after the upload is
    read, so that it says so at once); whether the sample is to replace the clip. The person's
    clip, its results and videos go with it: one tap too many on a phone, where the button sits
    under the upload, took them all, so the sample asks first."""
    st.markdown("**No video at hand?** Try a 10-second sample with five moving shapes.")
    current = state.clip()
    own = current is not None and not state.is_sample(current)
    sample = st.button("Use the sample clip", key="sample.use", type="secondary" if own else "primary",
                       icon=":material/play_circle:")
    # Asked about this clip: not about the next one the person uploads instead of answering.
    if not own or not (sample or st.session_state.get("sample.confirm") == current.digest):
        return sample
    st.session_state["sample.confirm"] = current.digest
    st.warning(f"The sample replaces {plain(current.name)}, its results and its videos: to work on it "
               "again, you would upload it again.", icon=":material/warning:")
    replace, keep = st.columns(2)
    sample = replace.button("Use the sample", type="primary", width="stretch")
    kept = keep.button(f"Keep {plain(current.name)}", width="stretch")
    if sample or kept:
        del st.session_state["sample.confirm"]
    if kept:
        st.rerun()
    return sample


def prepare_ui(clip: state.Clip) -> dict:
    """Trim, frame rate and working scale; returns them as keyword arguments of bgcore.fit_clip."""
    info, key = clip.info, f"prep.{clip.digest}"
    step, shown = (0.1, "%.1f") if info.duration >= 2 else (0.01, "%.2f")
    # Its end on a step (12.5 for 12.47 s), so that it can be dragged back to; shown as the duration is.
    duration = round(math.ceil(round(info.duration / step, 6)) * step, 2)
    trim, rate, size = st.columns([2, 1, 1])
    start, end = trim.slider("Trim (seconds)", 0.0, duration, step=step, format=shown,
                             help="Keep only this part of the clip.", **state.keep(f"{key}.trim", (0.0, duration)))
    rates, first = state.frame_rates(info), state.first_fps(info)
    kept = state.keep(f"{key}.fps", "original" if first is None else int(first))
    chosen = st.session_state[f"{key}.fps"]  # one no longer offered, kept from before: still offered
    fps = rate.selectbox("Frame rate", ["original", *rates, *([chosen] if chosen not in ("original", *rates) else [])],
                         format_func=lambda f: f"Original ({round(info.fps, 2):g} fps)" if f == "original"
                         else f"{round(rates.get(f, f), 1):g} fps",
                         help="Fewer frames a second: quicker, and a smaller file.", **kept)
    scale = size.selectbox("Working scale", SCALES, format_func=lambda s: "Automatic" if s == "auto" else f"{s:.0%}",
                           help="The size at which the background is learned and the masks are made; the "
                                f"videos keep the clip's size. Automatic: about {WORKING_PIXELS:,} pixels a "
                                "frame (a third of 1280x720), within 256 MB of memory.", **state.keep(f"{key}.scale", "auto"))
    if first is not None and fps == first:
        st.caption(f"At its own {round(info.fps, 2):g} fps the clip has {info.frame_count:,} frames, more than "
                   f"the {state.MAX_FRAMES:,} the app processes at once: it is processed at {round(rates[fps], 1):g} "
                   f"fps. To keep every frame, trim it to {math.floor(round(state.longest_trim(clip), 3)):,} s or less "
                   "and choose “Original”.")
    return {"start": start, "end": None if end >= duration else end,
            "fps": None if fps == "original" else float(fps), "scale": scale}


def clip_ui(clip: state.Clip) -> None:
    """Preview, facts, preparation with its cost, and the way on."""
    st.subheader(plain(clip.name), anchor=False)
    preview, facts = st.columns([3, 2], gap="large")
    player = preview.empty()  # filled once the trim is known: the preview plays the trimmed part
    if clip.info.duration > state.PREVIEW_SECONDS:
        preview.caption(f"The preview shows the first {state.PREVIEW_SECONDS // 60} minutes.")
    info = clip.info
    images = Path(clip.source).is_dir()
    shown = [("Size", f"{info.width}×{info.height}", None),
             ("Frame rate", f"{info.fps:g} fps", "Still images have no frame rate of their own: the videos made "
              f"from them play {info.fps:g} images a second." if images else None),
             ("Frames", f"{info.frame_count:,}", None), ("Duration", f"{info.duration:.1f} s", None)]
    for pair in (shown[:2], shown[2:]):  # two a row, on a phone too (columns stack there, one a row)
        with facts.container(horizontal=True, gap="small"):
            for label, value, help in pair:
                st.metric(label, value, help=help, width=170)  # 1920×1080 fits
    st.markdown("##### Prepare")
    chosen = prepare_ui(clip)
    state.set_prep(clip, **chosen)
    # Whole seconds, as Streamlit takes them (it cut 1.2-1.8 s to 1-1 and refused it): the trim's or a little more.
    start, end = int(min(chosen["start"], state.PREVIEW_SECONDS)), chosen["end"]
    player.video(clip.preview, start_time=start, width=media_width(clip.info.size),
                 end_time=None if end is None or end >= state.PREVIEW_SECONDS else max(math.ceil(end), start + 1))
    try:
        state.selected(clip)
        cost = state.cost(clip)
    except ValueError as error:
        st.error(str(error), icon=":material/error:")
        return
    trimmed = (chosen["end"] or info.duration) - chosen["start"]
    st.caption(f"{cost.frames:,} frames to process ({trimmed:.1f} s) · the background is learned from {cost.sample_frames} of them "
               f"at {cost.scale:.0%} size, about {max(1, cost.memory / 2**20):,.0f} MB of memory · about "
               f"{estimate_text(cost.seconds)} in all with the recommended method")
    if st.button("Next: choose a method", type="primary", icon=":material/arrow_forward:"):
        switch_page("method")


def how_it_works_ui() -> None:
    text, pictures = st.columns([2, 3], gap="large")
    text.markdown("#### How it works")
    text.markdown(HOW_IT_WORKS)
    views = state.how_it_works()
    with pictures:
        images_ui({title: views[title] for title in ("Original", "Background", "Mask")}, key="how-it-works")


st.title("Remove the background from a video")
source_ui()
if state.clip() is not None:
    clip_ui(state.clip())
st.divider()
how_it_works_ui()
