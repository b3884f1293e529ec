"""Step 3, the results: the background, one frame taken apart, why pixels became foreground, and
what the method learned."""

import altair as alt
import pandas as pd
import streamlit as st

from bgcore import plots
from ui import state
from ui.widgets import (images_ui, job_outcome_ui, mask_options_ui, media_width, method_label, page_link,
                        require_fit_ui, switch_page)

COMPONENTS = 4
NOTHING = 0.001  # a share of the looked-at pixels under which the page says nothing was found (an empty or still scene)


def frame_ui(fit: state.Fit, options) -> None:
    """A frame scrubber and that frame's original, background, mask and foreground side by side."""
    fitted = fit.fitted
    count = len(fitted.indices)
    first = state.busiest(fit, options) + 1
    number = st.slider("Frame", 1, count, **state.keep(f"frame.{fit.key}", first))
    frame = state.frame(state.clip(), fitted.indices[number - 1])
    images_ui(plots.frame_views(fitted, frame, options), key="frame-views")


def histogram_ui(fit: state.Fit, options) -> None:
    histogram = plots.difference_histogram(state.differences(fit.fitted, fit.key), fit.fitted.threshold(options))
    st.markdown("##### Why pixels became foreground")
    st.caption(f"How far each pixel is from the background, on {len(state.looked_at(len(fit.fitted.indices)))} "
               "frames spread over the "
               f"clip. Pixels right of the threshold ({histogram['threshold']:.1f}) are foreground before the "
               f"clean-up: {histogram['foreground_share']:.1%} of them.")
    if histogram["foreground_share"] < NOTHING:
        st.info("Hardly anything differs from the background: if something moves in this clip, it looks much "
                "like what is behind it. Turn off the automatic threshold and lower it to find it.",
                icon=":material/visibility_off:")
    bars = alt.Chart(pd.DataFrame({k: histogram[k] for k in ("left", "right", "count")})).mark_bar().encode(
        x=alt.X("left", title="Difference from the background (grey levels)"), x2="right",
        # Ticks at each power of ten: symlog's own are 0 and the top alone.
        y=alt.Y("count", title="Pixels (log scale)", scale=alt.Scale(type="symlog"),
                axis=alt.Axis(values=[0, *(10**power for power in range(1, 9))], format=",d")), y2=alt.datum(0))
    st.altair_chart(bars + _rule(histogram["threshold"], "threshold"), width="stretch", height=280)


def spectrum_ui(fit: state.Fit) -> None:
    """The SVD's singular values, energy, U components and V rows, when the model has them."""
    rank = fit.fitted.params.get("rank", 1)
    spectrum = plots.spectrum(fit.fitted.model, rank)
    if spectrum is None:
        return
    st.markdown("##### The SVD, component by component")
    first = ("The first component forms the background and holds" if rank == 1
             else f"The first {rank} components form the background and hold")
    st.caption(f"{first} {spectrum['energy_at_rank']:.2%} of the clip's energy (sum of squares).")
    values = pd.DataFrame({k: spectrum[k] for k in ("component", "singular_value", "energy")})
    left, right = st.columns(2)
    left.altair_chart(_points(values, "singular_value", "Singular value (log scale)", "log") + _rule(rank, "rank"),
                      width="stretch")
    right.altair_chart(_points(values, "energy", "Energy captured by the first k", "linear", ".1%")
                       + _rule(rank, "rank"), width="stretch")
    images = plots.component_images(fit.fitted.model, COMPONENTS)
    st.caption("The first U components as images: each is a picture the frames are mixed from; with two "
               "scenes in one clip, each shows up in its own component.")
    images_ui({f"U{number}": image for number, image in enumerate(images, start=1)}, key="components")
    weights = plots.component_weights(fit.fitted, COMPONENTS)
    st.caption("The V rows: how much of each component every frame holds over time (a step is a change of scene).")
    st.line_chart(pd.DataFrame(weights["weights"], index=pd.Index(weights["seconds"], name="seconds"),
                               columns=[f"V{i}" for i in range(1, weights["weights"].shape[1] + 1)]),
                  x_label="Time (s)", y_label="Weight")


def details_ui(fit: state.Fit) -> None:
    """Whatever else the model learned: numbers, bars and images, found without knowing the method."""
    details = plots.model_details(fit.fitted.model)
    pictures = {param.name for param in type(fit.fitted.model).params if param.kind == "image"}
    settings = ", ".join(f"{name} {'(your photo)' if name in pictures else value}"  # not its path on the server
                         for name, value in fit.fitted.params.items() if value is not None)
    with st.expander("Advanced: the method's settings and what it learned"):
        st.caption(f"{fit.fitted.model.technical or fit.fitted.method}"
                   + (f"; settings: {settings}." if settings else "."))
        for column, detail in zip(st.columns(max(min(len(details), 3), 1)) * len(details), details):
            if detail.kind == "number":
                column.metric(detail.title, f"{detail.value:g}")
            elif detail.kind == "bars":
                column.caption(detail.title)
                column.bar_chart(pd.DataFrame({detail.title: detail.value},
                                              index=pd.RangeIndex(1, len(detail.value) + 1, name="#")))
            else:
                column.image(detail.value, caption=detail.title, width="stretch")


def _points(values, field: str, title: str, scale: str, axis_format: str = "~s"):
    return alt.Chart(values).mark_line(point=True).encode(
        x=alt.X("component:Q", title="Component k", axis=alt.Axis(tickMinStep=1)),
        y=alt.Y(field, title=title, scale=alt.Scale(type=scale, zero=False), axis=alt.Axis(format=axis_format)))


def _rule(value: float, label: str):
    # To a tenth, as the threshold's caption says it (9.55 was "9.55" here and "9.5" there).
    marker = pd.DataFrame({"at": [value], "label": [f"{label} {round(value, 1):g}"]})
    base = alt.Chart(marker).encode(x="at:Q")
    return base.mark_rule(color="#e4572e", strokeWidth=2) + base.mark_text(
        align="left", dx=4, dy=-6, color="#e4572e", baseline="top").encode(text="label", y=alt.value(0))


if job_outcome_ui("method"):  # the fit this page was to show failed (why) or was stopped; job_ui tells the other pages
    if state.current_fit() is None:
        page_link("method", label="Back to the method", icon=":material/tune:")
        st.stop()
    st.caption("Below: the results of the last run that worked.")
fit = require_fit_ui()
fitted = fit.fitted
if (job := state.job()) is not None and job.ok and job.then == "results":
    # It ended while this run drew its progress (job_ui, above): its results are shown here now,
    # and not again by a switch from the Method page (Back to it took the person forward to here).
    state.clear_job(job)
st.title("Results")
facts = [method_label(fitted.method), f"{len(fitted.indices):,} frames",
         f"fitted in {sum(fitted.seconds.values()):.1f} s"]
if fitted.stabilizer is not None:  # bgcore.stabilize
    facts.append("the camera shook: each frame was held on the view of the middle one")
st.caption(" · ".join(facts))
plate, adjust = st.columns([3, 2], gap="large")
with adjust:
    st.markdown("##### Adjust the mask")
    options = mask_options_ui(fitted.model.auto_threshold_)
    st.caption(f"Threshold in use: {fitted.threshold(options):.1f} (automatic: "
               f"{fitted.model.auto_threshold_:.1f}). Changing these does not recompute the background.")
    # The way on stands out, as on the pages before (a link here read as a footnote).
    if st.button("Export the videos", type="primary", icon=":material/download:"):
        switch_page("export")
plate.image(fitted.background_image(), caption="The background plate", width=media_width(fitted.size))
if fitted.method != "reference":  # no method learns what was hidden in most frames: a photo shows it
    plate.caption(f"Someone in the plate? They were in view for most of the clip. On the Method page, "
                  f"“{method_label('reference')}” uses a photo of the scene without them.")
st.markdown("##### Frame by frame")
frame_ui(fit, options)
histogram_ui(fit, options)
spectrum_ui(fit)
details_ui(fit)
