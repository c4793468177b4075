"""Synthesis: answers with their basis shown — pooled effects across kits, correlations, ratios, published
meta-analyses beside them, the harvest plot and the per-kit forest plot."""

import streamlit as st

from rankl_atlas import answers, charts, decimate, pooling, synthesis, ui
from rankl_atlas import tables as atlas_tables
from rankl_atlas.schema import COMPARISON_FAMILY
from rankl_atlas.ui import Context


def _first_rows(ctx: Context, frame, label, *, key: str, depends_on: tuple = ()) -> None:
    """A long table's first rows (labelled for a reader by `label`, built once per filter state and page choices),
    and a note when some are left out."""
    shown, note = decimate.first_rows(frame)
    ui.table(lambda: label(shown), ctx, key=key, depends_on=depends_on)
    if note:
        st.caption(note)


def render(ctx: Context) -> None:
    """Draw the Synthesis page for the context's filters (layout only)."""
    st.title("Synthesis")
    st.markdown(
        "Answers with their basis shown. Standardised mean differences (Hedges' g) are unit-free and computed within "
        "each study, so they are **pooled across kits**, with the kit and the analyte form as subgroups (does the kit "
        "explain the disagreement?). Correlations are pooled with Fisher's z, hazard and odds ratios only within one "
        "contrast. Published meta-analyses of the same questions stand beside the atlas's estimates."
    )
    ui.count_line(ctx)
    if ui.nothing_left(ctx, ctx.filtered.studies):
        return

    METHODS = {"dl": "DerSimonian-Laird", "pm": "Paule-Mandel"}
    HK = {"off": "Wald (z)", "on": "Hartung-Knapp (t)"}
    SPREAD = {"exclude": "Left out", "sd": "Read as SD", "se": "Read as SE"}
    DERIVED = {"include": "Converted too", "exclude": "Means only"}
    SKEWED = {"exclude": "Left out", "include": "Included, flagged"}

    with st.container(border=True):
        c1, c2 = st.columns(2)
        with c1:
            method = ui.url_choice("method", METHODS, "dl", "Random-effects estimator")
            hk = ui.url_choice("hk", HK, "off", "Confidence interval")
            skewed = ui.url_choice("skewed", SKEWED, "exclude", "Skewed medians (Shi 2023 test)")
        with c2:
            spread = ui.url_choice("spread", SPREAD, "exclude", "Unlabelled '± x' (SD or SE not said)")
            derived = ui.url_choice("derived", DERIVED, "include", "Medians converted to means")

    settings = answers.Settings(
        method=method,
        hartung_knapp=hk == "on",
        spread=spread,
        include_derived=derived == "include",
        include_skewed=skewed == "include",
    )
    evidence = _LazyEvidence(ctx, settings)

    tabs = ui.url_tabs("tab", {code: label for code, (label, _) in SECTIONS.items()})
    for code, (_, draw) in SECTIONS.items():
        if tabs[code].open:  # one section at a time: the others cost neither the server nor the browser
            with tabs[code]:
                draw(ctx, evidence, settings)

    box = ui.lazy_expander("Methods, units and sources", "open_methods")
    if box.open:
        with box:
            st.markdown(synthesis.METHODS_TEXT)
            ui.table(synthesis.molecular_weight_table, ctx, key="weights")


class _LazyEvidence:
    """answers.Evidence for the page, each part (case-control, correlations, ratios) pooled when a section first
    reads one of its fields, once per filter state and settings, and shared by every session: a tab pools only what
    it shows (the harvest plot nothing)."""

    PARTS = {
        "case_control": (answers.case_control_evidence, ("comparisons", "smd", "smd_table", "set_aside")),
        "correlation": (answers.correlation_evidence, ("correlation_rows", "correlations", "mirror")),
        "ratio": (answers.ratio_evidence, ("ratio_rows", "ratios")),
    }

    def __init__(self, ctx: Context, settings: answers.Settings):
        self._ctx, self._settings = ctx, settings

    def __getattr__(self, name: str):
        found = [(part, build) for part, (build, fields) in self.PARTS.items() if name in fields]
        if not found:
            raise AttributeError(name)
        part, build = found[0]
        args = (self._ctx.filtered, self._settings) + ((self._ctx.filters.family,) if part == "case_control" else ())
        fields = ui.shared(self._ctx, f"synthesis_{part}", lambda: build(*args), (self._settings,))
        self.__dict__.update(fields)  # later reads in this run skip the lookup
        return fields[name]


def _cases_vs_controls(ctx: Context, evidence: _LazyEvidence, settings: answers.Settings) -> None:
    """Pooled case–control answers, the opened question's forest, sensitivity and funnel, and what was set aside."""
    st.header("Cases versus controls: pooled across kits")
    table = evidence.smd_table
    options = answers.pooled_questions(table)
    if table.empty:
        st.info(
            "No case–control pair under the current filters has both groups' mean and spread usable "
            f"({len(evidence.comparisons.effects)} comparisons drawn; see the lists below for why the others are not).",
            icon=":material/info:",
        )
    else:
        st.markdown(
            f"**{len(options)}** of {len(table)} condition × analyte questions (cases vs controls) have at least two studies to pool. "
            "Each row: k studies, total n, pooled g with 95% CI, the 95% **prediction interval** (where a new study's "
            "effect would fall), τ², I², and the p of the between-subgroup test for kit and for analyte form."
        )
        if options:
            ui.chart(
                lambda: charts.build_pooled_answers(table),
                ctx,
                key="pooled_answers",
                depends_on=(settings,),
                title="Pooled answers: cases versus controls",
                alt=f"The {len(options)} pooled questions (at most {decimate.MAX_POOLED_ANSWERS} drawn), the most "
                "studies first: pooled Hedges' g with 95% CI (diamonds and bars) and the 95% prediction interval where "
                "there are three or more studies (dotted; the axis fits the CIs, and an arrow marks a prediction "
                "interval that runs past it).",
                data=lambda: atlas_tables.labelled_answers(table[table["reason"] == ""]),
            )
        ui.table(
            lambda: atlas_tables.labelled_answers(table),
            ctx,
            key="smd_answers",
            depends_on=(settings,),
            column_config=ui.ANSWER_COLUMN_CONFIG,
        )
        if options:
            ui.init_from_url("question", options, options[0])
            chosen = st.selectbox("Open one question", options, key="question")
            ui.keep_in_url("question", chosen if chosen != options[0] else None)
            answer = ui.shared(
                ctx,
                "opened_answer",
                lambda: answers.answer_details(
                    next(a for a in evidence.smd if a.title == chosen), settings.method, settings.hartung_knapp
                ),
                (settings, chosen),
            )
            kit_test = answer.subgroup_tests.get("kit")
            ui.chart(
                lambda: charts.build_answer_forest(answer.rows, answer.pooled, kit_test.table if kit_test else None),
                ctx,
                key="answer_forest",
                depends_on=(settings, chosen),
                alt=f"Forest plot for {chosen}: each study's Hedges' g with 95% CI grouped by kit, subgroup and overall "
                "random-effects diamonds, and the 95% prediction interval.",
                data=answer.rows[
                    ["study", "kit", "form", "n_case", "n_control", "g", "ci_low", "ci_high", "derivation"]
                ],
            )
            st.markdown(atlas_tables.subgroup_sentence(answer))
            cols = st.columns(2)
            with cols[0]:
                st.subheader("Sensitivity")
                ui.table(
                    lambda: atlas_tables.labelled_sensitivity(answer.sensitivity),
                    ctx,
                    key="sensitivity",
                    depends_on=(settings, chosen),
                )
            with cols[1]:
                st.subheader("Leave one out")
                if answer.leave_one_out.empty:
                    st.caption("Needs at least three studies.")
                else:
                    ui.table(
                        lambda: atlas_tables.labelled_sensitivity(answer.leave_one_out),
                        ctx,
                        key="leave_one_out",
                        depends_on=(settings, chosen),
                    )
            if answer.egger is not None:
                st.subheader("Small-study effects")
                ui.chart(
                    lambda: charts.build_funnel_plot(answer.rows, answer.pooled),
                    ctx,
                    key="funnel",
                    depends_on=(settings, chosen),
                    alt=f"Funnel plot for {chosen} (k = {answer.egger.k}).",
                    data=answer.rows[["study", "y", "v"]],
                )
                st.caption(
                    f"Egger's test ({pooling.EGGER_1997}): intercept {answer.egger.intercept:.2f} "
                    f"(SE {answer.egger.se:.2f}), p = {answer.egger.p:.3f}."
                )
            else:
                st.caption(f"Funnel plot and Egger's test are shown from k ≥ {pooling.MIN_K_FUNNEL} studies.")
            published = ui.shared(
                ctx,
                "published_of_question",
                lambda: answers.published_of_question(
                    ctx.tables.meta_analyses,
                    answer.key,
                    table,
                    lambda: evidence.correlations,
                    lambda: evidence.ratios,
                ),
                (settings, chosen),
            )
            if not published.empty:
                st.subheader("Published meta-analyses of this question")
                for row in published.to_dict("records"):
                    st.markdown(atlas_tables.published_sentence(row))
            # Drawn when opened: a code block loads the browser's 1.5 MB syntax highlighter before the page's charts.
            box = ui.lazy_expander("The same numbers from the command line", "open_pool_command")
            if box.open:
                with box:
                    st.caption("Same function, same filters and settings as this page:")
                    st.code(
                        atlas_tables.pool_command(answer.key, settings, ctx.filters.to_query_params()), language="bash"
                    )

    if not evidence.set_aside.empty:
        box = ui.lazy_expander(
            f"Comparisons set aside from pooling ({len(evidence.set_aside)}), and why", "open_set_aside"
        )
        if box.open:
            with box:
                _first_rows(
                    ctx, evidence.set_aside, atlas_tables.labelled_set_aside, key="set_aside", depends_on=(settings,)
                )


def _serum_vs_bone(ctx: Context, evidence: _LazyEvidence, settings: answers.Settings) -> None:
    """Pooled correlations of serum RANKL/OPG with bone density and turnover, with their funnels."""
    method = settings.method
    st.header("Does serum mirror bone? Pooled correlations")
    if evidence.mirror.empty:
        st.info("No correlation of serum RANKL, OPG or their ratio with BMD or turnover markers under these filters.")
    else:
        st.markdown(
            "Pooled r (Fisher's z, random effects) of serum RANKL, OPG and their ratios with **bone mineral density** "
            "and **bone turnover markers**, across conditions. Spearman's ρ is converted to r and counted in the table."
        )
        ui.table(
            lambda: atlas_tables.labelled_correlations(evidence.mirror),
            ctx,
            key="mirror",
            depends_on=(settings,),
            column_config=ui.ANSWER_COLUMN_CONFIG,
        )
        for funnel in ui.shared(ctx, "mirror_funnels", lambda: answers.mirror_funnels(evidence, method), (settings,)):
            ui.chart(
                lambda funnel=funnel: charts.build_funnel_plot(funnel.rows, funnel.pooled),
                ctx,
                key=f"funnel_{funnel.key}",
                alt=f"Funnel plot for {funnel.question} (Fisher's z, k = {len(funnel.rows)}). "
                + decimate.sample_note(len(funnel.rows), what="studies"),
                data=funnel.rows,
                depends_on=(settings,),
            )
            st.caption(
                f"Egger's test ({pooling.EGGER_1997}): intercept {funnel.egger.intercept:.2f} "
                f"(SE {funnel.egger.se:.2f}), p = {funnel.egger.p:.3f}."
            )
    tissue = ui.shared(
        ctx, "bone_tissue", lambda: atlas_tables.bone_tissue_findings(ctx.filtered.findings, ctx.tables.studies)
    )
    if not tissue.empty:
        st.caption("Beside them, the studies that related serum levels to RANKL/OPG measured in bone tissue:")
        ui.table(tissue, key="bone_tissue")

    box = ui.lazy_expander("All pooled correlations, by condition × analyte × related variable", "open_correlations")
    if box.open:
        with box:
            shown = evidence.correlations
            if shown.empty:
                st.caption("None under these filters.")
            else:
                _first_rows(
                    ctx,
                    shown[shown["k"] >= 2],
                    atlas_tables.labelled_correlations,
                    key="correlations",
                    depends_on=(settings,),
                )
                st.caption(f"ρ → r: {pooling.RHO_TO_R}. A study counts once per row (its largest n).")


def _prognostic_ratios(ctx: Context, evidence: _LazyEvidence, settings: answers.Settings) -> None:
    """Hazard, odds and risk ratios pooled within one contrast, and those not pooled."""
    st.header("Prognostic ratios (HR, OR, RR), pooled within one contrast")
    ratios = evidence.ratios
    if ratios.empty:
        st.info("No hazard, odds or risk ratio with a recorded contrast and a 95% CI under these filters.")
    else:
        _first_rows(ctx, ratios, atlas_tables.labelled_ratios, key="ratios", depends_on=(settings,))
    unpooled = ui.shared(ctx, "unpooled_ratios", lambda: answers.unpooled_ratios(evidence), (settings,))
    if not unpooled.empty:
        box = ui.lazy_expander(f"Ratios not pooled ({len(unpooled)}), and why", "open_ratios_unpooled")
        if box.open:
            with box:
                _first_rows(
                    ctx, unpooled, atlas_tables.labelled_unpooled_ratios, key="ratios_unpooled", depends_on=(settings,)
                )


def _published_meta_analyses(ctx: Context, evidence: _LazyEvidence, settings: answers.Settings) -> None:
    """Published meta-analyses beside the atlas's own estimates."""
    table = evidence.smd_table
    st.header("Published meta-analyses beside the atlas")
    beside = ui.shared(
        ctx,
        "published_beside",
        lambda: answers.published_beside_atlas(ctx.tables.meta_analyses, table, evidence.correlations, evidence.ratios),
        (settings,),
    )
    if beside.empty:
        st.info("No published meta-analysis is curated yet.")
    else:
        ui.table(lambda: atlas_tables.labelled_published(beside), ctx, key="published", depends_on=(settings,))


def _harvest_plot(ctx: Context, evidence: _LazyEvidence, settings: answers.Settings) -> None:
    """The direction of every study's findings in one comparison family."""
    st.header("Harvest plot: what direction did each study's findings go?")
    all_findings = ctx.filtered.findings
    if not ui.nothing_left(ctx, all_findings, "findings"):
        present = ui.shared(ctx, "families_present", lambda: charts.families_present(all_findings))
        families = {code: COMPARISON_FAMILY[code] for code in present}
        first = "cases_vs_controls" if "cases_vs_controls" in families else next(iter(families))
        harvest_family = ui.url_choice("harvest_family", families, first, "Comparison family shown")
        findings = ui.shared(
            ctx, "harvest_findings", lambda: charts.of_family(all_findings, harvest_family), (harvest_family,)
        )
        if len(findings) > charts.MAX_HARVEST_MARKS:
            st.caption(
                f"{len(findings)} findings are too many for one mark each; each cell shows counts of studies per "
                "direction (narrow the filters for one mark per study)."
            )
            matrix = ui.shared(
                ctx,
                "harvest_matrix",
                lambda: charts.evidence_matrix(findings, ctx.tables.studies, "condition_group"),
                (harvest_family,),
            )
            ui.chart(
                lambda: charts.build_evidence_map(matrix, "condition_group"),
                ctx,
                key="harvest_counts",
                depends_on=(harvest_family,),
                alt=f"Studies per disease, analyte and direction, from {len(findings)} findings.",
                data=matrix,
            )
        else:
            rows = ui.shared(
                ctx, "harvest_rows", lambda: charts.harvest_rows(findings, ctx.tables.studies), (harvest_family,)
            )
            ui.chart(
                lambda: charts.build_harvest_plot(rows),
                ctx,
                key="harvest",
                depends_on=(harvest_family,),
                alt=f"Harvest plot: {len(rows)} marks, one per study and direction in each disease × analyte cell "
                f"(from {len(findings)} findings; hover for the findings). Columns ↓ lower, = no difference, ↑ higher, "
                "∅ mostly undetectable, ? direction not stated; OPG/RANKL ratios are flipped into the RANKL:OPG column; "
                "colour is the direction, size grows with n, symbol the form (the kit is in the hover).",
                data=rows[
                    [
                        "study",
                        "disease",
                        "map_analyte",
                        "direction_class",
                        "n_findings",
                        "n",
                        "vendor_label",
                        "comparisons",
                    ]
                ],
            )


def _within_one_kit(ctx: Context, evidence: _LazyEvidence, settings: answers.Settings) -> None:
    """Every case–control comparison pooled strictly within one kit, form and unit, and the pairs not drawn."""
    method = settings.method
    st.header("Every case–control comparison, within one kit (strict)")
    effects = evidence.comparisons.effects
    if effects.empty:
        st.info("No case–control comparison under the current filters.", icon=":material/info:")
    else:
        strict = ui.shared(
            ctx, "strict_strata", lambda: synthesis.pool_strata(effects, method, include_discordant=False), (settings,)
        )
        st.caption(
            "The strict view pools only within one named kit, one form and one unit (as the review asks). Orange open "
            "diamonds: '±' the paper did not label SD or SE (placed at the SD reading; the hover gives the SE reading); "
            "grey ×: the recomputed Student and Welch tests both disagree with the paper's own test."
        )
        drawn = charts.drawable_comparisons(effects)
        ui.chart(
            lambda: charts.build_forest_plot(drawn, strict),
            ctx,
            key="forest",
            depends_on=(settings,),
            alt=f"Forest plot of Hedges' g (cases minus controls) for {len(effects)} comparisons in {len(strict)} strata; "
            "the paper's own p-value is at the right. "
            + decimate.largest_note(len(strict), decimate.MAX_FOREST_STRATA, "strata", "comparisons"),
            data=effects,
        )
        box = ui.lazy_expander("Strata within one kit", "open_strict_strata")
        if box.open:
            with box:
                _first_rows(
                    ctx,
                    strict,
                    lambda f: atlas_tables.labelled(f, "findings"),
                    key="strict_strata",
                    depends_on=(settings,),
                )
    if not evidence.comparisons.not_drawn.empty:
        box = ui.lazy_expander("Case–control pairs not drawn, and why", "open_not_drawn")
        if box.open:
            with box:
                _first_rows(
                    ctx,
                    evidence.comparisons.not_drawn,
                    atlas_tables.labelled_not_drawn,
                    key="not_drawn",
                    depends_on=(settings,),
                )


#: The page's sections, one tab each (URL code → tab label, drawing function); the first opens by default.
SECTIONS = {
    "answers": ("Cases vs controls", _cases_vs_controls),
    "mirror": ("Serum vs bone", _serum_vs_bone),
    "ratios": ("Prognostic ratios", _prognostic_ratios),
    "published": ("Published meta-analyses", _published_meta_analyses),
    "harvest": ("Harvest plot", _harvest_plot),
    "strict": ("Within one kit", _within_one_kit),
}
