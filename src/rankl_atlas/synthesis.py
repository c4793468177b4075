"""Fair comparisons: case-control effect sizes, strata of one analyte, form and kit, and pooled estimates.

Rules that keep pooling honest:
- effect sizes (Hedges' g) only where both groups' mean and spread are known (or derived by a cited method);
- strata are one analyte × one analyte form × one assay vendor × one unit; never across free and total RANKL,
  across kits, or across ratio orientations;
- a stratum is pooled only with k >= 2 studies and a named kit (an unreported kit may hide different kits);
- one comparison per study per stratum enters the pool (a second case group would share its control group).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rankl_atlas import pooling
from rankl_atlas.labels import study_label_map
from rankl_atlas.schema import ANALYTE, ANALYTE_FORM, MOLECULAR_WEIGHTS, UNIT, UNITS, label

# --- Wan et al. (2014) -------------------------------------------------------------------------
WAN_2014 = (
    "Wan X, Wang W, Liu J, Tong T. Estimating the sample mean and standard deviation from the sample size, "
    "median, range and/or interquartile range. BMC Med Res Methodol 2014;14:135. doi:10.1186/1471-2288-14-135"
)
#: Table 1 of Wan et al. 2014: ξ(n) for n <= 50 (the expected range of n standard normal values).
WAN_XI_TABLE = {
    1: 0.0, 2: 1.128, 3: 1.693, 4: 2.059, 5: 2.326, 6: 2.534, 7: 2.704, 8: 2.847, 9: 2.970, 10: 3.078,
    11: 3.173, 12: 3.259, 13: 3.336, 14: 3.407, 15: 3.472, 16: 3.532, 17: 3.588, 18: 3.640, 19: 3.689, 20: 3.735,
    21: 3.778, 22: 3.819, 23: 3.858, 24: 3.895, 25: 3.931, 26: 3.964, 27: 3.997, 28: 4.027, 29: 4.057, 30: 4.086,
    31: 4.113, 32: 4.139, 33: 4.165, 34: 4.189, 35: 4.213, 36: 4.236, 37: 4.259, 38: 4.280, 39: 4.301, 40: 4.322,
    41: 4.341, 42: 4.361, 43: 4.379, 44: 4.398, 45: 4.415, 46: 4.433, 47: 4.450, 48: 4.466, 49: 4.482, 50: 4.498,
}  # fmt: skip


_XI_TABLE_ARRAY = np.array([WAN_XI_TABLE.get(k, np.nan) for k in range(51)])


def wan_xi(n):
    """ξ(n): Wan et al.'s Table 1 for n <= 50, else their approximation 2·Φ⁻¹((n − 0.375)/(n + 0.25)).

    Works on a number or an array of sample sizes (n >= 1).
    """
    # Imported here, not with the module: SciPy's statistics add ≈ 0.6 s to a cold start.
    from scipy.stats import norm

    n = np.asarray(n, dtype=float)
    tabulated = _XI_TABLE_ARRAY[np.clip(n, 0, 50).astype(int)]
    return np.where(n <= 50, tabulated, 2 * norm.ppf((n - 0.375) / (n + 0.25)))[()]


def wan_eta(n):
    """η(n) = 2·Φ⁻¹((0.75n − 0.125)/(n + 0.25)), Wan et al.'s divisor for the interquartile range."""
    # Imported here, not with the module: SciPy's statistics add ≈ 0.6 s to a cold start.
    from scipy.stats import norm

    n = np.asarray(n, dtype=float)
    return (2 * norm.ppf((0.75 * n - 0.125) / (n + 0.25)))[()]


@dataclass(frozen=True)
class Estimate:
    """A mean and SD estimated from a median summary, with the scenario of Wan et al. used."""

    mean: float
    sd: float
    method: str


def wan_mean_sd(
    n: int,
    median: float,
    q1: float | None = None,
    q3: float | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
) -> Estimate | None:
    """Estimated mean and SD from median with range (C1), all five numbers (C2) or IQR (C3); None otherwise."""
    as_array = [
        np.array([np.nan if v is None or pd.isna(v) else float(v)]) for v in (n, median, q1, q3, minimum, maximum)
    ]
    mean, sd, method = wan_mean_sd_arrays(*as_array)
    return None if np.isnan(mean[0]) else Estimate(float(mean[0]), float(sd[0]), str(method[0]))


_WAN_METHODS = (
    "Wan 2014, scenario C2 (min, quartiles, median, max)",
    "Wan 2014, scenario C3 (median, IQR)",
    "Wan 2014, scenario C1 (median, range)",
)


def wan_mean_sd_arrays(n, median, q1, q3, minimum, maximum):
    """Wan et al. 2014 over arrays (NaN where no scenario applies): (means, sds, method names)."""
    n = np.asarray(n, dtype=float)
    ok_n = ~np.isnan(n) & (n >= 2)
    safe_n = np.where(ok_n, n, 2.0)
    xi, eta = wan_xi(safe_n), wan_eta(safe_n)
    has_range = ~np.isnan(minimum) & ~np.isnan(maximum)
    has_iqr = ~np.isnan(q1) & ~np.isnan(q3)
    base = ok_n & ~np.isnan(median)
    scenarios = [base & has_range & has_iqr, base & has_iqr & ~has_range, base & has_range & ~has_iqr]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.select(
            scenarios,
            [
                (minimum + 2 * q1 + 2 * median + 2 * q3 + maximum) / 8,
                (q1 + median + q3) / 3,
                (minimum + 2 * median + maximum) / 4,
            ],
            default=np.nan,
        )
        sd = np.select(
            scenarios,
            [(maximum - minimum) / (2 * xi) + (q3 - q1) / (2 * eta), (q3 - q1) / eta, (maximum - minimum) / xi],
            default=np.nan,
        )
    return mean, sd, np.select(scenarios, list(_WAN_METHODS), default="")


# --- Shi et al. (2023) skewness tests -----------------------------------------------------------
SHI_2023 = (
    "Shi J, Luo D, Wan X, Liu Y, Liu J, Bian Z, Tong T. Detecting the skewness of data from the five-number "
    "summary and its application in meta-analysis. Stat Methods Med Res 2023;32:1338-1360. "
    "doi:10.1177/09622802231172043 (critical values at the 5% level as implemented in the R package metamedian)"
)


def shi_skewness(n, median, q1, q3, minimum, maximum):
    """Shi et al. 2023 skewness test over arrays: (statistic, critical value, skewed) per group (NaN when no test).

    S1 (min, median, max): T1 = (min + max − 2·median)/(max − min), critical 1/ln(n + 9) + 2.5/(n + 1).
    S2 (quartiles): T2 = (q1 + q3 − 2·median)/(q3 − q1), critical 2.65/√n − 6/n².
    S3 (all five): max(2.65·ln(0.6n)/√n · |T1|, |T2|), critical 3/√n − 40/n³.
    """
    n = np.asarray(n, dtype=float)
    median, q1, q3, minimum, maximum = (np.asarray(v, dtype=float) for v in (median, q1, q3, minimum, maximum))
    has_range = ~np.isnan(minimum) & ~np.isnan(maximum)
    has_iqr = ~np.isnan(q1) & ~np.isnan(q3)
    with np.errstate(invalid="ignore", divide="ignore"):
        t1 = (minimum + maximum - 2 * median) / (maximum - minimum)
        t2 = (q1 + q3 - 2 * median) / (q3 - q1)
        s3 = np.maximum(2.65 * np.log(0.6 * n) / np.sqrt(n) * np.abs(t1), np.abs(t2))
        stat = np.select([has_range & has_iqr, has_iqr, has_range], [s3, np.abs(t2), np.abs(t1)], default=np.nan)
        critical = np.select(
            [has_range & has_iqr, has_iqr, has_range],
            [3 / np.sqrt(n) - 40 / n**3, 2.65 / np.sqrt(n) - 6 / n**2, 1 / np.log(n + 9) + 2.5 / (n + 1)],
            default=np.nan,
        )
    return stat, critical, stat > critical


def wan_input_problem(n, median, q1, q3, minimum, maximum) -> str | None:
    """Why a median summary cannot be converted by Wan et al. (None when it can)."""
    values = [n, median, q1, q3, minimum, maximum]
    n, median, q1, q3, minimum, maximum = (None if v is None or pd.isna(v) else float(v) for v in values)
    if n is None:
        return "group size n not reported"
    if n != int(n):
        return "group size n is not a whole number"
    if n < 2:
        return "group n < 2"
    if median is None:
        return "no median"
    has_range, has_iqr = minimum is not None and maximum is not None, q1 is not None and q3 is not None
    if has_iqr and q1 > q3:
        return "quartiles reversed (q1 above q3)"
    if not has_range and not has_iqr:
        return "median without quartiles or range"
    if has_range and minimum > maximum:
        return "minimum above maximum"
    if has_iqr and not q1 <= median <= q3:
        return "median outside its quartiles"
    if has_range and not minimum <= median <= maximum:
        return "median outside its range"
    if has_range and has_iqr and not minimum <= q1 <= q3 <= maximum:
        return "quartiles outside the range"
    return None


# --- Units -------------------------------------------------------------------------------------


def molecular_weight_table() -> pd.DataFrame:
    """The molecular weights used for provisional unit conversion, with their sources."""
    return pd.DataFrame(
        [(ANALYTE[a], w.kda, w.basis, w.source, w.url) for a, w in MOLECULAR_WEIGHTS.items()],
        columns=["analyte", "kDa", "basis", "source", "url"],
    )


class UnitConversionRefused(ValueError):
    """A value cannot be converted between these units (relative units, or no molecular weight)."""


def molecular_weight_for(
    analyte: str, analyte_form: str | None = None, kit_kda: float | None = None
) -> tuple[float, str]:
    """The molecular weight (kDa) for a mass <-> molar conversion and where it comes from.

    The kit's calibrator weight when its catalogue entry states one; else the generic weight of MOLECULAR_WEIGHTS,
    flagged 'generic'. An OPG dimer is twice the monomer.
    """
    if kit_kda is not None and not pd.isna(kit_kda) and float(kit_kda) > 0:
        return float(kit_kda), "kit calibrator"
    kda = MOLECULAR_WEIGHTS[analyte].kda
    if analyte == "opg" and analyte_form == "dimer":
        return 2 * kda, "generic (dimer)"
    return kda, "generic"


def convert_unit(
    value: float,
    analyte: str,
    from_unit: str,
    to_unit: str,
    analyte_form: str | None = None,
    kit_kda: float | None = None,
) -> float:
    """Convert a concentration between units with the UNITS table; molar <-> mass goes through the kit's
    calibrator weight when known, else the generic MOLECULAR_WEIGHTS (provisional): 1 pmol/L of a protein of
    M kDa is M pg/mL. Relative units (NPX, RFU) are never converted.
    """
    source, target = UNITS[from_unit], UNITS[to_unit]
    if "relative" in (source.kind, target.kind):
        if from_unit == to_unit:
            return value
        raise UnitConversionRefused(f"{UNIT[from_unit]} and {UNIT[to_unit]}: relative units are never converted")
    amount = value * source.factor  # pg/mL or pmol/L
    if source.kind != target.kind:
        kda, _ = molecular_weight_for(analyte, analyte_form, kit_kda)
        amount = amount * kda if source.kind == "molar" else amount / kda
    return amount / target.factor


# --- Group summaries and case-control comparisons -----------------------------------------------

STRATUM_KEYS = ["analyte", "analyte_form", "assay_vendor", "unit"]
UNNAMED_KITS = {"not_reported", "other", "in_house"}
MIN_GROUP_N, MIN_TOTAL_N = 2, 4


SPREAD_READINGS = {"exclude": "Left out of pooling", "sd": "Read as SD", "se": "Read as SE"}


def group_summaries(measurements: pd.DataFrame, include_skewed: bool = False, spread: str = "exclude") -> pd.DataFrame:
    """Every measurement row with the mean and SD it can offer, or the reason it cannot.

    Means come as published (SD, or SD = SE × √n); a '± x' the paper did not label (spread_basis unknown) is
    read as SD unless spread = 'se' (SD = x·√n), and sd_if_se keeps the other reading; spread_unresolved marks
    such rows. Medians are converted with Wan et al. 2014 only when their inputs are consistent and the Shi et
    al. 2023 test finds no skewness (skewed groups are converted only with include_skewed, and flagged). Adds
    mean_used, sd_used, sd_if_se, spread_unresolved, derived, skewed, derivation and problem (empty when usable).
    """
    rows = measurements.copy()
    value, sd, se, n = (rows[c].astype(float) for c in ("value", "sd", "se", "n"))
    is_mean = (rows["statistic"] == "mean").fillna(False).astype(bool)
    if "spread_basis" not in rows:
        rows["spread_basis"] = pd.Series(pd.NA, index=rows.index, dtype="string")
    unresolved = (rows["spread_basis"] == "unknown").fillna(False).astype(bool) & is_mean & sd.notna()
    rows["spread_unresolved"] = unresolved
    rows["sd_if_se"] = (sd * np.sqrt(n)).where(unresolved)
    rows["mean_used"] = value.where(is_mean)
    rows["sd_used"] = sd.where(is_mean).fillna((se * np.sqrt(n)).where(is_mean))
    if spread == "se":
        rows["sd_used"] = rows["sd_if_se"].where(unresolved, rows["sd_used"])
    rows["derived"] = False
    rows["skewed"] = False
    rows["derivation"] = np.where(is_mean & sd.isna() & se.notna(), "SD = SE × √n", "as published")
    reading = "read as SE (SD = x·√n)" if spread == "se" else "read as SD"
    rows.loc[unresolved, "derivation"] = f"'±' not labelled SD or SE: {reading}"
    problem = pd.Series("", index=rows.index, dtype=object)
    problem[is_mean & rows["sd_used"].isna()] = "no SD or SE given"
    negative = (sd < 0) | (se < 0)
    problem[negative.fillna(False).astype(bool)] = "negative spread"
    median = (rows["statistic"] == "median").fillna(False).astype(bool)
    if median.any():
        parts = [rows[c].astype(float).to_numpy() for c in ("q1", "q3", "min", "max")]
        est_mean, est_sd, method = wan_mean_sd_arrays(n.to_numpy(), value.to_numpy(), *parts)
        _, _, skewed = shi_skewness(n.to_numpy(), value.to_numpy(), *parts)
        n_values, medians = n.to_numpy(), value.to_numpy()
        converted = np.zeros(len(rows), dtype=bool)
        reasons = problem.to_numpy(dtype=object, copy=True)  # set here, then once: .iat per row was slow
        for i in np.flatnonzero(median.to_numpy()):
            reason = wan_input_problem(n_values[i], medians[i], *(p[i] for p in parts))
            if reason is None and skewed[i] and not include_skewed:
                reason = "skewed (Shi et al. 2023 test): not converted to a mean"
            if reason:
                reasons[i] = reason
            else:
                converted[i] = True
        problem = pd.Series(reasons, index=rows.index, dtype=object)
        rows["mean_used"] = np.where(converted, est_mean, rows["mean_used"].astype(float))
        rows["sd_used"] = np.where(converted, est_sd, rows["sd_used"].astype(float))
        rows["derived"] = converted
        rows["skewed"] = converted & np.asarray(skewed, dtype=bool)
        flagged = np.where(rows["skewed"], " — skewed, flagged", "")
        rows["derivation"] = np.where(
            converted, np.char.add(method.astype(str), flagged.astype(str)), rows["derivation"]
        )
    other = ~is_mean & ~median
    problem[other & rows["statistic"].notna()] = "statistic cannot be converted (geometric mean)"
    problem[rows["statistic"].isna()] = "statistic not named by the source"
    problem[rows["value"].isna()] = "no value (only share undetectable)"
    usable = problem == ""
    problem[usable & (rows["sd_used"].fillna(0) <= 0)] = "spread is zero"
    problem[usable & ~(n >= MIN_GROUP_N).fillna(False)] = "group n < 2 or not reported"
    rows["problem"] = problem
    return rows


EFFECT_COLUMNS = [
    "comparison_id", "study_id", "study", "year", *STRATUM_KEYS, "specimen", "timepoint", "case_group",
    "control_group", "n_case", "n_control", "mean_case", "sd_case", "mean_control", "sd_control", "derived",
    "skewed", "derivation", "g", "var_g", "ci_low", "ci_high", "paper_p", "paper_p_text", "discordant",
    "condition_group", "assay_id", "spread_unresolved", "spread_stated", "g_if_se", "agreement", "p_student",
    "p_welch", "poolable_spread",
]  # fmt: skip
NOT_DRAWN_COLUMNS = ["study_id", "study", "analyte", "case_group", "control_group", "reason"]


@dataclass(frozen=True)
class Comparisons:
    """Case-control effect sizes that could be computed, and every case-control pair that was not, with why."""

    effects: pd.DataFrame
    not_drawn: pd.DataFrame


def case_control_comparisons(
    measurements: pd.DataFrame,
    studies: pd.DataFrame,
    findings: pd.DataFrame | None = None,
    include_derived: bool = True,
    include_skewed: bool = False,
    spread: str = "exclude",
) -> Comparisons:
    """Hedges' g (cases minus controls, 95% CI) for every case group against its study's control group.

    Pairs only groups of the same study, analyte, form, vendor, specimen, unit and time point; every other
    case-control pair is listed in not_drawn with the reason. Beside each g stands the paper's own p-value for
    that comparison (from findings), and a derived g whose CI disagrees with it is marked discordant.
    """
    labels = study_label_map(studies)
    summaries = group_summaries(measurements, include_skewed=include_skewed, spread=spread)
    if not include_derived:
        derived = summaries["derived"].astype(bool)
        summaries.loc[derived, "problem"] = "converted from a median (left out: published means only)"
    summaries = summaries.assign(timepoint=summaries["timepoint"].fillna(""))
    cases = summaries[summaries["group_role"] == "case"]
    controls = summaries[summaries["group_role"] == "control"]
    pairs = cases.merge(controls, on=["study_id", "analyte"], suffixes=("_case", "_control"))
    reasons = pd.Series("", index=pairs.index, dtype=object)
    for column, reason in (
        ("timepoint", "timepoint mismatch"),
        ("specimen", "different specimen"),
        ("analyte_form", "different analyte form"),
        ("assay_vendor", "different kit"),
        ("unit", "different unit"),
    ):
        differs = pairs[f"{column}_case"].astype(str) != pairs[f"{column}_control"].astype(str)
        detail = (
            reason
            + " (cases '"
            + pairs[f"{column}_case"].astype(str).replace("", "none")
            + "', controls '"
            + pairs[f"{column}_control"].astype(str).replace("", "none")
            + "')"
        )
        reasons = reasons.where(reasons != "", detail.where(differs, ""))
    for side in ("case", "control"):
        problem = pairs[f"problem_{side}"].fillna("")
        reasons = reasons.where(reasons != "", (side + "s: " + problem).where(problem != "", ""))
    total = pairs["n_case"].astype(float) + pairs["n_control"].astype(float)
    reasons = reasons.where(reasons != "", pd.Series("total n < 4", index=pairs.index).where(total < MIN_TOTAL_N, ""))
    # one control group per case group: keep the largest matching control, so a second control is not "not drawn"
    matched = pairs[reasons == ""].sort_values("n_control", ascending=False)
    matched = matched.drop_duplicates("measurement_id_case")
    unmatched = pairs[(reasons != "") & ~pairs["measurement_id_case"].isin(matched["measurement_id_case"])]
    not_drawn = pd.DataFrame(
        {
            "study_id": unmatched["study_id"],
            "study": unmatched["study_id"].map(labels),
            "analyte": unmatched["analyte"],
            "case_group": unmatched["group_label_case"],
            "control_group": unmatched["group_label_control"],
            "reason": reasons[unmatched.index],
        },
        columns=NOT_DRAWN_COLUMNS,
    ).drop_duplicates(["study_id", "analyte", "case_group", "reason"])
    effects = _effects(matched, studies, labels)
    if not effects.empty:
        bad = ~np.isfinite(effects["var_g"]) | (effects["var_g"] <= 0) | ~np.isfinite(effects["g"])
        if bad.any():
            extra = effects[bad].assign(reason="effect size variance not finite or zero")
            not_drawn = pd.concat([not_drawn, extra[NOT_DRAWN_COLUMNS]], ignore_index=True)
            effects = effects[~bad]
        effects = _with_paper_p(effects, findings)
        effects["poolable_spread"] = ~effects["spread_unresolved"] | (spread != "exclude")
    return Comparisons(effects.reset_index(drop=True), not_drawn.reset_index(drop=True))


def _effects(pairs: pd.DataFrame, studies: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    # Imported here, not with the module: SciPy's statistics add ≈ 0.6 s to a cold start.
    from statsmodels.stats.meta_analysis import effectsize_smd

    if pairs.empty:
        return pd.DataFrame(columns=EFFECT_COLUMNS)
    g, var = effectsize_smd(
        *(pairs[c].astype(float).to_numpy() for c in ("mean_used_case", "sd_used_case", "n_case")),
        *(pairs[c].astype(float).to_numpy() for c in ("mean_used_control", "sd_used_control", "n_control")),
    )
    derived_case, derived_control = pairs["derived_case"].astype(bool), pairs["derived_control"].astype(bool)
    unresolved = pairs["spread_unresolved_case"].astype(bool) | pairs["spread_unresolved_control"].astype(bool)
    sd_alt = [
        pairs[f"sd_if_se_{side}"].astype(float).fillna(pairs[f"sd_used_{side}"].astype(float)).to_numpy()
        for side in ("case", "control")
    ]
    g_alt, _ = effectsize_smd(
        pairs["mean_used_case"].astype(float).to_numpy(), sd_alt[0], pairs["n_case"].astype(float).to_numpy(),
        pairs["mean_used_control"].astype(float).to_numpy(), sd_alt[1], pairs["n_control"].astype(float).to_numpy(),
    )  # fmt: skip
    stated = (pairs["spread_basis_case"].astype(object) == "stated") & (
        pairs["spread_basis_control"].astype(object) == "stated"
    )
    out = pd.DataFrame(
        {
            "comparison_id": pairs["measurement_id_case"] + " vs " + pairs["measurement_id_control"],
            "study_id": pairs["study_id"],
            "study": pairs["study_id"].map(labels),
            "year": pairs["study_id"].map(studies.set_index("study_id")["year"]),
            "analyte": pairs["analyte"],
            **{k: pairs[f"{k}_case"] for k in STRATUM_KEYS if k != "analyte"},
            "specimen": pairs["specimen_case"],
            "timepoint": pairs["timepoint_case"],
            "case_group": pairs["group_label_case"],
            "control_group": pairs["group_label_control"],
            "n_case": pairs["n_case"].astype(int),
            "n_control": pairs["n_control"].astype(int),
            "mean_case": pairs["mean_used_case"].astype(float),
            "sd_case": pairs["sd_used_case"].astype(float),
            "mean_control": pairs["mean_used_control"].astype(float),
            "sd_control": pairs["sd_used_control"].astype(float),
            "derived": derived_case | derived_control,
            "skewed": pairs["skewed_case"].astype(bool) | pairs["skewed_control"].astype(bool),
            "derivation": np.where(
                derived_case | derived_control,
                pairs["derivation_case"].where(derived_case, pairs["derivation_control"]),
                "as published",
            ),
            "g": g,
            "var_g": var,
            "condition_group": pairs["condition_group_case"],
            "assay_id": pairs["assay_id_case"],
            "spread_unresolved": unresolved,
            "spread_stated": stated.fillna(False).astype(bool) & ~derived_case & ~derived_control,
            "g_if_se": np.where(unresolved, g_alt, np.nan),
        }
    )
    half = 1.959963984540054 * np.sqrt(out["var_g"].clip(lower=0))
    out["ci_low"], out["ci_high"] = out["g"] - half, out["g"] + half
    return out.sort_values([*STRATUM_KEYS, "year", "study"])


_P_TEXT = re.compile(r"^p?\s*(<=|>=|=<|=>|[<>≤≥=])?\s*(0?\.\d+|1(?:\.0+)?|\d\.\d+e-\d+)$")
_NOT_SIGNIFICANT = {"ns", "n.s", "n.s.", "notsignificant", "nonsignificant", "non-significant", "notsig"}


@dataclass(frozen=True)
class PrintedP:
    """A p-value as the paper printed it: a bound or an exact value, and whether it is significant at 5 %."""

    op: str  # "=", "<" or ">"
    value: float | None
    significant: bool | None


def read_printed_p(p_value: float | None, p_text: str | None) -> PrintedP | None:
    """Read the paper's p: a number, 'P<0.05', 'p=0.03', '≥ 0.14', a bare '0.03', 'n.s', 'not significant'.

    None when nothing readable was printed.
    """
    text = "" if p_text is None or pd.isna(p_text) else str(p_text).strip().lower()
    compact = text.replace(" ", "")
    if compact in _NOT_SIGNIFICANT:
        return PrintedP(">", 0.05, False)
    match = _P_TEXT.match(compact)
    if match:
        op = {"<=": "<", "=<": "<", "≤": "<", ">=": ">", "=>": ">", "≥": ">"}.get(
            match.group(1) or "=", match.group(1) or "="
        )
        bound = float(match.group(2))
        if op == "<":
            return PrintedP("<", bound, True if bound <= 0.05 else None)
        if op == ">":
            return PrintedP(">", bound, False if bound >= 0.05 else None)
        return PrintedP("=", bound, bound < 0.05)
    if p_value is not None and not pd.isna(p_value):
        return PrintedP("=", float(p_value), float(p_value) < 0.05)
    return None


def paper_significant(p_value: float | None, p_text: str | None) -> bool | None:
    """Whether the paper's own test was significant at 5% (None when the printed p does not say)."""
    printed = read_printed_p(p_value, p_text)
    return None if printed is None else printed.significant


def two_sample_p(mean1, sd1, n1, mean2, sd2, n2):
    """Two-sided p of Student's pooled-SD t-test and of Welch's t-test from group summaries (scipy): floats for
    one comparison, arrays for arrays of them."""
    # Imported here, not with the module: SciPy's statistics add ≈ 0.6 s to a cold start.
    from scipy.stats import ttest_ind_from_stats

    student = ttest_ind_from_stats(mean1, sd1, n1, mean2, sd2, n2, equal_var=True).pvalue
    welch = ttest_ind_from_stats(mean1, sd1, n1, mean2, sd2, n2, equal_var=False).pvalue
    if np.ndim(student) == 0:
        return float(student), float(welch)
    return np.asarray(student, dtype=float), np.asarray(welch, dtype=float)


def p_consistent(computed: float, printed: PrintedP) -> bool:
    """Whether a recomputed p agrees with the printed one: same side of a printed bound, or within a factor of
    three of a printed exact value (rounding of summaries moves p by less than that)."""
    if printed.op == "<":
        return computed < printed.value
    if printed.op == ">":
        return computed > printed.value
    return printed.value / 3 <= computed <= printed.value * 3 or (printed.value >= 0.05 and computed >= 0.05)


#: "Near 0.05": within a factor of two of it. A disagreement there is called borderline, not discordant.
BORDERLINE = (0.025, 0.10)
AGREEMENT = {
    "agrees": "Agrees with the paper's test",
    "borderline": "Borderline (p near 0.05): not called discordant",
    "discordant": "Discordant with the paper's test",
    "direction_differs": "Direction differs from the paper's",
    "": "No p printed for this comparison",
}
_DIRECTION_SIGN = {"higher": 1, "lower": -1}


def agreement_with_paper(
    student_p: float, welch_p: float, printed: PrintedP | None, direction: str | None, g: float
) -> str:
    """Compare the recomputed tests with the paper's: 'agrees', 'borderline', 'discordant', 'direction_differs'
    or '' (no printed p). Discordant only when neither Student's nor Welch's test agrees and neither p nor the
    printed value lies near 0.05 (BORDERLINE)."""
    sign = _DIRECTION_SIGN.get(str(direction))
    if sign is not None and np.isfinite(g) and g != 0 and np.sign(g) != sign:
        return "direction_differs"
    if printed is None or printed.significant is None:
        return ""
    computed = (student_p, welch_p)
    if printed.significant and min(computed) < 0.05:
        return "agrees"
    if not printed.significant and max(computed) >= 0.05:
        return "agrees"
    near = [c for c in computed if BORDERLINE[0] <= c <= BORDERLINE[1]]
    if near or (printed.op == "=" and BORDERLINE[0] <= printed.value <= BORDERLINE[1]):
        return "borderline"
    return "discordant"


def _tokens(text: object) -> set[str]:
    return {t for t in re.findall(r"[a-z0-9]+", str(text).lower()) if len(t) > 1} - {"vs", "and", "with", "the", "of"}


def match_paper_tests(effects: pd.DataFrame, findings: pd.DataFrame | None) -> pd.DataFrame:
    """For each comparison (row of effects), the case-vs-control finding that tests it, matched by the groups
    compared: the finding whose n is the two groups' total; else the one whose wording names this case group
    and no other; else the only finding when the study has one case group for that analyte. Otherwise none.

    Returns effects' index with finding_id, p_value, p_text and direction (empty where none matched).
    """
    if findings is None or findings.empty or effects.empty:
        return _paper_tests_frame([None] * len(effects), effects.index)
    family = findings["comparison_family"] if "comparison_family" in findings else findings["comparison_type"]
    tests = findings[(family == "cases_vs_controls") | (findings["comparison_type"] == "case_vs_control")]
    effect_keys = _study_analyte(effects)
    wanted = set(effect_keys)  # only the findings of a study and analyte with a comparison can test one
    relevant = np.array([key in wanted for key in _study_analyte(tests)], dtype=bool)  # an array: [] selects columns
    candidates_of = _candidate_tests(tests[relevant])
    case_groups: dict[tuple, list[str]] = {}
    for key, group in zip(effect_keys, effects["case_group"], strict=True):
        case_groups.setdefault(key, [])
        if group not in case_groups[key]:
            case_groups[key].append(group)
    totals = (effects["n_case"] + effects["n_control"]).astype(float)
    found = [
        _paper_test_of(candidates_of.get(key), float(total), group, case_groups[key])
        for key, total, group in zip(effect_keys, totals, effects["case_group"], strict=True)
    ]
    return _paper_tests_frame(found, effects.index)


def _paper_tests_frame(found: list[dict | None], index: pd.Index) -> pd.DataFrame:
    """finding_id, p_value, p_text and direction of each matched finding (empty where none matched)."""
    return pd.DataFrame(
        {
            "finding_id": [t["finding_id"] if t else "" for t in found],
            "p_value": [t["p_value"] if t else np.nan for t in found],
            "p_text": [t["p_text"] if t else "" for t in found],
            "direction": [t["direction"] if t else "" for t in found],
        },
        index=index,
    ).astype({"finding_id": object, "p_value": float, "p_text": object, "direction": object})


def _study_analyte(frame: pd.DataFrame) -> list[tuple]:
    """(study_id, analyte) of each row."""
    return list(zip(frame["study_id"].tolist(), frame["analyte"].tolist(), strict=True))  # lists: fast to walk


def _candidate_tests(tests: pd.DataFrame) -> dict[tuple, list[dict]]:
    """(study_id, analyte) -> its case-vs-control findings in order, each as a plain record (n as float)."""
    columns = {  # as Python lists: walking Arrow-backed columns value by value, or to_dict("records"), was slow
        "finding_id": tests["finding_id"].tolist(),
        "n": tests["n"].astype("Float64").astype(float).tolist(),
        "comparison": tests["comparison"].tolist(),
        "p_value": tests["p_value"].astype("Float64").astype(float).tolist(),
        "p_text": [str(t) for t in tests["p_text"].astype(object).where(tests["p_text"].notna(), "")],
        "direction": [str(d) for d in tests["direction"].astype(object).where(tests["direction"].notna(), "")],
    }
    out: dict[tuple, list[dict]] = {}
    for key, *values in zip(_study_analyte(tests), *columns.values(), strict=True):
        out.setdefault(key, []).append(dict(zip(columns, values, strict=True)))
    return out


def _paper_test_of(candidates: list[dict] | None, total: float, case_group: str, groups: list[str]) -> dict | None:
    """The one candidate finding that tests this case group (see match_paper_tests), or None."""
    if not candidates:
        return None
    chosen = [c for c in candidates if c["n"] == total]
    if len(chosen) != 1:
        others = set().union(*(_tokens(g) for g in groups if g != case_group))
        own = _tokens(case_group) - others
        named = [c for c in candidates if own & _tokens(c["comparison"])]
        chosen = named if len(named) == 1 else []
    if not chosen and len(candidates) == 1 and len(groups) == 1:
        chosen = candidates
    return chosen[0] if len(chosen) == 1 else None


def _with_paper_p(effects: pd.DataFrame, findings: pd.DataFrame | None) -> pd.DataFrame:
    """The paper's own p beside each comparison (matched by the groups compared), the recomputed Student and
    Welch p, and whether they agree; discordant (or direction-differs) rows are flagged for leaving out."""
    effects = effects.copy()
    matched = match_paper_tests(effects, findings)
    effects["paper_p"] = matched["p_value"].astype(float)
    effects["paper_p_text"] = matched["p_text"].where(matched["p_text"] != "", "")
    columns = ("mean_case", "sd_case", "n_case", "mean_control", "sd_control", "n_control")
    with np.errstate(invalid="ignore", divide="ignore"):
        student, welch = two_sample_p(*(effects[c].astype(float).to_numpy() for c in columns))
    effects["p_student"] = student
    effects["p_welch"] = welch
    effects["agreement"] = [
        agreement_with_paper(
            st, we, read_printed_p(None if np.isnan(pv) else pv, pt or None), d or None, g
        )
        for st, we, pv, pt, d, g in zip(
            effects["p_student"], effects["p_welch"], effects["paper_p"], effects["paper_p_text"],
            matched["direction"], effects["g"], strict=True,
        )
    ]  # fmt: skip
    effects["discordant"] = effects["agreement"].isin(["discordant", "direction_differs"])
    return effects


def case_control_effects(
    measurements: pd.DataFrame, studies: pd.DataFrame, include_derived: bool = True, include_skewed: bool = False
) -> pd.DataFrame:
    """The effect sizes of case_control_comparisons (without the paper's p-values or the not-drawn list)."""
    return case_control_comparisons(measurements, studies, None, include_derived, include_skewed).effects


def stratum_label(analyte: str, form: str, vendor: str, unit: str) -> str:
    """'RANKL · free · Biomedica · pmol/L'."""
    return f"{ANALYTE.get(analyte, analyte)} · {ANALYTE_FORM.get(form, form).lower()} · {label('assay_vendor', vendor)} · {UNIT.get(unit, unit)}"


POOL_METHODS = pooling.ESTIMATORS


def pool_strata(effects: pd.DataFrame, method: str = "dl", include_discordant: bool = False) -> pd.DataFrame:
    """One row per stratum: k, whether it is poolable (and why not), and the random-effects pooled g.

    Pooling uses statsmodels' combine_effects (DerSimonian-Laird 'dl' or Paule-Mandel 'pm'). τ² is floored at
    0 (as metafor does): when the estimator gives τ² ≤ 0 the pooled estimate, SE and CI are the fixed-effect
    ones. Derived rows that disagree with the paper's own test are left out unless include_discordant.
    """
    method_name = POOL_METHODS[method][1]
    rows = []
    usable_all = effects
    if not include_discordant and "discordant" in effects:
        usable_all = effects[~effects["discordant"].astype(bool)]
    if "poolable_spread" in usable_all:
        usable_all = usable_all[usable_all["poolable_spread"].astype(bool)]
    # one comparison per study per stratum (the largest case group), chosen once for all strata
    best = usable_all.sort_values("n_case", ascending=False, kind="stable").drop_duplicates([*STRATUM_KEYS, "study_id"])
    best_of = {key: part for key, part in best.groupby(STRATUM_KEYS, sort=False, dropna=False)}
    usable_count = usable_all.groupby(STRATUM_KEYS, sort=False, dropna=False).size().to_dict()
    for key, part in effects.groupby(STRATUM_KEYS, sort=True, dropna=False):
        one_per_study = best_of.get(key, effects.iloc[0:0])
        left_out = usable_count.get(key, 0) < len(part)  # discordant rows set aside
        k = len(one_per_study)
        row = {
            **dict(zip(STRATUM_KEYS, key, strict=True)),
            "stratum": stratum_label(*key),
            "comparisons": len(part),
            "k_studies": k,
            "method": method_name,
        }
        reason = None
        if key[2] in UNNAMED_KITS:
            reason = "kit not named: studies may have used different kits"
        elif k < 2:
            reason = "fewer than two studies" + (" (discordant or unresolved rows left out)" if left_out else "")
        if reason:
            rows.append({**row, "poolable": False, "reason": reason})
            continue
        rows.append(
            {
                **row,
                "poolable": True,
                "reason": "",
                **pool(one_per_study, method),
                "studies": ", ".join(one_per_study["study"]),
            }
        )
    columns = [
        "stratum", *STRATUM_KEYS, "comparisons", "k_studies", "poolable", "reason", "method", "pooled_g", "se",
        "ci_low", "ci_high", "tau2", "i2_percent", "q", "studies",
    ]  # fmt: skip
    return pd.DataFrame(rows).reindex(columns=columns)


def pool(rows: pd.DataFrame, method: str = "dl") -> dict[str, float]:
    """Random-effects pool of rows' g and var_g (pooling.pool: τ² floored at 0; refuses a zero or non-finite
    variance and a non-finite g with PoolingRefused)."""
    result = pooling.pool(rows["g"].to_numpy(dtype=float), rows["var_g"].to_numpy(dtype=float), method)
    return {
        "pooled_g": result.estimate,
        "se": result.se,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "tau2": result.tau2,
        "i2_percent": result.i2_percent,
        "q": result.q,
    }


METHODS_TEXT = (
    "- **Effect size**: Hedges' g = J·(mean₁ − mean₂)/s_pooled with J = 1 − 3/(4N − 9), N = n₁ + n₂, and its "
    "variance v = N/(n₁·n₂) + g²/(2(N − 3.94)) (statsmodels' `effectsize_smd`, after Hedges & Olkin). Groups with "
    "n < 2 or a total n < 4 are not compared.\n"
    "- **Pooling**: random effects (DerSimonian-Laird or Paule-Mandel, statsmodels' `combine_effects`); τ² is "
    "floored at 0 as in metafor, and the estimate is then the fixed-effect one. 95% prediction interval "
    "μ ± t(k−2)·√(τ² + SE²) (Higgins et al. 2009). Hartung-Knapp: SE from the weighted residuals, CI with "
    "t(k−1). Subgroups (kit, form): each pooled with its own τ², then Q between subgroups on J − 1 df "
    "(Borenstein et al. 2009, ch. 19). Egger's regression test from k ≥ 10.\n"
    "- **One comparison per study** in each pooled question (the largest case group), since a second case group "
    "shares its control group.\n"
    "- **'± x' without SD or SE**: the reading (SD or SE) whose Student or Welch t-test reproduces the paper's "
    "printed p is recorded as *inferred from test* (the computation is in the measurement's notes). Where both "
    "or neither reading fits, the spread stays *unknown*: the comparison is drawn as unresolved and left out of "
    "pooling unless you choose a reading.\n"
    "- **The paper's own test**: matched to a comparison by the groups compared (the finding's n, else its "
    "wording, else the study's only comparison); never attached to another comparison. A row is *discordant* "
    "only when neither Student's nor Welch's recomputed test agrees with it and no p lies within a factor of two of "
    "0.05 (0.025 to 0.10: then *borderline*), or when the direction differs; discordant rows are left out of pooling.\n"
    f"- **Medians**: first tested for skewness by {SHI_2023}; S3 uses max(2.65·ln(0.6n)/√n·|T1|, |T2|). "
    "metamedian compares T2 without the absolute value, which cannot flag left-skewed quartiles; a simulation of "
    "20 000 normal samples per size (n = 30–400) gives false-positive rates of 3.9–4.6 % with |T2| and 3.2–3.6 % "
    "without, so |T2| stays within the nominal 5 % and is symmetric. Only groups that pass are converted to mean "
    f"and SD by {WAN_2014}.\n"
    "- **Correlations**: Fisher's z = atanh(r), variance 1/(n − 3); ρ → r = 2·sin(π·ρ/6) (flagged). n from the "
    "finding, else the study's participants (flagged).\n"
    "- **Ratios** (HR, OR, RR): ln(ratio) with SE = (ln upper − ln lower)/(2·1.96), pooled only within one contrast "
    "(per SD; per unit with the same unit; top vs bottom fraction; yes vs no).\n"
    "- **Units**: values stay as published; SMDs are unit-free. Molar ↔ mass conversions use the kit's calibrator "
    "weight when its catalogue entry states one, else the generic weight below (**provisional**). Relative units "
    "(Olink NPX, SomaScan RFU) are never converted or pooled with concentrations."
)


# --- What an unlabelled "±" is: decided from the paper's own test where it can be ------------------


def _fmt_p(p: float) -> str:
    return f"{p:.2g}" if p >= 0.001 else f"{p:.1e}"


def infer_spread_readings(measurements: pd.DataFrame, studies: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """For every case-control pair whose '± x' is unlabelled on either side and whose paper prints a p for that
    comparison: the p the paper would have got reading x as SD and as SE (Student and Welch t), and the
    reading consistent with the printed p. A measurement is resolved when exactly one reading is consistent
    in every comparison it takes part in.

    Returns one row per such measurement: measurement_id, reading ('sd', 'se' or '' when unresolved), note.
    """
    readings = {}
    for spread in ("sd", "se"):
        effects = case_control_comparisons(measurements, studies, findings, spread=spread).effects
        readings[spread] = effects[effects["spread_unresolved"].astype(bool)].set_index("comparison_id")
    both = readings["sd"].join(readings["se"][["p_student", "p_welch"]].add_suffix("_se"))
    out: dict[str, list[tuple[str, str]]] = {}
    for comparison_id, row in both.iterrows():
        printed = read_printed_p(None if pd.isna(row["paper_p"]) else row["paper_p"], row["paper_p_text"] or None)
        if printed is None:
            continue
        fits = {
            "sd": any(p_consistent(p, printed) for p in (row["p_student"], row["p_welch"])),
            "se": any(p_consistent(p, printed) for p in (row["p_student_se"], row["p_welch_se"])),
        }
        choice = "sd" if fits["sd"] and not fits["se"] else "se" if fits["se"] and not fits["sd"] else ""
        note = (
            f"'±' reading tested against the printed p ({row['paper_p_text'] or _fmt_p(row['paper_p'])}) for "
            f"{comparison_id}: as SD, Student p {_fmt_p(row['p_student'])}, Welch p {_fmt_p(row['p_welch'])}; "
            f"as SE, Student p {_fmt_p(row['p_student_se'])}, Welch p {_fmt_p(row['p_welch_se'])} -> "
            + ({"sd": "SD", "se": "SE"}.get(choice) or ("both readings fit" if fits["sd"] else "neither reading fits"))
        )
        for measurement_id in comparison_id.split(" vs "):
            out.setdefault(measurement_id, []).append((choice, note))
    unknown = set(measurements.loc[(measurements["spread_basis"] == "unknown").fillna(False), "measurement_id"])
    rows = []
    for measurement_id, results in sorted(out.items()):
        if measurement_id not in unknown:
            continue
        choices = {c for c, _ in results}
        reading = choices.pop() if len(choices) == 1 else ""
        rows.append({"measurement_id": measurement_id, "reading": reading, "note": " | ".join(n for _, n in results)})
    return pd.DataFrame(rows, columns=["measurement_id", "reading", "note"])
