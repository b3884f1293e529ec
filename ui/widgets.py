"""Widgets more than one page draws. ``*_ui`` functions draw and return plain values."""

from __future__ import annotations

import inspect
import re
import string

import streamlit as st

import bgcore
from ui import state

STAGES = {"queue": "Waiting: another run on this server goes first", "probe": "Reading the clip",
          "sample": "Decoding frames", "fit": "Fitting the background", "apply": "Encoding the videos"}
CLEANUP = {
    # strength: (opening radius, closing radius, fill holes and trim outlines, smallest blob in
    # pixels), working scale
    "Off": (0, 0, False, 0),
    "Light": (1, 1, True, 10),
    "Medium": (1, 2, True, 30),
    "Strong": (2, 3, True, 120),
}
MASK_DEFAULTS = {"mask.auto": True, "mask.threshold": 30, "mask.cleanup": "Medium"}
PAGES = {"clip": "pages/upload.py", "method": "pages/method.py", "results": "pages/results.py",
         "export": "pages/export.py", "compare": "pages/compare.py", "live": "pages/live.py"}


def progress_ui():
    """A slot for a progress bar and the ``progress(stage, fraction)`` callback that fills it with
    the stage's name; the bar appears with the first call (none when the work was cached)."""
    slot = st.empty()

    def progress(stage: str, fraction: float) -> None:
        slot.progress(min(max(fraction, 0.0), 1.0), text=STAGES.get(stage, stage.capitalize()))

    return slot, progress


def method_label(name: str) -> str:
    """A method's name in plain words ("svd" -> "Fastest: people passing by"); a method without
    one is named as in code ("svd" -> "SVD", "median" -> "Median": short names read as acronyms)."""
    return bgcore.METHODS[name].label or (name.upper() if len(name) <= 4 else name.capitalize())


def defaults(cls) -> dict:
    """A method's default parameters, read from its ``__init__``."""
    signature = inspect.signature(cls.__init__).parameters
    return {p.name: signature[p.name].default for p in cls.params if p.name in signature}


def method_params_ui(name: str, clip: state.Clip) -> dict:
    """A widget for each parameter of method ``name``, built from its ``params`` description: a
    frame or a photo in plain view, numbers and choices under "Advanced" with the technical name."""
    cls = bgcore.METHODS[name]
    start = defaults(cls)
    plain = [param for param in cls.params if param.kind != "value"]
    chosen = {param.name: _param_ui(param, start.get(param.name), f"param.{name}.{param.name}", clip)
              for param in plain}
    with st.expander("Advanced"):
        st.caption(f"Technical name: {cls.technical or name} (`{name}` on the command line).")
        for param in cls.params:
            if param not in plain:
                chosen[param.name] = _param_ui(param, start.get(param.name), f"param.{name}.{param.name}", clip)
    return chosen


def _param_ui(param, default, key: str, clip: state.Clip):
    if param.kind == "frame":
        return _frame_ui(param, default, key, clip)
    if param.kind == "image":
        upload = st.file_uploader(param.label, type=list(state.IMAGE_TYPES), help=param.help, key=key)
        return state.store_upload(upload.name, upload.getvalue()) if upload else None
    if param.choices is not None:
        default = default if default in param.choices else param.choices[0]
        return st.selectbox(param.label, param.choices, help=param.help, format_func=lambda v: str(v).capitalize(),
                            **state.keep(key, default))
    whole = all(isinstance(v, int) for v in (param.low, param.high))
    low, high = (int(param.low), int(param.high)) if whole else (float(param.low), float(param.high))
    default = min(max(default if isinstance(default, (int, float)) else low, low), high)
    return st.slider(param.label, low, high, help=param.help, **state.keep(key, default))


def _frame_ui(param, default, key: str, clip: state.Clip):
    """ "auto", or a frame number among the selected frames, with the frame shown."""
    if not st.toggle(f"{param.label}: choose it myself", help=param.help, **state.keep(key + ".own", False)):
        return "auto"
    indices = state.selected(clip)
    number = st.slider(param.label, 1, len(indices), **state.keep(key, 1))
    number = min(number, len(indices))
    st.image(state.frame(clip, indices[number - 1]), caption=f"Frame {number}", width="stretch")
    return number - 1


def mask_options_ui(auto: float | None = None) -> bgcore.MaskOptions:
    """Threshold (auto or a number) and clean-up strength. ``auto``: the fitted model's automatic
    threshold, shown on the slider while it is in use, and where the slider starts when it is not."""
    automatic = st.toggle("Automatic threshold", help="Chosen from the clip: how much its background "
                          "varies, at each spot and overall.",
                          **state.keep("mask.auto", MASK_DEFAULTS["mask.auto"]))
    if automatic and auto is None:  # no value to show yet: no slider with a made-up one
        st.caption("The automatic threshold is set from the clip when its background is removed.")
    else:
        if automatic:
            st.session_state["mask.threshold"] = min(120, max(1, round(auto)))
        st.slider("Threshold", 1, 120, disabled=automatic,
                  help="How different from the background a pixel must be to count as foreground "
                       "(0-255). Lower finds more, and more noise.",
                  **state.keep("mask.threshold", MASK_DEFAULTS["mask.threshold"]))
    st.select_slider("Clean-up", list(CLEANUP), help="Removes specks and fills holes in the mask.",
                     **state.keep("mask.cleanup", MASK_DEFAULTS["mask.cleanup"]))
    return mask_options()


def mask_options() -> bgcore.MaskOptions:
    """The mask settings last chosen (the defaults before any choice), without drawing anything."""
    chosen = {key: st.session_state.get(key, default) for key, default in MASK_DEFAULTS.items()}
    opening, closing, tidy, min_area = CLEANUP[chosen["mask.cleanup"]]
    return bgcore.MaskOptions(threshold="auto" if chosen["mask.auto"] else chosen["mask.threshold"],
                              opening=opening, closing=closing, fill_holes=tidy, trim_outline=tidy,
                              min_area=min_area)


def require_clip_ui() -> state.Clip:
    """The session's clip, or a pointer to the clip page and the end of this run."""
    if st.session_state.clip is None:
        st.info("Start with a clip: upload a video or take the sample.")
        st.page_link(PAGES["clip"], label="Choose a clip", icon=":material/upload:")
        st.stop()
    return st.session_state.clip


def require_fit_ui() -> state.Fit:
    """The latest fit, or a pointer to the method page and the end of this run."""
    require_clip_ui()
    fit = state.current_fit()
    if fit is None:
        st.info("Choose a method and remove the background first.")
        st.page_link(PAGES["method"], label="Choose a method", icon=":material/tune:")
        st.stop()
    return fit


def plain(text: str) -> str:
    """``text`` (a file name) as Markdown that shows it as it is: bold, colours, links and
    formulas in an upload's name stay characters (Markdown lets a backslash escape any ASCII punctuation)."""
    return re.sub(f"([{re.escape(string.punctuation)}])", r"\\\1", text)


def clip_caption(clip: state.Clip) -> str:
    info = clip.info
    return (f"{plain(clip.name)} · {info.width}×{info.height} · {info.fps:g} fps · {info.frame_count} frames · "
            f"{info.duration:.1f} s")
