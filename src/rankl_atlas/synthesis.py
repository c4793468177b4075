"""Fair comparisons: case-control effect sizes, strata of one analyte, form and kit, and pooled estimates.

Rules that keep pooling honest:
- effect sizes (Hedges' g) only where both groups' mean and spread are known (or derived by a cited method);
- strata are one analyte × one analyte form × one assay vendor × one unit; never across free and total RANKL,
  across kits, or across ratio orientations;
- a stratum is pooled only with k >= 2 studies and a named kit (an unreported kit may hide different kits);
- one comparison per study per stratum enters the pool (a second case group would share its control group).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm
from statsmodels.stats.meta_analysis import combine_effects, effectsize_smd

from rankl_atlas.schema import ANALYTE, ANALYTE_FORM, UNIT, label

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
    n = np.asarray(n, dtype=float)
    tabulated = _XI_TABLE_ARRAY[np.clip(n, 0, 50).astype(int)]
    return np.where(n <= 50, tabulated, 2 * norm.ppf((n - 0.375) / (n + 0.25)))[()]


def wan_eta(n):
    """η(n) = 2·Φ⁻¹((0.75n − 0.125)/(n + 0.25)), Wan et al.'s divisor for the interquartile range."""
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


# --- Units -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MolecularWeight:
    """Molecular weight used to convert molar units, with where it comes from."""

    kda: float
    basis: str
    source: str
    url: str


#: Provisional: kits calibrate against different recombinant standards, so molar conversions are approximate.
MOLECULAR_WEIGHTS = {
    "rankl": MolecularWeight(
        20.0,
        "recombinant human soluble RANKL, TNF-homologous region (176 residues), monomer",
        "PeproTech product sheet 310-01, recombinant human sRANKL",
        "http://101.200.202.226/product.php?code=310-01-100ug&id=441623&mod=view",
    ),
    "opg": MolecularWeight(
        60.0,
        "OPG monomer (the disulfide-linked homodimer is 120 kDa)",
        "BioVendor RD194003200 Human Osteoprotegerin ELISA manual, Introduction",
        "https://www.scribd.com/document/804540724/PDS",
    ),
}


def molecular_weight_table() -> pd.DataFrame:
    """The molecular weights used for provisional unit conversion, with their sources."""
    return pd.DataFrame(
        [(ANALYTE[a], w.kda, w.basis, w.source, w.url) for a, w in MOLECULAR_WEIGHTS.items()],
        columns=["analyte", "kDa", "basis", "source", "url"],
    )


_MASS_PER_PG_ML = {"pg_ml": 1.0, "ng_ml": 1000.0, "ng_l": 0.001}
_MOLAR_PER_PMOL_L = {"pmol_l": 1.0, "nmol_l": 1000.0}


def convert_unit(value: float, analyte: str, from_unit: str, to_unit: str) -> float:
    """Convert a concentration between units; molar <-> mass goes through MOLECULAR_WEIGHTS (provisional).

    1 pmol/L of a protein of M kDa is M pg/mL.
    """
    if from_unit == to_unit:
        return value
    kda = MOLECULAR_WEIGHTS[analyte].kda

    def to_pg_ml(v: float, unit: str) -> float:
        return v * _MASS_PER_PG_ML[unit] if unit in _MASS_PER_PG_ML else v * _MOLAR_PER_PMOL_L[unit] * kda

    pg_ml = to_pg_ml(value, from_unit)
    if to_unit in _MASS_PER_PG_ML:
        return pg_ml / _MASS_PER_PG_ML[to_unit]
    return pg_ml / kda / _MOLAR_PER_PMOL_L[to_unit]


# --- Group summaries and case-control comparisons -----------------------------------------------

STRATUM_KEYS = ["analyte", "analyte_form", "assay_vendor", "unit"]
UNNAMED_KITS = {"not_reported", "other", "in_house"}


def group_summaries(measurements: pd.DataFrame) -> pd.DataFrame:
    """Each measurement row with a usable mean and SD: as published, SD from SE (exact), or Wan-derived.

    Adds columns mean_used, sd_used, derived (bool) and derivation (text). Rows without both are dropped.
    """
    rows = measurements.copy()
    value, sd, se, n = (rows[c].astype(float) for c in ("value", "sd", "se", "n"))
    is_mean = rows["statistic"] == "mean"
    rows["mean_used"] = value.where(is_mean)
    rows["sd_used"] = sd.where(is_mean).fillna((se * np.sqrt(n)).where(is_mean))
    rows["derived"] = False
    rows["derivation"] = np.where(is_mean & sd.isna() & se.notna(), "SD = SE × √n", "as published")
    median = (rows["statistic"] == "median").fillna(False).astype(bool).to_numpy()
    if median.any():
        est_mean, est_sd, method = wan_mean_sd_arrays(
            n.to_numpy(), value.to_numpy(), *(rows[c].astype(float).to_numpy() for c in ("q1", "q3", "min", "max"))
        )
        converted = median & ~np.isnan(est_mean)
        rows.loc[converted, "mean_used"] = est_mean[converted]
        rows.loc[converted, "sd_used"] = est_sd[converted]
        rows.loc[converted, "derived"] = True
        rows.loc[converted, "derivation"] = method[converted]
    usable = rows["mean_used"].notna() & rows["sd_used"].notna() & (rows["sd_used"] > 0) & rows["n"].notna()
    return rows[usable].reset_index(drop=True)


def case_control_effects(
    measurements: pd.DataFrame, studies: pd.DataFrame, include_derived: bool = True
) -> pd.DataFrame:
    """Hedges' g (cases minus controls) with 95% CI for every case group against its study's control group.

    Pairs only groups of the same study, analyte, form, vendor, specimen, unit and time point.
    """
    summaries = group_summaries(measurements)
    if not include_derived:
        summaries = summaries[~summaries["derived"].astype(bool)]
    keys = ["study_id", *STRATUM_KEYS, "specimen", "timepoint"]
    summaries = summaries.assign(timepoint=summaries["timepoint"].fillna(""))
    cases = summaries[summaries["group_role"] == "case"]
    controls = summaries[summaries["group_role"] == "control"].sort_values("n", ascending=False).drop_duplicates(keys)
    pairs = cases.merge(controls, on=keys, suffixes=("_case", "_control"))
    columns = [
        "comparison_id", "study_id", "study", "year", *STRATUM_KEYS, "specimen", "timepoint", "case_group",
        "control_group", "n_case", "n_control", "mean_case", "sd_case", "mean_control", "sd_control", "derived",
        "derivation", "g", "var_g", "ci_low", "ci_high",
    ]  # fmt: skip
    if pairs.empty:
        return pd.DataFrame(columns=columns)
    g, var = effectsize_smd(
        pairs["mean_used_case"].astype(float).to_numpy(),
        pairs["sd_used_case"].astype(float).to_numpy(),
        pairs["n_case"].astype(float).to_numpy(),
        pairs["mean_used_control"].astype(float).to_numpy(),
        pairs["sd_used_control"].astype(float).to_numpy(),
        pairs["n_control"].astype(float).to_numpy(),
    )
    info = studies.set_index("study_id")
    out = pd.DataFrame(
        {
            "comparison_id": pairs["measurement_id_case"] + " vs " + pairs["measurement_id_control"],
            "study_id": pairs["study_id"],
            "study": pairs["study_id"].map(info["first_author"]).astype(str)
            + " "
            + pairs["study_id"].map(info["year"]).astype(str),
            "year": pairs["study_id"].map(info["year"]),
            **{k: pairs[k] for k in STRATUM_KEYS},
            "specimen": pairs["specimen"],
            "timepoint": pairs["timepoint"],
            "case_group": pairs["group_label_case"],
            "control_group": pairs["group_label_control"],
            "n_case": pairs["n_case"].astype(int),
            "n_control": pairs["n_control"].astype(int),
            "mean_case": pairs["mean_used_case"].astype(float),
            "sd_case": pairs["sd_used_case"].astype(float),
            "mean_control": pairs["mean_used_control"].astype(float),
            "sd_control": pairs["sd_used_control"].astype(float),
            "derived": pairs["derived_case"].astype(bool) | pairs["derived_control"].astype(bool),
            "derivation": np.where(
                pairs["derived_case"].astype(bool) | pairs["derived_control"].astype(bool),
                pairs["derivation_case"].where(pairs["derived_case"].astype(bool), pairs["derivation_control"]),
                "as published",
            ),
            "g": g,
            "var_g": var,
        }
    )
    half = 1.959963984540054 * np.sqrt(out["var_g"])
    out["ci_low"], out["ci_high"] = out["g"] - half, out["g"] + half
    return out[columns].sort_values([*STRATUM_KEYS, "year", "study"]).reset_index(drop=True)


def stratum_label(analyte: str, form: str, vendor: str, unit: str) -> str:
    """'RANKL · free · Biomedica · pmol/L'."""
    return f"{ANALYTE.get(analyte, analyte)} · {ANALYTE_FORM.get(form, form).lower()} · {label('assay_vendor', vendor)} · {UNIT.get(unit, unit)}"


POOL_METHODS = {"dl": ("chi2", "DerSimonian-Laird"), "pm": ("iterated", "Paule-Mandel")}


def pool_strata(effects: pd.DataFrame, method: str = "dl") -> pd.DataFrame:
    """One row per stratum: k, whether it is poolable (and why not), and the random-effects pooled g.

    Pooling uses statsmodels' combine_effects (DerSimonian-Laird 'dl' or Paule-Mandel 'pm').
    """
    method_re, method_name = POOL_METHODS[method]
    rows = []
    for key, part in effects.groupby(STRATUM_KEYS, sort=True, dropna=False):
        one_per_study = part.sort_values("n_case", ascending=False).drop_duplicates("study_id")
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
            reason = "fewer than two studies"
        if reason:
            rows.append({**row, "poolable": False, "reason": reason})
            continue
        result = combine_effects(one_per_study["g"].to_numpy(), one_per_study["var_g"].to_numpy(), method_re=method_re)
        low, high = _re_ci(result)
        rows.append(
            {
                **row,
                "poolable": True,
                "reason": "",
                "pooled_g": float(result.mean_effect_re),
                "se": float(result.sd_eff_w_re),
                "ci_low": low,
                "ci_high": high,
                "tau2": float(result.tau2),
                "i2_percent": _i2_percent(float(result.q), k - 1),
                "q": float(result.q),
                "studies": ", ".join(one_per_study["study"]),
            }
        )
    columns = [
        "stratum", *STRATUM_KEYS, "comparisons", "k_studies", "poolable", "reason", "method", "pooled_g", "se",
        "ci_low", "ci_high", "tau2", "i2_percent", "q", "studies",
    ]  # fmt: skip
    return pd.DataFrame(rows).reindex(columns=columns)


def _i2_percent(q: float, df: int) -> float:
    """Higgins' I² in percent, 0 when Q does not exceed its degrees of freedom (also when Q is 0)."""
    return 100 * max(0.0, (q - df) / q) if q > 0 else 0.0


def _re_ci(result) -> tuple[float, float]:
    frame = result.summary_frame()
    row = frame.loc["random effect"]
    return float(row["ci_low"]), float(row["ci_upp"])


def mixing_notes(effects: pd.DataFrame) -> list[str]:
    """Plain sentences naming what the current rows would mix if pooled together (why strata are separate)."""
    notes = []
    for analyte, part in effects.groupby("analyte"):
        name = ANALYTE.get(analyte, analyte)
        forms = sorted(set(part["analyte_form"]))
        vendors = sorted(set(part["assay_vendor"]))
        units = sorted(set(part["unit"]))
        if len(forms) > 1:
            notes.append(
                f"{name}: forms {', '.join(forms)} are shown as separate strata; free and total are never pooled."
            )
        if len(vendors) > 1:
            notes.append(
                f"{name}: kits {', '.join(label('assay_vendor', v) for v in vendors)} are shown separately; kits are never pooled together."
            )
        if len(units) > 1:
            notes.append(f"{name}: units {', '.join(UNIT.get(u, u) for u in units)} are kept apart.")
    return notes
