"""Streamlit entry point: ``streamlit run app.py``.

The pages are declared here with ``st.navigation`` rather than discovered in a ``pages/`` folder:
their order, titles and icons sit in one place, the bar on top reads as four steps, and a button
can move the user on with ``st.switch_page`` (the sample reaches a download in four clicks). The
progress of a fit or an export running in the background shows above every page. They live in
``app_pages/``: in a folder named ``pages/``, the first address a fresh server was asked for, a
page's own (``/results?session=...``: a reload after a restart), ran that file alone, without
this script: no bar on top, and a traceback.
"""

import streamlit as st

from ui import state
from ui.widgets import PAGES, job_ui

st.set_page_config(page_title="Background remover", page_icon=":material/movie_filter:", layout="wide")
state.init()
pages = {
    "clip": st.Page(PAGES["clip"], title="Clip", icon=":material/movie:", default=True),
    "method": st.Page(PAGES["method"], title="Method", icon=":material/tune:"),
    "results": st.Page(PAGES["results"], title="Results", icon=":material/insights:"),
    "export": st.Page(PAGES["export"], title="Export", icon=":material/download:"),
    "compare": st.Page(PAGES["compare"], title="Compare", icon=":material/compare:"),
    "live": st.Page(PAGES["live"], title="Live", icon=":material/videocam:"),
}
page = st.navigation(list(pages.values()), position="top")
job_ui(next(key for key, candidate in pages.items() if candidate.url_path == page.url_path))
page.run()
