"""Synthesis: published worked examples, Wan et al. 2014, strata that never mix forms, kits or units."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.meta_analysis import combine_effects

from rankl_atlas import pooling, synthesis
from tests.unit.frames import finding, frame, measurement, study


def clasp_log_odds_ratios():
    """CLASP trials as in DerSimonian & Kacker 2007 (metafor's test of that paper): log OR and variance."""
    ai = np.array([5, 5, 12, 69, 9, 313.0])
    n1 = np.array([156, 303, 565, 1570, 103, 4659.0])
    ci = np.array([8, 17, 9, 94, 11, 352.0])
    n2 = np.array([74, 303, 477, 1565, 105, 4650.0])
    yi = np.log((ai / (n1 - ai)) / (ci / (n2 - ci)))
    vi = 1 / ai + 1 / (n1 - ai) + 1 / ci + 1 / (n2 - ci)
    return yi, vi


@pytest.mark.parametrize(
    ("method", "tau", "mu", "se"),
    [("chi2", 0.2323, -0.3240, 0.1540), ("iterated", 0.3681, -0.3811, 0.2060)],  # DL and PM, Tables 3-4
)
def test_pooling_reproduces_dersimonian_kacker_2007_clasp_tables(method, tau, mu, se):
    yi, vi = clasp_log_odds_ratios()
    result = combine_effects(yi, vi, method_re=method)
    assert round(math.sqrt(result.tau2), 4) == tau
    assert round(result.mean_effect_re, 4) == mu
    assert round(result.sd_eff_w_re, 4) == se


def test_pooling_reproduces_metafor_dl_output_with_i2():
    """PCB28 interlaboratory data; metafor rma(method='DL') prints tau^2 2.9289, I^2 92.67%, estimate 33.6004."""
    x = np.array([34.3, 32.9, 34.53, 32.42, 31.9, 35.8])
    u = np.array([1.03, 0.69, 0.83, 0.29, 0.4, 0.38])
    result = combine_effects(x, u**2, method_re="chi2")
    assert round(result.tau2, 4) == 2.9289
    assert round(100 * result.i2, 2) == 92.67
    assert round(result.q, 4) == 68.2154
    assert round(result.mean_effect_re, 4) == 33.6004
    assert round(result.sd_eff_w_re, 4) == 0.7450


def effects_frame(rows):
    base = dict(study_id="s", study="S", year=2000, analyte="rankl", analyte_form="free", assay_vendor="biomedica",
                unit="pmol_l", specimen="serum", timepoint="", case_group="c", control_group="k", n_case=10,
                n_control=10, mean_case=1.0, sd_case=1.0, mean_control=1.0, sd_control=1.0, derived=False,
                derivation="as published", ci_low=0.0, ci_high=0.0)  # fmt: skip
    out = pd.DataFrame([{**base, **r} for r in rows])
    out["comparison_id"] = [f"c{i}" for i in range(len(out))]
    return out


def test_two_study_pool_matches_a_hand_computation():
    # g = 0.5 (var 0.04) and 1.0 (var 0.09): Q = 0.5^2/0.13 = 1.9231 > df 1, so tau^2 = (Q-1)/C
    effects = effects_frame(
        [dict(study_id="a", study="A", g=0.5, var_g=0.04), dict(study_id="b", study="B", g=1.0, var_g=0.09)]
    )
    pooled = synthesis.pool_strata(effects, "dl").iloc[0]
    w = np.array([25.0, 1 / 0.09])
    q = (w * (np.array([0.5, 1.0]) - (w @ [0.5, 1.0]) / w.sum()) ** 2).sum()
    tau2 = (q - 1) / (w.sum() - (w**2).sum() / w.sum())
    w_re = 1 / (np.array([0.04, 0.09]) + tau2)
    assert pooled["poolable"]
    assert pooled["tau2"] == pytest.approx(tau2)
    assert pooled["i2_percent"] == pytest.approx(100 * (q - 1) / q)
    assert pooled["pooled_g"] == pytest.approx((w_re @ [0.5, 1.0]) / w_re.sum())
    assert pooled["ci_high"] - pooled["ci_low"] == pytest.approx(2 * 1.959964 / math.sqrt(w_re.sum()), rel=1e-5)


def test_unnamed_kits_and_single_studies_are_not_pooled():
    effects = effects_frame([
        dict(study_id="a", g=0.5, var_g=0.04, assay_vendor="not_reported"),
        dict(study_id="b", g=1.0, var_g=0.09, assay_vendor="not_reported"),
        dict(study_id="c", g=1.0, var_g=0.09, assay_vendor="rnd_systems"),
    ])  # fmt: skip
    pooled = synthesis.pool_strata(effects).set_index("assay_vendor")
    assert not pooled.loc["not_reported", "poolable"] and "kit not named" in pooled.loc["not_reported", "reason"]
    assert not pooled.loc["rnd_systems", "poolable"] and "fewer than two" in pooled.loc["rnd_systems", "reason"]


@pytest.mark.parametrize(("n", "xi"), [(2, 1.128), (5, 2.326), (10, 3.078), (25, 3.931), (50, 4.498)])
def test_wan_xi_matches_the_papers_table_1(n, xi):
    assert synthesis.wan_xi(n) == xi


def test_wan_conversions_follow_the_papers_formulas():
    # C1 (median, range), n = 10: mean (a + 2m + b)/4, SD (b - a)/xi(10) = 8/3.078
    c1 = synthesis.wan_mean_sd(10, 5.0, minimum=1.0, maximum=9.0)
    assert (c1.mean, round(c1.sd, 4)) == (5.0, round(8 / 3.078, 4))
    # C3 (median, IQR): mean (q1 + m + q3)/3, SD (q3 - q1)/eta(n); eta tends to 2*Phi^-1(0.75) = 1.349
    c3 = synthesis.wan_mean_sd(100, 4.0, q1=2.0, q3=7.0)
    assert c3.mean == pytest.approx(13 / 3)
    assert c3.sd == pytest.approx(5 / synthesis.wan_eta(100))
    assert synthesis.wan_eta(10**7) == pytest.approx(1.349, abs=1e-3)
    # beyond the table the paper's approximation is used, continuing the table smoothly
    assert synthesis.wan_xi(51) == pytest.approx(4.498, abs=0.03)
    assert synthesis.wan_mean_sd(1, 4.0, minimum=1, maximum=9) is None
    assert synthesis.wan_mean_sd(10, 4.0) is None


def test_unit_conversion_goes_through_the_sourced_molecular_weight():
    kda = synthesis.MOLECULAR_WEIGHTS["opg"].kda
    assert synthesis.convert_unit(1.0, "opg", "pmol_l", "pg_ml") == pytest.approx(kda)
    assert synthesis.convert_unit(2.0, "rankl", "ng_ml", "pg_ml") == 2000.0
    assert synthesis.convert_unit(
        synthesis.convert_unit(3.3, "rankl", "pmol_l", "ng_l"), "rankl", "ng_l", "pmol_l"
    ) == pytest.approx(3.3)
    assert all(w.source and w.url for w in synthesis.MOLECULAR_WEIGHTS.values())


def test_case_control_effects_pair_groups_within_one_assay_and_mark_derived_rows():
    studies = frame("studies", [study("alpha2004")])
    measurements = frame(
        "measurements",
        [
            measurement("alpha2004-m1", value=2.0, sd=0.5, n=20),
            measurement("alpha2004-m2", group_role="control", value=1.0, sd=0.5, n=20, condition_group="healthy_population"),
            measurement("alpha2004-m3", analyte_form="total", statistic="median", value=3.0, q1=2.0, q3=4.0, n=20),
            measurement("alpha2004-m4", analyte_form="total", group_role="control", value=2.0, sd=1.0, n=20,
                        condition_group="healthy_population"),
        ],
    )  # fmt: skip
    effects = synthesis.case_control_effects(measurements, studies).set_index("analyte_form")
    assert set(effects.index) == {"free", "total"}
    assert effects.loc["free", "g"] == pytest.approx(2.0 * (1 - 3 / (4 * 38 - 1)))
    assert not effects.loc["free", "derived"] and effects.loc["total", "derived"]
    assert "Wan 2014" in effects.loc["total", "derivation"]
    only_published = synthesis.case_control_effects(measurements, studies, include_derived=False)
    assert list(only_published["analyte_form"]) == ["free"]


codes = st.fixed_dictionaries(
    {
        "study_id": st.sampled_from(["a", "b", "c", "d"]),
        "analyte": st.sampled_from(["rankl", "opg"]),
        "analyte_form": st.sampled_from(["free", "total", "unspecified"]),
        "assay_vendor": st.sampled_from(["biomedica", "immundiagnostik", "rnd_systems", "not_reported"]),
        "unit": st.sampled_from(["pmol_l", "pg_ml"]),
        "g": st.floats(-3, 3),
        "var_g": st.floats(0.01, 1),
    }
)


@settings(max_examples=150, deadline=None)
@given(st.lists(codes, min_size=1, max_size=25))
def test_strata_never_mix_forms_kits_analytes_or_units(rows):
    effects = effects_frame(rows)
    pooled = synthesis.pool_strata(effects)
    for _, stratum in pooled.iterrows():
        members = effects[
            (effects["analyte"] == stratum["analyte"])
            & (effects["analyte_form"] == stratum["analyte_form"])
            & (effects["assay_vendor"] == stratum["assay_vendor"])
            & (effects["unit"] == stratum["unit"])
        ]
        assert len(members) == stratum["comparisons"]
        assert stratum["k_studies"] == members["study_id"].nunique()
        if stratum["poolable"]:
            assert stratum["assay_vendor"] not in synthesis.UNNAMED_KITS and stratum["k_studies"] >= 2
    assert pooled["comparisons"].sum() == len(effects)


# --- Issue: trustworthy numbers (each expected value is computed by hand here, not by the code under test) ---


def test_dl_tau2_is_floored_at_zero_and_the_pool_is_then_the_fixed_effect_one():
    # g = [0.40, 0.55], var = [0.05, 0.08]: Q = 20*(0.40-m)^2 + 12.5*(0.55-m)^2 < df = 1, so tau^2 = 0.
    # Fixed effect by hand: m = (20*0.40 + 12.5*0.55)/32.5 = 0.457692..., SE = 1/sqrt(32.5) = 0.175412...
    effects = effects_frame(
        [dict(study_id="a", study="A", g=0.40, var_g=0.05), dict(study_id="b", study="B", g=0.55, var_g=0.08)]
    )
    pooled = synthesis.pool_strata(effects, "dl").iloc[0]
    assert pooled["tau2"] == 0.0
    assert round(pooled["pooled_g"], 4) == 0.4577
    assert round(pooled["se"], 4) == 0.1754
    assert pooled["ci_low"] == pytest.approx(0.457692 - 1.959964 * 0.175412, abs=1e-5)
    assert pooled["i2_percent"] == 0.0
    assert 0.40 <= pooled["pooled_g"] <= 0.55  # never outside every study's estimate


def test_identical_studies_pool_to_their_common_value_not_nan():
    effects = effects_frame(
        [dict(study_id="a", study="A", g=0.4, var_g=0.05), dict(study_id="b", study="B", g=0.4, var_g=0.05)]
    )
    for method in ("dl", "pm"):
        pooled = synthesis.pool_strata(effects, method).iloc[0]
        assert pooled["pooled_g"] == pytest.approx(0.4)
        assert pooled["se"] == pytest.approx(1 / math.sqrt(40))  # two weights of 1/0.05
        assert pooled["tau2"] == 0.0


def test_ng_per_litre_equals_pg_per_millilitre():
    # 1 ng/L = 1e-9 g / 1e-3 L = 1e-6 g/L; 1 pg/mL = 1e-12 g / 1e-6 L = 1e-6 g/L
    assert synthesis.convert_unit(1, "rankl", "ng_l", "pg_ml") == 1.0
    assert synthesis.convert_unit(250, "opg", "pg_ml", "ng_l") == 250.0
    assert synthesis.convert_unit(1, "opg", "ng_ml", "ng_l") == 1000.0
    # 1 nmol/L of 60 kDa OPG = 1e-9 mol/L * 60 000 g/mol = 6e-5 g/L = 60 000 pg/mL
    assert synthesis.convert_unit(1, "opg", "nmol_l", "pg_ml") == pytest.approx(60_000)


def pair(case_n, control_n, **case_kw):
    studies = frame("studies", [study("alpha2004")])
    measurements = frame(
        "measurements",
        [
            measurement("alpha2004-m1", n=case_n, **{"value": 2.0, "sd": 0.5, **case_kw}),
            measurement("alpha2004-m2", group_role="control", value=1.0, sd=0.5, n=control_n,
                        condition_group="healthy_population"),
        ],
    )  # fmt: skip
    return measurements, studies


@pytest.mark.parametrize(("case_n", "control_n"), [(1, 1), (1, 2), (2, 1), (2, 1)])
def test_groups_below_two_or_totals_below_four_are_refused_with_a_reason(case_n, control_n):
    measurements, studies = pair(case_n, control_n)
    result = synthesis.case_control_comparisons(measurements, studies)
    assert result.effects.empty
    assert len(result.not_drawn) == 1
    assert "n < 2" in result.not_drawn["reason"].iloc[0] or "total n < 4" in result.not_drawn["reason"].iloc[0]


def test_two_and_two_is_the_smallest_comparison_drawn():
    measurements, studies = pair(2, 2)
    result = synthesis.case_control_comparisons(measurements, studies)
    # Hedges' J for df = 2: 1 - 3/(4*2 - 1) = 4/7; d = (2 - 1)/0.5 = 2
    assert result.effects["g"].iloc[0] == pytest.approx(2 * 4 / 7)
    assert result.not_drawn.empty


def test_shi_skewness_tests_match_hand_computed_statistics():
    # S1, Spelling 2008 RANKL cases: median 2.90, range 0.1-37.4, n 30:
    # T1 = (0.1 + 37.4 - 5.8)/37.3 = 0.8499; critical 1/ln(39) + 2.5/31 = 0.2730 + 0.0806 = 0.3536 -> skewed
    stat, critical, skewed = synthesis.shi_skewness([30], [2.90], [np.nan], [np.nan], [0.1], [37.4])
    assert round(stat[0], 4) == 0.8499 and round(critical[0], 4) == 0.3536 and skewed[0]
    # S1, Spelling OPG cases: median 55.24, range 28.34-89.76: T1 = 7.62/61.42 = 0.1241 -> not skewed
    stat, _, skewed = synthesis.shi_skewness([30], [55.24], [np.nan], [np.nan], [28.34], [89.76])
    assert round(stat[0], 4) == 0.1241 and not skewed[0]
    # S2, n 100, quartiles 2, 3, 7: T2 = (2 + 7 - 6)/5 = 0.6; critical 2.65/10 - 6/10000 = 0.2644 -> skewed
    stat, critical, skewed = synthesis.shi_skewness([100], [3.0], [2.0], [7.0], [np.nan], [np.nan])
    assert (round(stat[0], 4), round(critical[0], 4), bool(skewed[0])) == (0.6, 0.2644, True)
    # S3, n 50, five numbers 0, 4, 5, 6, 10 (symmetric): statistic 0 < 3/sqrt(50) - 40/50^3
    stat, critical, skewed = synthesis.shi_skewness([50], [5.0], [4.0], [6.0], [0.0], [10.0])
    assert stat[0] == 0 and round(critical[0], 4) == round(3 / math.sqrt(50) - 40 / 50**3, 4) and not skewed[0]


def test_skewed_medians_are_not_converted_unless_asked_and_then_flagged():
    measurements, studies = pair(30, 30, statistic="median", value=2.90, sd=None, min=0.1, max=37.4)
    result = synthesis.case_control_comparisons(measurements, studies)
    assert result.effects.empty
    assert "skewed" in result.not_drawn["reason"].iloc[0]
    flagged = synthesis.case_control_comparisons(measurements, studies, include_skewed=True)
    assert bool(flagged.effects["skewed"].iloc[0]) and "skewed" in flagged.effects["derivation"].iloc[0]


def test_a_derived_ci_that_contradicts_the_papers_own_test_is_discordant_and_not_pooled():
    """Spelling 2008 OPG: Wan-derived g has a CI excluding 0, the paper's test gave p = 0.255."""
    studies = frame("studies", [study("spelling2008")])
    common = dict(analyte="opg", analyte_form="unspecified", assay_vendor="biomedica", unit="pg_ml", statistic="median")
    measurements = frame(
        "measurements",
        [
            measurement("spelling2008-m5", n=30, value=55.24, min=28.34, max=89.76, **common),
            measurement("spelling2008-m6", group_role="control", n=30, value=64.42, min=30.68, max=111.28,
                        condition_group="healthy_population", **common),
        ],
    )  # fmt: skip
    findings = frame(
        "findings",
        [finding("spelling2008-f3", analyte="opg", analyte_form="unspecified", direction="no_difference",
                 p_value=0.255, p_text="0.255", n=60)],
    )  # fmt: skip
    effects = synthesis.case_control_comparisons(measurements, studies, findings).effects
    row = effects.iloc[0]
    assert row["ci_high"] < 0  # the conversion alone would claim a significant decrease
    assert row["paper_p"] == 0.255 and row["discordant"]
    second = effects.assign(study_id="other", study="Other", discordant=False)
    pooled = synthesis.pool_strata(pd.concat([effects, second], ignore_index=True)).iloc[0]
    assert pooled["k_studies"] == 1 and not pooled["poolable"] and "discordant" in pooled["reason"]


@pytest.mark.parametrize(
    ("text", "expected"), [("<0.001", True), ("0.03", True), (">0.05", False), ("NS", False), ("", None)]
)
def test_paper_significance_is_read_from_the_printed_p(text, expected):
    value = float(text) if text and text[0].isdigit() else None
    assert synthesis.paper_significant(value, text) is expected


def test_pairs_not_drawn_are_listed_with_the_timepoint_mismatch():
    """Seidel 2001: cases measured 'at diagnosis', controls without a time point."""
    measurements, studies = pair(20, 20, timepoint="diagnosis")
    result = synthesis.case_control_comparisons(measurements, studies)
    assert result.effects.empty
    assert result.not_drawn["reason"].iloc[0] == "timepoint mismatch (cases 'diagnosis', controls 'none')"
    measurements, studies = pair(20, 20, unit="pg_ml")
    assert "different unit" in synthesis.case_control_comparisons(measurements, studies).not_drawn["reason"].iloc[0]
    measurements, studies = pair(20, 20, sd=None)
    assert "no SD or SE" in synthesis.case_control_comparisons(measurements, studies).not_drawn["reason"].iloc[0]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ((10, 5.0, None, None, 9.0, 1.0), "minimum above maximum"),
        ((10, 9.0, 2.0, 4.0, None, None), "median outside its quartiles"),
        ((10.5, 5.0, None, None, 1.0, 9.0), "not a whole number"),
        ((None, 5.0, None, None, 1.0, 9.0), "n not reported"),
        ((1, 5.0, None, None, 1.0, 9.0), "n < 2"),
    ],
)
def test_wan_inputs_that_make_no_sense_are_refused_with_a_reason(args, reason):
    assert reason in synthesis.wan_input_problem(*args)
    assert synthesis.wan_input_problem(10, 5.0, 4.0, 6.0, 1.0, 9.0) is None


def test_t_quantile_and_chi2_tail_match_printed_statistical_tables():
    # Student's t, two-sided 95 % (upper 0.975) critical values, from any printed t table
    assert pooling.t_quantile(0.975, 1) == pytest.approx(12.706, abs=5e-4)
    assert pooling.t_quantile(0.975, 10) == pytest.approx(2.228, abs=5e-4)
    assert pooling.t_quantile(0.975, 30) == pytest.approx(2.042, abs=5e-4)
    # χ² upper-tail probabilities at the tabulated 5 % and 1 % critical values
    assert pooling.chi2_upper(3.841, 1) == pytest.approx(0.05, abs=5e-5)
    assert pooling.chi2_upper(9.488, 4) == pytest.approx(0.05, abs=5e-5)
    assert pooling.chi2_upper(6.635, 1) == pytest.approx(0.01, abs=5e-5)
    assert pooling.chi2_upper(0.0, 3) == 1.0


def test_comparisons_stand_when_the_kept_findings_hold_no_case_control_test():
    """A filter can keep a study's groups but only its correlation findings: no paper p to match, no error."""
    studies = frame("studies", [study("spelling2008")])
    common = dict(analyte="opg", analyte_form="unspecified", assay_vendor="biomedica", unit="pg_ml")
    measurements = frame(
        "measurements",
        [
            measurement("spelling2008-m1", n=30, value=60.0, sd=10.0, **common),
            measurement("spelling2008-m2", group_role="control", n=30, value=50.0, sd=10.0,
                        condition_group="healthy_population", **common),
        ],
    )  # fmt: skip
    findings = frame(
        "findings",
        [finding("spelling2008-f1", analyte="opg", comparison_type="correlation", comparison_family="correlation",
                 direction="positive_association")],
    )  # fmt: skip
    effects = synthesis.case_control_comparisons(measurements, studies, findings).effects
    assert len(effects) == 1 and np.isnan(effects["paper_p"].iloc[0])
    # Hedges' g by hand: d = (60 − 50) / 10 = 1, J = 1 − 3 / (4·58 − 1) = 0.98701
    assert effects["g"].iloc[0] == pytest.approx(0.98701, abs=1e-4)
