"""RANKL Atlas: router with page config, shared sidebar filters and footer."""

from pathlib import Path

import streamlit as st

from rankl_atlas import ui
from rankl_atlas.navigation import PAGES

st.set_page_config(page_title="RANKL Atlas", page_icon="🦴", layout="wide")

page = st.navigation(
    [
        st.Page(p.script, title=p.title, icon=p.icon, url_path=p.url_path or None, default=p.key == "overview")
        for p in PAGES
    ]
)
tables, metadata, folder = ui.load_dataset(Path(__file__).parent / "data")
context = ui.sidebar_filters(tables, metadata, folder)
page.run()
ui.finish_run(context)
