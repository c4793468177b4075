"""A test-only page: what adding a page (one render function + one PageInfo line) and a chart (a pure builder +
one ui.chart call) take. Used by test_the_house.py; not part of the app."""

import plotly.graph_objects as go
import streamlit as st

from rankl_atlas import ui


def build_studies_per_kind_example(studies) -> go.Figure:
    """A test-only chart builder: pure, frame in, figure out."""
    counts = studies["study_kind"].value_counts()
    return go.Figure(go.Bar(x=list(counts.index), y=list(counts.values)))


def render(ctx: ui.Context) -> None:
    """Draw the example page."""
    st.title("Example page")
    ui.count_line(ctx)
    ui.chart(
        build_studies_per_kind_example(ctx.filtered.studies),
        ctx,
        key="example_chart",
        alt="Studies per kind (test-only chart).",
        data=ctx.filtered.studies[["study_id", "study_kind"]],
    )
