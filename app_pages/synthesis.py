"""Synthesis: harvest plot of directions, forest plots within one assay and form, pooled only where fair."""

import streamlit as st

from rankl_atlas import charts, synthesis, ui
from rankl_atlas import tables as atlas_tables

ctx = ui.context()
st.title("Synthesis")
st.markdown(
    "Comparisons that are fair. The **harvest plot** needs no numbers: every reported finding sits in the column of "
    "its direction. The **forest plot** shows standardised case–control differences (Hedges' g) only where both "
    "groups' mean and spread are known, in strata of **one analyte, one form (free/total), one kit and one unit**. "
    "A stratum is pooled (random effects) only when at least two studies used the same named kit."
)
ui.count_line(ctx)

st.header("Harvest plot: what direction did each study's findings go?")
findings = ctx.filtered.findings
if not ui.nothing_left(ctx, findings, "findings"):
    if len(findings) > charts.MAX_HARVEST_MARKS:
        st.caption(
            f"{len(findings)} findings are too many for one mark each; each cell shows counts of studies per "
            "direction (narrow the filters for one mark per study)."
        )
        matrix = charts.evidence_matrix(findings, ctx.tables.studies, "condition_group")
        ui.chart(
            charts.build_evidence_map(matrix, "condition_group"),
            ctx,
            key="harvest_counts",
            alt=f"Studies per disease, analyte and direction, from {len(findings)} findings.",
            data=matrix,
        )
    else:
        rows = charts.harvest_rows(findings, ctx.tables.studies)
        ui.chart(
            charts.build_harvest_plot(rows),
            ctx,
            key="harvest",
            alt=f"Harvest plot: {len(rows)} marks, one per study and direction in each disease × analyte cell "
            f"(from {len(findings)} findings; hover for the findings). Columns ↓ lower, = no difference, ↑ higher, "
            "∅ mostly undetectable, ? direction not stated; OPG/RANKL ratios are flipped into the RANKL:OPG column; "
            "size grows with n, colour is the kit, symbol the form.",
            data=rows[
                ["study", "disease", "map_analyte", "direction_class", "n_findings", "n", "vendor_label", "comparisons"]
            ],
        )

st.header("Forest plot: cases versus controls, within one assay")
METHODS = {"dl": "DerSimonian-Laird", "pm": "Paule-Mandel"}
DERIVED = {"include": "Converted too", "exclude": "Means only"}
SKEWED = {"exclude": "Left out", "include": "Included, flagged"}


@ui.fragment(ctx)
def forest_section() -> None:
    """Estimator and median choices, the forest plot and the strata: a change reruns only this part."""
    c1, c2, c3 = st.columns(3)
    with c1:
        method = ui.url_choice("method", METHODS, "dl", "Random-effects estimator")
    with c2:
        derived = ui.url_choice("derived", DERIVED, "include", "Medians converted to means")
    with c3:
        skewed = ui.url_choice("skewed", SKEWED, "exclude", "Skewed medians (Shi 2023 test)")

    comparisons = synthesis.case_control_comparisons(
        ctx.filtered.measurements,
        ctx.tables.studies,
        ctx.filtered.findings,
        include_derived=derived == "include",
        include_skewed=skewed == "include",
    )
    effects = comparisons.effects
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
        if pooled[pooled["poolable"]].empty:
            st.warning(
                "No stratum is poolable under these filters: each needs at least two studies that used the same named kit "
                "for the same analyte form. The comparisons are shown one by one.",
                icon=":material/block:",
            )
        if effects["discordant"].any():
            st.caption(
                "Grey × marks: a mean and SD derived from medians gives a CI that disagrees with the paper's own test "
                "(significant versus not). Such rows are **discordant** and left out of pooling."
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
            alt=f"Forest plot of Hedges' g (cases minus controls) for {len(effects)} comparisons in {len(pooled)} strata; open squares are derived "
            "from medians, the paper's own p-value is at the right.",
            data=effects,
        )
        st.subheader("Strata and pooled estimates")
        ui.table(
            atlas_tables.labelled(pooled, "findings"),
        )
        st.download_button(
            "Download pooled results (CSV)",
            ui.csv_bytes(pooled),
            file_name=f"rankl-atlas_pooled_{method}_{ctx.filters.slug()}.csv",
            mime="text/csv",
            on_click="ignore",
            key="pooled_csv",
        )
    if not comparisons.not_drawn.empty:
        st.subheader("Case–control pairs not drawn, and why")
        ui.table(
            comparisons.not_drawn.drop(columns=["study_id"]),
        )


forest_section()

with st.expander("Methods, units and sources"):
    st.markdown(
        "- Effect size: Hedges' g = J·(mean₁ − mean₂)/s_pooled with J = 1 − 3/(4(n₁ + n₂) − 9), and its variance "
        "v = (n₁ + n₂)/(n₁·n₂) + g²/(2(n₁ + n₂)), from `statsmodels.stats.meta_analysis.effectsize_smd`. "
        "Groups with n < 2 or a total n < 4 are not compared.\n"
        f"- Pooling: `combine_effects` ({', '.join(METHODS.values())}); τ² is floored at 0 as in metafor, and the "
        "pooled estimate is then the fixed-effect one.\n"
        f"- Medians: first tested for skewness by {synthesis.SHI_2023}; only groups that pass are converted to mean "
        f"and SD by {synthesis.WAN_2014}. Converted rows are marked *derived*; the paper's own p-value stands beside "
        "each, and a derived CI that disagrees with it is marked *discordant* and left out of pooling.\n"
        "- SD from SE: SD = SE × √n (exact).\n"
        "- Units: values stay as published; SMDs are unit-free. Molar ↔ mass conversions below are **provisional** "
        "(kits use different recombinant standards)."
    )
    ui.table(
        synthesis.molecular_weight_table(),
    )
