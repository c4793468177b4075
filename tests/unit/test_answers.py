"""Pooled answers: expected values from metafor's published example (dat.bcg) and hand calculations written out."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rankl_atlas import answers, pooling, synthesis
from rankl_atlas.data import load_tables
from tests.conftest import DATA, ROOT
from tests.unit.frames import finding, frame, measurement, study

# Colditz et al. (1994), 13 BCG trials (tpos, tneg, cpos, cneg); metafor's dat.bcg.
BCG = [
    (4, 119, 11, 128), (6, 300, 29, 274), (3, 228, 11, 209), (62, 13536, 248, 12619), (33, 5036, 47, 5761),
    (180, 1361, 372, 1079), (8, 2537, 10, 619), (505, 87886, 499, 87892), (29, 7470, 45, 7232),
    (17, 1699, 65, 1600), (186, 50448, 141, 27197), (5, 2493, 3, 2338), (27, 16886, 29, 17825),
]  # fmt: skip


def bcg_log_rr():
    a, b, c, d = (np.array(col, dtype=float) for col in zip(*BCG, strict=True))
    return np.log((a / (a + b)) / (c / (c + d))), 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)


def test_dersimonian_laird_reproduces_metafor_on_the_bcg_trials():
    """metafor rma(yi, vi, data=dat.bcg, method="DL"): estimate -0.7141, se 0.1787, CI -1.0644 to -0.3638,
    tau2 0.3088, I2 92.12 %, Q 152.2330 on 12 df."""
    y, v = bcg_log_rr()
    result = pooling.pool(y, v, "dl")
    assert result.estimate == pytest.approx(-0.7141, abs=5e-5)
    assert result.se == pytest.approx(0.1787, abs=5e-5)
    assert (result.ci_low, result.ci_high) == pytest.approx((-1.0644, -0.3638), abs=5e-5)
    assert result.tau2 == pytest.approx(0.3088, abs=5e-5)
    assert result.i2_percent == pytest.approx(92.12, abs=5e-3)
    assert result.q == pytest.approx(152.2330, abs=5e-4)


def test_prediction_interval_is_the_estimate_plus_minus_t_k_minus_2_times_root_tau2_plus_se2():
    """Higgins et al. 2009, by hand on the DL fit above: t(11, 0.975) = 2.2010, √(0.30876 + 0.17874²) = 0.58369."""
    y, v = bcg_log_rr()
    result = pooling.pool(y, v, "dl")
    half = stats.t.ppf(0.975, 11) * math.sqrt(0.308760 + 0.178742**2)
    assert half == pytest.approx(2.2010 * 0.58369, abs=1e-3)
    assert (result.pi_low, result.pi_high) == pytest.approx((-0.714117 - half, -0.714117 + half), abs=1e-4)


def test_hartung_knapp_widens_the_bcg_interval_with_t_on_k_minus_1():
    """Hand calculation: SE_HK² = Σ w*(y − μ)² / ((k − 1) Σ w*), w* = 1/(v + τ²); CI μ ± t(12)·SE_HK."""
    y, v = bcg_log_rr()
    dl = pooling.pool(y, v, "dl")
    w = 1 / (v + dl.tau2)
    mu = float((w * y).sum() / w.sum())
    se_hk = math.sqrt(float((w * (y - mu) ** 2).sum()) / (12 * w.sum()))
    hk = pooling.pool(y, v, "dl", hartung_knapp=True)
    assert hk.estimate == pytest.approx(mu)
    assert hk.se == pytest.approx(se_hk)
    assert hk.ci_high - hk.estimate == pytest.approx(stats.t.ppf(0.975, 12) * se_hk)
    assert hk.ci_high - hk.ci_low > dl.ci_high - dl.ci_low


@pytest.mark.parametrize(
    "effects, variances, words",
    [
        ([0.2, np.nan], [0.1, 0.1], "not a finite"),
        ([0.2, 0.4], [0.1, 0.0], "zero"),
        ([0.2, 0.4], [0.1, -1], "negative"),
    ],
)
def test_pool_refuses_a_nan_effect_or_a_variance_that_is_not_positive(effects, variances, words):
    with pytest.raises(pooling.PoolingRefused, match=words):
        pooling.pool(effects, variances)


def test_subgroup_q_between_matches_a_hand_calculation():
    """Two subgroups of two studies, each with τ² = 0 (identical within): θ_A = 0.2 (SE √(0.04/2)),
    θ_B = 0.8 (SE √(0.04/2)); pooled θ̄ = 0.5; Q_between = 2·(0.3²)/0.02 = 9.0 on 1 df, p = 0.0027."""
    rows = pd.DataFrame({"kit": ["A", "A", "B", "B"], "y": [0.2, 0.2, 0.8, 0.8], "v": [0.04] * 4})
    test = pooling.subgroup_test(rows, "kit")
    assert test.q_between == pytest.approx(9.0)
    assert test.df == 1
    assert test.p == pytest.approx(stats.chi2.sf(9.0, 1)) and test.p == pytest.approx(0.0027, abs=1e-4)


def test_egger_intercept_matches_least_squares_written_out():
    y, v = bcg_log_rr()
    se = np.sqrt(v)
    x, z = 1 / se, y / se
    slope = ((x - x.mean()) * (z - z.mean())).sum() / ((x - x.mean()) ** 2).sum()
    intercept = z.mean() - slope * x.mean()
    residual = z - intercept - slope * x
    s2 = (residual**2).sum() / (len(y) - 2)
    se_intercept = math.sqrt(s2 * (1 / len(y) + x.mean() ** 2 / ((x - x.mean()) ** 2).sum()))
    egger = pooling.egger_test(y, v)
    assert egger.intercept == pytest.approx(intercept)
    assert egger.se == pytest.approx(se_intercept)
    assert egger.p == pytest.approx(2 * stats.t.sf(abs(intercept / se_intercept), len(y) - 2))
    assert pooling.egger_test(y[:9], v[:9]) is None  # fewer than ten studies: no test


# --- Correlations and ratios ------------------------------------------------------------------------------------


def _correlation_tables(pairs):
    studies = frame("studies", [study(f"s{chr(97 + i)}2010", analytes_measured="opg") for i in range(len(pairs))])
    findings = frame(
        "findings",
        [
            finding(f"s{chr(97 + i)}2010-f1", analyte="opg", comparison_type="correlation", related_to="bmd",
                    direction="positive_association", effect_measure=measure, effect_value=r, n=n,
                    comparison_family="association")
            for i, (measure, r, n) in enumerate(pairs)
        ],
    )  # fmt: skip
    return studies, findings


def test_correlations_pool_on_fisher_z_as_a_hand_calculation_gives():
    """r = 0.3 (n 50) and 0.5 (n 100): z = atanh r, w = n − 3; Q = 1.8204 > 1 so τ² = (Q − 1)/(Σw − Σw²/Σw)
    = 0.012956; random-effects mean z = 0.45228, pooled r = tanh(0.45228) = 0.4238."""
    z1, z2, w1, w2 = math.atanh(0.3), math.atanh(0.5), 47.0, 97.0
    fixed = (w1 * z1 + w2 * z2) / (w1 + w2)
    q = w1 * (z1 - fixed) ** 2 + w2 * (z2 - fixed) ** 2
    tau2 = (q - 1) / (w1 + w2 - (w1**2 + w2**2) / (w1 + w2))
    r1, r2 = 1 / (1 / w1 + tau2), 1 / (1 / w2 + tau2)
    expected = math.tanh((r1 * z1 + r2 * z2) / (r1 + r2))
    assert expected == pytest.approx(0.4238, abs=1e-4)
    studies, findings = _correlation_tables([("r", 0.3, 50), ("r", 0.5, 100)])
    rows = answers.correlation_rows(findings, studies, synthesis.study_label_map(studies))
    pooled = answers.correlation_answers(rows).iloc[0]
    assert pooled["k"] == 2 and pooled["n_total"] == 150
    assert pooled["pooled_r"] == pytest.approx(expected)
    assert pooled["tau2_z"] == pytest.approx(tau2)


def test_spearman_rho_is_converted_to_r_by_the_cited_formula_and_flagged():
    """2·sin(π·0.5/6) = 2·sin(0.261799) = 0.517638."""
    studies, findings = _correlation_tables([("rho", 0.5, 40), ("r", 0.4, 60)])
    rows = answers.correlation_rows(findings, studies, synthesis.study_label_map(studies))
    assert rows.loc[rows["effect_measure"] == "rho", "r"].iloc[0] == pytest.approx(0.517638, abs=1e-6)
    assert answers.correlation_answers(rows).iloc[0]["rho_converted"] == 1


def test_ratios_pool_only_like_contrasts_on_the_log_scale():
    """HR 2.0 (1.5–2.6667): SE = ln(2.6667/1.5)/(2·1.96) = 0.14678; a 'not stated' contrast is not pooled."""
    studies = frame("studies", [study(f"r{c}2012", analytes_measured="opg") for c in "abc"])
    common = dict(analyte="opg", comparison_type="prediction", related_to="survival", direction="predicts_when_high",
                  effect_measure="hr", comparison_family="prediction")  # fmt: skip
    findings = frame(
        "findings",
        [
            finding("ra2012-f1", effect_value=2.0, ci_low=1.5, ci_high=2.6667, contrast="per_sd", **common),
            finding("rb2012-f1", effect_value=1.5, ci_low=1.1, ci_high=2.0455, contrast="per_sd", **common),
            finding("rc2012-f1", effect_value=3.0, ci_low=1.2, ci_high=7.5, contrast="not_stated", **common),
        ],
    )
    rows = answers.ratio_rows(findings, synthesis.study_label_map(studies))
    first = rows.set_index("finding_id").loc["ra2012-f1"]
    assert math.sqrt(first["v"]) == pytest.approx(math.log(2.6667 / 1.5) / (2 * 1.959964), abs=1e-6)
    assert math.sqrt(first["v"]) == pytest.approx(0.14678, abs=1e-5)
    assert "contrast not recorded" in rows.set_index("finding_id").loc["rc2012-f1", "reason"]
    pooled = answers.ratio_answers(rows)
    assert len(pooled) == 1 and pooled.iloc[0]["k"] == 2
    y = np.log([2.0, 1.5])
    v = ((np.log([2.6667, 2.0455]) - np.log([1.5, 1.1])) / (2 * 1.959964)) ** 2
    assert pooled.iloc[0]["pooled"] == pytest.approx(math.exp(pooling.pool(y, v).estimate))


# --- What '±' means, read from the paper's own test --------------------------------------------------------------


def _pair(sid, case, control, p_text, direction):
    (m1, s1, n1), (m2, s2, n2) = case, control
    common = dict(analyte="opg", analyte_form="unspecified", assay_vendor="not_reported", unit="pmol_l",
                  spread_basis="unknown", condition_group="other")  # fmt: skip
    measurements = frame(
        "measurements",
        [
            measurement(f"{sid}-m1", n=n1, value=m1, sd=s1, **common),
            measurement(f"{sid}-m2", group_role="control", n=n2, value=m2, sd=s2,
                        **{**common, "condition_group": "healthy_population"}),
        ],
    )  # fmt: skip
    findings = frame(
        "findings",
        [finding(f"{sid}-f1", analyte="opg", analyte_form="unspecified", assay_vendor="not_reported",
                 direction=direction, p_text=p_text, n=n1 + n2, comparison_family="cases_vs_controls")],
    )  # fmt: skip
    return frame("studies", [study(sid)]), measurements, findings


def test_zhou_2016_sap_reads_as_se_because_only_that_reproduces_the_papers_p_above_0_05():
    """Zhou 2016: SAP 0.25 ± 0.11 (n 27) vs controls 0.38 ± 0.12 (n 20) ng/mL, paper p > 0.05. Read as SD, scipy's
    t-test gives p < 0.001; read as SE (SD = x·√n) it gives p ≈ 0.43."""
    as_sd = stats.ttest_ind_from_stats(0.25, 0.11, 27, 0.38, 0.12, 20).pvalue
    as_se = stats.ttest_ind_from_stats(0.25, 0.11 * math.sqrt(27), 27, 0.38, 0.12 * math.sqrt(20), 20).pvalue
    assert as_sd < 0.001 and as_se == pytest.approx(0.43, abs=0.01)
    studies, measurements, findings = _pair("zhou2016", (0.25, 0.11, 27), (0.38, 0.12, 20), ">0.05", "no_difference")
    readings = synthesis.infer_spread_readings(measurements, studies, findings)
    assert set(readings["reading"]) == {"se"}
    assert "as SE, Student p 0.43" in readings["note"].iloc[0]


def test_makras_2012_stays_unknown_because_both_readings_fit_p_below_0_001():
    """Makras 2012: OPG 3.0 ± 0.2 (n 25) vs 1.7 ± 0.1 (n 50) pmol/L, paper p < 0.001: both readings give p < 0.001
    (as SD g ≈ 9.1, as SE g ≈ 1.6), so the reading stays unknown and the comparison is left out by default."""
    assert stats.ttest_ind_from_stats(3.0, 0.2, 25, 1.7, 0.1, 50).pvalue < 0.001
    assert stats.ttest_ind_from_stats(3.0, 0.2 * 5, 25, 1.7, 0.1 * math.sqrt(50), 50).pvalue < 0.001
    studies, measurements, findings = _pair("makras2012", (3.0, 0.2, 25), (1.7, 0.1, 50), "<0.001", "higher")
    readings = synthesis.infer_spread_readings(measurements, studies, findings)
    assert set(readings["reading"]) == {""} and "both readings fit" in readings["note"].iloc[0]
    effects = synthesis.case_control_comparisons(measurements, studies, findings).effects
    row = effects.iloc[0]
    assert row["g"] == pytest.approx(9.1, abs=0.05) and row["g_if_se"] == pytest.approx(1.58, abs=0.01)
    assert row["spread_unresolved"] and not row["poolable_spread"]
    chosen, set_aside = answers.smd_rows(effects)
    assert chosen.empty and "not labelled" in set_aside["reason"].iloc[0]


def test_elevated_2006_agrees_through_welch_although_student_does_not():
    """Paper p = 0.008; Student's t gives 0.054, Welch's 0.0083 (scipy): the row agrees, it is not discordant."""
    studies, measurements, findings = _pair("elevated2006", (5.0, 4.0, 30), (3.0, 1.0, 30), "0.008", "higher")
    student = stats.ttest_ind_from_stats(5.0, 4.0, 30, 3.0, 1.0, 30, equal_var=True).pvalue
    welch = stats.ttest_ind_from_stats(5.0, 4.0, 30, 3.0, 1.0, 30, equal_var=False).pvalue
    printed = synthesis.read_printed_p(None, "0.008")
    assert synthesis.agreement_with_paper(student, welch, printed, "higher", 0.6) == "agrees"
    assert synthesis.agreement_with_paper(0.3, 0.3, printed, "higher", 0.6) == "discordant"
    assert synthesis.agreement_with_paper(0.06, 0.07, printed, "higher", 0.6) == "borderline"
    assert synthesis.agreement_with_paper(0.001, 0.001, printed, "higher", -0.6) == "direction_differs"


@pytest.mark.parametrize(
    "text, op, value, significant",
    [
        ("P<0.05", "<", 0.05, True), ("p=0.03", "=", 0.03, True), ("n.s", ">", 0.05, False),
        ("not significant", ">", 0.05, False), ("0.03", "=", 0.03, True), ("p ≥ 0.14", ">", 0.14, False),
        (">0.05", ">", 0.05, False), ("< 0.001", "<", 0.001, True), ("NS", ">", 0.05, False),
    ],
)  # fmt: skip
def test_printed_p_values_are_read_in_the_forms_papers_print(text, op, value, significant):
    printed = synthesis.read_printed_p(None, text)
    assert (printed.op, printed.value, printed.significant) == (op, pytest.approx(value), significant)


def test_a_papers_p_is_attached_only_to_the_comparison_it_tests():
    """Zhou 2016 has SAP and ACS case groups and one finding 'SAP vs controls' (p > 0.05): the ACS comparison
    gets no p (before, the study's only finding was attached to every comparison)."""
    common = dict(analyte="rankl", analyte_form="unspecified", assay_vendor="not_reported", unit="ng_ml",
                  spread_basis="stated")  # fmt: skip
    measurements = frame(
        "measurements",
        [
            measurement("zhou2016-m1", group_role="control", group_label="control group", n=20, value=0.38, sd=0.12,
                        condition_group="other", **common),
            measurement("zhou2016-m2", group_label="stable angina pectoris (SAP)", n=27, value=0.25, sd=0.11, **common),
            measurement("zhou2016-m3", group_label="acute coronary syndrome (ACS)", n=43, value=0.22, sd=0.11, **common),
        ],
    )  # fmt: skip
    findings = frame(
        "findings",
        [finding("zhou2016-f3", analyte="rankl", analyte_form="unspecified", assay_vendor="not_reported",
                 comparison="SAP vs controls", direction="no_difference", p_text=">0.05",
                 comparison_family="cases_vs_controls")],
    )  # fmt: skip
    effects = synthesis.case_control_comparisons(measurements, frame("studies", [study("zhou2016")]), findings).effects
    by_case = effects.set_index("case_group")
    assert by_case.loc["stable angina pectoris (SAP)", "paper_p_text"] == ">0.05"
    assert by_case.loc["acute coronary syndrome (ACS)", "paper_p_text"] == ""


def test_negative_spread_and_reversed_quartiles_are_refused_by_name():
    rows = frame(
        "measurements",
        [measurement("a2001-m1", sd=-1.0, value=2.0), measurement("a2001-m2", statistic="median", value=2.0, q1=3.0,
                                                                   q3=1.0, n=30)],
    )  # fmt: skip
    problems = synthesis.group_summaries(rows)["problem"].tolist()
    assert problems == ["negative spread", "quartiles reversed (q1 above q3)"]


def test_shi_s3_with_absolute_t2_keeps_the_five_percent_level_under_normality():
    """Seeded simulation (the reason for |T2| in S3): false-positive rate of the S3 test on normal samples."""
    rng = np.random.default_rng(7)
    n = 60
    x = np.sort(rng.standard_normal((4000, n)), axis=1)
    q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75], axis=1)
    _, _, skewed = synthesis.shi_skewness(np.full(4000, n), med, q1, q3, x[:, 0], x[:, -1])
    assert 0.02 < skewed.mean() < 0.06


# --- The command line prints the page's numbers ------------------------------------------------------------------


def test_the_pool_command_prints_the_same_numbers_as_the_page_function():
    tables = load_tables(DATA)
    from rankl_atlas.filters import Filters, apply_filters

    evidence = answers.gather_evidence(apply_filters(tables, Filters()), answers.Settings())
    table = evidence.smd_table[evidence.smd_table["reason"] == ""]
    assert len(table), "the bundled data pool at least one case-control question"
    row = table.iloc[0]
    out = subprocess.run(
        [sys.executable, "-m", "rankl_atlas", "pool", "--condition", row["condition_group"], "--analyte",
         row["analyte"], "--family", "cases_vs_controls", "--format", "json", "--data", str(DATA)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    printed = json.loads(out.stdout)["results"][0]
    assert printed["k"] == row["k"]
    assert printed["estimate"] == pytest.approx(row["estimate"])
    assert (printed["ci_low"], printed["ci_high"]) == pytest.approx((row["ci_low"], row["ci_high"]))


def test_docs_synthesis_md_is_the_report_of_the_bundled_data():
    """docs/synthesis.md tabulates every published comparison: it must be regenerated when the data change."""
    version = json.loads((DATA / "datapackage.json").read_text(encoding="utf-8"))["version"]
    expected = answers.synthesis_report(load_tables(DATA), version)
    assert (ROOT / "docs" / "synthesis.md").read_text(encoding="utf-8") == expected, (
        "run `python -m rankl_atlas report --out docs/synthesis.md`"
    )


def test_pooled_correlations_across_conditions_carry_a_condition_subgroup_test():
    """Two conditions with identical r inside each: Q between equals the hand value from the two subgroup means."""
    studies, findings = _correlation_tables([("r", 0.1, 53), ("r", 0.1, 53), ("r", 0.5, 53), ("r", 0.5, 53)])
    findings["condition_group"] = ["diabetes", "diabetes", "osteoporosis", "osteoporosis"]
    rows = answers.correlation_rows(findings, studies, synthesis.study_label_map(studies))
    pooled = answers.correlation_answers(rows, ["analyte", "related_to"]).iloc[0]
    z1, z2, se2 = math.atanh(0.1), math.atanh(0.5), 1 / (2 * 50)  # each subgroup: two studies, v = 1/50 each
    mean = (z1 + z2) / 2
    q_between = ((z1 - mean) ** 2 + (z2 - mean) ** 2) / se2
    assert pooled["condition_subgroup_p"] == pytest.approx(stats.chi2.sf(q_between, 1))


def test_rows_without_a_form_are_a_form_subgroup_of_their_own_and_one_named_form_tests_nothing():
    """OPG × BMD: free (r 0.1, 0.1), total (0.3, 0.3) and no form stated (0.5, 0.5), n 53 (v = 1/50) each. Each
    subgroup has τ² = 0 and SE² = 1/100; Q between the three means on 2 df. OPG × turnover markers: free and no form
    only, one named form, so no form test (NaN)."""
    pairs = [("r", 0.1, 53), ("r", 0.3, 53), ("r", 0.5, 53), ("r", 0.1, 53), ("r", 0.3, 53), ("r", 0.5, 53)]
    pairs += [("r", 0.2, 53), ("r", 0.4, 53), ("r", 0.2, 53), ("r", 0.4, 53)]
    studies, findings = _correlation_tables(pairs)
    findings["analyte_form"] = ["free", "total", None, "free", "total", None, "free", None, "free", None]
    findings["related_to"] = ["bmd"] * 6 + ["bone_turnover_marker"] * 4
    rows = answers.correlation_rows(findings, studies, synthesis.study_label_map(studies))
    pooled = answers.correlation_answers(rows, ["analyte", "related_to"]).set_index("related_to")
    z = [math.atanh(0.1), math.atanh(0.3), math.atanh(0.5)]
    mean, se2 = sum(z) / 3, 1 / (2 * 50)
    q_between = sum((zj - mean) ** 2 for zj in z) / se2
    assert pooled.loc["bmd", "form_subgroup_p"] == pytest.approx(stats.chi2.sf(q_between, 2))
    assert math.isnan(pooled.loc["bone_turnover_marker", "form_subgroup_p"])
    assert pooled.loc["bmd", "k"] == 6 and pooled.loc["bone_turnover_marker", "k"] == 4


def test_leave_one_out_matches_dersimonian_laird_written_out_for_each_left_out_study():
    """Four studies, each variance 0.04 (weight 25). Left out the 0.90 study: 0.10, 0.30, 0.20 have mean 0.20 and
    Q = (0.01 + 0.01 + 0) / 0.04 = 0.5 < 2 df, so τ² = 0 and the CI is 0.20 ± 1.959964·√(0.04/3) = −0.0263 to 0.4263.
    Left out the 0.10 study: 0.30, 0.20, 0.90 have mean 0.4667 and Q = (0.02778 + 0.07111 + 0.18778) / 0.04 = 7.1667;
    C = 75 − 3·625/75 = 50, τ² = (7.1667 − 2) / 50 = 0.10333, each weight 1/(0.04 + 0.10333) = 6.9767, SE =
    √(1/20.930) = 0.21858, CI 0.4667 ± 0.42841 = 0.0382 to 0.8951, I² = 5.1667 / 7.1667 = 72.09 %."""
    rows = pd.DataFrame({"study": ["A", "B", "C", "D"], "y": [0.10, 0.30, 0.20, 0.90], "v": [0.04] * 4})
    loo = pooling.leave_one_out(rows, "study", "dl").set_index("left_out")
    assert list(loo.index) == ["A", "B", "C", "D"] and (loo["k"] == 3).all()
    without_d = loo.loc["D"]
    assert without_d["estimate"] == pytest.approx(0.20, abs=1e-9)
    assert (without_d["ci_low"], without_d["ci_high"]) == pytest.approx((-0.02632, 0.42632), abs=5e-5)
    assert without_d["i2_percent"] == pytest.approx(0.0, abs=1e-9)
    without_a = loo.loc["A"]
    assert without_a["estimate"] == pytest.approx(0.46667, abs=5e-5)
    assert (without_a["ci_low"], without_a["ci_high"]) == pytest.approx((0.03825, 0.89508), abs=5e-4)
    assert without_a["i2_percent"] == pytest.approx(72.09, abs=0.01)
    assert pooling.leave_one_out(rows.head(2), "study").empty  # needs k ≥ 3


def test_the_page_computes_details_only_for_the_opened_question_and_they_equal_the_full_answer():
    effects = synthesis.case_control_comparisons(
        load_tables(DATA).measurements, load_tables(DATA).studies, load_tables(DATA).findings
    ).effects
    full = answers.smd_answers(effects)
    chosen, _ = answers.smd_rows(effects)
    light = answers.pool_smd_rows(chosen, details=False)
    pooled = [(f, li) for f, li in zip(full, light, strict=True) if f.pooled is not None and len(f.rows) >= 3]
    assert pooled, "the bundled data have a question with three or more studies"
    for whole, bare in pooled:
        assert bare.leave_one_out.empty and bare.sensitivity.empty and bare.egger is None
        opened = answers.answer_details(bare)
        pd.testing.assert_frame_equal(opened.leave_one_out, whole.leave_one_out)
        pd.testing.assert_frame_equal(opened.sensitivity, whole.sensitivity)
        assert opened.egger == whole.egger


def test_a_questions_published_results_are_the_same_when_correlations_and_ratios_are_pooled_only_on_demand():
    tables = load_tables(DATA)
    evidence = answers.gather_evidence(tables)
    asked = []
    compared = 0
    for answer in evidence.smd:
        full = answers.published_beside_atlas(
            answers.reviews_of(tables.meta_analyses, answer.key),
            evidence.smd_table,
            evidence.correlations,
            evidence.ratios,
        )
        lazy = answers.published_of_question(
            tables.meta_analyses,
            answer.key,
            evidence.smd_table,
            lambda: asked.append("r") or evidence.correlations,
            lambda: asked.append("ratio") or evidence.ratios,
        )
        pd.testing.assert_frame_equal(lazy, full)
        compared += len(full)
        measures = set(full["measure"]) if len(full) else set()
        assert ("r" in asked) == bool(measures & {"r", "z"})  # pooled correlations only when a review reports r
        assert ("ratio" in asked) == bool(measures & set(answers.RATIO_MEASURES))
        asked.clear()
    assert compared >= 3  # published reviews of the bundled questions were compared
