"""A missing, corrupt or invalid Parquet file gives a clear page naming the file and the rebuild command."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from rankl_atlas.data import DATA_ENV
from tests.app.conftest import run_app
from tests.conftest import record_hashes


def error_text(at) -> str:
    return " ".join(e.value for e in at.error)


def test_missing_file_names_it_and_the_rebuild_command(built_copy, monkeypatch):
    (built_copy / "measurements.parquet").unlink()
    monkeypatch.setenv(DATA_ENV, str(built_copy))
    at = run_app(check_title=False)
    assert not at.exception
    assert "measurements.parquet" in error_text(at) and "make data" in error_text(at)


def test_truncated_file_is_reported_not_raised(built_copy, monkeypatch):
    path = built_copy / "studies.parquet"
    path.write_bytes(path.read_bytes()[:100])
    monkeypatch.setenv(DATA_ENV, str(built_copy))
    at = run_app(check_title=False)
    assert not at.exception
    assert "studies.parquet" in error_text(at) and "cannot be read" in error_text(at)


def test_schema_violation_lists_the_bad_cells(built_copy, monkeypatch):
    path = built_copy / "measurements.parquet"
    table = pq.read_table(path)
    units = table.column("unit").to_pylist()
    units[0] = "furlongs"
    pq.write_table(table.set_column(table.schema.get_field_index("unit"), "unit", pa.array(units)), path)
    record_hashes(built_copy)  # a consistent set that breaks a rule, not files of two builds
    monkeypatch.setenv(DATA_ENV, str(built_copy))
    at = run_app(check_title=False)
    assert not at.exception
    assert "measurements.parquet" in error_text(at)
    issues = at.dataframe[0].value
    assert "furlongs" in set(issues["value"])


def test_files_of_two_builds_say_the_dataset_is_being_rebuilt(built_copy, monkeypatch):
    path = built_copy / "findings.parquet"
    pq.write_table(pq.read_table(path).slice(0, 10), path)  # a new file, datapackage.json of the old build
    monkeypatch.setenv(DATA_ENV, str(built_copy))
    at = run_app(check_title=False)
    assert not at.exception
    text = error_text(at)
    assert "findings.parquet" in text and "the dataset is being rebuilt, or a rebuild was interrupted" in text
    assert "make data" in text
