"""Exports: exactly the rows given, formulas inert, UTF-8 kept, citations parse back with real parsers."""

from __future__ import annotations

import io

import bibtexparser
import pandas as pd
import rispy

from rankl_atlas import export
from tests.unit.frames import sample_tables

TABLES = sample_tables()


def test_csv_has_exactly_the_rows_and_keeps_utf8():
    data = export.to_csv_bytes(TABLES.studies)
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(back["study_id"]) == list(TABLES.studies["study_id"])
    assert "Béta" in set(back["first_author"])


def test_csv_neutralises_spreadsheet_formulas_but_not_numbers():
    frame = pd.DataFrame({"text": ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "plain"], "value": [-1.5, 2, 3, 4, 5]})
    back = pd.read_csv(io.BytesIO(export.to_csv_bytes(frame)), encoding="utf-8-sig")
    assert list(back["text"]) == ['\'=HYPERLINK("x")', "'+1", "'-2", "'@SUM(A1)", "plain"]
    assert back["value"].iloc[0] == -1.5


def test_parquet_round_trip():
    back = pd.read_parquet(io.BytesIO(export.to_parquet_bytes(TABLES.measurements)))
    assert list(back["measurement_id"]) == list(TABLES.measurements["measurement_id"])


def test_ris_parses_back_with_rispy():
    studies = TABLES.studies.copy()
    studies.loc[0, ["authors", "pages", "doi", "pmid"]] = [
        "Schett G; Kiechl S",
        "1108-1113",
        "10.1001/jama.291.9.1108",
        "14996780",
    ]
    entries = rispy.loads(export.to_ris(studies).decode("utf-8"))
    assert len(entries) == 3
    first = entries[0]
    assert first["authors"] == ["Schett, G.", "Kiechl, S."]
    assert (first["start_page"], first["end_page"], first["doi"]) == ("1108", "1113", "10.1001/jama.291.9.1108")
    assert first["year"] == "2004" and first["title"] == "Title of alpha2004"


def test_bibtex_parses_back_with_bibtexparser():
    studies = TABLES.studies.copy()
    studies.loc[0, ["authors", "title"]] = ["Väänänen HK; Smith J", "A {braced} title"]
    library = bibtexparser.parse_string(export.to_bibtex(studies).decode("utf-8"))
    assert not library.failed_blocks
    keys = [e.key for e in library.entries]
    assert keys == ["alpha2004", "beta2008", "gamma2007"]
    first = library.entries[0]
    assert first["author"] == "Väänänen, H. K. and Smith, J."
    assert first["year"] == "2004"


def test_export_name_carries_table_and_filters():
    assert (
        export.export_name("studies", "disease-osteoporosis", "csv") == "rankl-atlas_studies_disease-osteoporosis.csv"
    )
