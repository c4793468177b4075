"""Researcher-grade helpers: finding a study, citing a view, reporting a problem, the shared filter cache."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import bibtexparser
import pandas as pd
import pytest

from rankl_atlas import export
from rankl_atlas import tables as atlas_tables
from rankl_atlas.data import load_tables
from rankl_atlas.filters import Filters
from tests.conftest import DATA
from tests.unit.frames import frame, sample_tables, study

ATLAS = load_tables(DATA)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("mezquita raya", "mezquitaraya2005"),
        ("Mezquita-Raya", "mezquitaraya2005"),
        ("kerschan schindl", "kerschanschindl2008"),
        ("Kerschan-Schindl 2008", "kerschanschindl2008"),
        ("nontraumatic fracture", "schett2004"),
    ],
)
def test_the_search_box_matches_authors_and_title_words_loosely(query, expected):
    assert expected in set(atlas_tables.find_studies(ATLAS.studies, query)["study_id"])


def test_the_search_box_matches_accents_pmid_and_doi():
    studies = frame(
        "studies",
        [
            study("vaananen2001", first_author="Väänänen", authors="Väänänen HK", pmid="12345678", doi="10.1/ab.c"),
            study("smith2002"),
        ],
    )
    assert list(atlas_tables.find_studies(studies, "vaananen")["study_id"]) == ["vaananen2001"]
    assert list(atlas_tables.find_studies(studies, "12345678")["study_id"]) == ["vaananen2001"]
    assert list(atlas_tables.find_studies(studies, "10.1/AB.C")["study_id"]) == ["vaananen2001"]
    assert atlas_tables.find_studies(studies, "   ").empty


def test_report_link_opens_a_prefilled_github_issue_for_the_row():
    url = export.report_problem_url(
        "https://github.com/owner/repo/", "findings", "schett2004-f6", "direction", "p=0.03"
    )
    parsed = urlparse(url)
    assert (parsed.scheme, parsed.netloc, parsed.path) == ("https", "github.com", "/owner/repo/issues/new")
    query = parse_qs(parsed.query)
    assert query["title"] == ["Data problem: findings schett2004-f6, direction"]
    assert "`schett2004-f6` (findings)" in query["body"][0] and "p=0.03" in query["body"][0]
    assert query["labels"] == ["data"]
    assert " " not in url  # every part is percent-encoded


def test_report_links_are_added_per_row():
    rows = atlas_tables.with_report_links(ATLAS.findings.head(3), "findings", "https://github.com/o/r")
    assert all(
        parse_qs(urlparse(u).query)["title"][0].endswith(fid)
        for u, fid in zip(rows["report"], rows["finding_id"], strict=True)
    )


def test_cite_this_view_gives_text_and_bibtex_with_version_date_and_url():
    url = "https://rankl-atlas.streamlit.app/studies?disease=osteoporosis"
    text, bibtex = export.view_citation("RANKL Atlas", "1.1.0", url, "Disease: Osteoporosis", "2026-11-30")
    assert "1.1.0" in text and url in text and "2026-11-30" in text
    entry = bibtexparser.parse_string(bibtex).entries[0]
    assert entry["url"] == url and entry["urldate"] == "2026-11-30" and entry["version"] == "1.1.0"
    assert entry.key == "rankl_atlas_v1_1_0_20261130"


def test_study_links_url_encode_their_identifiers():
    row = pd.Series({"pmid": "123", "doi": "10.1016/s8756-3282(03)00090-5", "title": "t"})
    links = atlas_tables.study_links(row)
    assert links["DOI"] == "https://doi.org/10.1016/s8756-3282%2803%2900090-5"
    assert links["PubMed"] == "https://pubmed.ncbi.nlm.nih.gov/123/"


def test_source_links_are_named_by_site_not_by_ip_address():
    row = pd.Series({"source_url": "http://47.251.13.51:8081/17993768 | https://www.ncbi.nlm.nih.gov/pubmed/1"})
    names = list(atlas_tables.source_links(row))
    assert names == ["PubMed mirror (IP address)", "ncbi.nlm.nih.gov"]


def test_labelled_tables_show_labels_and_blank_cells():
    shown = atlas_tables.labelled(sample_tables().findings.head(1), "findings")
    assert shown.loc[0, "analyte"] == "RANKL" and shown.loc[0, "assay_vendor"] == "Biomedica"
    assert shown.loc[0, "p_text"] == "" and "None" not in shown.astype(str).to_numpy().ravel().tolist()


def test_headline_numbers_follow_the_filters_and_keep_the_totals():
    from rankl_atlas.filters import apply_filters

    kept = apply_filters(ATLAS, Filters(source=("review_2011",), species=()))
    counts = atlas_tables.headline_counts(kept, ATLAS)
    assert counts.studies == 59 and counts.by_source == {"review_2011": 59}
    assert counts.total_studies == len(ATLAS.studies)
    assert counts.circulating == int(kept.studies["circulating_measured"].fillna(False).sum())


def test_filter_state_is_computed_once_for_every_session_and_again_for_a_new_dataset(monkeypatch):
    import streamlit as st

    from rankl_atlas.ui import loading

    calls = []

    real = loading.apply_filters
    monkeypatch.setattr(loading, "apply_filters", lambda tables, f: calls.append(f) or real(tables, f))
    st.cache_resource.clear()
    chosen = Filters(disease=("osteoporosis",))
    first = loading._filtered_shared(chosen, str(DATA), "version-1")
    second = loading._filtered_shared(chosen, str(DATA), "version-1")  # another session, same filters
    assert first is second and len(calls) == 1
    loading._filtered_shared(chosen, str(DATA), "version-2")  # the dataset changed
    assert len(calls) == 2
    loading._filtered_shared(Filters(), str(DATA), "version-2")
    assert len(calls) == 3
    st.cache_resource.clear()
