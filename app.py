"""Streamlit entry point: ``streamlit run app.py``.

The pages are declared here with ``st.navigation`` rather than discovered in ``pages/``: their
order, titles and icons sit in one place, the bar on top reads as four steps, and a button can
move the user on with ``st.switch_page`` (the sample reaches a download in four clicks).
"""

import streamlit as st

from ui import state
from ui.widgets import PAGES

st.set_page_config(page_title="Background remover", page_icon=":material/movie_filter:", layout="wide")
state.init()
st.navigation([
    st.Page(PAGES["clip"], title="Clip", icon=":material/movie:", default=True),
    st.Page(PAGES["method"], title="Method", icon=":material/tune:"),
    st.Page(PAGES["results"], title="Results", icon=":material/insights:"),
    st.Page(PAGES["export"], title="Export", icon=":material/download:"),
    st.Page(PAGES["compare"], title="Compare", icon=":material/compare:"),
    st.Page(PAGES["live"], title="Live", icon=":material/videocam:"),
], position="top").run()
