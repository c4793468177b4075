"""Validate the three tables: types, vocabularies, ranges and cross-table rules, reported cell by cell."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from rankl_atlas.schema import (
    NUMERIC_RANGES,
    PANDAS_DTYPE,
    SCHEMAS,
    TABLE_FIELDS,
    TABLE_KEYS,
    column_names,
    range_rule,
    show_invisible,
)

#: Row numbers in messages are 1-based data rows; for CSV sources the file line is row + 1 (header).
TRUE_WORDS = {"true", "1", "yes"}
FALSE_WORDS = {"false", "0", "no"}


@dataclass(frozen=True)
class Issue:
    """One bad cell: where it is, what it holds, which rule it breaks."""

    file: str
    row: int | None
    column: str | None
    value: str
    rule: str

    def __str__(self) -> str:
        row = "-" if self.row is None else str(self.row)
        return f"{self.file}: row {row}, column {self.column or '-'}: value {self.value!r}: {self.rule}"


class ValidationFailed(Exception):
    """Raised with every issue found, so a curator can fix them all at once."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


def issues_frame(issues: list[Issue]) -> pd.DataFrame:
    """Issues as a table (file, row, column, value, rule) for display."""
    return pd.DataFrame([i.__dict__ for i in issues], columns=["file", "row", "column", "value", "rule"])


def coerce_text_table(
    raw: pd.DataFrame, table: str, file: str, keep_index: bool = False
) -> tuple[pd.DataFrame, list[Issue]]:
    """Turn a table of strings (as read from CSV) into contract dtypes; unparsable cells become issues.

    Missing contract columns and unknown columns are reported; empty strings become nulls. Row numbers in
    issues are the raw frame's index + 1; keep_index keeps that index on the result (else 0..n-1).
    """
    issues: list[Issue] = []
    expected = column_names(table)
    missing = [c for c in expected if c not in raw.columns]
    unknown = [c for c in raw.columns if c not in expected]
    for col in missing:
        issues.append(Issue(file, None, col, "", "required column is missing"))
    for col in unknown:
        issues.append(Issue(file, None, str(col), "", "unknown column (not in the data contract)"))
    if missing:
        return pd.DataFrame(columns=expected), issues
    out = {}
    for field in TABLE_FIELDS[table]:
        text = raw[field.name].astype("string").str.strip()
        text = text.mask(text == "", pd.NA)
        if field.dtype == "string":
            out[field.name] = text
            continue
        if field.dtype == "bool":
            lowered = text.str.lower()
            parsed = pd.Series(pd.NA, index=text.index, dtype="boolean")
            parsed[lowered.isin(TRUE_WORDS).fillna(False)] = True
            parsed[lowered.isin(FALSE_WORDS).fillna(False)] = False
            bad = text.notna() & parsed.isna()
            rule = "must be true or false"
        else:
            parsed, found = _numbers(text, table, field.name, field.dtype == "int", file)
            issues.extend(found)
            out[field.name] = parsed
            continue
        for idx in text.index[bad.fillna(False)]:
            issues.append(Issue(file, int(idx) + 1, field.name, str(text[idx]), rule))
        out[field.name] = parsed
    frame = pd.DataFrame(out, index=raw.index)
    return (frame if keep_index else frame.reset_index(drop=True)), issues


def _numbers(text: pd.Series, table: str, column: str, whole: bool, file: str) -> tuple[pd.Series, list[Issue]]:
    """Parse a column of number text: each cell must be a (whole) finite number inside the column's stated
    range (schema.NUMERIC_RANGES); a cell that is not becomes an issue quoting the text as written, and empty."""
    numbers = pd.Series(
        pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan), index=text.index
    )
    given = text.notna().to_numpy(dtype=bool)
    low, high = NUMERIC_RANGES[table][column]
    with np.errstate(invalid="ignore"):
        checks = [
            (np.isnan(numbers), "must be a whole number" if whole else "must be a number"),
            (np.isinf(numbers), "must be a finite number"),
            ((numbers < low) | (numbers > high), range_rule(low, high)),
        ]
        if whole:
            checks.append((numbers % 1 != 0, "must be a whole number"))
    issues, bad = [], np.zeros(len(text), dtype=bool)
    for failing, rule in checks:
        new = given & ~bad & np.asarray(failing, dtype=bool)
        issues += [Issue(file, int(idx) + 1, column, str(text[idx]), rule) for idx in text.index[new]]
        bad |= new
    issues.sort(key=lambda issue: issue.row)
    kept = numbers.where(given & ~bad)
    return (kept.astype("Float64").astype("Int64") if whole else kept.astype("Float64")), issues


def schema_issues(frame: pd.DataFrame, table: str, file: str) -> list[Issue]:
    """Every cell that breaks the pandera schema of this table."""
    try:
        SCHEMAS[table].validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        issues = []
        for case in err.failure_cases.itertuples(index=False):
            index = case.index
            row = None if index is None or pd.isna(index) else int(index) + 1
            column = case.column if isinstance(case.column, str) else None
            rule = str(case.check)
            if rule.startswith("column_in_dataframe"):
                rule = "required column is missing"
            elif rule.startswith("column_in_schema"):
                rule = "unknown column (not in the data contract)"
            elif rule == "field_uniqueness":
                rule = "must be unique"
            elif rule == "not_nullable":
                rule = "must not be empty"
            elif rule.startswith("dtype("):
                rule = f"wrong type, expected {rule[6:-1]}"
            issues.append(Issue(file, row, column, show_invisible(_text(case.failure_case)), rule))
        return sorted(set(issues), key=lambda i: (i.row or 0, i.column or "", i.rule))
    return []


def text_or_none(value: object) -> str | None:
    """A cell as text, or None when it is empty (None or NaN/NA)."""
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _text(value) -> str:
    return text_or_none(value) or ""


def print_problems(what: str, problems: list, stream=None) -> None:
    """The command-line report of a refused build or import: a count, then one line per problem."""
    stream = stream or sys.stderr
    print(f"{what} failed: {len(problems)} problem(s); no file was changed.", file=stream)
    for problem in problems:
        print(f"  {problem}", file=stream)


def cross_table_issues(tables: dict[str, pd.DataFrame], files: dict[str, str]) -> list[Issue]:
    """Rules that span tables: ids exist, rows only for circulating studies, assays agree, ids match."""
    studies, measurements, findings = tables["studies"], tables["measurements"], tables["findings"]
    issues: list[Issue] = []
    known = set(studies["study_id"].dropna())
    circulating = set(studies.loc[studies["circulating_measured"].fillna(False).astype(bool), "study_id"])
    for table, suffix in (("measurements", "m"), ("findings", "f")):
        frame, file, key = tables[table], files[table], TABLE_KEYS[table]
        for pos, row in zip((frame.index + 1).tolist(), frame.itertuples(index=False), strict=True):
            sid = row.study_id
            if pd.isna(sid):
                continue
            if sid not in known:
                issues.append(Issue(file, pos, "study_id", sid, "study_id does not exist in studies"))
            elif sid not in circulating:
                issues.append(
                    Issue(
                        file, pos, "study_id", sid, "rows are allowed only for studies with circulating_measured = true"
                    )
                )
            row_id = getattr(row, key)
            if isinstance(row_id, str) and not row_id.startswith(f"{sid}-{suffix}"):
                issues.append(Issue(file, pos, key, row_id, f"must start with '{sid}-{suffix}'"))
    for pos, row in zip((measurements.index + 1).tolist(), measurements.itertuples(index=False), strict=True):
        if pd.isna(row.value) and pd.isna(row.pct_undetectable):
            issues.append(
                Issue(
                    files["measurements"],
                    pos,
                    "value",
                    "",
                    "value may be empty only when pct_undetectable is given",
                )
            )
    issues.extend(_assay_agreement_issues(measurements, findings, files["findings"]))
    if "assays" in tables:
        for table in ("measurements", "findings"):
            issues.extend(catalogue_issues(tables[table], tables["assays"], files[table]))
    return issues


def catalogue_issues(frame: pd.DataFrame, assays: pd.DataFrame, file: str) -> list[Issue]:
    """Rows that name a kit must name one in the catalogue, with the catalogue's vendor and analyte.

    A form inferred from the kit must be the form the catalogue says the kit detects; a kit-vs-kit finding
    names both kits.
    """
    catalogue = assays.set_index("assay_id")
    issues = []
    for pos, row in zip((frame.index + 1).tolist(), frame.to_dict("records"), strict=True):
        kit_columns = ["assay_id", "assay_id_other"] if "assay_id_other" in row else ["assay_id"]
        for column in kit_columns:
            kit = row.get(column)
            if kit is None or pd.isna(kit):
                continue
            if kit not in catalogue.index:
                issues.append(Issue(file, pos, column, kit, "assay_id does not exist in assays"))
                continue
            entry = catalogue.loc[kit]
            if column == "assay_id" and row["assay_vendor"] != entry["vendor"]:
                issues.append(
                    Issue(
                        file,
                        pos,
                        "assay_vendor",
                        row["assay_vendor"],
                        f"must be '{entry['vendor']}', the vendor of {kit}",
                    )
                )
            if row["analyte"] in ("rankl", "opg") and row["analyte"] != entry["analyte"]:
                issues.append(
                    Issue(file, pos, "analyte", row["analyte"], f"must be '{entry['analyte']}', the analyte of {kit}")
                )
            if (
                column == "assay_id"
                and row.get("form_basis") == "inferred_from_kit"
                and row["analyte_form"] != entry["form_detected"]
            ):
                issues.append(
                    Issue(
                        file,
                        pos,
                        "analyte_form",
                        row["analyte_form"],
                        f"must be '{entry['form_detected']}', the form {kit} detects",
                    )
                )
        if row.get("comparison_type") == "kit_vs_kit" and (
            pd.isna(row.get("assay_id")) or pd.isna(row.get("assay_id_other"))
        ):
            issues.append(
                Issue(
                    file, pos, "assay_id_other", "", "a kit_vs_kit finding names both kits (assay_id, assay_id_other)"
                )
            )
    return issues


_ASSAY_COLUMNS = ["analyte_form", "specimen", "assay_vendor", "assay_attribution"]


def _assay_agreement_issues(measurements: pd.DataFrame, findings: pd.DataFrame, file: str) -> list[Issue]:
    """A finding's assay columns must match some measurement of the same study and analyte."""
    if measurements.empty or findings.empty:
        return []
    keys = ["study_id", "analyte"]
    known = measurements[keys + _ASSAY_COLUMNS].drop_duplicates()
    measured_pairs = set(map(tuple, known[keys].astype(str).to_numpy()))
    combos = set(map(tuple, known.astype(str).to_numpy()))
    issues = []
    rows = findings[keys + _ASSAY_COLUMNS].astype(str)
    for pos, row in zip((findings.index + 1).tolist(), rows.itertuples(index=False), strict=True):
        if tuple(row[:2]) in measured_pairs and tuple(row) not in combos:
            issues.append(
                Issue(
                    file,
                    pos,
                    "assay_vendor",
                    " / ".join(row[2:]),
                    "analyte_form, specimen, assay_vendor and assay_attribution must agree with the "
                    f"measurements of {row[0]} for {row[1]}",
                )
            )
    return issues


def validate_tables(tables: dict[str, pd.DataFrame], files: dict[str, str]) -> list[Issue]:
    """All issues of all tables (schema per table, then cross-table rules)."""
    issues: list[Issue] = []
    for table, frame in tables.items():
        issues.extend(schema_issues(frame, table, files[table]))
    if all(set(column_names(t)) <= set(tables[t].columns) for t in tables):
        issues.extend(cross_table_issues(tables, files))
    return issues


def as_contract_dtypes(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Cast a frame's columns to the contract's pandas dtypes (used after reading Parquet)."""
    return frame.astype({f.name: PANDAS_DTYPE[f.dtype] for f in TABLE_FIELDS[table] if f.name in frame})
