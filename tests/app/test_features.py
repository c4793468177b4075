"""The round's features server-side (AppTest): assays, source and kit filters, coverage, search box, drafts."""

from __future__ import annotations

from rankl_atlas.build import build
from rankl_atlas.data import DATA_ENV, load_metadata, load_tables
from rankl_atlas.filters import Filters, apply_filters
from rankl_atlas.importers import add_studies
from tests.app.conftest import count_caption, open_tab, run_app
from tests.conftest import DATA, ROOT

TABLES = load_tables(DATA)


def kept_studies(at) -> int:
    return int(count_caption(at).split("**")[1].split(" of ")[0])


def test_the_assays_page_opens_on_the_values_by_kit_and_lists_the_catalogue_one_tab_away():
    at = run_app("assays")
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "pmol/L by kit and form" in captions and "-fold" in captions
    assert not at.dataframe  # the figure comes first: no table (and no table viewer's code) before it
    open_tab(at, "Kit catalogue")
    assert not at.exception
    catalogue = next(d.value for d in at.dataframe if "detects" in d.value.columns)
    assert len(catalogue) == len(TABLES.assays)
    assert set(catalogue["assay_id"]) == set(TABLES.assays["assay_id"])
    assert at.query_params["tab"] == "catalogue"  # a shared link opens the same tab
    linked = run_app("assays", {"tab": ["undetectable"]})
    assert [s.value for s in linked.subheader] == ["Share of groups below detection, per kit"]


def test_the_kit_filter_narrows_every_page():
    kit = "biomedica_opg_opg"
    expected = len(apply_filters(TABLES, Filters(kit=(kit,))).studies)
    assert 0 < expected < len(TABLES.studies)
    for page in ("overview", "evidence_map", "concentrations", "studies", "synthesis", "assays"):
        at = run_app(page, {"kit": [kit]})
        assert not at.exception, page
        assert kept_studies(at) == expected, page
        assert "Assay kit: biomedica_opg_opg" in count_caption(at)


def test_the_source_filter_separates_the_reviews_references_from_the_later_literature():
    at = run_app("overview", {"source": ["review_2011"], "species": ["all"]})
    assert not at.exception
    assert kept_studies(at) == 59
    assert at.metric[0].value == "59"  # the headline follows the filters
    later = run_app("overview", {"source": ["search_2026"]})
    assert kept_studies(later) == len(apply_filters(TABLES, Filters(source=("search_2026",))).studies) > 150


def test_the_about_page_draws_the_coverage_flow_and_offers_the_logs():
    at = run_app("about")
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert {"Protocol (Markdown)", "Query log (CSV)", "Screening log (CSV)"} <= set(labels)
    assert any("PRISMA" in c.value for c in at.caption)


def test_every_page_offers_a_citation_of_the_view():
    at = run_app("evidence_map", {"disease": ["osteoporosis"]}, open_sections=("open_citation",))
    cite = next(e for e in at.expander if e.label == "Cite this view")
    text = " ".join(t.value for t in cite.text)
    version = load_metadata(DATA)["version"]
    assert f"Dataset version {version}" in text and "disease=osteoporosis" in text


def test_the_search_box_opens_the_study_it_finds():
    at = run_app("overview")
    at.text_input(key="find").input("mezquita raya").run()
    button = next(b for b in at.button if b.key == "find_mezquitaraya2005")
    button.click().run()
    assert not at.exception
    assert [t.value for t in at.title][:1] == ["Studies"]
    assert at.selectbox(key="study").value == "mezquitaraya2005"


def test_pairs_that_cannot_be_compared_are_listed_with_the_reason():
    at = run_app("synthesis", {"disease": ["multiple_myeloma"], "tab": ["strict"]}, open_sections=("open_not_drawn",))
    assert not at.exception
    table = next(d.value for d in at.dataframe if "Not drawn because" in d.value.columns)
    seidel = table[table["Study"] == "Seidel 2001"]
    assert "timepoint mismatch" in seidel["Not drawn because"].iloc[0]


def test_a_draft_opened_by_permalink_says_it_is_a_draft(built_copy, monkeypatch):
    plan = add_studies([ROOT / "tests" / "fixtures" / "imports" / "pubmed.nbib"], built_copy / "source")
    build(built_copy / "source", built_copy)
    monkeypatch.setenv(DATA_ENV, str(built_copy))
    draft = plan.added[0].study_id
    at = run_app("studies", {"study": [draft]})
    assert not at.exception
    assert at.selectbox(key="study").value == draft
    assert any(w.value.startswith("Draft:") for w in at.warning)
    assert "Drafts are hidden" in next(w.value for w in at.warning if w.value.startswith("Draft:"))
