"""Streamlit entry point: ``streamlit run app.py``."""

import tempfile
from pathlib import Path

import cv2
import streamlit as st

import bgcore
from bgcore.synthetic import write_sample

WORK = Path(tempfile.gettempdir()) / "bgremove"


@st.cache_resource
def sample_path() -> str:
    return str(write_sample(WORK / "sample.mp4"))


@st.cache_data(show_spinner=False)
def remove_background(source: str, method: str) -> dict:
    out = WORK / "runs" / method
    bar = st.progress(0.0, text="Starting")
    report = bgcore.run(source, out, method=method,
                        progress=lambda stage, fraction: bar.progress(fraction, text=stage.capitalize()))
    bar.empty()
    return {"report": report, "out": str(out)}


def read_rgb(path) -> "np.ndarray":
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


st.set_page_config(page_title="Background remover", layout="wide")
st.title("Background remover")
st.caption("The built-in sample clip, its background found by low-rank SVD, and one frame's foreground.")
result = remove_background(sample_path(), "svd")
out = Path(result["out"])
left, right = st.columns(2)
left.image(read_rgb(out / "background.png"), caption="Background (SVD, rank 1)", width="stretch")
middle = result["report"]["frame_count"] // 2
frame = next(bgcore.read_frames(out / "foreground.mp4", [middle]))
right.image(frame, caption=f"Foreground of frame {middle + 1}", width="stretch")
