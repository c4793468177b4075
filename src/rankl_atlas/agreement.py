"""Double extraction: compare a second, independent extraction of a sample with the dataset, field by field.

Pure functions over frames; the build and data/qa/agreement.md use them. Cohen's κ comes from statsmodels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rankl_atlas.schema import DIRECTION_CLASS
from rankl_atlas.validation import Issue


@dataclass(frozen=True)
class Agreement:
    """Per-field agreement figures and the list of every disagreement."""

    figures: pd.DataFrame  # field, compared, agreed, percent, kappa
    disagreements: pd.DataFrame  # study_id, field, key, first, second


def _number(value: object) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(out) else out


def _same(a: object, b: object) -> bool:
    x, y = _number(a), _number(b)
    if x is not None or y is not None:
        return x is not None and y is not None and abs(x - y) <= 1e-9 * max(1.0, abs(x))
    return str(a or "").strip().lower() == str(b or "").strip().lower()


def _set(text: object) -> frozenset:
    return frozenset(t for t in str(text or "").replace(",", ";").split(";") if t)


def kappa(first: list[str], second: list[str]) -> float | None:
    """Cohen's κ of two raters' codes for the same items (statsmodels), None when fewer than two items."""
    if len(first) < 2:
        return None
    codes = sorted(set(first) | set(second))
    index = {c: i for i, c in enumerate(codes)}
    table = np.zeros((len(codes), len(codes)))
    for a, b in zip(first, second, strict=True):
        table[index[a], index[b]] += 1
    if len(codes) == 1:
        return 1.0
    # Imported here, not with the module: SciPy's statistics add ≈ 0.6 s to a cold start.
    from statsmodels.stats.inter_rater import cohens_kappa

    return float(cohens_kappa(table).kappa)


def _pair_rows(first: pd.DataFrame, second: pd.DataFrame, keys: list[str], ties: list[str]) -> list[tuple[dict, dict]]:
    """Pairs of rows with the same keys. Rows that also agree on a tie-breaker column (in order of ties) pair
    first; the rest pair in their order of appearance."""
    used: set[int] = set()
    paired: dict[int, int] = {}  # second index -> first index

    def candidates(b: pd.Series) -> pd.DataFrame:
        rows = first
        for k in keys:
            rows = rows[rows[k].astype(str).str.lower() == str(b[k]).lower()]
        return rows[~rows.index.isin(used)]

    for tie in ties:
        for j, b in second.iterrows():
            if j in paired:
                continue
            pool = candidates(b)
            hit = pool[[_same(v, b[tie]) and str(b[tie]).strip() != "" for v in pool[tie]]]
            if not hit.empty:
                paired[j] = hit.index[0]
                used.add(hit.index[0])
    for j, b in second.iterrows():
        if j in paired:
            continue
        pool = candidates(b)
        if not pool.empty:
            paired[j] = pool.index[0]
            used.add(pool.index[0])
    return [(first.loc[i].to_dict(), second.loc[j].to_dict()) for j, i in sorted(paired.items())]


def _unpaired(first, second, pairs, key, table, diffs, shown) -> None:
    """Rows only one extraction has, listed as disagreements (a row the dataset may lack, or one to recheck)."""
    first_ids = {a[key] for a, _ in pairs}
    second_ids = {b[key] for _, b in pairs}
    for _, row in second[~second[key].isin(second_ids)].iterrows():
        text = " | ".join(str(row[c]) for c in shown)
        diffs.append((row["study_id"], f"{table}.row_only_in_second", row[key], "", text))
    for _, row in first[~first[key].isin(first_ids)].iterrows():
        text = " | ".join(str(row[c]) for c in shown)
        diffs.append((row["study_id"], f"{table}.row_only_in_dataset", row[key], text, ""))


def compare(first: dict[str, pd.DataFrame], second: dict[str, pd.DataFrame], sample: list[str]) -> Agreement:
    """Agreement between the dataset (first) and a second extraction for the sampled study ids."""
    rows, diffs = [], []

    def record(field: str, compared: int, agreed: int, k: float | None = None) -> None:
        rows.append((field, compared, agreed, round(100 * agreed / compared, 1) if compared else None, k))

    s1 = first["studies"].set_index("study_id")
    s2 = second["studies"].set_index("study_id")
    found = [s for s in sample if s in s2.index and "not found" not in str(s2.loc[s].get("curation_notes", ""))]
    for field in ("analytes_measured", "condition_group", "design", "n_participants"):
        agreed = 0
        for sid in found:
            a, b = s1.loc[sid, field], s2.loc[sid, field]
            same = _set(a) == _set(b) if field == "analytes_measured" else _same(a, b)
            agreed += same
            if not same:
                diffs.append((sid, f"studies.{field}", sid, str(a), str(b)))
        record(f"study {field}", len(found), agreed)

    # measurements: a second-extraction value is matched when the dataset has the same study, analyte, value, unit
    m1 = first["measurements"][first["measurements"]["study_id"].isin(found)]
    m2 = second["measurements"][second["measurements"]["study_id"].isin(found)]
    pairs = _pair_rows(m1, m2, ["study_id", "analyte"], ["value"])
    value_ok = sum(_same(a["value"], b["value"]) for a, b in pairs)
    unit_ok = sum(_same(a["unit"], b["unit"]) for a, b in pairs if _same(a["value"], b["value"]))
    spread_ok = sum(
        all(_same(a[c], b[c]) for c in ("sd", "se", "q1", "q3", "min", "max"))
        for a, b in pairs
        if _same(a["value"], b["value"])
    )
    for a, b in pairs:
        if not _same(a["value"], b["value"]):
            diffs.append((a["study_id"], "measurements.value", a["measurement_id"], str(a["value"]), str(b["value"])))
        elif not _same(a["unit"], b["unit"]):
            diffs.append((a["study_id"], "measurements.unit", a["measurement_id"], str(a["unit"]), str(b["unit"])))
    _unpaired(m1, m2, pairs, "measurement_id", "measurements", diffs, ("group_label", "analyte", "value", "unit"))
    record("measurement rows: second's rows found in the dataset", len(m2), len(pairs))
    record("measurement rows: dataset rows found by the second", len(m1), len(pairs))
    record("measurement value (exact, paired rows)", len(pairs), value_ok)
    record("measurement unit (exact, same value)", value_ok, unit_ok)
    record("measurement spread (SD/SE/quartiles/range, same value)", value_ok, spread_ok)

    f1 = first["findings"][first["findings"]["study_id"].isin(found)]
    f2 = second["findings"][second["findings"]["study_id"].isin(found)]
    pairs = _pair_rows(f1, f2, ["study_id", "analyte", "related_to"], ["effect_value", "p_text", "direction"])
    d1 = [str(a["direction"]) for a, _ in pairs]
    d2 = [str(b["direction"]) for _, b in pairs]
    agreed = sum(x == y for x, y in zip(d1, d2, strict=True))
    for a, b in pairs:
        if a["direction"] != b["direction"]:
            diffs.append((a["study_id"], "findings.direction", a["finding_id"], a["direction"], b["direction"]))
    _unpaired(f1, f2, pairs, "finding_id", "findings", diffs, ("analyte", "comparison", "direction", "p_text"))
    record("finding rows: second's rows found in the dataset", len(f2), len(pairs))
    record("finding rows: dataset rows found by the second", len(f1), len(pairs))
    record("finding direction (paired rows)", len(pairs), agreed, kappa(d1, d2))
    c1 = [DIRECTION_CLASS.get(x, x) for x in d1]
    c2 = [DIRECTION_CLASS.get(x, x) for x in d2]
    record(
        "finding direction class (up/down/null/...)",
        len(pairs),
        sum(x == y for x, y in zip(c1, c2, strict=True)),
        kappa(c1, c2),
    )

    def vendors(frame: pd.DataFrame, sid: str) -> frozenset:
        part = pd.concat([first_or_empty(frame, t, sid) for t in ("measurements", "findings")])
        return frozenset(part["assay_vendor"]) - {"not_reported"} if len(part) else frozenset()

    def first_or_empty(tables, table, sid):
        frame = tables[table]
        return frame.loc[frame["study_id"] == sid, ["assay_vendor"]]

    kit_ok = 0
    for sid in found:
        a, b = vendors(first, sid), vendors(second, sid)
        kit_ok += a == b
        if a != b:
            diffs.append(
                (sid, "assay_vendor", sid, ";".join(sorted(a)) or "not_reported", ";".join(sorted(b)) or "not_reported")
            )
    record("kit (vendors named per study)", len(found), kit_ok)
    figures = pd.DataFrame(rows, columns=["field", "compared", "agreed", "percent", "kappa"])
    disagreements = pd.DataFrame(diffs, columns=["study_id", "field", "row_id", "first", "second"])
    return Agreement(figures, disagreements)


RESOLUTIONS = ("first_correct", "second_correct", "both_acceptable", "both_wrong", "unverifiable")
DISAGREEMENT_COLUMNS = ["item", "study_id", "field", "row_id", "first", "second", "resolution", "note"]


def qa_issues(qa_dir: Path, studies: pd.DataFrame) -> list[Issue]:
    """Rules of data/qa: the sample names studies of the search set, every disagreement is resolved with a code."""
    issues: list[Issue] = []
    sample_path, log_path = qa_dir / "sample.csv", qa_dir / "disagreements.csv"
    if not sample_path.exists() or not log_path.exists():
        return [Issue("qa", None, None, "", "data/qa needs sample.csv and disagreements.csv")]
    sample = pd.read_csv(sample_path, dtype=str, keep_default_na=False)
    known = set(studies["study_id"])
    for pos, sid in enumerate(sample["study_id"], start=1):
        if sid not in known:
            issues.append(Issue("qa/sample.csv", pos, "study_id", sid, "sampled study is not in the atlas"))
    log = pd.read_csv(log_path, dtype=str, keep_default_na=False)
    if list(log.columns) != DISAGREEMENT_COLUMNS:
        return [*issues, Issue("qa/disagreements.csv", None, None, "", f"columns must be {DISAGREEMENT_COLUMNS}")]
    for pos, row in enumerate(log.to_dict("records"), start=1):
        if row["resolution"] not in RESOLUTIONS:
            issues.append(
                Issue("qa/disagreements.csv", pos, "resolution", row["resolution"], f"must be one of {RESOLUTIONS}")
            )
        if row["study_id"] not in set(sample["study_id"]):
            issues.append(Issue("qa/disagreements.csv", pos, "study_id", row["study_id"], "not a sampled study"))
    return issues
