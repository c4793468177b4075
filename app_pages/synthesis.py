"""Synthesis: harvest plot of directions, forest plots within one assay and form, pooled only where fair."""

import streamlit as st

from rankl_atlas import charts, synthesis, ui

ctx = ui.context()
st.title("Synthesis")
st.markdown(
    "Comparisons that are fair. The **harvest plot** needs no numbers: every reported finding sits in the column of "
    "its direction. The **forest plot** shows standardised case–control differences (Hedges' g) only where both "
    "groups' mean and spread are known, in strata of **one analyte, one form (free/total), one kit and one unit**. "
    "A stratum is pooled (random effects) only when at least two studies used the same named kit."
)
ui.count_line(ctx)

st.header("Harvest plot: what direction did each finding go?")
findings = ctx.filtered.findings
if not ui.nothing_left(ctx, findings, "findings"):
    if len(findings) > charts.MAX_HARVEST_MARKS:
        st.caption(
            f"{len(findings)} findings are too many for one mark each; each cell shows counts per direction "
            "(narrow the filters for one mark per finding)."
        )
        matrix = charts.evidence_matrix(findings, "condition_group")
        ui.chart(
            charts.build_evidence_map(matrix, "condition_group"),
            ctx,
            key="harvest_counts",
            alt=f"Counts of {len(findings)} findings per disease, analyte and direction.",
            data=matrix,
        )
    else:
        rows = charts.harvest_rows(findings, ctx.tables.studies)
        ui.chart(
            charts.build_harvest_plot(rows),
            ctx,
            key="harvest",
            alt=f"Harvest plot of {len(rows)} findings by disease and analyte; columns ↓ lower, = no difference, ↑ higher, "
            "∅/? undetectable or not stated; size grows with n, colour is the kit, symbol the form.",
            data=rows[
                [
                    "study",
                    "condition_group",
                    "analyte",
                    "analyte_form",
                    "assay_vendor",
                    "comparison",
                    "direction",
                    "n",
                    "p_text",
                    "locator",
                ]
            ],
        )

st.header("Forest plot: cases versus controls, within one assay")
METHODS = {"dl": "DerSimonian-Laird", "pm": "Paule-Mandel"}
DERIVED = {"include": "Include converted medians", "exclude": "Published means only"}
left, right = st.columns(2)
with left:
    ui.init_from_url("method", list(METHODS), "dl")
    method = (
        st.segmented_control("Random-effects estimator", list(METHODS), format_func=METHODS.get, key="method") or "dl"
    )
    ui.keep_in_url("method", method if method != "dl" else None)
with right:
    ui.init_from_url("derived", list(DERIVED), "include")
    derived = (
        st.segmented_control("Reported medians", list(DERIVED), format_func=DERIVED.get, key="derived") or "include"
    )
    ui.keep_in_url("derived", derived if derived != "include" else None)

effects = synthesis.case_control_effects(
    ctx.filtered.measurements, ctx.tables.studies, include_derived=derived == "include"
)
if effects.empty:
    st.info(
        "No case–control pair under the current filters reports both groups' mean and spread (or a median summary "
        "that Wan et al. 2014 can convert), so there is nothing to put on a forest plot.",
        icon=":material/info:",
    )
else:
    pooled = synthesis.pool_strata(effects, method)
    for note in synthesis.mixing_notes(effects):
        st.caption(note)
    poolable = pooled[pooled["poolable"]]
    if poolable.empty:
        st.warning(
            "No stratum is poolable under these filters: each needs at least two studies that used the same named kit "
            "for the same analyte form. The comparisons are shown one by one.",
            icon=":material/block:",
        )
    drawn = effects
    if len(effects) > charts.MAX_FOREST_ROWS:
        st.caption(
            f"{len(effects)} comparisons are too many to draw one by one: the plot shows each stratum's pooled "
            "estimate and the table beneath lists every comparison. Narrow the filters to see them individually."
        )
        drawn = effects.iloc[0:0]
    ui.chart(
        charts.build_forest_plot(drawn, pooled),
        ctx,
        key="forest",
        alt=f"Forest plot of {len(effects)} case–control comparisons in {len(pooled)} strata; open squares are derived from medians.",
        data=effects,
    )
    st.subheader("Strata and pooled estimates")
    st.dataframe(pooled, hide_index=True, width="stretch")
    st.download_button(
        "Download pooled results (CSV)",
        ui.csv_bytes(pooled),
        file_name=f"rankl-atlas_pooled_{method}_{ctx.filters.slug()}.csv",
        mime="text/csv",
        on_click="ignore",
        key="pooled_csv",
    )

with st.expander("Methods, units and sources"):
    st.markdown(
        f"- Effect size: Hedges' g with its variance from `statsmodels.stats.meta_analysis.effectsize_smd`; pooled with "
        f"`combine_effects` ({', '.join(METHODS.values())}).\n"
        f"- Medians: converted to mean and SD only by {synthesis.WAN_2014}; such rows are marked *derived* and can be left out.\n"
        "- SD from SE: SD = SE × √n (exact).\n"
        "- Units: values stay as published; SMDs are unit-free. Molar ↔ mass conversions below are **provisional** "
        "(kits use different recombinant standards)."
    )
    st.dataframe(synthesis.molecular_weight_table(), hide_index=True, width="stretch")
