"""Evidence map: findings by disease (or by what they relate to) × analyte, coloured by direction."""

import streamlit as st

from rankl_atlas import answers, charts, ui
from rankl_atlas import tables as atlas_tables
from rankl_atlas.schema import COMPARISON_FAMILY, DIRECTION_CLASS_LABEL
from rankl_atlas.ui import Context


def render(ctx: Context) -> None:
    """Draw the Evidence map page for the context's filters (layout only)."""
    st.title("Evidence map")
    st.markdown(
        "Inside each cell, one coloured square per direction, labelled with its number of studies (colours in the legend "
        "under the map). A pale square with a dash means **no findings** for that cell, never a zero count. "
        "The map shows one **comparison family** at a time (cases vs controls by default), so a cell never mixes a "
        "difference from controls with a change after treatment or an association. Click a square to list its findings. "
        "Switch the rows to *what the level relates to* to ask the review's question: does serum RANKL mirror bone?"
    )
    ui.count_line(ctx)

    VIEWS = {"condition_group": "Disease × analyte", "related_to": "Relates to × analyte"}
    findings = ctx.filtered.findings
    FAMILIES = ui.shared(
        ctx,
        "evidence_map_families",
        lambda: {code: COMPARISON_FAMILY[code] for code in charts.families_present(findings)},
    )

    @ui.fragment(ctx)
    def evidence_map() -> None:
        """The view switch, the map and the clicked cell's list: a click or a switch reruns only this part."""
        rows = ui.url_choice("view", VIEWS, "condition_group", "Rows")
        if ui.nothing_left(ctx, findings, "findings"):
            return
        default = "cases_vs_controls" if "cases_vs_controls" in FAMILIES else next(iter(FAMILIES))
        family = ui.url_choice(
            "shown", FAMILIES, default, "Comparison family shown (each square: one family, one direction)"
        )
        shown_findings = ui.shared(
            ctx, "evidence_map_family_findings", lambda: charts.of_family(findings, family), (family,)
        )
        matrix = ui.shared(
            ctx,
            "evidence_matrix",
            lambda: charts.evidence_matrix(shown_findings, ctx.tables.studies, rows),
            (rows, family),
        )
        event = ui.chart(
            lambda: charts.build_evidence_map(matrix, rows),
            ctx,
            key=f"evidence_map_{rows}_{family}",
            alt=f"Matrix of {len(shown_findings)} findings ({FAMILIES[family].lower()}), {VIEWS[rows].lower()}, coloured by "
            "direction; each square counts "
            "studies (findings on hover). Disease is the study's condition group. OPG/RANKL ratios are flipped into "
            "the RANKL:OPG column (the paper's orientation is kept in each row).",
            data=matrix,
            on_select="rerun",
            selection_mode="points",
        )
        points = event.selection.points if event and event.selection else []
        if points:
            row_code, analyte, direction_class = points[0]["customdata"][:3]
            shown = charts.findings_in_cell(
                shown_findings, ctx.tables.studies, rows, row_code, analyte, direction_class
            )
            heading = f"{charts.MAP_ROWS[rows].get(row_code, row_code)} · {charts.MAP_ANALYTES.get(analyte, analyte)}"
            if direction_class in DIRECTION_CLASS_LABEL:
                heading += f" · {DIRECTION_CLASS_LABEL[direction_class].lower()}"
            st.subheader(ui.heading_text(f"{heading} · {FAMILIES[family].lower()}"))
            if rows == "related_to" and family == "association":
                pooled = answers.pooled_r_for_cell(shown_findings, ctx.tables.studies, row_code, analyte)
                if not pooled.empty:
                    st.markdown("**Pooled correlation for this cell (all its studies, every direction):**")
                    ui.table(atlas_tables.labelled_correlations(pooled), key="cell_pooled_r")
            if shown.empty:
                st.info("No findings in this cell under the current filters.")
            else:
                names = ", ".join(dict.fromkeys(shown["study"]))
                st.text(f"{shown['study_id'].nunique()} stud(ies): {names}. {len(shown)} finding(s):")
                ui.table(
                    atlas_tables.labelled(shown.reindex(columns=atlas_tables.CELL_COLUMNS), "findings"),
                    column_config=ui.FINDING_COLUMN_CONFIG,
                )
        else:
            st.caption("Click a square to list its studies and findings.")

    evidence_map()
    if not findings.empty:
        ui.downloads(ctx, {"findings": findings}, key="evidence_map")
