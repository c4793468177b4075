"""Concentrations: every reported group value on a log axis, by assay vendor and RANKL form."""

import streamlit as st

from rankl_atlas import charts, decimate, ui
from rankl_atlas import tables as atlas_tables
from rankl_atlas.schema import ANALYTE, UNIT
from rankl_atlas.ui import Context


def render(ctx: Context) -> None:
    """Draw the Concentrations page for the context's filters (layout only)."""
    st.title("Reported concentrations")
    st.markdown(
        "Every group value as published, on a log axis, grouped by assay vendor and analyte form. "
        "Kits differ in the form they detect (free versus total soluble RANKL), in their standards and antibodies, and in "
        "detection limits, so their values can differ by orders of magnitude for the same people: **compare within one "
        "kit, not across kits**. Units are never converted: each unit as published gets its own chart (ng/L and pg/mL "
        "are the same unit and share one). Relative units (Olink NPX, SomaScan RFU) and ratios are listed apart."
    )
    ui.count_line(ctx)

    rows = ui.shared(
        ctx, "concentration_rows", lambda: charts.concentration_rows(ctx.filtered.measurements, ctx.tables.studies)
    )
    if not ui.nothing_left(ctx, rows, "measurements with a value"):
        parts = ui.shared(ctx, "concentration_parts", lambda: list(rows.groupby(["analyte", "axis_unit"], sort=True)))
        present = {analyte for (analyte, _), _ in parts}
        analytes = [analyte for analyte in ANALYTE if analyte in present]  # RANKL first, as the schema orders them
        tabs = ui.url_tabs("tab", {analyte: ANALYTE[analyte] for analyte in analytes})
        for (analyte, unit), part in parts:
            if not tabs[analyte].open:
                continue  # one analyte's charts at a time: the others cost neither the server nor the browser
            with tabs[analyte]:
                shown = "pg/mL (= ng/L)" if (part["unit"] == "ng_l").any() else UNIT[unit]
                st.subheader(f"{ANALYTE[analyte]} in {shown}")
                ui.chart(
                    lambda part=part, analyte=analyte, unit=unit: charts.build_concentration_chart(part, analyte, unit),
                    ctx,
                    key=f"conc_{analyte}_{unit}",
                    alt=f"{len(part)} reported {ANALYTE[analyte]} values in {UNIT[unit]} by assay, cases and controls "
                    "coloured; error bars as published: ± SD, ± SE, interquartile range or range (named in each point's "
                    "hover). " + decimate.sample_note(len(part)),
                    data=lambda part=part: atlas_tables.labelled(
                        part.reindex(columns=atlas_tables.CONCENTRATION_COLUMNS), "measurements"
                    ),
                )
    relative = ui.shared(
        ctx, "relative_rows", lambda: charts.relative_rows(ctx.filtered.measurements, ctx.tables.studies)
    )
    if not relative.empty:
        st.subheader("Values not on a concentration axis")
        st.caption(
            "Relative units (Olink NPX, SomaScan RFU, arbitrary units), ratios and values printed without a unit: "
            "never converted, never drawn on a concentration axis, never pooled with concentrations."
        )
        shown, note = ui.shared(ctx, "relative_shown", lambda: decimate.first_rows(relative))
        ui.table(shown, key="relative_values")
        if note:
            st.caption(note)
    undetectable = ui.shared(
        ctx,
        "undetectable_groups",
        lambda: atlas_tables.undetectable_groups(ctx.filtered.measurements, ctx.tables.studies),
    )
    if not undetectable.empty:
        st.subheader("Groups reported only as share undetectable")
        shown, note = ui.shared(ctx, "undetectable_shown", lambda: decimate.first_rows(undetectable))
        ui.table(shown)
        if note:
            st.caption(note)
    ui.downloads(ctx, {"measurements": ctx.filtered.measurements}, key="concentrations")
