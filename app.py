"""RANKL Atlas: router with page config, shared sidebar filters and footer."""

from pathlib import Path

import streamlit as st

from rankl_atlas import ui

st.set_page_config(page_title="RANKL Atlas", page_icon="🦴", layout="wide")

PAGES = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/home:", default=True),
    st.Page("app_pages/evidence_map.py", title="Evidence map", icon=":material/grid_view:", url_path="evidence-map"),
    st.Page(
        "app_pages/concentrations.py", title="Concentrations", icon=":material/science:", url_path="concentrations"
    ),
    st.Page("app_pages/studies.py", title="Studies", icon=":material/menu_book:", url_path="studies"),
    st.Page("app_pages/synthesis.py", title="Synthesis", icon=":material/functions:", url_path="synthesis"),
    st.Page("app_pages/your_data.py", title="Your data", icon=":material/upload_file:", url_path="your-data"),
    st.Page("app_pages/about.py", title="About the data", icon=":material/info:", url_path="about"),
]

page = st.navigation(PAGES)
tables, metadata, folder = ui.load_dataset(Path(__file__).parent / "data")
context = ui.sidebar_filters(tables, metadata, folder)
page.run()
ui.finish_run(context)
