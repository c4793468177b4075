"""A visitor's upload: template round trip, every bad cell reported, valid rows kept, hostile files refused."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from rankl_atlas import upload
from rankl_atlas.data import load_tables
from tests.conftest import DATA

ATLAS = load_tables(DATA)


def template_frame() -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(upload.template_csv()), dtype=str, keep_default_na=False)


def to_csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def test_the_template_itself_is_valid():
    raw = upload.read_upload("t.csv", upload.template_csv())
    result = upload.validate_upload(raw, ATLAS)
    assert result.issues == []
    assert (len(result.tables.studies), len(result.tables.measurements), len(result.tables.findings)) == (1, 2, 1)


def test_bad_cells_are_reported_with_row_column_value_and_rule_and_their_rows_left_out():
    frame = template_frame()
    frame.loc[1, "value"] = "lots"
    frame.loc[2, "unit"] = "mg_dl"
    frame.loc[3, "direction"] = "=1+1"
    result = upload.validate_upload(upload.read_upload("mine.csv", to_csv(frame)), ATLAS, file="mine.csv")
    found = {(i.row, i.column, i.value) for i in result.issues}
    assert {(2, "value", "lots"), (3, "unit", "mg_dl"), (4, "direction", "=1+1")} <= found
    assert all(i.file == "mine.csv" for i in result.issues)
    assert len(result.tables.studies) == 1
    assert result.tables.measurements.empty and result.tables.findings.empty


def test_study_ids_of_the_atlas_cannot_be_reused():
    frame = template_frame()
    frame["study_id"] = frame["study_id"].replace("example2020", "schett2004")
    frame["measurement_id"] = frame["measurement_id"].str.replace("example2020", "schett2004")
    frame["finding_id"] = frame["finding_id"].str.replace("example2020", "schett2004")
    result = upload.validate_upload(upload.read_upload("m.csv", to_csv(frame)), ATLAS)
    assert any("already used by a study in the atlas" in i.rule for i in result.issues)
    assert result.tables.studies.empty and result.tables.measurements.empty


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("x.txt", b"table\nstudies\n", ".csv or .parquet"),
        ("x.csv", "table,title\nstudies,Mü\n".encode("latin-1"), "not UTF-8"),
        ("x.csv", b"table,a\x00b\n", "binary"),
        ("x.csv", b"title\nno table column\n", "no 'table' column"),
        ("x.parquet", b"PAR1 truncated", "cannot be read"),
        ("x.csv", ("table," + ",".join(f"c{i}" for i in range(500)) + "\n").encode(), "columns"),
        ("x.csv", b"a" * (upload.MAX_UPLOAD_MB * 1024 * 1024 + 1), "larger than"),
    ],
)
def test_hostile_files_are_refused_with_a_clear_message(name, data, words):
    with pytest.raises(upload.UploadRejected, match=words):
        upload.read_upload(name, data)


def test_html_and_formulas_stay_plain_text():
    frame = template_frame()
    frame.loc[0, "title"] = '<script>alert(1)</script> =HYPERLINK("x")'
    result = upload.validate_upload(upload.read_upload("m.csv", to_csv(frame)), ATLAS)
    assert result.tables.studies.loc[0, "title"] == '<script>alert(1)</script> =HYPERLINK("x")'


def test_joined_tables_mark_whose_rows_they_are():
    result = upload.validate_upload(upload.read_upload("t.csv", upload.template_csv()), ATLAS)
    joined = upload.join_visitor_rows(ATLAS, result.tables)
    assert (joined.studies["origin"] == "yours").sum() == 1
    assert (joined.studies["origin"] == "atlas").sum() == len(ATLAS.studies)
    assert "origin" not in ATLAS.studies  # the atlas itself is untouched
