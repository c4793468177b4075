"""Issue 19, item 2: every number is finite and inside its column's stated range, in the build, the upload and
the importer; messages quote the value as the person wrote it."""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rankl_atlas import upload
from rankl_atlas.build import build
from rankl_atlas.data import load_tables
from rankl_atlas.importers import ImportFailed, add_studies
from rankl_atlas.schema import NUMERIC_RANGES, TABLE_FIELDS
from rankl_atlas.validation import ValidationFailed
from tests.conftest import DATA, copy_sources, edit_csv

ATLAS = load_tables(DATA)

#: (table, column, value as written, the rule the message must give). The expected rules are the ranges the
#: issue asks for, written out here rather than read from the schema.
HOSTILE_NUMBERS = [
    ("measurements", "value", "inf", "must be a finite number"),
    ("measurements", "value", "Infinity", "must be a finite number"),
    ("measurements", "value", "1e309", "must be a finite number"),
    ("measurements", "sd", "inf", "must be a finite number"),
    ("measurements", "sd", "-Infinity", "must be a finite number"),
    ("measurements", "n", "inf", "must be a finite number"),
    ("measurements", "n", "1e309", "must be a finite number"),
    ("measurements", "value", "1e300", "must not be negative (and at most 1,000,000,000)"),
    ("studies", "year", "1e308", "must be between 1950 and 2100"),
    ("studies", "n_participants", "1e308", "must be a positive count (at most 10,000,000)"),
    ("findings", "effect_value", "-inf", "must be a finite number"),
    ("findings", "n", "1e308", "must be a positive count (at most 10,000,000)"),
]


def test_every_numeric_column_has_a_stated_range():
    for table, fields in TABLE_FIELDS.items():
        numeric = {f.name for f in fields if f.dtype in ("int", "float")}
        assert set(NUMERIC_RANGES[table]) == numeric, table


@pytest.mark.parametrize(("table", "column", "value", "rule"), HOSTILE_NUMBERS)
def test_infinite_and_absurd_numbers_are_refused_by_make_data_with_the_value_as_written(
    built_copy, table, column, value, rule
):
    edit_csv(built_copy / "source" / f"{table}.csv", 0, column, value)
    with pytest.raises(ValidationFailed) as failed:
        build(built_copy / "source", built_copy)
    found = [(i.file, i.row, i.column, i.value, i.rule) for i in failed.value.issues if i.column == column]
    assert found == [(f"{table}.csv", 1, column, value, rule)]
    assert "-9223372036854775808" not in str(failed.value)


def template_frame() -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(upload.template_csv()), dtype=str, keep_default_na=False)


#: The template's first row of each table (1-based data rows of the uploaded file).
TEMPLATE_ROW = {"studies": 1, "measurements": 2, "findings": 4}


@pytest.mark.parametrize(("table", "column", "value", "rule"), HOSTILE_NUMBERS)
def test_infinite_and_absurd_numbers_are_refused_in_an_upload_with_the_value_as_written(table, column, value, rule):
    frame = template_frame()
    row = TEMPLATE_ROW[table]
    frame.loc[row - 1, column] = value
    raw = upload.read_upload("mine.csv", frame.to_csv(index=False).encode("utf-8"))
    result = upload.validate_upload(raw, ATLAS, file="mine.csv")
    assert (row, column, value, rule) in {(i.row, i.column, i.value, i.rule) for i in result.issues}
    kept = getattr(result.tables, table)
    assert len(kept) == (1 if table == "measurements" else 0)  # the bad row is left out, never kept half-empty


def test_infinite_numbers_in_a_parquet_upload_are_refused(tmp_path):
    frame = template_frame()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    values = [None, float("inf"), 0.2, None]
    table = table.set_column(table.schema.get_field_index("value"), "value", pa.array(values, pa.float64()))
    path = tmp_path / "inf.parquet"
    pq.write_table(table, path)
    result = upload.validate_upload(upload.read_upload("inf.parquet", path.read_bytes()), ATLAS, file="inf.parquet")
    assert (2, "value", "inf", "must be a finite number") in {(i.row, i.column, i.value, i.rule) for i in result.issues}
    assert len(result.tables.measurements) == 1


@pytest.mark.parametrize("date", ["Infinity", "1e308", "inf"])
def test_infinite_and_absurd_years_are_refused_by_the_importer(tmp_path, date):
    source = copy_sources(tmp_path)
    export = tmp_path / "absurd.nbib"
    export.write_text(f"PMID- 99000501\nDP  - {date}\nTI  - T (test fixture).\nAU  - Celik Z\nTA  - J\n")
    with pytest.raises(ImportFailed) as failed:
        add_studies([export], source)
    [problem] = failed.value.problems
    assert f"malformed date {date!r}" in problem.problem
