"""The dataset build: committed data valid and complete, broken sources rejected, output deterministic."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from rankl_atlas.build import TABLES, build, load_sources, main
from rankl_atlas.data import load_tables
from rankl_atlas.schema import TABLE_FIELDS, column_names
from rankl_atlas.validation import ValidationFailed
from tests.conftest import DATA, SOURCE, edit_csv


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.parquet"))} | {
        "datapackage.json": hashlib.sha256((folder / "datapackage.json").read_bytes()).hexdigest()
    }


def same_value(shown: str, given: str) -> bool:
    try:
        return float(shown) == float(given)
    except ValueError:
        return shown == given


def test_committed_parquet_passes_the_schema_and_has_all_59_references():
    tables = load_tables(DATA)
    assert sorted(tables.studies["ref_no"].dropna().astype(int)) == list(range(1, 60))
    assert tables.studies["study_id"].is_unique
    for table in TABLES:
        assert list(getattr(tables, table).columns) == column_names(table)


def test_committed_parquet_is_what_the_sources_build(tmp_path):
    build(SOURCE, tmp_path)
    assert digests(tmp_path) == digests(DATA), "data/*.parquet is stale: run `make data` and commit"


def test_two_builds_are_byte_identical(tmp_path):
    build(SOURCE, tmp_path / "a")
    build(SOURCE, tmp_path / "b")
    assert digests(tmp_path / "a") == digests(tmp_path / "b")


def test_rows_exist_only_for_circulating_studies_and_have_their_provenance():
    tables = load_tables(DATA)
    circulating = set(tables.studies.loc[tables.studies["circulating_measured"].fillna(False), "study_id"])
    assert set(tables.measurements["study_id"]) <= circulating
    assert set(tables.findings["study_id"]) <= circulating
    studies = tables.studies
    cited_only = studies[(studies["evidence_level"] == "citation_only") & (studies["curation_status"] == "curated")]
    assert cited_only["pmid"].isna().all() and cited_only["doi"].isna().all()
    assert not set(cited_only["study_id"]) & (set(tables.measurements["study_id"]) | set(tables.findings["study_id"]))


def test_datapackage_describes_every_column(tmp_path):
    build(SOURCE, tmp_path)
    package = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    assert package["licenses"][0]["name"] == "CC-BY-4.0"
    for resource in package["resources"]:
        names = [f["name"] for f in resource["schema"]["fields"]]
        assert names == column_names(resource["name"])
        assert all(f["description"] for f in resource["schema"]["fields"])
    findings = next(r for r in package["resources"] if r["name"] == "findings")
    direction = next(f for f in findings["schema"]["fields"] if f["name"] == "direction")
    assert "higher" in direction["constraints"]["enum"]


def test_accented_names_survive_the_round_trip(built_copy):
    edit_csv(built_copy / "source" / "studies.csv", 0, "first_author", "Väänänen")
    edit_csv(built_copy / "source" / "studies.csv", 0, "authors", "Väänänen HK; Muñoz-Torres M")
    build(built_copy / "source", built_copy)
    studies = load_tables(built_copy).studies
    assert studies.loc[0, "first_author"] == "Väänänen"
    assert studies.loc[0, "authors"] == "Väänänen HK; Muñoz-Torres M"


# One broken cell per rule: (file, row, column, bad value, words the message must contain)
BROKEN = [
    ("studies", 0, "study_id", "Yasuda 1998", "surname+year slug"),
    ("studies", 1, "study_id", "yasuda1998a", "must be unique"),
    ("studies", 0, "ref_no", "60", "between 1 and 59"),
    ("studies", 1, "ref_no", "1", "must be unique"),
    ("studies", 0, "ref_no", "one", "whole number"),
    ("studies", 0, "pmid", "PMID123", "digits only"),
    ("studies", 0, "doi", "doi:10.1/x", "start with '10.'"),
    ("studies", 0, "doi", "10.1038/ABC", "lowercase"),
    ("studies", 0, "year", "1890", "between 1950 and 2100"),
    ("studies", 0, "study_kind", "anecdote", "must be one of"),
    ("studies", 0, "condition_group", "flu", "must be one of"),
    ("studies", 0, "circulating_measured", "maybe", "true or false"),
    ("studies", 0, "title", "", "must not be empty"),
    ("studies", 0, "n_participants", "-3", "positive count"),
    ("measurements", 0, "study_id", "nobody2000", "does not exist in studies"),
    ("measurements", 0, "analyte", "ratio", "must be one of: rankl, opg"),
    ("measurements", 0, "unit", "mg_dl", "must be one of"),
    ("measurements", 0, "value", "abc", "must be a number"),
    ("measurements", 0, "value", "-1", "must not be negative"),
    ("measurements", 0, "pct_undetectable", "120", "between 0 and 100"),
    ("measurements", 0, "measurement_id", "spelling2008-x1", "<study_id>-m<k>"),
    ("findings", 0, "direction", "sideways", "must be one of"),
    ("findings", 0, "p_value", "1.5", "between 0 and 1"),
    ("findings", 0, "finding_id", "findlay2008-f2", "must be unique"),
]


@pytest.mark.parametrize(("table", "row", "column", "value", "words"), BROKEN)
def test_a_broken_source_is_rejected_with_file_row_column_value_and_rule(built_copy, table, row, column, value, words):
    before = digests(built_copy)
    edit_csv(built_copy / "source" / f"{table}.csv", row, column, value)
    with pytest.raises(ValidationFailed) as failed:
        build(built_copy / "source", built_copy)
    matching = [i for i in failed.value.issues if i.column == column and words in i.rule]
    assert matching, [str(i) for i in failed.value.issues]
    assert matching[0].file == f"{table}.csv"
    if words != "must be unique":
        assert same_value(matching[0].value, value)
    assert digests(built_copy) == before, "a failed build must not change any output file"


def test_rows_for_a_study_without_circulating_levels_are_rejected(built_copy):
    studies = pd.read_csv(built_copy / "source" / "studies.csv", dtype=str, keep_default_na=False)
    target = pd.read_csv(built_copy / "source" / "measurements.csv", dtype=str).loc[0, "study_id"]
    edit_csv(
        built_copy / "source" / "studies.csv",
        int(studies.index[studies.study_id == target][0]),
        "circulating_measured",
        "false",
    )
    with pytest.raises(ValidationFailed) as failed:
        load_sources(built_copy / "source")
    assert any("circulating_measured = true" in i.rule for i in failed.value.issues)


def test_finding_assay_must_agree_with_the_measurements_of_that_study(built_copy):
    measurements = pd.read_csv(built_copy / "source" / "measurements.csv", dtype=str, keep_default_na=False)
    findings = pd.read_csv(built_copy / "source" / "findings.csv", dtype=str, keep_default_na=False)
    pairs = set(zip(measurements.study_id, measurements.analyte, strict=True))
    row = next(i for i, r in findings.iterrows() if (r.study_id, r.analyte) in pairs)
    edit_csv(built_copy / "source" / "findings.csv", row, "assay_vendor", "biovendor")
    with pytest.raises(ValidationFailed) as failed:
        load_sources(built_copy / "source")
    assert any("must agree with the measurements" in i.rule for i in failed.value.issues)


def test_every_bad_cell_is_reported_not_just_the_first(built_copy, capsys):
    edit_csv(built_copy / "source" / "studies.csv", 0, "year", "199x")
    edit_csv(built_copy / "source" / "studies.csv", 2, "pmid", "abc")
    edit_csv(built_copy / "source" / "findings.csv", 3, "direction", "up")
    code = main(["--source", str(built_copy / "source"), "--out", str(built_copy)])
    err = capsys.readouterr().err
    assert code == 1
    assert "no file was changed" in err
    assert "studies.csv: row 1, column year: value '199x'" in err
    assert "studies.csv: row 3, column pmid: value 'abc'" in err
    assert "findings.csv: row 4, column direction: value 'up'" in err


def test_a_missing_column_is_named(built_copy):
    path = built_copy / "source" / "findings.csv"
    pd.read_csv(path, dtype=str).drop(columns=["related_to"]).to_csv(path, index=False)
    with pytest.raises(ValidationFailed) as failed:
        load_sources(built_copy / "source")
    assert any(i.column == "related_to" and "missing" in i.rule for i in failed.value.issues)


def test_contract_columns_are_all_in_the_schema():
    required = {
        "studies": ["study_id", "ref_no", "pmid", "doi", "first_author", "authors", "year", "title", "journal",
                    "volume", "pages", "study_kind", "circulating_measured", "species", "condition",
                    "condition_group", "design", "n_participants", "summary", "evidence_level", "curation_status"],
        "measurements": ["measurement_id", "study_id", "group_label", "group_role", "condition_group", "n",
                         "analyte", "analyte_form", "specimen", "assay_vendor", "assay_attribution", "assay_method",
                         "statistic", "value", "sd", "se", "q1", "q3", "min", "max", "ci_low", "ci_high", "unit",
                         "pct_undetectable", "timepoint", "source_location", "locator", "notes"],
        "findings": ["finding_id", "study_id", "analyte", "analyte_form", "specimen", "assay_vendor",
                     "assay_attribution", "comparison_type", "comparison", "related_to", "condition_group",
                     "direction", "effect_measure", "effect_value", "ci_low", "ci_high", "p_value", "p_text", "n",
                     "source_location", "locator", "notes"],
    }  # fmt: skip
    for table, names in required.items():
        assert set(names) <= {f.name for f in TABLE_FIELDS[table]}


# --- The assay catalogue, the search logs and the double-extraction log are validated by the build ---------------


def test_an_unknown_kit_or_a_kit_of_another_vendor_or_analyte_is_rejected(built_copy):
    measurements = pd.read_csv(built_copy / "source" / "measurements.csv", dtype=str, keep_default_na=False)
    row = int(measurements.index[measurements["assay_id"] != ""][0])
    edit_csv(built_copy / "source" / "measurements.csv", row, "assay_id", "acme_kit_rankl")
    with pytest.raises(ValidationFailed) as failed:
        load_sources(built_copy / "source")
    assert any(i.rule == "assay_id does not exist in assays" for i in failed.value.issues)

    edit_csv(built_copy / "source" / "measurements.csv", row, "assay_id", "elabscience_opg_opg")
    with pytest.raises(ValidationFailed) as failed:
        load_sources(built_copy / "source")
    rules = " ".join(i.rule for i in failed.value.issues)
    assert "the vendor of elabscience_opg_opg" in rules


def test_a_form_inferred_from_a_kit_must_be_what_the_kit_detects(built_copy):
    measurements = pd.read_csv(built_copy / "source" / "measurements.csv", dtype=str, keep_default_na=False)
    row = int(measurements.index[measurements["assay_id"] == "unnamed_sjcli2007_total_srankl"][0])
    edit_csv(built_copy / "source" / "measurements.csv", row, "form_basis", "inferred_from_kit")
    edit_csv(built_copy / "source" / "measurements.csv", row, "analyte_form", "free")
    with pytest.raises(ValidationFailed) as failed:
        load_sources(built_copy / "source")
    assert any("the form unnamed_sjcli2007_total_srankl detects" in i.rule for i in failed.value.issues)


def with_logs(built_copy: Path) -> Path:
    for folder in ("search", "qa"):
        shutil.copytree(DATA / folder, built_copy / folder)
    return built_copy


def test_the_committed_search_and_qa_logs_pass_the_build(built_copy):
    load_sources(with_logs(built_copy) / "source")


@pytest.mark.parametrize(
    ("file", "row", "column", "value", "words"),
    [
        ("search/screening.csv", 0, "exclusion_code", "", "needs an exclusion code"),
        ("search/screening.csv", 1, "pmid", "__same__", "appears twice"),
        ("search/screening.csv", 0, "query_id", "nowhere-q1", "not in queries.csv"),
        ("qa/disagreements.csv", 0, "resolution", "probably_fine", "must be one of"),
    ],
)
def test_broken_logs_are_rejected(built_copy, file, row, column, value, words):
    folder = with_logs(built_copy)
    path = folder / file
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if file.endswith("screening.csv") and column == "exclusion_code":
        row = int(frame.index[frame["decision"] == "exclude"][0])
    if value == "__same__":
        with_pmid = frame.index[frame["pmid"] != ""]
        row, value = int(with_pmid[1]), frame.loc[with_pmid[0], "pmid"]
    edit_csv(path, row, column, value)
    with pytest.raises(ValidationFailed) as failed:
        load_sources(folder / "source")
    assert any(words in i.rule for i in failed.value.issues), [str(i) for i in failed.value.issues][:5]


def test_an_included_record_must_be_a_study_of_the_atlas(built_copy):
    folder = with_logs(built_copy)
    screening = pd.read_csv(folder / "search" / "screening.csv", dtype=str, keep_default_na=False)
    row = int(screening.index[screening["decision"] == "include"][0])
    edit_csv(folder / "search" / "screening.csv", row, "study_id", "ghost2020")
    with pytest.raises(ValidationFailed) as failed:
        load_sources(folder / "source")
    rules = [i.rule for i in failed.value.issues]
    assert "included record is not a study of the search set" in rules
    assert "study of the search set has no include row" in rules
