"""Every page runs server-side (AppTest) under default, narrow, empty and malformed filters."""

from __future__ import annotations

import pytest

from rankl_atlas.data import load_tables
from rankl_atlas.filters import Filters, apply_filters
from tests.app.conftest import PAGES, count_caption, run_app, switch_to
from tests.conftest import DATA

TABLES = load_tables(DATA)


def expected_counts(filters: Filters) -> str:
    kept = apply_filters(TABLES, filters)
    return (
        f"Filters keep **{len(kept.studies)} of {len(TABLES.studies)} studies**, "
        f"{len(kept.measurements)} of {len(TABLES.measurements)} measurements and "
        f"{len(kept.findings)} of {len(TABLES.findings)} findings."
    )


def url_values(at, key: str) -> list[str]:
    """What the app wrote to the address bar for one parameter."""
    value = at.query_params[key]
    return [value] if isinstance(value, str) else list(value)


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_runs_with_default_filters(page):
    at = run_app(page)
    assert not at.exception
    if page != "about":
        assert count_caption(at).startswith(expected_counts(Filters()))


NARROW = {"disease": ["juvenile_idiopathic_arthritis"], "year": ["2008", "2011"]}


@pytest.mark.parametrize("page", [p for p in PAGES if p != "about"])
def test_every_page_obeys_narrow_filters_from_the_url(page):
    at = run_app(page, NARROW)
    assert not at.exception
    expected = expected_counts(Filters(disease=("juvenile_idiopathic_arthritis",), year=(2008, 2011)))
    assert count_caption(at).startswith(expected)
    assert "Juvenile idiopathic arthritis" in count_caption(at)


@pytest.mark.parametrize("page", [p for p in PAGES if p != "about"])
def test_filters_that_keep_nothing_say_so_and_offer_a_reset(page):
    at = run_app(page, {"disease": ["paget_disease"], "vendor": ["biovendor"]})
    assert not at.exception
    assert f"0 of {len(TABLES.studies)} studies" in count_caption(at)
    assert any("No " in i.value and "match the current filters" in i.value for i in at.info)
    reset = next(b for b in at.button if b.label == "Reset all filters" and b.key.startswith("reset_empty"))
    reset.click().run()
    assert count_caption(at).startswith(expected_counts(Filters()))


def test_malformed_parameters_give_notices_not_errors_and_every_page_still_runs():
    query = {"year": "abc", "disease": ["<script>alert(1)</script>", "osteoporosis"], "zzz": "1", "drafts": "maybe"}
    at = run_app("overview", query)
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "Years" in warnings and "Unknown parameter 'zzz'" in warnings and "Include drafts" in warnings
    assert "<script>" not in warnings
    for page in PAGES:
        switch_to(at, page).run()
        assert not at.exception, page
        assert at.multiselect(key="disease").value == ["osteoporosis"]


def test_sidebar_change_updates_counts_and_the_url():
    at = run_app("overview")
    at.multiselect(key="disease").set_value(["multiple_myeloma"]).run()
    assert count_caption(at).startswith(expected_counts(Filters(disease=("multiple_myeloma",))))
    assert url_values(at, "disease") == ["multiple_myeloma"]


def test_filters_carry_over_when_switching_pages():
    at = run_app("overview", {"disease": ["osteoporosis"]})
    switch_to(at, "studies").run()
    assert count_caption(at).startswith(expected_counts(Filters(disease=("osteoporosis",))))


def test_sidebar_reset_returns_to_all_studies():
    at = run_app("studies", {"disease": ["osteoporosis"], "species": [""]})
    at.button(key="reset_filters").click().run()
    assert count_caption(at).startswith(expected_counts(Filters()))


def test_study_permalink_opens_that_study():
    at = run_app("studies", {"study": "schett2004"})
    assert not at.exception
    assert at.selectbox(key="study").value == "schett2004"
    assert any("Schett 2004" in h.value for h in at.subheader)
    assert url_values(at, "study") == ["schett2004"]


def test_unknown_study_permalink_gives_a_notice():
    at = run_app("studies", {"study": "nobody1900"})
    assert not at.exception
    assert any("'study'" in w.value for w in at.warning)
    assert at.selectbox(key="study").value is None


def test_evidence_map_view_switch_is_kept_in_the_url():
    at = run_app("evidence_map", {"view": "related_to"})
    assert not at.exception
    assert url_values(at, "view") == ["related_to"]


def test_about_page_shows_the_data_dictionary_and_changelog():
    at = run_app("about")
    table = at.dataframe[0].value
    assert {"studies", "measurements", "findings"} <= set(table["table"])
    assert any("First release" in m.value for m in at.markdown)
