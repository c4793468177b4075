"""Importing studies from bibliographic exports: readers, duplicates, all-or-nothing, build and CLI (offline)."""

from __future__ import annotations

import shutil
import socket
import sys
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from rankl_atlas import importers
from rankl_atlas.__main__ import main
from rankl_atlas.build import build
from rankl_atlas.importers import (
    DRAFT_PLACEHOLDERS,
    ImportFailed,
    _ascii_letters,
    _clean_title,
    _detect_format,
    _draft_row,
    _normalise_pages,
    _normalise_title,
    _parse_pubmed_xml,
    _study_id_base,
    _StudyIds,
    add_studies,
    read_export,
)
from tests.conftest import ROOT, SOURCE, copy_sources

FIXTURES = ROOT / "tests" / "fixtures" / "imports"

#: Audit hooks cannot be removed, so one hook runs whatever callbacks a test puts here (see the XXE test).
_AUDIT: list = []
sys.addaudithook(lambda event, args: [hook(event, args) for hook in list(_AUDIT)])
GOOD = [FIXTURES / name for name in ("pubmed.nbib", "pubmed.xml", "citations.ris", "library.bib")]
BIBLIOGRAPHIC = ["pmid", "doi", "first_author", "authors", "year", "title", "journal", "volume", "pages"]
CURATED = pd.read_csv(SOURCE / "studies.csv", dtype=str, keep_default_na=False).set_index("study_id")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return copy_sources(tmp_path)


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a network connection (e.g. Bio.Entrez fetching a DTD) fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr("Bio.Entrez.Parser.urlopen", refuse)


def fields_of(path: Path, index: int) -> dict[str, str]:
    """The bibliographic columns of record `index` (1-based) of an export, as the draft row has them."""
    citation = read_export(path)[index - 1]
    row = _draft_row(citation, "x2000")
    return {column: row[column] for column in BIBLIOGRAPHIC}


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def studies(source: Path) -> pd.DataFrame:
    return pd.read_csv(source / "studies.csv", dtype=str, keep_default_na=False)


# --- Readers: records of studies already in the atlas give exactly the curated bibliographic fields ----


@pytest.mark.parametrize(
    ("fixture", "index", "study_id"),
    [
        ("pubmed.nbib", 1, "yasuda1998a"),  # PubMed-abbreviated pages 3597-602, title over three lines
        ("pubmed.nbib", 2, "kudlacek2003"),  # collective author (CN), DOI from LID, no PMID
        ("pubmed.xml", 1, "schett2004"),  # StartPage/EndPage, DOI from ELocationID
        ("pubmed.xml", 2, "vantuyl2010"),  # 'van Tuyl', DOI only in ArticleIdList, MedlinePgn 1623-8
        ("citations.ris", 1, "rogers2005"),  # PMID from AN of a PubMed RIS, DOI given as https://doi.org/...
        ("citations.ris", 2, "fazzalari2001"),  # no PMID/DOI, SP holds the whole range, PY 2001///
        ("library.bib", 1, "wagner2010"),  # pmid field, braces {OPG}, pages 452--457
        ("library.bib", 2, "lien2010"),  # initials 'A. M.' -> AM, unbraced year
        ("library.bib", 3, "zannettino2005"),  # Weibel--Palade -> the en dash of the curated title
    ],
)
def test_each_format_reads_the_curated_bibliographic_fields(fixture, index, study_id):
    expected = CURATED.loc[study_id, BIBLIOGRAPHIC].to_dict()
    assert fields_of(FIXTURES / fixture, index) == expected


def test_medline_keeps_accents_and_expands_abbreviated_pages():
    row = fields_of(FIXTURES / "pubmed.nbib", 3)
    assert row["first_author"] == "Müller-Šťastná"
    assert row["authors"] == "Müller-Šťastná J; Ødegård KÅ; Çelik Z"
    assert row["title"] == "Serum RANKL in a fictional cohort (test fixture)"
    assert (row["year"], row["journal"], row["volume"], row["pages"]) == ("2023", "J Fict Bone Res", "12", "101-109")
    assert row["pmid"] == row["doi"] == ""


def test_pubmed_xml_strips_markup_and_reads_medline_date_iso_journal_and_collective_authors(offline):
    row = fields_of(FIXTURES / "pubmed.xml", 3)
    assert row["title"] == "Plasma osteoprotegerin in imaginary marathon runners (test fixture)"
    assert row["authors"] == "Ødegård KÅ; Þórsdóttir H; Fictional Runners Study Group"
    assert (row["first_author"], row["year"], row["journal"], row["pages"]) == (
        "Ødegård",
        "2022",
        "J Fict Bone Res",
        "55-61",
    )


def test_ris_reads_comma_names_with_particles_and_slash_dates():
    row = fields_of(FIXTURES / "citations.ris", 3)
    assert row["authors"] == "Núñez-García MJ; O'Brien-Łukasiewicz P; de la Fuente A"
    assert (row["first_author"], row["year"], row["journal"], row["pages"]) == (
        "Núñez-García",
        "2021",
        "J Fict Bone Res",
        "1-8",
    )


def test_bibtex_decodes_latex_accents_and_keeps_braced_collective_names():
    row = fields_of(FIXTURES / "library.bib", 4)
    assert row["first_author"] == "Müller-Šťastná"
    assert row["authors"] == "Müller-Šťastná J; Ødegård KÅ; Fictional Test Fixture Consortium"
    assert row["title"] == "Serum OPG in a second fictional cohort (test fixture)"
    assert row["pages"] == "120-128"


def test_pubmed_xml_is_read_offline_even_with_an_unknown_or_missing_dtd(tmp_path, offline):
    original = (FIXTURES / "pubmed.xml").read_text(encoding="utf-8")
    newer = write(tmp_path, "newer.xml", original.replace("pubmed_250101.dtd", "pubmed_990101.dtd"))
    lines = original.splitlines(keepends=True)
    bare = write(tmp_path, "bare.xml", "".join(line for line in lines if not line.startswith(("<?xml", "<!DOCTYPE"))))
    expected = read_export(FIXTURES / "pubmed.xml")
    assert read_export(newer) == [replace(c, file="newer.xml") for c in expected]
    assert [c.title for c in read_export(bare)] == [c.title for c in expected]


def test_pubmed_book_records_are_read(tmp_path, offline):
    xml = (
        '<?xml version="1.0" ?>\n<PubmedArticleSet><PubmedBookArticle><BookDocument>'
        "<Book><BookTitle>Fictional handbook of bone markers (test fixture)</BookTitle>"
        "<PubDate><Year>2019</Year></PubDate></Book>"
        "<ArticleTitle>Serum RANKL assays (test fixture).</ArticleTitle>"
        '<AuthorList Type="authors"><Author><LastName>Ørsted</LastName><ForeName>Ida</ForeName></Author></AuthorList>'
        "</BookDocument></PubmedBookArticle></PubmedArticleSet>\n"
    )
    [citation] = read_export(write(tmp_path, "book.xml", xml))
    assert (citation.title, citation.year, str(citation.authors[0])) == (
        "Serum RANKL assays (test fixture)",
        2019,
        "Ørsted I",
    )
    assert citation.journal == "Fictional handbook of bone markers (test fixture)"


def test_group_first_authors_and_windows_line_endings(tmp_path):
    ris = (
        "TY  - JOUR\r\nAU  - Fictional Bone Marker Consortium\r\nAU  - Yasuda H\r\n"
        "TI  - A group-authored fictional record (test fixture)\r\nJO  - J Fict Bone Res\r\nPY  - 2020\r\nER  - \r\n"
    )
    [citation] = read_export(write(tmp_path, "group.ris", ris))
    row = _draft_row(citation, "x2000")
    assert (row["first_author"], row["authors"]) == (
        "Fictional Bone Marker Consortium",
        "Fictional Bone Marker Consortium; Yasuda H",
    )
    assert row["title"] == "A group-authored fictional record (test fixture)"
    assert _study_id_base(citation) == "fictional2020"


def test_format_is_sniffed_from_content_then_extension(tmp_path):
    medline = (FIXTURES / "pubmed.nbib").read_text(encoding="utf-8")
    assert _detect_format("export.txt", medline) == "medline"
    assert _detect_format("export.txt", "TY  - JOUR\nER  - \n") == "ris"
    assert _detect_format("export.txt", "% comment\n@article{k, title={x}}") == "bibtex"
    assert _detect_format("export.txt", '<?xml version="1.0"?>\n<PubmedArticleSet/>') == "pubmed_xml"
    assert _detect_format("export.ris", "") == "ris"
    assert _detect_format("export.txt", "just some words") is None
    copy = write(tmp_path, "pubmed-export.txt", medline)
    assert [c.format for c in read_export(copy)] == ["medline"] * 3


def test_helpers_normalise_ids_titles_and_pages():
    assert _ascii_letters("Müller-Šťastná") == "mullerstastna"
    assert _ascii_letters("Ødegård") == "odegard" and _ascii_letters("van Tuyl") == "vantuyl"
    assert _normalise_title("The Rätio: of mRNA-levels.") == _normalise_title("the ratio of MRNA levels")
    assert [_normalise_pages(p) for p in ("3597-602", "1623-8", "12--19", "12–19", "R2", "S12-9", "30")] == [
        "3597-3602",
        "1623-1628",
        "12-19",
        "12-19",
        "R2",
        "S12-S19",
        "30",
    ]
    assert _StudyIds({"jones2020"}).take("smith2020") == "smith2020"
    assert _StudyIds({"smith2020"}).take("smith2020") == "smith2020b"
    assert _StudyIds({"yasuda1998a", "yasuda1998b"}).take("yasuda1998") == "yasuda1998c"
    assert _StudyIds({"smith2020z"}).take("smith2020") == "smith2020aa"
    assert _StudyIds({"smith2020", "smith2020az"}).take("smith2020") == "smith2020ba"
    with pytest.raises(ValueError, match="no free study_id left for smith2020"):
        _StudyIds({"smith2020zz"}).take("smith2020")


# --- Merge: ids, duplicates, placeholders ----------------------------------------------------------


def test_adding_assigns_ids_keeps_existing_bytes_and_builds_with_draft_rows(source, tmp_path, offline):
    before = (source / "studies.csv").read_bytes()
    plan = add_studies(GOOD, source)
    assert [a.study_id for a in plan.added] == [
        "mullerstastna2023",
        "odegard2022",
        "nunezgarcia2021",
        "mullerstastna2023b",
    ]
    after = (source / "studies.csv").read_bytes()
    assert after.startswith(before) and after.count(b"\n") == before.count(b"\n") + 4
    counts = build(source, tmp_path / "out")
    assert counts["studies"] == len(CURATED) + 4
    built = pd.read_parquet(tmp_path / "out" / "studies.parquet").set_index("study_id")
    new = built.loc[[a.study_id for a in plan.added]]
    assert (new["curation_status"] == "draft").all()
    assert new["ref_no"].isna().all() and new["circulating_measured"].isna().all()
    for column, code in DRAFT_PLACEHOLDERS.items():
        assert (new[column] == code).all()
    assert new.loc["odegard2022", "summary"] == "Draft imported from PubMed XML export; not yet curated."
    assert "not yet curated" in new.loc["odegard2022", "curation_notes"]
    build(SOURCE, tmp_path / "before")
    unchanged = pd.read_parquet(tmp_path / "before" / "studies.parquet").set_index("study_id")
    pd.testing.assert_frame_equal(built.drop(new.index), unchanged, check_dtype=False)


def test_existing_rows_are_never_renamed_and_new_ids_take_the_next_letter(source, tmp_path):
    ris = write(
        tmp_path,
        "yasuda.ris",
        "TY  - JOUR\nAU  - Yasuda, H.\nTI  - A fictional third Yasuda 1998 record (test fixture)\nJO  - J Fict Bone Res\n"
        "PY  - 1998\nER  - \n\nTY  - JOUR\nAU  - Schett, G.\nTI  - A fictional Schett 2004 record (test fixture)\n"
        "JO  - J Fict Bone Res\nPY  - 2004\nER  - \n",
    )
    plan = add_studies([ris], source)
    assert [a.study_id for a in plan.added] == ["yasuda1998c", "schett2004b"]
    assert list(studies(source)["study_id"][: len(CURATED)]) == list(CURATED.index)


def test_duplicate_by_pmid_even_when_the_title_differs(source, tmp_path):
    text = (FIXTURES / "pubmed.nbib").read_text(encoding="utf-8").split("\n\n")[0]
    text = text.replace("Osteoclast differentiation factor is a ligand for", "Title changed in this test only:")
    plan = add_studies([write(tmp_path, "pmid.nbib", text + "\n")], source)
    assert not plan.added
    assert plan.skipped[0].reason == "same PMID 9520411 as existing study yasuda1998a"


def test_duplicate_by_doi_ignores_case_and_resolver_prefix(source, tmp_path):
    bib = (
        "@article{k, author={Bucay, N.}, title={Title changed in this test only}, journal={Genes Dev}, year={1998},"
        " doi={https://doi.org/10.1101/GAD.12.9.1260}}"
    )
    plan = add_studies([write(tmp_path, "doi.bib", bib)], source)
    assert not plan.added
    assert plan.skipped[0].reason == "same DOI 10.1101/gad.12.9.1260 as existing study bucay1998"


def test_duplicate_by_normalised_title_and_year_but_not_another_year(source, tmp_path):
    title = "THE RATIO of messenger-RNA levels of receptor activator of nuclear factor kappaB ligand to osteoprotegerin correlates with bone remodeling indices in normal human cancellous bone but not in osteoarthritis."
    ris = "".join(
        f"TY  - JOUR\nAU  - Fazzalari, N\nTI  - {title}\nJO  - J Bone Miner Res\nPY  - {year}\nER  - \n\n"
        for year in (2001, 2002)
    )
    plan = add_studies([write(tmp_path, "title.ris", ris)], source)
    assert plan.skipped[0].reason == "same title and year as existing study fazzalari2001"
    assert [a.study_id for a in plan.added] == ["fazzalari2002"]


def test_duplicates_within_one_call_across_files_and_formats(source, tmp_path):
    same_as_medline = write(
        tmp_path,
        "again.ris",
        "TY  - JOUR\nAU  - Müller-Šťastná, Jana\nTI  - Serum RANKL in a fictional cohort (test fixture)\n"
        "JO  - J Fict Bone Res\nPY  - 2023\nER  - \n",
    )
    plan = add_studies([FIXTURES / "pubmed.nbib", same_as_medline], source)
    assert [a.study_id for a in plan.added] == ["mullerstastna2023"]
    assert plan.skipped[-1].reason == "same title and year as new study mullerstastna2023 (pubmed.nbib, record 3)"
    assert len(studies(source)) == len(CURATED) + 1


def test_importing_the_same_files_twice_adds_nothing_the_second_time(source, offline):
    add_studies(GOOD, source)
    once = (source / "studies.csv").read_bytes()
    plan = add_studies(GOOD, source)
    assert not plan.added and len(plan.skipped) == 13
    assert (source / "studies.csv").read_bytes() == once


# --- All or nothing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ("truncated.xml", "truncated.xml, record 2: broken or truncated XML after 1 complete record(s)"),
        ("binary.ris", "binary.ris: binary file, not a text export"),
        ("latin1.ris", "latin1.ris: not UTF-8 encoded (byte 0xfc on line 2)"),
        ("no_title.nbib", "no_title.nbib, record 2 (Çelik 2024): record has no title"),
        ("no_year.bib", "no_year.bib, record 1 (fictionalnoyear): record has no year"),
    ],
)
def test_a_malformed_file_changes_nothing_and_names_file_record_and_problem(source, bad, expected, offline):
    before = (source / "studies.csv").read_bytes()
    with pytest.raises(ImportFailed) as failed:
        add_studies([*GOOD, FIXTURES / bad], source)
    assert any(str(p).startswith(expected) for p in failed.value.problems), failed.value.problems
    assert (source / "studies.csv").read_bytes() == before
    assert sorted(p.name for p in source.iterdir()) == sorted(p.name for p in SOURCE.iterdir())


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("cut.ris", "TY  - JOUR\nAU  - Çelik, Z\nTI  - Cut off (test fixture)\n", "is not closed by 'ER  -'"),
        ("noauthor.ris", "TY  - JOUR\nTI  - No author (test fixture)\nJO  - J\nPY  - 2020\nER  - \n", "no author"),
        (
            "nojournal.bib",
            "@article{k, author={Çelik, Z}, title={No journal (test fixture)}, year={2020}}",
            "no journal",
        ),
        ("oldyear.bib", "@article{k, author={Çelik, Z}, title={T}, journal={J}, year={1850}}", "outside 1950-2100"),
        ("badpmid.bib", "@article{k, author={Çelik, Z}, title={T}, journal={J}, year={2020}, pmid={PMC1}}", "PMID"),
        ("broken.bib", "@article{k, author={Çelik, Z}, title={Unclosed", "cannot be parsed"),
        ("junk.nbib", "PMID- 1\nthis line is not a tag line\n", "not a MEDLINE tag line"),
        ("notes.txt", "Just some notes, not an export.\n", "unrecognised format"),
        ("search.xml", '<?xml version="1.0"?>\n<eSearchResult><Count>0</Count></eSearchResult>\n', "eSearchResult"),
        ("empty.ris", "", "file is empty"),
    ],
)
def test_other_malformed_inputs_change_nothing(source, tmp_path, name, text, expected, offline):
    before = (source / "studies.csv").read_bytes()
    with pytest.raises(ImportFailed) as failed:
        add_studies([FIXTURES / "pubmed.nbib", write(tmp_path, name, text)], source)
    assert any(name in str(p) and expected in str(p) for p in failed.value.problems), failed.value.problems
    assert (source / "studies.csv").read_bytes() == before


def test_import_refuses_sources_that_are_already_invalid(source):
    frame = studies(source)
    frame.loc[0, "year"] = "nineteen"
    frame.to_csv(source / "studies.csv", index=False, lineterminator="\n")
    before = (source / "studies.csv").read_bytes()
    with pytest.raises(ImportFailed, match="current sources are invalid"):
        add_studies([FIXTURES / "pubmed.nbib"], source)
    assert (source / "studies.csv").read_bytes() == before


# --- Issue 11: real exports and hostile files ----------------------------------------------------


def test_medline_doi_is_taken_after_a_pii_line_and_the_article_number_becomes_the_pages(source):
    # PubMed lists 'LID - 551 [pii]' before 'LID - 10.3390/... [doi]' (MDPI, Frontiers, BMC) and gives no PG:
    # record 1 is the atlas's avila2022 as PubMed exports it; record 2 has only a pii in LID, its DOI in AID.
    expected = CURATED.loc["avila2022", BIBLIOGRAPHIC].to_dict()
    assert fields_of(FIXTURES / "article_numbers.nbib", 1) == expected
    plan = add_studies([FIXTURES / "article_numbers.nbib", FIXTURES / "pubmed.nbib"], source, dry_run=True)
    assert plan.skipped[0].reason == "same PMID 35454141 as existing study avila2022"
    frontiers = next(row for row in plan.rows if row["pmid"] == "99000102")
    assert (frontiers["doi"], frontiers["pages"], frontiers["volume"]) == ("10.3389/fimmu.2021.789012", "789012", "12")
    assert [a.study_id for a in plan.added] == ["lindqvist2021", "mullerstastna2023"]


def test_more_than_26_studies_with_one_surname_and_year_get_two_letter_ids(source, tmp_path):
    ris = "".join(
        f"TY  - JOUR\nAU  - Smith, J.\nTI  - Fictional Smith 2020 record number {k} (test fixture)\n"
        f"JO  - J Fict Bone Res\nPY  - 2020\nER  - \n\n"
        for k in range(1, 31)
    )
    plan = add_studies([write(tmp_path, "smith.ris", ris)], source, dry_run=True)
    expected = ["smith2020"] + [f"smith2020{c}" for c in "bcdefghijklmnopqrstuvwxyz"]
    expected += ["smith2020aa", "smith2020ab", "smith2020ac", "smith2020ad"]
    assert [a.study_id for a in plan.added] == expected


HOSTILE_DOI = "10.1234/x)[Login-here](https://evil.example/login"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "link.ris",
            f"TY  - JOUR\nAU  - Çelik, Z\nTI  - T (test fixture)\nJO  - J\nPY  - 2020\nDO  - {HOSTILE_DOI}\nER  - \n",
        ),
        (
            "link.bib",
            f"@article{{k, author={{Çelik, Z}}, title={{T}}, journal={{J}}, year={{2020}}, doi={{{HOSTILE_DOI}}}}}",
        ),
        (
            "link.nbib",
            f"PMID- 99000301\nDP  - 2020\nTI  - T (test fixture).\nLID - {HOSTILE_DOI} [doi]\nAU  - Celik Z\nTA  - J\n",
        ),
    ],
)
def test_a_doi_that_could_break_out_of_a_link_is_left_out_with_a_warning_naming_the_record(
    source, tmp_path, capsys, name, text
):
    assert main(["add-studies", str(write(tmp_path, name, text)), "--source", str(source)]) == 0
    out = capsys.readouterr().out
    assert f"  ! {name}, record 1" in out
    assert f"DOI {HOSTILE_DOI.lower()!r} is not accepted and was left out" in out
    row = studies(source).iloc[-1]
    assert row["study_id"] == "celik2020" and row["doi"] == ""
    assert "DOI was left out" in row["curation_notes"]
    assert "evil.example" not in (source / "studies.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@"])
@pytest.mark.parametrize(
    ("field", "tag", "value"),
    [
        ("title", "TI", '{p}HYPERLINK("https://evil.example","RANKL") (test fixture)'),
        ("authors", "AU", "{p}cmd|' /C calc'!A0, X"),
        ("journal", "JO", "{p}SUM(1+1)*cmd|' /C calc'!A0"),
        ("volume", "VL", "{p}1+1"),
    ],
)
def test_text_a_spreadsheet_would_run_as_a_formula_is_refused_naming_file_record_and_field(
    source, tmp_path, prefix, field, tag, value
):
    record = {"AU": "Çelik, Z", "TI": "A fictional title (test fixture)", "JO": "J Fict Bone Res", "VL": "3"}
    record[tag] = value.format(p=prefix)
    ris = "TY  - JOUR\n" + "".join(f"{k}  - {v}\n" for k, v in record.items()) + "PY  - 2020\nER  - \n"
    before = (source / "studies.csv").read_bytes()
    with pytest.raises(ImportFailed) as failed:
        add_studies([FIXTURES / "pubmed.nbib", write(tmp_path, "formula.ris", ris)], source)
    [problem] = failed.value.problems
    assert str(problem).startswith("formula.ris, record 1")
    assert f"{field} begins with '{prefix}'" in problem.problem and "formula" in problem.problem
    assert (source / "studies.csv").read_bytes() == before


def test_titles_keep_text_between_angle_brackets_and_lose_only_markup_tags(tmp_path):
    ris = (
        "TY  - JOUR\nAU  - Çelik, Z\nJO  - J Fict Bone Res\nPY  - 2020\n"
        "TI  - RANKL<OPG and OPG>RANKL in <i>vivo</i>: Ca<sup>2+</sup>, H<sub>2</sub>O and "
        '<mml:math display="inline"><mml:mi>κ</mml:mi></mml:math>B (test fixture)\nER  - \n'
    )
    [citation] = read_export(write(tmp_path, "angles.ris", ris))
    assert citation.title == "RANKL<OPG and OPG>RANKL in vivo: Ca2+, H2O and κB (test fixture)"


def test_pubmed_xml_titles_keep_escaped_angle_brackets_and_drop_markup(tmp_path, offline):
    xml = (FIXTURES / "pubmed.xml").read_text(encoding="utf-8")
    xml = xml.replace(
        "Plasma osteoprotegerin in <i>imaginary</i> marathon runners (test fixture).",
        "RANKL&lt;OPG and OPG&gt;RANKL in <i>imaginary</i> runners (test fixture).",
    )
    citations = read_export(write(tmp_path, "angles.xml", xml))
    assert citations[2].title == "RANKL<OPG and OPG>RANKL in imaginary runners (test fixture)"


ENTITY_REFUSAL = "XML with entity declarations is not accepted"


def test_xml_with_an_external_file_entity_is_refused_before_parsing_and_reads_no_file(tmp_path, offline):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    xml = (FIXTURES / "pubmed.xml").read_text(encoding="utf-8")
    xml = xml.replace(
        xml.splitlines()[1], f'<!DOCTYPE PubmedArticleSet [<!ENTITY secret SYSTEM "file://{secret}">]>'
    ).replace("<Title>JAMA</Title>", "<Title>&secret;</Title>")
    path = write(tmp_path, "xxe.xml", xml)
    opened = []
    _AUDIT.append(lambda event, args: event == "open" and str(secret) in str(args[0]) and opened.append(args[0]))
    try:
        with pytest.raises(ImportFailed) as failed:
            read_export(path)
    finally:
        _AUDIT.clear()
    assert [str(p) for p in failed.value.problems] == [f"xxe.xml: {ENTITY_REFUSAL}"]
    assert opened == []


@pytest.mark.parametrize("fixture", ["parameter_entity.xml", "billion_laughs.xml"])
def test_xml_with_parameter_entities_or_entity_expansion_is_refused_without_network_or_memory(fixture, offline):
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ImportFailed) as failed:
            read_export(FIXTURES / fixture)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [str(p) for p in failed.value.problems] == [f"{fixture}: {ENTITY_REFUSAL}"]
    assert peak < 2_000_000 and time.perf_counter() - started < 2


@pytest.mark.parametrize(
    ("name", "text", "date"),
    [
        (
            "slash.ris",
            "TY  - JOUR\nAU  - Çelik, Z\nTI  - T (test fixture)\nJO  - J\nPY  - 20011/2011\nER  - \n",
            "20011/2011",
        ),
        ("letter.bib", "@article{k, author={Çelik, Z}, title={T}, journal={J}, year={2011a}}", "2011a"),
        (
            "five.nbib",
            "PMID- 99000401\nDP  - 20011 Mar\nTI  - T (test fixture).\nAU  - Celik Z\nTA  - J\n",
            "20011 Mar",
        ),
    ],
)
def test_malformed_dates_are_refused_with_the_record_named(source, tmp_path, name, text, date):
    with pytest.raises(ImportFailed) as failed:
        add_studies([write(tmp_path, name, text)], source)
    [problem] = failed.value.problems
    assert str(problem).startswith(f"{name}, record 1")
    assert f"malformed date {date!r}" in problem.problem


def test_entity_declarations_are_refused_by_the_parser_too_if_the_check_before_it_were_missed():
    xml = b'<?xml version="1.0"?><!DOCTYPE PubmedArticleSet [<!ENTITY a "b">]><PubmedArticleSet>&a;</PubmedArticleSet>'
    with pytest.raises(ImportFailed, match=ENTITY_REFUSAL):
        _parse_pubmed_xml(xml, "direct.xml")


def test_clean_title_strips_markup_tags_only():
    assert _clean_title("p<0.05 and IL-6>10 pg/mL in <b>RA</b><br>")[0] == "p<0.05 and IL-6>10 pg/mL in RA<br>"
    assert _clean_title('<i class="x">OPG</i> and <i and OPG>')[0] == "OPG and <i and OPG>"


def test_importers_mark_their_entry_points():
    assert {"add_studies", "read_export", "plan_import", "ImportFailed", "ImportPlan"} <= set(importers.__all__)
    assert all(hasattr(importers, name) for name in importers.__all__)
    functions = {
        n for n, v in vars(importers).items() if callable(v) and getattr(v, "__module__", "") == importers.__name__
    }
    assert {n for n in functions if not n.startswith("_")} <= set(importers.__all__)


# --- Command line -------------------------------------------------------------------------------


def test_cli_adds_prints_added_and_skipped_and_exits_0(source, capsys, offline):
    code = main(["add-studies", *map(str, GOOD), "--source", str(source)])
    out = capsys.readouterr().out
    assert code == 0
    assert "+ mullerstastna2023: Serum RANKL in a fictional cohort (test fixture)" in out
    assert "+ odegard2022: Plasma osteoprotegerin in imaginary marathon runners (test fixture)" in out
    assert "Skipped 9 duplicate(s)" in out and "(same PMID 9520411 as existing study yasuda1998a)" in out
    assert len(studies(source)) == len(CURATED) + 4


def test_cli_dry_run_writes_nothing(source, capsys, offline):
    before = (source / "studies.csv").read_bytes()
    assert main(["add-studies", *map(str, GOOD), "--source", str(source), "--dry-run"]) == 0
    assert "Would add 4 draft studies" in capsys.readouterr().out
    assert (source / "studies.csv").read_bytes() == before


def test_cli_exits_1_on_malformed_input_and_reports_it(source, capsys, offline):
    before = (source / "studies.csv").read_bytes()
    code = main(["add-studies", str(FIXTURES / "pubmed.nbib"), str(FIXTURES / "latin1.ris"), "--source", str(source)])
    err = capsys.readouterr().err
    assert code == 1
    assert "no file was changed" in err and "latin1.ris: not UTF-8 encoded" in err
    assert (source / "studies.csv").read_bytes() == before


def test_cli_default_source_is_data_source(monkeypatch, tmp_path, capsys):
    copy_sources(tmp_path / "data")
    shutil.copy(FIXTURES / "citations.ris", tmp_path / "citations.ris")
    monkeypatch.chdir(tmp_path)
    assert main(["add-studies", "citations.ris"]) == 0
    assert "nunezgarcia2021" in studies(tmp_path / "data" / "source")["study_id"].tolist()


# --- Issue 19: messages that name the cause ----------------------------------------------------------

SUBSET_REFUSAL = (
    "XML with a DOCTYPE internal subset is not accepted (declarations between '<!DOCTYPE ... [' and ']>', even "
    "without entities); export the records from PubMed again"
)


@pytest.mark.parametrize(
    "doctype",
    [
        "<!DOCTYPE PubmedArticleSet [<!ATTLIST PubmedArticleSet note CDATA #IMPLIED>]>",
        "<!DOCTYPE PubmedArticleSet []>",
        '<!DOCTYPE PubmedArticleSet [<!-- <!ENTITY a "b"> -->]>',
    ],
    ids=["attlist", "empty", "entity-in-a-comment"],
)
def test_doctype_internal_subset_without_entities_is_refused_as_a_doctype_internal_subset(tmp_path, doctype):
    xml = (FIXTURES / "pubmed.xml").read_text(encoding="utf-8")
    xml = xml.replace(xml.splitlines()[1], doctype)
    with pytest.raises(ImportFailed) as failed:
        read_export(write(tmp_path, "subset.xml", xml))
    assert [str(p) for p in failed.value.problems] == [f"subset.xml: {SUBSET_REFUSAL}"]


@pytest.mark.parametrize(("kind", "magic"), [("gzip", b"\x1f\x8b\x08\x00"), ("zip", b"PK\x03\x04\x14\x00")])
def test_compressed_export_renamed_nbib_says_it_is_compressed(tmp_path, kind, magic):
    path = tmp_path / "records.nbib"
    path.write_bytes(magic + b"PMID- 1\n" * 10)
    with pytest.raises(ImportFailed) as failed:
        read_export(path)
    assert [str(p) for p in failed.value.problems] == [
        f"records.nbib: a compressed file ({kind}), not a text export; uncompress it and import the file inside"
    ]
