"""Compare methods: two to four on the same clip, the same frame side by side with each one's time
and, where the truth is known (the sample, or the user's own masks), its F-measure; one click then
exports the chosen one."""

import streamlit as st

import bgcore
from bgcore import plots
from ui import state
from ui.widgets import defaults, job_outcome_ui, job_running, mask_options, method_label, plain, require_clip_ui, switch_page

MOST = 4


def methods_ui() -> list[str]:
    names = list(bgcore.METHODS)
    return st.multiselect("Methods to compare (two to four)", names, format_func=method_label,
                          max_selections=MOST, **state.keep("compare.methods", names[:2]))


def truth_ui(clip: state.Clip) -> state.Truth | None:
    """The clip's ground truth by frame index: the sample's exact masks, or a zip of the user's."""
    if state.is_sample(clip):
        st.caption("The sample's true masks are known exactly: each method gets its F-measure "
                   "(1 is perfect).")
        return state.sample_truth()
    upload = st.file_uploader("Your own true masks (optional): a zip of mask images, white on black, "
                              "numbered like the frames (mask_0001.png is the first frame)",
                              type=["zip"], key="compare.truth")
    if upload is None:
        return None
    try:
        truth = state.truth_from_zip(upload.name, upload.getvalue())
    except ValueError as error:
        st.error(plain(str(error)), icon=":material/error:")
        return None
    size = (clip.info.height, clip.info.width)
    wrong = next((mask.shape for mask in truth.masks.values() if mask.shape != size), None)
    if wrong is not None:
        st.error(f"{plain(upload.name)}: masks of {wrong[1]}×{wrong[0]} for a clip of {size[1]}×{size[0]}: "
                 "give masks of the clip's own size.", icon=":material/error:")
        return None
    if not any(0 <= index < clip.info.frame_count for index in truth.masks):
        numbers = sorted(truth.masks)
        st.error(f"{plain(upload.name)}: its {len(numbers)} masks are numbered from {numbers[0] + 1} to "
                 f"{numbers[-1] + 1}, and the clip has frames 1 to {clip.info.frame_count}: number the masks "
                 "like the frames (mask_0001.png is the first).", icon=":material/error:")
        return None
    return truth


def fits_ui(clip: state.Clip, names: list[str]) -> list[state.Fit] | None:
    """Each method fitted with its defaults, after a click, in a job (its progress on top of every
    page); from the session's store once they are all there. Comparing is not choosing: Results and
    Export keep their fit."""
    runs = [(name, defaults(bgcore.METHODS[name]), method_label(name)) for name in names]
    keys = tuple(state.fit_key(clip, name, params) for name, params, _ in runs)
    fits = state.fits(keys)
    if fits is not None:
        return fits
    if job_running(keys):
        st.info("Comparing: the progress is at the top of the page.", icon=":material/hourglass_top:")
        return None
    busy = job_running(None)
    if st.button("Compare", type="primary", icon=":material/compare:", disabled=busy,
                 help="Wait for the work in progress, or stop it (at the top)." if busy else None):
        try:
            state.start_fits(clip, runs, title="Comparing methods", origin="compare", choose=False)
        except ValueError as error:
            st.error(f"{error}", icon=":material/error:")
            return None
        st.rerun()  # the progress on top
    job_outcome_ui("compare", keys)
    return None


# On a phone each method's mask and foreground side by side, not one under the other: with the
# methods stacked, two of them took four screens.
PAIR = """<style>
@media (max-width: 640px) {{
  .st-key-{key} {{ flex-direction: row !important; gap: 0.5rem; }}
  .st-key-{key} > [data-testid="stElementContainer"] {{ flex: 1 1 0; min-width: 0; }}
}}
</style>"""


def side_by_side_ui(clip: state.Clip, fits: list[state.Fit], truth: state.Truth | None) -> None:
    options = mask_options()
    indices = fits[0].fitted.indices
    # Where the first method found the most, as the Results page opens (the middle frame may be empty)
    number = st.slider("Frame", 1, len(indices), **state.keep("compare.frame", state.busiest(fits[0], options) + 1,
                                                               most=len(indices)))
    frame = state.frame(clip, indices[number - 1])
    for place, (column, fit) in enumerate(zip(st.columns(len(fits)), fits)):
        views = plots.frame_views(fit.fitted, frame, options)
        with column.container(border=True):
            st.markdown(f"**{method_label(fit.fitted.method)}**")
            facts = [f"{sum(fit.fitted.seconds.values()):.1f} s to fit"]
            if truth is not None:
                scores = state.scores(fit.key, options, truth.key, fit, truth)
                facts.append("no true mask in these frames" if scores is None
                             else f"F-measure {scores['f_measure']:.3f}")
            st.caption(" · ".join(facts))
            with st.container(key=f"compare-views-{place}"):
                st.html(PAIR.format(key=f"compare-views-{place}"))
                st.image(views["Mask"], caption="Mask", width="stretch")
                st.image(views["Foreground"], caption="Foreground", width="stretch")
            if st.button("Export this one", key=f"compare.export.{fit.key}", icon=":material/download:",
                         width="stretch"):
                state.choose_fit(fit.key)
                switch_page("export")


clip = require_clip_ui()
st.title("Compare methods")
st.caption("Run several methods on the same clip and see the same frame side by side.")
names = methods_ui()
truth = truth_ui(clip)
if len(names) < 2:
    st.info("Pick at least two methods.", icon=":material/info:")
    st.stop()
fits = fits_ui(clip, names)
if fits:
    side_by_side_ui(clip, fits, truth)
