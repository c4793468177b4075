"""Concentrations: every reported group value on a log axis, by assay vendor and RANKL form."""

import streamlit as st

from rankl_atlas import charts, decimate, ui
from rankl_atlas import tables as atlas_tables
from rankl_atlas.schema import ANALYTE, UNIT
from rankl_atlas.ui import Context

OTHER_UNITS, UNDETECTABLE = "other_units", "undetectable"  # the tabs after the analytes' (URL codes)


def render(ctx: Context) -> None:
    """Draw the Concentrations page for the context's filters (layout only)."""
    st.title("Reported concentrations")
    st.markdown(
        "Every group value as published, on a log axis, grouped by assay vendor and analyte form. "
        "Kits differ in the form they detect (free versus total soluble RANKL), in their standards and antibodies, and in "
        "detection limits, so their values can differ by orders of magnitude for the same people: **compare within one "
        "kit, not across kits**. Units are never converted: each unit as published gets its own chart (ng/L and pg/mL "
        "are the same unit and share one). One analyte per tab; relative units (Olink NPX, SomaScan RFU) and ratios are "
        "listed apart under *Other units*, groups reported only as a share undetectable under *Only 'undetectable'*."
    )
    ui.count_line(ctx)

    rows = ui.shared(
        ctx, "concentration_rows", lambda: charts.concentration_rows(ctx.filtered.measurements, ctx.tables.studies)
    )
    relative = ui.shared(
        ctx, "relative_rows", lambda: charts.relative_rows(ctx.filtered.measurements, ctx.tables.studies)
    )
    undetectable = ui.shared(
        ctx,
        "undetectable_groups",
        lambda: atlas_tables.undetectable_groups(ctx.filtered.measurements, ctx.tables.studies),
    )
    parts = ui.shared(ctx, "concentration_parts", lambda: list(rows.groupby(["analyte", "axis_unit"], sort=True)))
    present = {analyte for (analyte, _), _ in parts}
    sections = {analyte: ANALYTE[analyte] for analyte in ANALYTE if analyte in present}  # RANKL first, as the schema
    if not relative.empty:
        sections[OTHER_UNITS] = "Other units"
    if not undetectable.empty:
        sections[UNDETECTABLE] = "Only 'undetectable'"
    if not sections:
        ui.nothing_left(ctx, rows, "measurements with a value")
    else:
        if rows.empty:
            st.info("No value on a concentration axis under these filters; the tabs hold what there is.")
        # One tab at a time: the other analytes' charts and the tables cost neither the server nor the browser.
        tabs = ui.url_tabs("tab", sections)
        for (analyte, unit), part in parts:
            if tabs[analyte].open:
                with tabs[analyte]:
                    _concentration_chart(ctx, part, analyte, unit)
        if OTHER_UNITS in tabs and tabs[OTHER_UNITS].open:
            with tabs[OTHER_UNITS]:
                st.subheader("Values not on a concentration axis")
                st.caption(
                    "Relative units (Olink NPX, SomaScan RFU, arbitrary units), ratios and values printed without a "
                    "unit: never converted, never drawn on a concentration axis, never pooled with concentrations."
                )
                shown, note = ui.shared(ctx, "relative_shown", lambda: decimate.first_rows(relative))
                ui.table(shown, key="relative_values")
                if note:
                    st.caption(note)
        if UNDETECTABLE in tabs and tabs[UNDETECTABLE].open:
            with tabs[UNDETECTABLE]:
                st.subheader("Groups reported only as share undetectable")
                shown, note = ui.shared(ctx, "undetectable_shown", lambda: decimate.first_rows(undetectable))
                ui.table(shown)
                if note:
                    st.caption(note)
    ui.downloads(ctx, {"measurements": ctx.filtered.measurements}, key="concentrations")


def _concentration_chart(ctx: Context, part, analyte: str, unit: str) -> None:
    """One analyte's values in one unit (as published), with its heading."""
    shown = "pg/mL (= ng/L)" if (part["unit"] == "ng_l").any() else UNIT[unit]
    st.subheader(f"{ANALYTE[analyte]} in {shown}")
    ui.chart(
        lambda: charts.build_concentration_chart(part, analyte, unit),
        ctx,
        key=f"conc_{analyte}_{unit}",
        alt=f"{len(part)} reported {ANALYTE[analyte]} values in {UNIT[unit]} by assay, cases and controls coloured; "
        "error bars as published: ± SD, ± SE, interquartile range or range (named in each point's hover). "
        + decimate.sample_note(len(part)),
        data=lambda: atlas_tables.labelled(part.reindex(columns=atlas_tables.CONCENTRATION_COLUMNS), "measurements"),
    )
