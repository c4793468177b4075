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


CONTEXT = export.ExportContext(
    version="1.1.0", filters="Disease: Osteoporosis", slug="disease-osteoporosis", url="https://x.example/?a=1"
)


def test_ris_uses_standard_tags_only_with_no_numbering_and_our_summary_as_a_labelled_note():
    text = export.to_ris(TABLES.studies, {"alpha2004": "Biomedica (stated)"}, CONTEXT).decode("utf-8")
    assert not any(line.strip().rstrip(".").isdigit() for line in text.splitlines())  # no '1.' lines
    assert "\nAB  -" not in text and not text.startswith("AB")  # the summary is never passed off as an abstract
    entries = rispy.loads(text)
    notes = entries[0]["notes"]
    assert any(n.startswith("RANKL Atlas curators' summary (ours") for n in notes)
    assert "RANKL Atlas assay kit(s): Biomedica (stated)" in notes
    assert any("v1.1.0" in n and "Disease: Osteoporosis" in n for n in notes)
    assert "abstract" not in entries[0]


def test_citation_exports_neutralise_formula_text():
    studies = TABLES.studies.copy()
    studies.loc[0, ["title", "journal", "volume"]] = ['=HYPERLINK("http://evil")', "+J", "@1"]
    entry = rispy.loads(export.to_ris(studies).decode("utf-8"))[0]
    assert entry["title"] == '\'=HYPERLINK("http://evil")' and entry["journal_name"] == "'+J"
    bib = bibtexparser.parse_string(export.to_bibtex(studies).decode("utf-8")).entries[0]
    assert bib["title"].startswith("'=") and bib["volume"] == "'@1"


def test_bibtex_has_a_version_comment_and_the_kit_in_a_note():
    library = bibtexparser.parse_string(
        export.to_bibtex(TABLES.studies, {"beta2008": "R&D Systems (stated)"}, CONTEXT).decode("utf-8")
    )
    assert not library.failed_blocks
    assert any("v1.1.0" in c.comment for c in library.comments)
    beta = next(e for e in library.entries if e.key == "beta2008")
    assert "R&D Systems (stated)" in beta["note"] and "curators' summary (ours)" in beta["note"]
    assert "abstract" not in beta.fields_dict


def test_csv_is_a_plain_table_whose_first_line_is_the_header_and_parquet_carries_version_and_filters():
    data = export.to_csv_bytes(TABLES.studies, CONTEXT)
    first = data.decode("utf-8-sig").splitlines()[0]
    assert first.split(",")[:2] == ["study_id", "ref_no"]  # Excel and a plain read_csv see the header first
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(back["study_id"]) == list(TABLES.studies["study_id"])
    import pyarrow.parquet as pq

    meta = pq.read_schema(io.BytesIO(export.to_parquet_bytes(TABLES.studies, CONTEXT))).metadata
    assert meta[b"rankl_atlas_version"] == b"1.1.0" and meta[b"rankl_atlas_filters"] == b"Disease: Osteoporosis"
    assert (
        export.export_name("studies", CONTEXT.slug, "csv", "1.1.0")
        == "rankl-atlas_v1.1.0_studies_disease-osteoporosis.csv"
    )


def test_no_citation_of_any_study_holds_missing_value_text():
    """Wang 2014's citation ended in '<NA>': every study's citation, RIS and BibTeX entry is checked."""
    from rankl_atlas import tables as atlas_tables
    from rankl_atlas.data import load_tables
    from tests.conftest import DATA

    atlas = load_tables(DATA)
    bad = ("<NA>", "nan", "None", "NaT")
    for study_id in atlas.studies["study_id"]:
        citation = atlas_tables.study_detail(atlas, study_id).citation
        assert not any(token in citation.split() or token + "." in citation.split() for token in bad), citation
    ris = export.to_ris(atlas.studies).decode()
    bib = export.to_bibtex(atlas.studies).decode()
    for text in (ris, bib):
        assert "<NA>" not in text and "{nan}" not in text and " nan\n" not in text
