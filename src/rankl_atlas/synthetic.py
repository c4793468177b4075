"""Synthetic datasets that follow the data contract, at a multiple of the bundled dataset (for benchmarks).

Every bundled study is copied ``scale`` times (so studies, measurements and findings all scale exactly, and each
synthetic study has as many rows as the study it was modelled on). Each copy gets a new unique name, year, ids and
values; its codes are drawn partly from the bundled rows' empirical distributions and partly from the schema's
vocabularies, so that rare codes (other vendors, units, specimens, diseases) occur too. Concentrations are drawn
from a lognormal fitted per analyte and unit to the bundled values. Cross-table rules (rows only for circulating
studies, assays of findings agreeing with measurements, id prefixes) hold by construction, and the result is
checked with :func:`rankl_atlas.validation.validate_tables`.

Usage: python -m rankl_atlas.synthetic OUT_DIR --scale 100 [--seed 0]
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from rankl_atlas.build import TABLES, datapackage, parquet_bytes, sort_table, write_atomic
from rankl_atlas.data import Tables, load_metadata, load_tables
from rankl_atlas.schema import (
    ASSAY_METHOD,
    ASSAY_VENDOR,
    CONCENTRATION_UNITS,
    CONDITION_GROUP,
    DIRECTION,
    DIRECTION_CLASS,
    MOLECULAR_WEIGHTS,
    SPECIMEN,
)
from rankl_atlas.synthesis import convert_unit
from rankl_atlas.validation import ValidationFailed, as_contract_dtypes, validate_tables

#: The bundled dataset (repository checkout), else ./data.
_REPO_DATA = Path(__file__).resolve().parents[2] / "data"
BUNDLED = _REPO_DATA if (_REPO_DATA / "studies.parquet").exists() else Path("data")

#: Share of codes kept from the bundled (empirical) row; the rest are drawn from the vocabulary.
EMPIRICAL_SHARE = 0.5
SIGMA_FLOOR = 0.35
SYLLABLES = [
    "ka", "ro", "mi", "san", "der", "lo", "ben", "ta", "vis", "hel",
    "mar", "no", "su", "gre", "lin", "po", "ra", "ten", "wu", "zho",
]  # fmt: skip
#: Directions that make sense for each comparison type (the vocabulary part of the mixture).
PLAUSIBLE_DIRECTIONS = {
    "case_vs_control": ["higher", "lower", "no_difference", "mostly_undetectable", "not_stated"],
    "between_groups": ["higher", "lower", "no_difference", "mostly_undetectable", "not_stated"],
    "correlation": ["positive_association", "negative_association", "no_association", "not_stated"],
    "prediction": ["predicts_when_high", "predicts_when_low", "no_association", "not_stated"],
    "treatment_change": ["increase", "decrease", "no_change"],
    "trend": ["increase", "decrease", "no_change", "positive_association", "negative_association"],
}


@functools.lru_cache(maxsize=4)
def _bundled(folder: str) -> Tables:
    return load_tables(Path(folder))


def _pick(rng: np.random.Generator, codes: list[str], size: int, weights: list[float] | None = None) -> np.ndarray:
    p = None if weights is None else np.asarray(weights, dtype=float) / np.sum(weights)
    return rng.choice(np.asarray(codes, dtype=object), size=size, p=p)


def _mix(rng: np.random.Generator, empirical: np.ndarray, fresh: np.ndarray, share: float = EMPIRICAL_SHARE):
    """Per element: keep the empirical value with probability share, else take the freshly drawn one."""
    keep = rng.random(len(empirical)) < share
    return np.where(keep, empirical, fresh)


def _names(rng: np.random.Generator, count: int) -> np.ndarray:
    """count distinct pronounceable surnames (lowercase ascii), in random order."""
    digits = max(3, math.ceil(math.log(max(count, 2), len(SYLLABLES))))
    base = len(SYLLABLES)
    codes = rng.choice(base**digits, size=count, replace=False)
    names = []
    for code in codes:
        parts = []
        for _ in range(digits):
            code, rest = divmod(int(code), base)
            parts.append(SYLLABLES[rest])
        names.append("".join(parts))
    return np.asarray(names, dtype=object)


def _lognormal_fits(measurements: pd.DataFrame) -> dict[tuple[str, str], tuple[float, float]]:
    """(analyte, unit) -> (mu, sigma) of log values; units absent from the data are converted from the best fit."""
    rows = measurements[measurements["value"].notna() & (measurements["value"] > 0)]
    fits: dict[tuple[str, str], tuple[float, float]] = {}
    for analyte in MOLECULAR_WEIGHTS:
        part = rows[rows["analyte"] == analyte]
        logs = {u: np.log(g["value"].astype(float).to_numpy()) for u, g in part.groupby("unit")}
        # pg/mL in one unit (molar units through the provisional molecular weight)
        factor = {unit: convert_unit(1.0, analyte, unit, "pg_ml") for unit in CONCENTRATION_UNITS}
        if logs:
            ref = max(logs, key=lambda u: len(logs[u]))
            ref_mu = float(np.mean(logs[ref]))
            sigma = max(SIGMA_FLOOR, float(np.std(np.concatenate(list(logs.values())))) / 2)
        else:
            ref, ref_mu, sigma = "pg_ml", math.log(50.0), 1.0
        for unit in CONCENTRATION_UNITS:
            if unit in logs and len(logs[unit]) >= 2:
                fits[(analyte, unit)] = (float(np.mean(logs[unit])), max(SIGMA_FLOOR, float(np.std(logs[unit]))))
            else:
                fits[(analyte, unit)] = (ref_mu + math.log(factor[ref] / factor[unit]), sigma)
    return fits


def _round_sig(values: np.ndarray, digits: int = 3) -> np.ndarray:
    out = np.asarray(values, dtype=float).copy()
    ok = np.isfinite(out) & (out != 0)
    magnitude = np.floor(np.log10(np.abs(out[ok])))
    scale = 10.0 ** (digits - 1 - magnitude)
    out[ok] = np.round(out[ok] * scale) / scale
    return out


def _floats(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _synthetic_studies(base: pd.DataFrame, scale: int, rng: np.random.Generator, seed: int) -> pd.DataFrame:
    n_base = len(base)
    template = np.tile(np.arange(n_base), scale)
    replica = np.repeat(np.arange(scale), n_base)
    out = base.iloc[template].reset_index(drop=True).astype(object)
    out = out.where(out.notna(), None)
    total = len(out)

    surnames = _names(rng, total)
    years = base["year"].dropna().astype(int).to_numpy()
    template_years = base["year"].astype("Int64").fillna(int(np.median(years))).astype(int).to_numpy()
    out["year"] = np.where(replica == 0, template_years[template], _pick(rng, list(years), total))
    out["study_id"] = [f"{s}{y}" for s, y in zip(surnames, out["year"], strict=True)]
    out["first_author"] = [s.capitalize() for s in surnames]
    initials = _pick(rng, ["A", "B", "C", "D", "H", "J", "K", "M", "P", "S", "AB", "JM", "KL"], total)
    coauthors = [str(a).split("; ", 1)[1] if "; " in str(a) else "" for a in out["authors"]]
    out["authors"] = [
        f"{name} {ini}" + (f"; {rest}" if rest else "")
        for name, ini, rest in zip(out["first_author"], initials, coauthors, strict=True)
    ]
    out["ref_no"] = np.where(replica == 0, out["ref_no"], None)
    index = np.arange(total)
    out["pmid"] = np.where(out["pmid"].notna(), [str(30_000_000 + i) for i in index], None)
    out["doi"] = np.where(out["doi"].notna(), [f"10.5555/rankl-synthetic.{seed}.{i}" for i in index], None)

    groups = out["condition_group"].to_numpy()
    diseases = [c for c in CONDITION_GROUP if c != "none"]
    empirical = base.loc[base["condition_group"] != "none", "condition_group"].tolist()
    drawn = _mix(rng, _pick(rng, empirical, total), _pick(rng, diseases, total))
    new_groups = np.where((groups == "none") | (replica == 0), groups, drawn)
    changed = new_groups != groups
    out["condition_group"] = new_groups
    out["condition"] = np.where(changed, [CONDITION_GROUP[g].lower() for g in new_groups], out["condition"])

    n_base_values = base["n_participants"].dropna().astype(float).to_numpy()
    mu, sigma = (np.log(n_base_values).mean(), np.log(n_base_values).std()) if len(n_base_values) else (4.0, 1.0)
    n_new = np.maximum(1, np.round(rng.lognormal(mu, max(sigma, 0.3), total))).astype(int)
    out["n_participants"] = np.where(out["n_participants"].notna() & (replica > 0), n_new, out["n_participants"])
    out["curation_status"] = np.where((replica > 0) & (rng.random(total) < 0.02), "draft", out["curation_status"])
    out["_template"] = base["study_id"].to_numpy()[template]
    out["_replica"] = replica
    return out


def _assay_choices(rng: np.random.Generator, keys: pd.DataFrame) -> pd.DataFrame:
    """For each (study, analyte, bundled assay) key, the synthetic assay: the bundled one or a vocabulary draw."""
    size = len(keys)
    vendor = _pick(rng, list(ASSAY_VENDOR), size)
    attribution = np.where(vendor == "not_reported", "not_reported", _pick(rng, ["stated", "inferred"], size, [4, 1]))
    rankl_form = _pick(rng, ["free", "total", "unspecified"], size)
    opg_form = _pick(rng, ["unspecified", "free", "total", "dimer"], size, [8, 1, 1, 1])
    analyte = keys["analyte"].to_numpy()
    form = np.where(analyte == "rankl", rankl_form, np.where(analyte == "opg", opg_form, "unspecified"))
    specimens = list(SPECIMEN)
    specimen = _pick(rng, specimens, size, [6] + [1] * (len(specimens) - 1))
    methods = list(ASSAY_METHOD)
    method = _pick(rng, methods, size, [{"elisa": 6, "immuno_pcr": 0.5, "other": 0.5}.get(m, 1) for m in methods])
    keep = rng.random(size) < EMPIRICAL_SHARE
    fresh = {
        "analyte_form": form,
        "specimen": specimen,
        "assay_vendor": vendor,
        "assay_attribution": attribution,
        "assay_method": method,
    }
    out = keys.copy()
    for column, values in fresh.items():
        template = keys[column].to_numpy() if column in keys else values
        out[f"new_{column}"] = np.where(keep, template, values)
    return out


_ASSAY = ["analyte_form", "specimen", "assay_vendor", "assay_attribution"]


def _replicate(rows: pd.DataFrame, studies: pd.DataFrame, n_base: int, scale: int) -> pd.DataFrame:
    """Copy every bundled row once per replica, attached to that replica's copy of its study."""
    position = {sid: i for i, sid in enumerate(studies["_template"].to_numpy()[:n_base])}
    template_pos = rows["study_id"].map(position).to_numpy()
    tiled = np.tile(np.arange(len(rows)), scale)
    replica = np.repeat(np.arange(scale), len(rows))
    out = rows.iloc[tiled].reset_index(drop=True).astype(object)
    out = out.where(out.notna(), None)
    target = replica * n_base + template_pos[tiled]
    out["_template_study"] = out["study_id"]
    out["_target"] = target
    out["study_id"] = studies["study_id"].to_numpy()[target]
    key = "measurement_id" if "measurement_id" in out else "finding_id"
    suffixes = [str(old)[len(str(sid)) :] for old, sid in zip(out[key], out["_template_study"], strict=True)]
    out[key] = [f"{sid}{suffix}" for sid, suffix in zip(out["study_id"], suffixes, strict=True)]
    return out


def _relabel_groups(rows: pd.DataFrame, studies: pd.DataFrame, base: pd.DataFrame) -> np.ndarray:
    """Rows of the bundled study's own disease take the synthetic study's disease; controls etc. keep theirs."""
    template_group = rows["_template_study"].map(dict(zip(base["study_id"], base["condition_group"], strict=True)))
    own = rows["condition_group"].to_numpy() == template_group.to_numpy()
    return np.where(own, studies["condition_group"].to_numpy()[rows["_target"].to_numpy()], rows["condition_group"])


def synthetic_tables(scale: int, seed: int = 0, bundled: Path | None = None) -> Tables:
    """Tables following the data contract with ``scale`` × the bundled studies, measurements and findings.

    Deterministic for (scale, seed, bundled data). Raises ValidationFailed if the result breaks the contract.
    """
    if scale < 1:
        raise ValueError("scale must be at least 1")
    base = _bundled(str(bundled or BUNDLED))
    # Synthetic rows are concentrations: a template ratio row becomes RANKL, a relative or missing unit a drawn one.
    analyte, unit = base.measurements["analyte"], base.measurements["unit"]
    templates = base.measurements.assign(
        analyte=analyte.where(analyte.isin(list(MOLECULAR_WEIGHTS)), "rankl"),
        unit=unit.where(unit.isin(CONCENTRATION_UNITS), pd.NA),
    )
    base = replace(base, measurements=templates)
    rng = np.random.default_rng(seed)
    n_base = len(base.studies)
    studies = _synthetic_studies(base.studies, scale, rng, seed)
    measurements = _replicate(base.measurements, studies, n_base, scale)
    findings = _replicate(base.findings, studies, n_base, scale)

    # Assays: one draw per (synthetic study, analyte, bundled assay), shared by its measurements and findings.
    both = pd.concat([measurements.assign(_table="m"), findings.assign(_table="f")], ignore_index=True)
    keys = both[["_target", "analyte", *_ASSAY]].astype(str).drop_duplicates().reset_index(drop=True)
    method_of = (
        measurements[["_target", "analyte", *_ASSAY, "assay_method"]]
        .astype(str)
        .drop_duplicates(["_target", "analyte", *_ASSAY])
    )
    keys = keys.merge(method_of, on=["_target", "analyte", *_ASSAY], how="left")
    keys["assay_method"] = keys["assay_method"].fillna("not_reported")
    choices = _assay_choices(rng, keys)
    for name in ("measurements", "findings"):
        frame = measurements if name == "measurements" else findings
        merged = frame[["_target", "analyte", *_ASSAY]].astype(str).merge(choices, how="left", validate="m:1")
        for column in [*_ASSAY, "assay_method"] if name == "measurements" else _ASSAY:
            frame[column] = merged[f"new_{column}"].to_numpy()

    # Measurements: groups, units per (study, analyte), lognormal values, spreads in the bundled row's proportions.
    total = len(measurements)
    measurements["condition_group"] = _relabel_groups(measurements, studies, base.studies)
    relabelled = (
        measurements["condition_group"].to_numpy()
        != base.measurements["condition_group"].to_numpy()[np.tile(np.arange(len(base.measurements)), scale)]
    )
    role = measurements["group_role"].to_numpy()
    new_label = [
        f"{CONDITION_GROUP[g]} {'cohort' if r == 'whole_cohort' else 'patients'}"
        for g, r in zip(measurements["condition_group"], role, strict=True)
    ]
    measurements["group_label"] = np.where(relabelled & (role != "control"), new_label, measurements["group_label"])
    unit_keys = measurements[["_target", "analyte"]].drop_duplicates().reset_index(drop=True)
    units = list(CONCENTRATION_UNITS)
    unit_keys["fresh_unit"] = _pick(rng, units, len(unit_keys), [4, 3, 1, 2, 0.5][: len(units)])
    unit_keys["keep"] = rng.random(len(unit_keys)) < EMPIRICAL_SHARE + 0.2
    merged = measurements[["_target", "analyte"]].merge(unit_keys, how="left", validate="m:1")
    has_value = measurements["value"].notna().to_numpy()
    template_unit = measurements["unit"].to_numpy()
    unit = np.where(merged["keep"].to_numpy() & pd.notna(template_unit), template_unit, merged["fresh_unit"])
    measurements["unit"] = np.where(has_value, unit, None)
    fits = _lognormal_fits(base.measurements)
    mu = np.array([fits[(a, u)][0] if u else 0.0 for a, u in zip(measurements["analyte"], unit, strict=True)])
    sigma = np.array([fits[(a, u)][1] if u else 1.0 for a, u in zip(measurements["analyte"], unit, strict=True)])
    new_value = _round_sig(np.exp(mu + sigma * rng.standard_normal(total)))
    old_value = _floats(measurements, "value")
    ratio_noise = np.exp(0.2 * rng.standard_normal(total))
    for column in ("sd", "se", "q1", "q3", "min", "max", "ci_low", "ci_high"):
        old = _floats(measurements, column)
        proportion = old / old_value
        if column in ("sd", "se"):
            proportion = proportion * ratio_noise
        measurements[column] = np.where(np.isfinite(proportion), _round_sig(proportion * new_value), np.nan)
    measurements["value"] = np.where(has_value, new_value, np.nan)
    pct = _floats(measurements, "pct_undetectable")
    measurements["pct_undetectable"] = np.where(
        np.isnan(pct), np.nan, np.clip(np.round(pct + 10 * rng.standard_normal(total), 1), 0, 100)
    )
    n = _floats(measurements, "n")
    measurements["n"] = np.where(
        np.isnan(n), np.nan, np.maximum(1, np.round(n * np.exp(0.4 * rng.standard_normal(total))))
    )

    # Findings: groups, directions from the bundled distribution per comparison type (plus plausible others),
    # effects with the direction's sign, p values near the bundled ones.
    total = len(findings)
    findings["condition_group"] = _relabel_groups(findings, studies, base.studies)
    direction = findings["direction"].to_numpy().copy()
    kinds = findings["comparison_type"].to_numpy()
    for kind, plausible in PLAUSIBLE_DIRECTIONS.items():
        where = np.flatnonzero(kinds == kind)
        if not len(where):
            continue
        empirical = base.findings.loc[base.findings["comparison_type"] == kind, "direction"].tolist() or plausible
        support = list(dict.fromkeys(plausible + [d for d in empirical if d in DIRECTION]))
        direction[where] = _mix(rng, _pick(rng, empirical, len(where)), _pick(rng, support, len(where)), 0.8)
    findings["direction"] = direction
    sign = np.array([{"up": 1.0, "down": -1.0}.get(DIRECTION_CLASS[d], 0.0) for d in direction])
    sign = np.where(sign == 0, np.where(rng.random(total) < 0.5, 1.0, -1.0), sign)
    null = np.array([DIRECTION_CLASS[d] == "null" for d in direction])
    effect = _floats(findings, "effect_value")
    measure = findings["effect_measure"].to_numpy()
    magnitude = np.abs(effect) * np.exp(0.25 * rng.standard_normal(total))
    correlation = np.isin(measure, ["r", "rho"])
    ratio = np.isin(measure, ["or", "hr", "rr"])
    magnitude = np.where(correlation, np.clip(np.where(null, magnitude * 0.3, magnitude), 0.01, 0.95), magnitude)
    new_effect = np.where(
        ratio,
        np.where(sign > 0, np.maximum(magnitude, 1.01), np.minimum(1 / np.maximum(magnitude, 1.01), 0.99)),
        sign * magnitude,
    )
    new_effect = _round_sig(new_effect)
    for column in ("ci_low", "ci_high"):
        proportion = _floats(findings, column) / effect
        findings[column] = np.where(np.isfinite(proportion), _round_sig(np.abs(proportion) * new_effect), np.nan)
    findings["effect_value"] = np.where(np.isnan(effect), np.nan, new_effect)
    lo = np.minimum(_floats(findings, "ci_low"), _floats(findings, "ci_high"))
    hi = np.maximum(_floats(findings, "ci_low"), _floats(findings, "ci_high"))
    findings["ci_low"], findings["ci_high"] = lo, hi
    p = _floats(findings, "p_value")
    new_p = np.where(
        null, 0.05 + 0.9 * rng.random(total), np.clip(p * np.exp(0.5 * rng.standard_normal(total)), 1e-4, 0.049)
    )
    new_p = _round_sig(new_p, 2)
    findings["p_value"] = np.where(np.isnan(p), np.nan, new_p)
    findings["p_text"] = np.where(np.isnan(p), findings["p_text"], [f"{v:.2g}" for v in new_p])
    n = _floats(findings, "n")
    findings["n"] = np.where(np.isnan(n), np.nan, np.maximum(1, np.round(n * np.exp(0.4 * rng.standard_normal(total)))))

    for frame in (measurements, findings):  # drawn vendors need not match a catalogue kit
        frame["assay_id"] = None
        frame["form_basis"] = None
    findings["assay_id_other"] = None
    findings.loc[findings["comparison_type"] == "kit_vs_kit", "comparison_type"] = "between_groups"
    frames = {
        "studies": studies.drop(columns=["_template", "_replica"]),
        "measurements": measurements.drop(columns=["_template_study", "_target"]),
        "findings": findings.drop(columns=["_template_study", "_target"]),
        "assays": base.assays,
        "meta_analyses": base.meta_analyses,
    }
    for name, frame in frames.items():
        typed = as_contract_dtypes(frame.replace({None: pd.NA}).infer_objects(), name)
        frames[name] = sort_table(typed, name)
    issues = validate_tables(frames, {t: f"{t} (synthetic)" for t in TABLES})
    if issues:
        raise ValidationFailed(issues)
    return Tables(**frames)


def changelog(scale: int, seed: int, tables: Tables) -> str:
    """CHANGELOG.md of a synthetic data folder."""
    return (
        "# Dataset changelog\n\n"
        f"## synthetic {scale}x (seed {seed}) — {date.today().isoformat()}\n"
        f"- SYNTHETIC benchmark data, not evidence: {len(tables.studies)} studies, {len(tables.measurements)} "
        f"measurements and {len(tables.findings)} findings generated by `rankl_atlas.synthetic` at {scale}× the "
        "bundled dataset. Names, ids, years, codes and values are random draws modelled on the bundled rows.\n"
    )


def write_synthetic(folder: Path, scale: int, seed: int = 0) -> None:
    """Write a synthetic data folder: the three Parquet files, datapackage.json and CHANGELOG.md."""
    folder = Path(folder)
    tables = synthetic_tables(scale, seed)
    frames = {**tables.as_dict(), "assays": tables.assays, "meta_analyses": tables.meta_analyses}
    for table in TABLES:
        write_atomic(folder / f"{table}.parquet", parquet_bytes(frames[table], table))
    metadata = {k: v for k, v in load_metadata(BUNDLED).items() if k != "resources"}
    metadata.update(
        {
            "name": "rankl-atlas-synthetic",
            "title": f"RANKL Atlas synthetic benchmark data ({scale}x)",
            "version": f"{metadata.get('version', '0.0.0')}+synthetic.{scale}x.seed{seed}",
            "description": f"Synthetic data at {scale}x the bundled dataset for benchmarks; not evidence.",
        }
    )
    package = json.dumps(datapackage(metadata, frames), indent=2, ensure_ascii=False) + "\n"
    write_atomic(folder / "datapackage.json", package.encode("utf-8"))
    write_atomic(folder / "CHANGELOG.md", changelog(scale, seed, tables).encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    write_synthetic(args.out, args.scale, args.seed)
    print(f"Wrote synthetic {args.scale}x data into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
