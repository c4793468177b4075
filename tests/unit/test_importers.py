"""Importing studies from bibliographic exports: readers, duplicates, all-or-nothing, build and CLI (offline)."""

from __future__ import annotations

import shutil
import socket
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from rankl_atlas.__main__ import main
from rankl_atlas.build import build
from rankl_atlas.importers import (
    DRAFT_PLACEHOLDERS,
    ImportFailed,
    add_studies,
    ascii_letters,
    detect_format,
    draft_row,
    next_study_id,
    normalise_pages,
    normalise_title,
    read_export,
    study_id_base,
)
from tests.conftest import ROOT, SOURCE, copy_sources

FIXTURES = ROOT / "tests" / "fixtures" / "imports"
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
    row = draft_row(citation, "x2000")
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
    row = draft_row(citation, "x2000")
    assert (row["first_author"], row["authors"]) == (
        "Fictional Bone Marker Consortium",
        "Fictional Bone Marker Consortium; Yasuda H",
    )
    assert row["title"] == "A group-authored fictional record (test fixture)"
    assert study_id_base(citation) == "fictional2020"


def test_format_is_sniffed_from_content_then_extension(tmp_path):
    medline = (FIXTURES / "pubmed.nbib").read_text(encoding="utf-8")
    assert detect_format("export.txt", medline) == "medline"
    assert detect_format("export.txt", "TY  - JOUR\nER  - \n") == "ris"
    assert detect_format("export.txt", "% comment\n@article{k, title={x}}") == "bibtex"
    assert detect_format("export.txt", '<?xml version="1.0"?>\n<PubmedArticleSet/>') == "pubmed_xml"
    assert detect_format("export.ris", "") == "ris"
    assert detect_format("export.txt", "just some words") is None
    copy = write(tmp_path, "pubmed-export.txt", medline)
    assert [c.format for c in read_export(copy)] == ["medline"] * 3


def test_helpers_normalise_ids_titles_and_pages():
    assert ascii_letters("Müller-Šťastná") == "mullerstastna"
    assert ascii_letters("Ødegård") == "odegard" and ascii_letters("van Tuyl") == "vantuyl"
    assert normalise_title("The Rätio: of mRNA-levels.") == normalise_title("the ratio of MRNA levels")
    assert [normalise_pages(p) for p in ("3597-602", "1623-8", "12--19", "12–19", "R2", "S12-9", "30")] == [
        "3597-3602",
        "1623-1628",
        "12-19",
        "12-19",
        "R2",
        "S12-S19",
        "30",
    ]
    assert next_study_id("smith2020", {"jones2020"}) == "smith2020"
    assert next_study_id("smith2020", {"smith2020"}) == "smith2020b"
    assert next_study_id("yasuda1998", {"yasuda1998a", "yasuda1998b"}) == "yasuda1998c"


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
