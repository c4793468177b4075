"""Assays, one section per tab: every value by kit with detection limits (first), the kit catalogue, the share
below detection per kit, and method comparisons."""

import streamlit as st

from rankl_atlas import charts, decimate, ui
from rankl_atlas import tables as atlas_tables
from rankl_atlas.schema import ANALYTE, MOLECULAR_WEIGHTS
from rankl_atlas.ui import Context

#: The page's sections (URL code → tab label); the first is the default.
SECTIONS = {
    "values": "Values by kit",
    "catalogue": "Kit catalogue",
    "undetectable": "Below detection",
    "comparisons": "Method comparisons",
}


def render(ctx: Context) -> None:
    """Draw the Assays page for the context's filters (layout only)."""
    st.title("Assays")
    st.markdown(
        "Serum RANKL numbers depend on the assay: kits detect different forms (**free** soluble RANKL, or **total** "
        "including RANKL bound to OPG), use different standards, and report values orders of magnitude apart, often "
        "below their detection limit. This page lists the kits we could document from a source we read, and puts every "
        "reported value beside its kit."
    )
    ui.count_line(ctx)

    # One section at a time (a tab each, kept in the URL): the figure first, so the page's first chart is drawn
    # before the table viewer's code is loaded, and a filter change redraws only the section a reader is looking at.
    tabs = ui.url_tabs("tab", SECTIONS)
    if tabs["values"].open:
        with tabs["values"]:
            _values_by_kit(ctx)
    if tabs["catalogue"].open:
        with tabs["catalogue"]:
            _catalogue(ctx)
    if tabs["undetectable"].open:
        with tabs["undetectable"]:
            st.subheader("Share of groups below detection, per kit")
            ui.table(
                ui.shared(
                    ctx,
                    "undetectable_by_kit",
                    lambda: atlas_tables.undetectable_by_kit(ctx.filtered.measurements, ctx.tables.assays),
                ),
            )
    if tabs["comparisons"].open:
        with tabs["comparisons"]:
            _method_comparisons(ctx)
    ui.downloads(ctx, {"measurements": ctx.filtered.measurements}, key="assays")


def _talk_parts(rows):
    """Per analyte: its rows, the healthy spread between kits and the weights used (once per filter state)."""
    return [
        (analyte, part, charts.healthy_spread(part), atlas_tables.weights_used(part))
        for analyte, part in charts.by_analyte(rows)
    ]


def _catalogue(ctx: Context) -> None:
    """Every documented kit: what it detects, its standard, LOD and range, each with its source."""
    st.subheader("Kit catalogue")
    catalogue = ui.shared(ctx, "catalogue", lambda: atlas_tables.assay_catalogue(ctx.tables.assays))
    if catalogue.empty:
        st.info("This data folder has no assay catalogue.", icon=":material/info:")
        return
    st.caption(
        f"{len(catalogue)} assays. Each fact comes from the source linked in its row; what the source does not state "
        "is blank. Kit inserts were rarely readable, so most LODs and ranges are unknown. The catalogue lists every "
        "documented kit and does not follow the filters."
    )
    ui.table(catalogue, column_config=ui.CATALOGUE_COLUMN_CONFIG)


def _values_by_kit(ctx: Context) -> None:
    """Every reported value by kit on one pmol/L axis, one chart per analyte."""
    rows = ui.shared(
        ctx, "kit_rows", lambda: charts.kit_rows(ctx.filtered.measurements, ctx.tables.studies, ctx.tables.assays)
    )
    st.subheader("Every reported value by kit, on one axis (the figure for a talk)")
    if ui.nothing_left(ctx, rows, "measurements with a value"):
        return
    parts = ui.shared(ctx, "talk_parts", lambda: _talk_parts(rows))
    for analyte, part, spread, (kit_weight, generic_weight) in parts:
        st.markdown(f"**{ANALYTE[analyte]}**")
        weight = MOLECULAR_WEIGHTS[analyte]
        spread_text = (
            f"Healthy/control medians differ {spread.between_kits:,.1f}-fold between {spread.kits} catalogued kits"
            if spread.between_kits
            else "Fewer than two catalogued kits report healthy or control groups under these filters"
        )
        if spread.between_groups:
            spread_text += (
                f"; all {spread.groups} healthy/control group values span a {spread.between_groups:,.0f}-fold range."
            )
        else:
            spread_text += "."
        ui.chart(
            lambda part=part, analyte=analyte: charts.build_talk_figure(part, analyte, ctx.tables.assays),
            ctx,
            key=f"talk_{analyte}",
            alt=f"{len(part)} {ANALYTE[analyte]} group values in pmol/L by kit and form; {spread_text} Values in mass "
            f"units converted with the kit's calibrator weight where its catalogue entry states one "
            f"({kit_weight} values), else the generic {weight.kda:g} kDa "
            f"({weight.source}; provisional, flagged: {generic_weight} "
            "values, open circles); grey bands: the kit's stated detection limit. " + decimate.sample_note(len(part)),
            data=lambda part=part: atlas_tables.labelled(
                part.reindex(
                    columns=[*atlas_tables.CONCENTRATION_COLUMNS, "kit", "value_pmol_l", "converted", "weight_used"]
                ),
                "measurements",
            ),
        )


def _method_comparisons(ctx: Context) -> None:
    """Studies that measured the same samples with two kits."""
    st.subheader("Method comparisons: the same samples, two kits")
    comparisons = ui.shared(
        ctx, "kit_comparisons", lambda: atlas_tables.kit_comparisons(ctx.filtered.findings, ctx.tables.studies)
    )
    if comparisons.empty:
        st.caption(
            "No study in the atlas (under these filters) reports the same samples measured with two kits. The search "
            "for such comparisons is logged in data/search."
        )
    else:
        ui.table(comparisons)
