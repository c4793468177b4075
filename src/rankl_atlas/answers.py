"""Answers a researcher can cite: pooled effects per condition × analyte × comparison family, on the real data.

- Standardised mean differences (Hedges' g) are unit-free and computed within each study (cases and controls on
  the same kit), so they are pooled ACROSS kits within a condition × analyte; the kit and the analyte form
  (free / total / not named) are subgroups with a between-subgroup Q test (does the kit explain the
  heterogeneity?). Pooling within one named kit stays available (``synthesis.pool_strata``).
- Correlations (r, and Spearman's ρ converted to r, flagged) are pooled with Fisher's z per condition ×
  analyte × related variable.
- Hazard, odds and risk ratios are pooled on the log scale only within one contrast (per SD, per unit with
  the same unit, top vs bottom fraction, yes vs no); the others are listed with the reason.
- Published meta-analyses of the same question stand beside the atlas's estimate with a sentence on agreement.

Every function is pure: frames in, frames or dataclasses out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from rankl_atlas import pooling, synthesis
from rankl_atlas.data import Tables
from rankl_atlas.labels import study_label_map
from rankl_atlas.schema import ANALYTE, COMPARISON_FAMILY, CONTRAST, EFFECT_MEASURE, RELATED_TO, UNITS, label

MIN_K = 2


def _one_per_study(rows: pd.DataFrame, keys: list[str], size: str) -> pd.DataFrame:
    """One row per study in each stratum: the largest n (then the first listed), so a study counts once."""
    order = rows.assign(_order=np.arange(len(rows))).sort_values([size, "_order"], ascending=[False, True])
    return order.drop_duplicates([*keys, "study_id"]).sort_values("_order").drop(columns="_order")


def _pool_or_reason(rows: pd.DataFrame, method: str, hartung_knapp: bool) -> tuple[pooling.Pooled | None, str]:
    return _pool_arrays_or_reason(rows["y"], rows["v"], method, hartung_knapp)


# --- Standardised mean differences across kits ----------------------------------------------------

SMD_KEYS = ["condition_group", "analyte", "family"]


def smd_rows(effects: pd.DataFrame, include_discordant: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The case-control comparisons that enter pooling (one per study per condition × analyte), and those set
    aside with the reason (spread unresolved, discordant with the paper's test, a second case group)."""
    if effects.empty:
        return effects.assign(y=[], v=[], family=[]), pd.DataFrame(columns=["study", "comparison_id", "reason"])
    rows = effects.assign(
        y=effects["g"].astype(float),
        v=effects["var_g"].astype(float),
        family="cases_vs_controls",
        n_total=effects["n_case"] + effects["n_control"],
        kit=[label("assay_vendor", v) for v in effects["assay_vendor"]],
        form=[label("analyte_form", v) for v in effects["analyte_form"]],
    )
    reason = pd.Series("", index=rows.index, dtype=object)
    relative = rows["unit"].isin([u for u, info in UNITS.items() if info.kind == "relative"]).fillna(False)
    reason[relative.astype(bool)] = "relative unit (NPX, RFU, arbitrary): never pooled with concentrations"
    unresolved = ~rows["poolable_spread"].astype(bool) & (reason == "")
    reason[unresolved] = "spread not labelled SD or SE (switch 'Unlabelled ±' to include)"
    if not include_discordant:
        bad = rows["discordant"].astype(bool) & (reason == "")
        reason[bad] = "recomputed test disagrees with the paper's (" + rows.loc[bad, "agreement"].astype(str) + ")"
    kept = rows[reason == ""]
    chosen = _one_per_study(kept, SMD_KEYS, "n_case")
    second = kept[~kept.index.isin(chosen.index)]
    reason[second.index] = "another case group of the same study is pooled (one comparison per study)"
    set_aside = rows[reason != ""].assign(reason=reason[reason != ""])
    return chosen, set_aside[["study", "comparison_id", "condition_group", "analyte", "reason"]]


@dataclass(frozen=True)
class Answer:
    """One pooled question: its key, the rows pooled, the pooled estimate (or why not), and what tests it."""

    key: dict
    title: str
    rows: pd.DataFrame
    pooled: pooling.Pooled | None
    reason: str
    subgroup_tests: dict = field(default_factory=dict)
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    leave_one_out: pd.DataFrame = field(default_factory=pd.DataFrame)
    egger: pooling.EggerTest | None = None


def smd_title(condition_group: str, analyte: str) -> str:
    """'Rheumatoid arthritis · OPG · cases vs controls'."""
    return f"{label('condition_group', condition_group)} · {ANALYTE.get(analyte, analyte)} · cases vs controls"


def _sensitivity(rows: pd.DataFrame, method: str, hk: bool) -> pd.DataFrame:
    analyses = [("All studies (main analysis)", rows)]
    if "derived" in rows:
        analyses.append(("Published means only (no medians converted)", rows[~rows["derived"].astype(bool)]))
    if "spread_stated" in rows:
        analyses.append(("Stated SD / SE only", rows[rows["spread_stated"].astype(bool)]))
    out = []
    for name, part in analyses:
        result, reason = _pool_or_reason(part, method, hk)
        out.append(
            {
                "analysis": name,
                "k": len(part),
                "estimate": result.estimate if result else np.nan,
                "ci_low": result.ci_low if result else np.nan,
                "ci_high": result.ci_high if result else np.nan,
                "i2_percent": result.i2_percent if result else np.nan,
                "note": reason,
            }
        )
    return pd.DataFrame(out)


def smd_answers(
    effects: pd.DataFrame, method: str = "dl", hartung_knapp: bool = False, include_discordant: bool = False
) -> list[Answer]:
    """Pooled Hedges' g per condition × analyte (cases vs controls) across kits, with kit and form subgroups,
    prediction interval, sensitivity rows, leave-one-out and (k ≥ 10) Egger's test. Strata with one study are
    returned unpooled with the reason."""
    chosen, _ = smd_rows(effects, include_discordant)
    return pool_smd_rows(chosen, method, hartung_knapp)


def pool_smd_rows(
    chosen: pd.DataFrame, method: str = "dl", hartung_knapp: bool = False, details: bool = True
) -> list[Answer]:
    """The answers of smd_answers from rows smd_rows already chose (one per study per question); details=False
    leaves the sensitivity analyses, leave-one-out and Egger's test to answer_details (for the question opened)."""
    answers = []
    for key, rows in chosen.groupby(SMD_KEYS, sort=True):
        key_dict = dict(zip(SMD_KEYS, key, strict=True))
        pooled, reason = _pool_or_reason(rows, method, hartung_knapp)
        tests = {}
        if pooled is not None:
            for name, column in (("kit", "kit"), ("form", "form")):
                if rows[column].nunique() > 1:
                    tests[name] = pooling.subgroup_test(rows, column, method)
        answer = Answer(key_dict, smd_title(key[0], key[1]), rows, pooled, reason, tests)
        answers.append(answer_details(answer, method, hartung_knapp) if details else answer)
    return answers


def answer_details(answer: Answer, method: str = "dl", hartung_knapp: bool = False) -> Answer:
    """The answer with its sensitivity analyses, leave-one-out and Egger's test (unchanged when not pooled).
    Leave-one-out pools k times, so the Synthesis page computes it only for the question a reader opens."""
    if answer.pooled is None:
        return answer
    rows = answer.rows
    return replace(
        answer,
        sensitivity=_sensitivity(rows, method, hartung_knapp),
        leave_one_out=pooling.leave_one_out(rows, "study", method),
        egger=pooling.egger_test(rows["y"], rows["v"]),
    )


ANSWER_COLUMNS = [
    "question", "condition_group", "analyte", "family", "measure", "k", "n_total", "estimate", "ci_low", "ci_high",
    "pi_low", "pi_high", "tau2", "i2_percent", "q_p", "kit_subgroup_p", "form_subgroup_p", "method", "studies",
    "reason",
]  # fmt: skip


def answers_table(answers: list[Answer], measure: str = "Hedges' g") -> pd.DataFrame:
    """One row per answer: k, total n, estimate with 95 % CI and PI, τ², I², subgroup p-values, or the reason."""
    rows = []
    for a in answers:
        p = a.pooled
        rows.append(
            {
                "question": a.title,
                **a.key,
                "measure": measure,
                "k": len(a.rows),
                "n_total": int(a.rows["n_total"].sum()) if "n_total" in a.rows else np.nan,
                "estimate": p.estimate if p else np.nan,
                "ci_low": p.ci_low if p else np.nan,
                "ci_high": p.ci_high if p else np.nan,
                "pi_low": p.pi_low if p else np.nan,
                "pi_high": p.pi_high if p else np.nan,
                "tau2": p.tau2 if p else np.nan,
                "i2_percent": p.i2_percent if p else np.nan,
                "q_p": p.q_p if p else np.nan,
                "kit_subgroup_p": a.subgroup_tests["kit"].p if "kit" in a.subgroup_tests else np.nan,
                "form_subgroup_p": a.subgroup_tests["form"].p if "form" in a.subgroup_tests else np.nan,
                "method": p.method if p else "",
                "studies": ", ".join(a.rows["study"]),
                "reason": a.reason,
            }
        )
    return pd.DataFrame(rows, columns=ANSWER_COLUMNS)


# --- Correlations --------------------------------------------------------------------------------

CORRELATION_KEYS = ["condition_group", "analyte", "related_to"]


def correlation_rows(findings: pd.DataFrame, studies: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Every r or ρ with its n: Fisher's z and variance; ρ converted to r (flagged); n from the finding, else the
    study's number of participants (flagged). Rows without a usable n (≥ 4) or |r| < 1 get a reason."""
    rows = findings[findings["effect_measure"].isin(["r", "rho"]) & findings["effect_value"].notna()].copy()
    participants = rows["study_id"].map(studies.set_index("study_id")["n_participants"]).astype("Float64")
    finding_n = rows["n"].astype("Float64")
    rows["n_used"] = finding_n.fillna(participants).astype(float)
    rows["n_basis"] = np.where(finding_n.notna(), "finding", np.where(participants.notna(), "study size", ""))
    value = rows["effect_value"].astype(float)
    is_rho = rows["effect_measure"] == "rho"
    rows["r"] = np.where(is_rho, pooling.rho_to_r(value), value)
    rows["converted"] = is_rho
    rows["study"] = rows["study_id"].map(labels)
    rows["family"] = "association"
    reason = pd.Series("", index=rows.index, dtype=object)
    reason[~(rows["n_used"] >= 4)] = "n not reported (or below 4)"
    reason[(rows["r"].abs() >= 1) & (reason == "")] = "|r| of 1 or more cannot be pooled"
    rows["reason"] = reason
    ok = reason == ""
    z, v = pooling.fisher_z(rows["r"].where(ok, 0.0), rows["n_used"].where(ok, 4.0))
    rows["y"] = np.where(ok, z, np.nan)
    rows["v"] = np.where(ok, v, np.nan)
    rows["n_total"] = rows["n_used"]
    return rows


def correlation_title(key: dict) -> str:
    """'Osteoporosis · OPG × Bone mineral density'."""
    parts = []
    if "condition_group" in key:
        parts.append(label("condition_group", key["condition_group"]))
    parts.append(
        f"{ANALYTE.get(key['analyte'], key['analyte'])} × {RELATED_TO.get(key['related_to'], key['related_to'])}"
    )
    return " · ".join(parts)


def correlation_answers(
    rows: pd.DataFrame, keys: list[str] | None = None, method: str = "dl", hartung_knapp: bool = False
) -> pd.DataFrame:
    """Pooled r (Fisher's z back-transformed) per stratum: k, n, r with 95 % CI and PI, τ² (z scale), I², and
    the between-subgroup p for the condition (when the stratum spans conditions) and for the analyte form."""
    keys = keys or CORRELATION_KEYS
    chosen = pooled_correlation_rows(rows, keys)
    # Strata are walked as positions into column arrays, not as a frame each (a groupby loop took ≈ 1 s for the
    # 566 strata of 100× data); groups, their order and the rows in each are the groupby's.
    grouped = chosen.groupby(keys, sort=True)
    group_of = grouped.ngroup().to_numpy(dtype=float)
    order = np.argsort(group_of, kind="stable")
    starts = np.searchsorted(group_of[order], np.arange(grouped.ngroups + 1))
    y, v = chosen["y"].to_numpy(dtype=float), chosen["v"].to_numpy(dtype=float)
    n_used, converted = chosen["n_used"].to_numpy(dtype=float), chosen["converted"].to_numpy(dtype=bool)
    from_study_size = (chosen["n_basis"] == "study size").to_numpy(dtype=bool)
    study = np.asarray(chosen["study"].tolist(), dtype=object)
    subgroups = {c: _sorted_codes(chosen[c]) for c in ("condition_group", "analyte_form") if c not in keys}
    out = []
    for group, key in enumerate(grouped.size().index.tolist()):
        at = order[starts[group] : starts[group + 1]]
        key_dict = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        pooled, reason = _pool_arrays_or_reason(y[at], v[at], method, hartung_knapp)
        p = {c: _subgroup_p_coded(y[at], v[at], codes[at], pooled, method) for c, codes in subgroups.items()}
        out.append(
            {
                "question": correlation_title(key_dict),
                **key_dict,
                "k": len(at),
                "n_total": int(n_used[at].sum()),
                "pooled_r": np.tanh(pooled.estimate) if pooled else np.nan,
                "ci_low": np.tanh(pooled.ci_low) if pooled else np.nan,
                "ci_high": np.tanh(pooled.ci_high) if pooled else np.nan,
                "pi_low": np.tanh(pooled.pi_low) if pooled else np.nan,
                "pi_high": np.tanh(pooled.pi_high) if pooled else np.nan,
                "tau2_z": pooled.tau2 if pooled else np.nan,
                "i2_percent": pooled.i2_percent if pooled else np.nan,
                "condition_subgroup_p": p.get("condition_group", np.nan),
                "form_subgroup_p": p.get("analyte_form", np.nan),
                "rho_converted": int(converted[at].sum()),
                "n_from_study_size": int(from_study_size[at].sum()),
                "studies": ", ".join(study[at]),
                "reason": reason,
            }
        )
    return pd.DataFrame(out)


def _sorted_codes(column: pd.Series) -> np.ndarray:
    """Each row's value as a number in the values' sorted order, a missing value as -1."""
    return pd.factorize(column, sort=True)[0]


def _pool_arrays_or_reason(y, v, method: str, hartung_knapp: bool) -> tuple[pooling.Pooled | None, str]:
    """The pool of these effects and variances, or None and the reason it was refused."""
    if len(y) < MIN_K:
        return None, "fewer than two studies"
    try:
        return pooling.pool(y, v, method, hartung_knapp), ""
    except pooling.PoolingRefused as refused:
        return None, str(refused)


def _subgroup_p_coded(y: np.ndarray, v: np.ndarray, codes: np.ndarray, pooled, method: str) -> float:
    """The between-subgroup Q test's p over the coded column (NaN when the stratum is not pooled or has fewer than
    two subgroups with a value; rows without a value form a subgroup of their own, sorted last, as in subgroup_p)."""
    if pooled is None or len(np.unique(codes[codes >= 0])) < 2:
        return np.nan
    return pooling.subgroup_p_coded(y, v, np.where(codes < 0, codes.max() + 1, codes), method)


def pooled_correlation_rows(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The correlation rows that enter pooling: usable, one per study per stratum (its largest n)."""
    return _one_per_study(rows[rows["reason"] == ""], keys, "n_used")


MIRROR_KEYS = ["analyte", "related_to"]
MIRROR_TARGETS = ("bmd", "bone_turnover_marker")
MIRROR_ANALYTES = ("rankl", "opg", "rankl_opg_ratio", "opg_rankl_ratio")


def mirror_bone(rows: pd.DataFrame, method: str = "dl") -> pd.DataFrame:
    """'Does serum mirror bone?': pooled r of serum RANKL, OPG and their ratios with BMD and with bone turnover
    markers, across conditions (one row per analyte × target)."""
    subset = rows[rows["related_to"].isin(MIRROR_TARGETS) & rows["analyte"].isin(MIRROR_ANALYTES)]
    if subset.empty:
        return pd.DataFrame()
    return correlation_answers(subset, MIRROR_KEYS, method)


# --- Ratios from prognostic studies --------------------------------------------------------------

RATIO_MEASURES = ("hr", "or", "rr")
#: What a ratio predicts, where the related_to label reads oddly as an outcome.
OUTCOME = {"condition": "having the condition", "other": "other outcome"}
RATIO_KEYS = ["condition_group", "analyte", "effect_measure", "related_to", "contrast", "contrast_key"]


def ratio_rows(findings: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """HR / OR / RR findings on the log scale (variance from the 95 % CI), each with why it cannot be pooled
    (no CI, contrast not recorded); per-unit contrasts pool only with the same unit (contrast_detail)."""
    rows = findings[findings["effect_measure"].isin(RATIO_MEASURES)].copy()
    rows["study"] = rows["study_id"].map(labels)
    rows["family"] = rows.get("comparison_family", "prediction")
    y, v = pooling.log_ratio_and_variance(rows["effect_value"], rows["ci_low"], rows["ci_high"])
    rows["y"], rows["v"] = y, v
    contrast = rows["contrast"].astype(object).where(rows["contrast"].notna(), "")
    detail = rows["contrast_detail"].astype(object).where(rows["contrast_detail"].notna(), "")
    rows["contrast"] = contrast
    rows["contrast_key"] = np.where(contrast == "per_unit", detail.str.lower().str.strip(), "")
    reason = pd.Series("", index=rows.index, dtype=object)
    reason[contrast.isin(["", "not_stated"])] = "contrast not recorded (per SD, per unit, top vs bottom …)"
    no_ci = ~(np.isfinite(rows["y"]) & np.isfinite(rows["v"]) & (rows["v"] > 0))
    reason[no_ci & (reason == "")] = "no 95% CI printed"
    reason[(contrast == "per_unit") & (rows["contrast_key"] == "") & (reason == "")] = (
        "per-unit contrast without its unit"
    )
    rows["reason"] = reason
    rows["n_total"] = rows["n"].astype("Float64").astype(float)
    return rows


def ratio_answers(rows: pd.DataFrame, method: str = "dl") -> pd.DataFrame:
    """Pooled ratio (exp of the pooled log) per like contrast; strata of one study are listed unpooled."""
    usable = rows[rows["reason"] == ""].assign(n_total=lambda r: r["n_total"].fillna(0))
    chosen = _one_per_study(usable, RATIO_KEYS, "n_total")
    out = []
    for key, part in chosen.groupby(RATIO_KEYS, sort=True):
        k = dict(zip(RATIO_KEYS, key, strict=True))
        pooled, reason = _pool_or_reason(part, method, False)
        contrast_text = CONTRAST.get(k["contrast"], k["contrast"]) + (
            f" ({k['contrast_key']})" if k["contrast_key"] else ""
        )
        out.append(
            {
                "question": f"{label('condition_group', k['condition_group'])} · {ANALYTE.get(k['analyte'], k['analyte'])} → "
                f"{OUTCOME.get(k['related_to'], RELATED_TO.get(k['related_to'], k['related_to']))}",
                **{c: k[c] for c in RATIO_KEYS if c != "contrast_key"},
                "measure": EFFECT_MEASURE.get(k["effect_measure"], k["effect_measure"]),
                "contrast_text": contrast_text,
                "k": len(part),
                "pooled": np.exp(pooled.estimate) if pooled else np.nan,
                "ci_low": np.exp(pooled.ci_low) if pooled else np.nan,
                "ci_high": np.exp(pooled.ci_high) if pooled else np.nan,
                "pi_low": np.exp(pooled.pi_low) if pooled else np.nan,
                "pi_high": np.exp(pooled.pi_high) if pooled else np.nan,
                "i2_percent": pooled.i2_percent if pooled else np.nan,
                "studies": ", ".join(part["study"]),
                "reason": reason,
            }
        )
    return pd.DataFrame(out)


# --- Published meta-analyses beside the atlas ------------------------------------------------------


def agreement_sentence(
    atlas_ci: tuple[float, float] | None, atlas_k: int, published_ci: tuple[float, float] | None
) -> str:
    """A plain sentence on whether the atlas's pooled estimate agrees with a published one (CIs overlap; same
    sign of the estimate's side of zero), or why the two cannot be compared."""
    if atlas_ci is None or atlas_k < MIN_K or any(pd.isna(v) for v in atlas_ci):
        return f"The atlas has too few studies to pool this question (k = {atlas_k})."
    if published_ci is None or any(pd.isna(v) for v in published_ci):
        return "The review printed no confidence interval to compare with."
    low, high = atlas_ci
    p_low, p_high = published_ci
    overlap = low <= p_high and p_low <= high
    side = lambda lo, hi: "above" if lo > 0 else "below" if hi < 0 else "spans"  # noqa: E731
    a_side, p_side = side(low, high), side(p_low, p_high)
    same = a_side == p_side
    parts = ["the confidence intervals overlap" if overlap else "the confidence intervals do not overlap"]
    if same:
        parts.append("both " + ("include zero" if a_side == "spans" else f"lie {a_side} zero"))
    else:
        parts.append(
            f"the atlas's interval {'includes zero' if a_side == 'spans' else 'lies ' + a_side + ' zero'} "
            f"while the review's {'includes zero' if p_side == 'spans' else 'lies ' + p_side + ' zero'}"
        )
    verdict = "Agrees" if overlap and same else "Partly agrees" if overlap or same else "Disagrees"
    return f"{verdict}: " + "; ".join(parts) + "."


def review_labels(meta: pd.DataFrame) -> pd.Series:
    """ma_id -> the review named by the one label rule of studies: 'Wang 2017', its title's first words when no
    page printed its authors, 'n.d.' when none printed its year."""
    surname = meta["first_author"].astype("string").str.split().str[0]
    title = meta["title"].astype("string").fillna("Untitled review")
    frame = pd.DataFrame({"study_id": meta["ma_id"], "first_author": surname, "title": title, "year": meta["year"]})
    return study_label_map(frame)


def published_beside_atlas(
    meta: pd.DataFrame, smd: pd.DataFrame, correlations: pd.DataFrame, ratios: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Each published pooled result beside the atlas's estimate of the same condition × analyte × family (and, for
    r, the condition's pooled correlations; for HR/OR/RR the atlas's pooled ratios of that measure), with both k's
    and a sentence on agreement. Ratios are compared by eye: a review's contrast may differ from the atlas's."""
    rows = []
    names = review_labels(meta) if len(meta) else pd.Series(dtype=object)
    for _, m in meta.iterrows():
        measure = m["measure"]
        atlas = pd.DataFrame()
        estimate_col = "estimate"
        if measure == "smd" and not smd.empty:
            atlas = smd[(smd["condition_group"] == m["condition_group"]) & (smd["analyte"] == m["analyte"])
                        & (smd["family"] == m["comparison_family"])]  # fmt: skip
        elif measure in ("r", "z") and not correlations.empty and "condition_group" in correlations:
            atlas = correlations[(correlations["condition_group"] == m["condition_group"])
                                 & (correlations["analyte"] == m["analyte"])]  # fmt: skip
            estimate_col = "pooled_r"
        a = atlas.iloc[0] if len(atlas) == 1 else None
        k = int(a["k"]) if a is not None else 0
        atlas_ci = (a["ci_low"], a["ci_high"]) if a is not None else None
        if measure in ("smd", "r", "z"):
            sentence = agreement_sentence(atlas_ci, k, (m["ci_low"], m["ci_high"]))
        elif measure in RATIO_MEASURES:
            sentence = _ratio_sentence(m, ratios)
        else:
            sentence = "A pooled mean difference keeps the kits' units: the atlas pools unit-free g instead."
        rows.append(
            {
                "review": names[m["ma_id"]],
                "ma_id": m["ma_id"],
                "condition": m["condition"],
                "condition_group": m["condition_group"],
                "analyte": m["analyte"],
                "family": m["comparison_family"],
                "measure": measure,
                "published": m["estimate"],
                "published_ci_low": m["ci_low"],
                "published_ci_high": m["ci_high"],
                "published_k": m["k_studies"],
                "atlas": a[estimate_col] if a is not None else np.nan,
                "atlas_ci_low": a["ci_low"] if a is not None else np.nan,
                "atlas_ci_high": a["ci_high"] if a is not None else np.nan,
                "atlas_k": k,
                "agreement": sentence,
                "source_url": m["source_url"],
            }
        )
    out = pd.DataFrame(rows)
    numeric = [
        "published",
        "published_ci_low",
        "published_ci_high",
        "published_k",
        "atlas",
        "atlas_ci_low",
        "atlas_ci_high",
    ]
    for column in numeric if len(out) else []:
        out[column] = out[column].astype("Float64").astype(float)
    return out


def _ratio_sentence(review: pd.Series, ratios: pd.DataFrame | None) -> str:
    same = pd.DataFrame()
    if ratios is not None and not ratios.empty:
        same = ratios[(ratios["condition_group"] == review["condition_group"]) & (ratios["analyte"] == review["analyte"])
                      & (ratios["effect_measure"] == review["measure"]) & (ratios["k"] >= MIN_K)]  # fmt: skip
    name = EFFECT_MEASURE.get(review["measure"], review["measure"]).lower()
    if same.empty:
        return f"The atlas has too few studies to pool a {name} for this condition and analyte."
    listed = "; ".join(
        f"{r.pooled:.2f} ({r.ci_low:.2f} to {r.ci_high:.2f}), k = {r.k}, {r.contrast_text.lower()}"
        for r in same.itertuples()
    )
    return f"The atlas's pooled {name}s for this condition and analyte: {listed}. Contrasts may differ: compare by eye."


# --- One question, for the page and the command line alike ----------------------------------------


@dataclass(frozen=True)
class Settings:
    """The Synthesis page's choices: τ² estimator, Hartung-Knapp, reading of unlabelled '±', medians, discordant."""

    method: str = "dl"
    hartung_knapp: bool = False
    spread: str = "exclude"
    include_derived: bool = True
    include_skewed: bool = False
    include_discordant: bool = False


@dataclass(frozen=True)
class Evidence:
    """Everything the Synthesis page pools from one filtered dataset."""

    comparisons: synthesis.Comparisons
    smd: list[Answer]
    smd_table: pd.DataFrame
    set_aside: pd.DataFrame
    correlation_rows: pd.DataFrame
    correlations: pd.DataFrame
    mirror: pd.DataFrame
    ratio_rows: pd.DataFrame
    ratios: pd.DataFrame


def gather_evidence(tables: Tables, settings: Settings = Settings(), families: tuple[str, ...] = ()) -> Evidence:
    """Pool every question the (filtered) tables can answer under the page's settings; families (the comparison
    family filter, empty = all) leaves out the pooled kinds it does not select."""
    return Evidence(
        **case_control_evidence(tables, settings, families),
        **correlation_evidence(tables, settings),
        **ratio_evidence(tables, settings),
    )


def case_control_evidence(tables: Tables, settings: Settings = Settings(), families: tuple[str, ...] = ()) -> dict:
    """The case-control part of Evidence: comparisons, pooled answers (without their details), table, set aside."""
    wanted = set(families) or set(COMPARISON_FAMILY)
    measurements = tables.measurements if "cases_vs_controls" in wanted else tables.measurements.iloc[0:0]
    comparisons = synthesis.case_control_comparisons(
        measurements, tables.studies, tables.findings, settings.include_derived, settings.include_skewed,
        settings.spread,
    )  # fmt: skip
    chosen, set_aside = smd_rows(comparisons.effects, settings.include_discordant)
    smd = pool_smd_rows(chosen, settings.method, settings.hartung_knapp, details=False)  # details: answer_details
    return {"comparisons": comparisons, "smd": smd, "smd_table": answers_table(smd), "set_aside": set_aside}


def correlation_evidence(tables: Tables, settings: Settings = Settings()) -> dict:
    """The correlation part of Evidence: usable rows, pooled correlations and the 'does serum mirror bone?' table."""
    rows = correlation_rows(tables.findings, tables.studies, study_label_map(tables.studies))
    return {
        "correlation_rows": rows,
        "correlations": correlation_answers(rows, method=settings.method, hartung_knapp=settings.hartung_knapp),
        "mirror": mirror_bone(rows, settings.method),
    }


def ratio_evidence(tables: Tables, settings: Settings = Settings()) -> dict:
    """The prognostic-ratio part of Evidence: HR/OR/RR rows and their pooled answers."""
    rows = ratio_rows(tables.findings, study_label_map(tables.studies))
    return {"ratio_rows": rows, "ratios": ratio_answers(rows, settings.method)}


@dataclass(frozen=True)
class QuestionResult:
    """The pooled answer to one question (a table of one or more rows) and, on request, its subgroups."""

    question: dict
    table: pd.DataFrame
    subgroups: pd.DataFrame

    def as_dict(self) -> dict:
        """JSON-ready form."""
        clean = lambda f: f.astype(object).where(f.notna(), None).to_dict(orient="records")  # noqa: E731
        return {"question": self.question, "results": clean(self.table), "subgroups": clean(self.subgroups)}


def answer_question(
    evidence: Evidence,
    condition_group: str,
    analyte: str,
    family: str,
    related_to: str | None = None,
    kit_subgroups: bool = False,
) -> QuestionResult:
    """The rows of the gathered evidence that answer one condition × analyte × family question (the Synthesis
    page and ``python -m rankl_atlas pool`` both call this)."""
    question = {"condition_group": condition_group, "analyte": analyte, "family": family, "related_to": related_to}
    subgroups = pd.DataFrame()
    if family == "cases_vs_controls":
        table = evidence.smd_table[
            (evidence.smd_table["condition_group"] == condition_group) & (evidence.smd_table["analyte"] == analyte)
        ]
        if kit_subgroups:
            parts = []
            for a in evidence.smd:
                if a.key["condition_group"] == condition_group and a.key["analyte"] == analyte:
                    for name, test in a.subgroup_tests.items():
                        parts.append(test.table.assign(subgrouped_by=name, q_between=test.q_between, p_between=test.p))
            subgroups = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    elif family == "association":
        table = evidence.correlations
        if not table.empty:
            table = table[(table["condition_group"] == condition_group) & (table["analyte"] == analyte)]
            if related_to:
                table = table[table["related_to"] == related_to]
    else:
        table = evidence.ratios
        if not table.empty:
            table = table[(table["condition_group"] == condition_group) & (table["analyte"] == analyte)]
            if related_to:
                table = table[table["related_to"] == related_to]
    return QuestionResult(question, table.reset_index(drop=True), subgroups)


# --- docs/synthesis.md --------------------------------------------------------------------------------


def _fmt(value: object, digits: int = 2) -> str:
    return "" if value is None or pd.isna(value) else f"{float(value):.{digits}f}"


def _ci_text(low: object, high: object) -> str:
    return "" if pd.isna(low) or pd.isna(high) else f"{_fmt(low)} to {_fmt(high)}"


def synthesis_report(tables: Tables, version: str = "") -> str:
    """docs/synthesis.md: every pooled answer at the default filters, and every published meta-analysis beside
    the atlas's own estimate (regenerated with ``python -m rankl_atlas report``; a test keeps it current)."""
    from rankl_atlas.filters import Filters, apply_filters  # the report uses the page's default view

    default = apply_filters(tables, Filters())
    evidence = gather_evidence(default)
    as_sd = gather_evidence(default, Settings(spread="sd"))
    smd = evidence.smd_table
    pooled = smd[smd["reason"] == ""]
    lines = [
        "# Synthesis: the atlas's pooled answers beside published meta-analyses",
        "",
        f"Generated by `python -m rankl_atlas report` from the bundled dataset{f' v{version}' if version else ''} at "
        "the default filters (humans, curated studies) and the Synthesis page's default settings "
        "(DerSimonian-Laird, Wald CI, unlabelled '±' left out, medians converted unless skewed, discordant rows "
        "left out). Methods: the page's *Methods* section.",
        "",
        "## Cases vs controls: Hedges' g pooled across kits",
        "",
        f"{len(pooled)} of {len(smd)} condition × analyte questions have at least two usable studies "
        f"({len(as_sd.smd_table[as_sd.smd_table['reason'] == ''])} when unlabelled '±' are read as SD).",
        "",
        "| question | k | n | g | 95% CI | 95% PI | I² % | kit subgroups p | studies |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in pooled.itertuples():
        lines.append(
            f"| {r.question} | {r.k} | {r.n_total} | {_fmt(r.estimate)} | {_ci_text(r.ci_low, r.ci_high)} | "
            f"{_ci_text(r.pi_low, r.pi_high)} | {_fmt(r.i2_percent, 0)} | {_fmt(r.kit_subgroup_p, 3)} | {r.studies} |"
        )
    lines += ["", "## Does serum mirror bone? Pooled r with BMD and bone turnover markers (all conditions)", ""]
    lines += ["| question | k | n | r | 95% CI | 95% PI | I² % | ρ converted |", "|---|---|---|---|---|---|---|---|"]
    for r in evidence.mirror.itertuples():
        lines.append(
            f"| {r.question} | {r.k} | {r.n_total} | {_fmt(r.pooled_r)} | {_ci_text(r.ci_low, r.ci_high)} | "
            f"{_ci_text(r.pi_low, r.pi_high)} | {_fmt(r.i2_percent, 0)} | {r.rho_converted} |"
        )
    beside = published_beside_atlas(tables.meta_analyses, smd, evidence.correlations, evidence.ratios)
    lines += [
        "",
        "## Published meta-analyses beside the atlas",
        "",
        f"{len(beside)} pooled results from {tables.meta_analyses['title'].nunique(dropna=False)} reviews "
        "(`data/source/meta_analyses.csv`, searched and screened as logged in `data/search/meta_analyses/`).",
        "",
        "| review | condition (as named) | analyte | measure | published (95% CI) | k | atlas (95% CI) | atlas k | agreement |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in beside.itertuples():
        published = (
            f"{_fmt(r.published)} ({_ci_text(r.published_ci_low, r.published_ci_high)})"
            if pd.notna(r.published)
            else "not printed"
        )
        atlas = f"{_fmt(r.atlas)} ({_ci_text(r.atlas_ci_low, r.atlas_ci_high)})" if pd.notna(r.atlas) else ""
        k = "" if pd.isna(r.published_k) else int(r.published_k)
        lines.append(
            f"| {r.review} | {r.condition} | {label('analyte', r.analyte)} | {r.measure} | {published} | {k} | "
            f"{atlas} | {r.atlas_k} | {r.agreement} |"
        )
    return "\n".join(lines) + "\n"


def pooled_r_for_cell(findings: pd.DataFrame, studies: pd.DataFrame, related_to: str, map_analyte: str) -> pd.DataFrame:
    """The pooled correlation behind an evidence-map cell of the relates-to view (across conditions): RANKL, OPG,
    or both ratio orientations for the map's ratio column."""
    analytes = ("rankl_opg_ratio", "opg_rankl_ratio") if map_analyte == "ratio" else (map_analyte,)
    chosen = findings[(findings["related_to"] == related_to) & findings["analyte"].isin(analytes)]
    rows = correlation_rows(chosen, studies, study_label_map(studies))
    if rows.empty:
        return pd.DataFrame()
    return correlation_answers(rows, ["analyte", "related_to"])


# --- What the Synthesis page lists, as pure functions (the page keeps only layout) ---------------------------


def pooled_questions(smd_table: pd.DataFrame) -> list[str]:
    """The case-control questions that were pooled, the largest (k, then n) first."""
    pooled = smd_table[smd_table["reason"] == ""]
    return list(pooled.sort_values(["k", "n_total"], ascending=False)["question"])


def published_of_question(
    meta: pd.DataFrame,
    key: dict,
    smd: pd.DataFrame,
    correlations: Callable[[], pd.DataFrame],
    ratios: Callable[[], pd.DataFrame],
) -> pd.DataFrame:
    """published_beside_atlas for one case-control question; the pooled correlations and ratios (callables, costly
    to pool) are asked for only when a review of the question reports r or a ratio."""
    reviews = reviews_of(meta, key)
    measures = set(reviews["measure"])
    return published_beside_atlas(
        reviews,
        smd,
        correlations() if measures & {"r", "z"} else pd.DataFrame(),
        ratios() if measures & set(RATIO_MEASURES) else None,
    )


def reviews_of(meta: pd.DataFrame, key: dict, family: str = "cases_vs_controls") -> pd.DataFrame:
    """The published pooled results of one condition × analyte question."""
    return meta[
        (meta["condition_group"] == key["condition_group"])
        & (meta["analyte"] == key["analyte"])
        & (meta["comparison_family"] == family)
    ]


@dataclass(frozen=True)
class FunnelQuestion:
    """A pooled correlation with enough studies for a funnel plot: its rows, pooled z and Egger's test."""

    question: str
    key: str
    rows: pd.DataFrame
    pooled: pooling.Pooled
    egger: pooling.EggerTest


def mirror_funnels(evidence: Evidence, method: str = "dl") -> list[FunnelQuestion]:
    """'Does serum mirror bone?' questions with k ≥ 10 studies, each with its pooled rows and Egger's test."""
    chosen = pooled_correlation_rows(evidence.correlation_rows, MIRROR_KEYS)
    out = []
    if evidence.mirror.empty:
        return out
    for question in evidence.mirror[evidence.mirror["k"] >= pooling.MIN_K_FUNNEL].itertuples():
        rows = chosen[(chosen["analyte"] == question.analyte) & (chosen["related_to"] == question.related_to)]
        out.append(
            FunnelQuestion(
                question.question,
                f"{question.analyte}_{question.related_to}",
                rows[["study", "r", "n_used", "y", "v"]],
                pooling.pool(rows["y"], rows["v"], method),
                pooling.egger_test(rows["y"], rows["v"]),
            )
        )
    return out


def unpooled_ratios(evidence: Evidence) -> pd.DataFrame:
    """Ratio findings that are not pooled, with the reason."""
    return evidence.ratio_rows[evidence.ratio_rows["reason"] != ""]
