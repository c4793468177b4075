"""Overview: studies per year by disease first (a chart above the fold), then what the atlas holds and the
review's message."""

import streamlit as st

from rankl_atlas import charts, ui
from rankl_atlas import tables as atlas_tables
from rankl_atlas.schema import label
from rankl_atlas.ui import Context


def render(ctx: Context) -> None:
    """Draw the Overview page for the context's filters (layout only)."""
    st.title("RANKL Atlas")
    st.markdown(
        "What published studies report about **circulating (serum/plasma) RANKL and osteoprotegerin (OPG)**: the 59 "
        "references of Findlay & Atkins (Osteoporos Int 2011) and the later literature found by a logged search."
    )
    ui.count_line(ctx)

    studies = ctx.filtered.studies
    if not ui.nothing_left(ctx, studies):
        left, right = st.columns([3, 2])
        with left:
            undated = atlas_tables.undated_count(studies)
            st.markdown("**Studies per year, by disease area**")
            ui.chart(
                lambda: charts.build_studies_per_year(studies),
                ctx,
                key="overview_per_year",
                title="Studies per year, by disease area",
                alt="Studies per publication year, stacked by disease area"
                + (f" ({undated} kept studies whose year is not stated are not on this chart)." if undated else "."),
                data=lambda: charts.studies_per_year(studies),
            )
        with right:
            st.markdown("**Studies by kind**")
            ui.chart(
                lambda: charts.build_studies_by_kind(studies),
                ctx,
                key="overview_by_kind",
                title="Studies by kind",
                alt="Studies per kind of study (the number is at each bar).",
                data=lambda: charts.studies_by_kind(studies),
            )

    counts = ui.shared(ctx, "headline_counts", lambda: atlas_tables.headline_counts(ctx.filtered, ctx.tables))
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Studies", counts.studies, help=f"Kept by the filters, of {counts.total_studies} in the atlas")
    c2.metric(
        "With circulating levels",
        counts.circulating,
        help=f"Kept studies that report RANKL or OPG in serum or plasma (of {counts.total_circulating} in the atlas; "
        "a few of them report no value or finding, e.g. citation-only references)",
    )
    c3.metric("Measurements", counts.measurements, help="Reported group concentrations kept by the filters")
    c4.metric("Findings", counts.findings, help="Reported comparisons and associations kept by the filters")
    sources = ", ".join(f"{label('source_set', code)}: {n}" for code, n in counts.by_source.items())
    st.caption(
        f"Kept studies by source — {sources or 'none'}. The numbers follow the filters; the whole atlas holds "
        f"{counts.total_studies} studies, {counts.total_circulating} of them with circulating levels; "
        f"{counts.with_values} of the kept studies print a group concentration."
    )

    st.subheader("The review's message, in brief")
    st.markdown(
        "- Serum and plasma RANKL and OPG have been measured in many diseases, but the numbers are hard to read: "
        "assays detect different forms (free versus total soluble RANKL), report values that differ by orders of "
        "magnitude, and often find RANKL below their detection limit.\n"
        "- Circulating RANKL may come from many sources (bone cells, immune cells, vessels, tumours) and is cleared "
        "by OPG binding, so a blood level need not mirror RANKL activity in bone.\n"
        "- Before serum RANKL can guide diagnosis or research, studies need to state the assay and form measured, and "
        "relate blood levels to RANKL in bone itself. The *Synthesis* page pools what the studies report."
    )
