"""A visitor's own extraction: template, reading an upload, validating it, and joining it to the atlas (pure).

The upload is one table in long form: a ``table`` column says which contract table each row belongs to
(studies, measurements or findings), the other columns are the contract's columns.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd
import pyarrow.parquet as pq

from rankl_atlas.data import Tables
from rankl_atlas.schema import column_names
from rankl_atlas.validation import Issue, coerce_text_table, validate_tables

TABLES = ("studies", "measurements", "findings")
MAX_UPLOAD_MB = 5
MAX_ROWS = 5000
MAX_COLUMNS = 120
MAX_CELL_CHARS = 5000
ORIGIN_ATLAS, ORIGIN_VISITOR = "atlas", "yours"


def template_columns() -> list[str]:
    """'table' then every contract column once, in table order."""
    seen: dict[str, None] = {"table": None}
    for table in TABLES:
        seen.update(dict.fromkeys(column_names(table)))
    return list(seen)


def template_csv() -> bytes:
    """A CSV template with one fictional example per table, to be replaced by the visitor's rows."""
    rows = [
        dict(table="studies", study_id="example2020", first_author="Example", authors="Example A; Sample B", year=2020,
             title="Replace with the study's title", journal="J Example", study_kind="human_circulating",
             circulating_measured="true", species="human", condition="rheumatoid arthritis",
             condition_group="rheumatoid_arthritis", design="case_control", n_participants=60,
             summary="Your one-sentence summary.", evidence_level="full_text", curation_status="curated"),
        dict(table="measurements", measurement_id="example2020-m1", study_id="example2020", group_label="RA patients",
             group_role="case", condition_group="rheumatoid_arthritis", n=30, analyte="rankl", analyte_form="free",
             specimen="serum", assay_vendor="biomedica", assay_attribution="stated", assay_method="elisa",
             statistic="mean", value=0.35, sd=0.2, unit="pmol_l", source_location="full_text", locator="Table 2"),
        dict(table="measurements", measurement_id="example2020-m2", study_id="example2020", group_label="controls",
             group_role="control", condition_group="healthy_population", n=30, analyte="rankl", analyte_form="free",
             specimen="serum", assay_vendor="biomedica", assay_attribution="stated", assay_method="elisa",
             statistic="mean", value=0.2, sd=0.15, unit="pmol_l", source_location="full_text", locator="Table 2"),
        dict(table="findings", finding_id="example2020-f1", study_id="example2020", analyte="rankl",
             analyte_form="free", specimen="serum", assay_vendor="biomedica", assay_attribution="stated",
             comparison_type="case_vs_control", comparison="RA vs controls", related_to="condition",
             condition_group="rheumatoid_arthritis", direction="higher", p_value=0.01, p_text="0.01",
             source_location="full_text", locator="Table 2"),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=template_columns()).to_csv(index=False, lineterminator="\n").encode("utf-8")


class UploadRejected(Exception):
    """The file as a whole cannot be read; the message says why."""


def read_upload(name: str, data: bytes) -> pd.DataFrame:
    """The uploaded CSV or Parquet as a table of strings; raise UploadRejected with a clear reason."""
    if len(data) > MAX_UPLOAD_MB * 1024 * 1024:
        raise UploadRejected(f"The file is larger than {MAX_UPLOAD_MB} MB.")
    lowered = name.lower()
    try:
        if lowered.endswith(".parquet"):
            raw = pq.read_table(io.BytesIO(data)).to_pandas()
        elif lowered.endswith(".csv"):
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as err:
                raise UploadRejected("The CSV is not UTF-8 text; save it as UTF-8 and upload again.") from err
            if "\x00" in text:
                raise UploadRejected("The CSV contains binary data.")
            raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, nrows=MAX_ROWS + 1)
        else:
            raise UploadRejected("Upload a .csv or .parquet file.")
    except UploadRejected:
        raise
    except Exception as err:  # noqa: BLE001 - any parser failure is a bad file, reported in words
        raise UploadRejected(f"The file cannot be read ({type(err).__name__}).") from err
    if raw.shape[1] > MAX_COLUMNS:
        raise UploadRejected(f"The file has {raw.shape[1]} columns; the template has {len(template_columns())}.")
    if len(raw) > MAX_ROWS:
        raise UploadRejected(f"The file has more than {MAX_ROWS} rows.")
    if "table" not in raw.columns:
        raise UploadRejected("The file has no 'table' column; start from the template.")
    raw = raw.astype(str).where(raw.notna(), "")
    raw.columns = [str(c) for c in raw.columns]
    return raw


@dataclass(frozen=True)
class UploadResult:
    """The rows that passed (as contract tables) and every bad cell."""

    tables: Tables
    issues: list[Issue]


def validate_upload(raw: pd.DataFrame, atlas: Tables, file: str = "upload") -> UploadResult:
    """Check every row of an upload with the dataset's schema; keep the valid rows, report each bad cell.

    Row numbers are data rows of the uploaded file (1 = first row under the header).
    """
    issues: list[Issue] = []
    too_long = raw.apply(lambda col: col.str.len() > MAX_CELL_CHARS)
    for idx, column in zip(*too_long.to_numpy().nonzero(), strict=True):
        issues.append(
            Issue(file, int(idx) + 1, raw.columns[column], "(too long)", f"longer than {MAX_CELL_CHARS} characters")
        )
    raw = raw.mask(too_long, "")
    unknown_tables = ~raw["table"].isin(TABLES)
    for idx in raw.index[unknown_tables]:
        issues.append(Issue(file, int(idx) + 1, "table", raw.at[idx, "table"], f"must be one of: {', '.join(TABLES)}"))
    parts: dict[str, pd.DataFrame] = {}
    for table in TABLES:
        rows = raw[raw["table"] == table]
        extra = [c for c in rows.columns if c not in column_names(table) and c != "table"]
        filled_extra = [c for c in extra if (rows[c].str.strip() != "").any()]
        for col in filled_extra:
            for idx in rows.index[rows[col].str.strip() != ""]:
                issues.append(Issue(file, int(idx) + 1, col, rows.at[idx, col], f"not a column of {table}"))
        frame, found = coerce_text_table(rows.drop(columns=["table", *extra]), table, file, keep_index=True)
        issues.extend(found)
        parts[table] = frame
    bad_rows = {i.row for i in issues if i.row is not None}

    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[~(frame.index + 1).isin(bad_rows)]

    studies = keep(parts["studies"])
    clash = studies["study_id"].isin(atlas.studies["study_id"])
    for idx in studies.index[clash]:
        issues.append(
            Issue(
                file,
                int(idx) + 1,
                "study_id",
                studies.at[idx, "study_id"],
                "already used by a study in the atlas; choose another id",
            )
        )
    candidate = {
        "studies": studies[~clash],
        "measurements": keep(parts["measurements"]),
        "findings": keep(parts["findings"]),
    }
    schema_found = validate_tables(candidate, dict.fromkeys(TABLES, file))
    issues.extend(schema_found)
    bad_rows |= {i.row for i in schema_found if i.row is not None}
    valid = {name: keep(frame) for name, frame in candidate.items()}
    known = set(valid["studies"]["study_id"])
    for name in ("measurements", "findings"):
        valid[name] = valid[name][valid[name]["study_id"].isin(known)]
    issues = sorted(set(issues), key=lambda i: (i.row or 0, i.column or ""))
    return UploadResult(Tables(**{k: v.reset_index(drop=True) for k, v in valid.items()}), issues)


def join_visitor_rows(atlas: Tables, visitor: Tables) -> Tables:
    """The atlas with the visitor's rows added; an 'origin' column says whose each row is."""
    joined = {}
    for name in TABLES:
        ours = getattr(atlas, name).assign(origin=ORIGIN_ATLAS)
        theirs = getattr(visitor, name).assign(origin=ORIGIN_VISITOR)
        joined[name] = pd.concat([ours, theirs], ignore_index=True) if len(theirs) else ours
    return Tables(**joined)
