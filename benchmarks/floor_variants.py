"""The floor app (benchmarks/floor_app.py) plus one kind of page element at a time, chosen by $FLOOR_VARIANT
(comma-separated parts): what each kind costs the browser per filter change (benchmarks/browser_ablation.py).

Parts: white (the chart with Plotly's whole plotly_white template), atlas (the chart with the atlas's cut template),
sidebar (a sidebar like the atlas's: 6 more multiselects, a slider, a toggle, a text box, an expander, a button),
markdown (a title and 20 short markdown paragraphs), metrics (a row of 4 metrics), extras (under the chart: a caption,
a toggle and a popover, as ui.chart draws), second (a second small chart), required (the two other filters the
design card names: a year slider and an assay multiselect), nav (st.navigation over eight pages, as app.py, the
floor being the first).
"""

import os

import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from rankl_atlas import charts  # registers the atlas's chart template

PARTS = set(filter(None, os.environ.get("FLOOR_VARIANT", "").split(",")))
COUNTS = {"Osteoporosis": 14, "Rheumatoid arthritis": 9, "Multiple myeloma": 6, "Periodontitis": 5, "Other": 25}


def floor_page() -> None:
    """The floor app's page, with the parts chosen."""
    chosen = st.sidebar.multiselect("Disease", list(COUNTS), key="disease", placeholder="All diseases")
    shown = chosen or list(COUNTS)
    if "sidebar" in PARTS:
        st.sidebar.text_input("Find a study", key="find")
        st.sidebar.slider("Years", 1990, 2026, (1990, 2026), key="years")
        st.sidebar.toggle("Include studies whose year is not stated", value=True, key="undated")
        for name in ("Source", "Species", "Assay vendor", "Assay kit", "Analyte form", "Comparison family"):
            st.sidebar.multiselect(name, ["a", "b", "c"], key=name, placeholder="All")
        with st.sidebar.expander("More filters"):
            st.write("more")
        st.sidebar.button("Reset all filters")
    if "markdown" in PARTS:
        st.title("A page title")
        for i in range(20):
            st.markdown(f"Paragraph {i}: **{len(shown)}** diseases shown, with [a link](https://example.org).")
    fig = go.Figure(go.Bar(x=shown, y=[COUNTS[d] for d in shown]))
    if "white" in PARTS:
        fig.update_layout(template=pio.templates["plotly_white"])
    if "atlas" in PARTS:
        fig.update_layout(template=charts.TEMPLATE)
    st.plotly_chart(fig, width="stretch", key="chart")
    if "extras" in PARTS:
        st.caption(f"Studies per disease. Filters: {', '.join(shown)}.")
        st.toggle("Show the data behind this chart", key="show_data")
        st.popover("Download figure", icon=":material/download:", key="downloads", on_change="rerun")
    if "metrics" in PARTS:
        for i, column in enumerate(st.columns(4)):
            column.metric(f"Metric {i}", len(shown) * i, help="what it counts")
    if "second" in PARTS:
        st.plotly_chart(go.Figure(go.Bar(x=shown, y=[COUNTS[d] for d in shown])), width="stretch", key="second")
    if "required" in PARTS:
        st.sidebar.slider("Years", 1990, 2026, (1990, 2026), key="required_years")
        st.sidebar.multiselect("Assay kit", ["a", "b", "c"], key="required_kit", placeholder="All kits")


def empty_page() -> None:
    """Another page in the navigation (never opened by the benchmark)."""
    st.write("Another page.")


if "nav" in PARTS:
    others = [st.Page(empty_page, title=f"Page {i}", url_path=f"page-{i}") for i in range(1, 8)]
    st.navigation([st.Page(floor_page, title="Floor", default=True), *others]).run()
else:
    floor_page()
