"""Loading: a missing, corrupt or contract-breaking file gives a DataLoadError naming it and the fix."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rankl_atlas.data import DATA_ENV, DataLoadError, data_dir, load_tables
from tests.conftest import record_hashes


def test_missing_file_is_named_with_the_rebuild_command(built_copy):
    (built_copy / "findings.parquet").unlink()
    with pytest.raises(DataLoadError) as err:
        load_tables(built_copy)
    assert err.value.file.name == "findings.parquet"
    assert "missing" in err.value.problem and "make data" in str(err.value)


def test_truncated_file_is_reported_as_unreadable(built_copy):
    path = built_copy / "studies.parquet"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataLoadError) as err:
        load_tables(built_copy)
    assert err.value.file.name == "studies.parquet" and "cannot be read" in err.value.problem


def test_schema_violation_in_parquet_lists_the_bad_cells(built_copy):
    path = built_copy / "findings.parquet"
    table = pq.read_table(path)
    directions = table.column("direction").to_pylist()
    directions[0] = "sideways"
    table = table.set_column(table.schema.get_field_index("direction"), "direction", pa.array(directions))
    pq.write_table(table, path)
    record_hashes(built_copy)  # the file is the one the manifest records: a consistent set that breaks a rule
    with pytest.raises(DataLoadError) as err:
        load_tables(built_copy)
    assert any(i.column == "direction" and i.value == "sideways" for i in err.value.issues)


def test_a_parquet_file_edited_after_the_build_is_refused_as_not_matching_datapackage_json(built_copy):
    path = built_copy / "findings.parquet"
    pq.write_table(pq.read_table(path).slice(0, 10), path)
    with pytest.raises(DataLoadError) as err:
        load_tables(built_copy)
    assert err.value.file == path and "does not match datapackage.json" in err.value.problem


def test_data_folder_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    assert data_dir(tmp_path / "bundled") == tmp_path
    monkeypatch.delenv(DATA_ENV)
    assert data_dir(tmp_path / "bundled") == tmp_path / "bundled"
