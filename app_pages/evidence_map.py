"""Evidence map: findings by disease (or by what they relate to) × analyte, coloured by direction."""

import streamlit as st

from rankl_atlas import charts, ui
from rankl_atlas.schema import ANALYTE, label

ctx = ui.context()
st.title("Evidence map")
st.markdown(
    "Inside each cell, one coloured square per direction, labelled with its number of findings: "
    "**red-orange** higher / increase / positive association, **blue** lower / decrease / negative, **grey** no difference "
    "or no association, **pink** mostly undetectable, **sand** direction not stated. A pale square with a dash means "
    "**no findings** for that cell. "
    "Switch the rows to *what the level relates to* to ask the review's question: does serum RANKL mirror bone?"
)
ui.count_line(ctx)

VIEWS = {"condition_group": "Disease × analyte", "related_to": "Relates to × analyte"}
ui.init_from_url("view", list(VIEWS), "condition_group")
rows = st.segmented_control("Rows", list(VIEWS), format_func=VIEWS.get, key="view") or "condition_group"
ui.keep_in_url("view", rows if rows != "condition_group" else None)

findings = ctx.filtered.findings
if not ui.nothing_left(ctx, findings, "findings"):
    matrix = charts.evidence_matrix(findings, rows)
    event = ui.chart(
        charts.build_evidence_map(matrix, rows),
        ctx,
        key=f"evidence_map_{rows}",
        alt=f"Matrix of {len(findings)} findings, {VIEWS[rows].lower()}, coloured by direction.",
        data=matrix,
        on_select="rerun",
        selection_mode="points",
    )
    points = event.selection.points if event and event.selection else []
    if points:
        row_code, analyte = points[0]["customdata"][:2]
        chosen = findings[(findings[rows] == row_code) & (findings["analyte"] == analyte)]
        st.subheader(f"{label(rows, row_code)} · {ANALYTE.get(analyte, analyte)}")
        if chosen.empty:
            st.info("No findings in this cell under the current filters.")
        else:
            shown = charts.with_study(chosen, ctx.tables.studies)
            names = ", ".join(dict.fromkeys(shown.sort_values(["year", "study"])["study"]))
            st.markdown(ui.plain(f"{shown['study_id'].nunique()} stud(ies): {names}. {len(shown)} finding(s):"))
            st.dataframe(
                shown[
                    [
                        "study",
                        "comparison",
                        "direction",
                        "effect_measure",
                        "effect_value",
                        "p_text",
                        "n",
                        "assay_vendor",
                        "analyte_form",
                        "locator",
                    ]
                ],
                hide_index=True,
                width="stretch",
            )
    else:
        st.caption("Click a square to list its studies and findings.")
    ui.downloads(ctx, {"findings": findings}, key="evidence_map")
