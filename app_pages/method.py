"""Step 2, the method: every method bgcore offers, its parameters, the mask settings, and the run."""

import streamlit as st

import bgcore
from ui import state
from ui.widgets import (clip_caption, estimate_text, job_outcome_ui, job_running, mask_options_ui, method_label,
                        method_params_ui, require_clip_ui, switch_page)

# Streamlit stacks columns into one below 640 px: on a phone the button came after the eight
# methods' descriptions, two screens down. There the settings and the button come first: the
# recommended method is already chosen, and the list follows for whoever wants another.
SETTINGS_FIRST = """<style>
@media (max-width: 640px) {
  [data-testid="stColumn"]:has(.st-key-method-settings) { order: -1; }
}
</style>"""


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
    """The button that fits the method in a job and moves on to the results page, which shows its
    progress and then the results (at once when these settings were fitted before)."""
    try:
        seconds = state.cost(clip, method).seconds
        # The method named: on a phone this comes before the list of methods.
        st.caption(f"About {estimate_text(seconds)} with “{method_label(method)}”: learning the "
                   "background, then exporting every frame.")
    except ValueError:  # a preparation that keeps no frames: the run says why
        pass
    busy = job_running(None)
    if not st.button("Remove background", type="primary", icon=":material/auto_fix_high:", width="stretch",
                     disabled=busy, help="Wait for the work in progress, or stop it (at the top)." if busy else None):
        job_outcome_ui("method", (state.fit_key(clip, method, params),))  # of these settings (this photo)
        return
    try:
        state.start_fits(clip, [(method, params, method_label(method))], title="Removing the background",
                         origin="method", then="results")
    except ValueError as error:
        st.error(f"{error}", icon=":material/error:")
        return
    # The results page at once, its progress on top, where the results fill in: a switch of pages
    # when the job ends raced the progress's polling and sometimes left a blank page.
    switch_page("results")


clip = require_clip_ui()
st.title("Choose a method")
st.caption(clip_caption(clip))
st.html(SETTINGS_FIRST)
choice, settings = st.columns([3, 2], gap="large")
with choice:
    method = method_ui()
with settings.container(border=True, key="method-settings"):
    st.markdown("##### Settings")
    params = method_params_ui(method, clip)
    st.markdown("##### Mask")
    fitted = state.fits([state.fit_key(clip, method, params)])  # these settings fitted before, or None
    mask_options_ui(fitted[0].fitted.model.auto_threshold_ if fitted else None)
    run_ui(clip, method, params)
