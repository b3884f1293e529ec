"""Step 2, the method: every method bgcore offers, its parameters, the mask settings, and the run."""

import streamlit as st

import bgcore
from bgcore.estimate import estimate
from ui import state
from ui.widgets import (PAGES, clip_caption, mask_options_ui, method_label, method_params_ui,
                        progress_ui, require_clip_ui, seconds_text)


def method_ui() -> str:
    """The methods, each with its plain-language summary; returns the chosen name."""
    names = list(bgcore.METHODS)
    chosen = st.radio("Method", names, format_func=method_label,
                      captions=[bgcore.METHODS[name].summary for name in names],
                      **state.keep("method", bgcore.DEFAULT_METHOD))
    if chosen == bgcore.DEFAULT_METHOD:
        st.success("Recommended: the most accurate on average over nine real clips whose answers "
                   "were drawn by hand (people, cars, boats, trees, water).", icon=":material/thumb_up:")
    st.caption("Every method expects a camera that stands still.")
    return chosen


def run_ui(clip: state.Clip, method: str, params: dict) -> None:
    """The button that fits the method, with a progress bar, then shows the results."""
    try:
        seconds = estimate(clip.info, method=method, **state.prep(clip)).seconds
        st.caption(f"About {seconds_text(seconds)} with this method: learning the background, then exporting "
                   "every frame.")
    except ValueError:  # a preparation that keeps no frames: the run says why
        pass
    if not st.button("Remove background", type="primary", icon=":material/auto_fix_high:", width="stretch"):
        return
    slot, progress = progress_ui()
    try:
        state.fit(clip, method=method, params=params, progress=progress)
    except ValueError as error:
        slot.empty()
        st.error(f"{error}", icon=":material/error:")
        return
    st.switch_page(PAGES["results"])


clip = require_clip_ui()
st.title("Choose a method")
st.caption(clip_caption(clip))
choice, settings = st.columns([3, 2], gap="large")
with choice:
    method = method_ui()
with settings.container(border=True):
    st.markdown("##### Settings")
    params = method_params_ui(method, clip)
    st.markdown("##### Mask")
    mask_options_ui()
    run_ui(clip, method, params)
