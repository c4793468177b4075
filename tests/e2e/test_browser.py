"""The dashboard in a real browser: pages load cleanly, the URL carries the view, clicks and downloads work."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest

from rankl_atlas import charts
from rankl_atlas.data import DATA_ENV, load_metadata, load_tables
from rankl_atlas.filters import Filters, apply_filters
from rankl_atlas.schema import DIRECTION_CLASS_LABEL
from tests.conftest import DATA
from tests.e2e.conftest import app_errors, count_text, open_page, start_server, stop_server, wait_for_app
from tests.poolable import write_poolable_dataset

TABLES = load_tables(DATA)
PATHS = {
    "overview": "",
    "evidence_map": "evidence-map",
    "concentrations": "concentrations",
    "studies": "studies",
    "about": "about",
}
TITLES = {"overview": "RANKL Atlas", "evidence_map": "Evidence map", "concentrations": "Reported concentrations",
          "studies": "Studies", "synthesis": "Synthesis", "about": "About the data"}  # fmt: skip


def expected_studies(filters: Filters) -> str:
    return f"Filters keep {len(apply_filters(TABLES, filters).studies)} of {len(TABLES.studies)} studies"


@pytest.mark.e2e
@pytest.mark.parametrize("name", list(PATHS))
def test_every_page_loads_without_exception_or_console_error(server, page, name):
    open_page(page, f"{server.url}/{PATHS[name]}")
    assert page.get_by_role("heading", name=TITLES[name], exact=True).first.is_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    assert app_errors(page) == []


@pytest.mark.e2e
def test_deep_link_with_filters_is_the_first_request_to_a_new_server(fresh_server, page):
    open_page(page, f"{fresh_server.url}/studies?disease=osteoporosis&year=2005&year=2011")
    assert page.get_by_role("heading", name="Studies", exact=True).first.is_visible()
    assert expected_studies(Filters(disease=("osteoporosis",), year=(2005, 2011))) in count_text(page)
    assert page.locator("[data-testid='stException']").count() == 0


def choose_disease(page, label: str) -> None:
    box = page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").first
    box.click()
    page.keyboard.type(label)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    wait_for_app(page)


def year_ticks(page) -> list[str]:
    """The year labels on the overview's studies-per-year chart, once it is drawn."""
    chart = page.locator("[data-testid='stPlotlyChart']").first
    chart.locator(".xtick text").first.wait_for()
    return chart.locator(".xtick text").evaluate_all("els => els.map(e => e.textContent)")


@pytest.mark.e2e
def test_a_filter_change_updates_chart_and_url_and_the_url_restores_it_everywhere(server, page, browser):
    open_page(page, server.url)
    ticks_before = year_ticks(page)
    choose_disease(page, "Multiple myeloma")
    page.wait_for_function("() => window.location.search.includes('disease=multiple_myeloma')")
    wanted = expected_studies(Filters(disease=("multiple_myeloma",)))
    page.wait_for_function(f"() => document.body.innerText.includes({wanted!r})")
    page.wait_for_timeout(500)
    ticks_after = year_ticks(page)
    myeloma_years = sorted(
        TABLES.studies.loc[TABLES.studies["condition_group"] == "multiple_myeloma", "year"].dropna().astype(int)
    )
    assert ticks_after != ticks_before
    years = [int(y) for y in myeloma_years]
    ticks = [int(t) for t in ticks_after]
    assert years[0] - 5 <= min(ticks) and max(ticks) <= years[-1] + 5  # the axis spans the myeloma studies' years
    query = urlparse(page.url).query
    assert parse_qs(query) == {"disease": ["multiple_myeloma"]}

    other = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        tab = other.new_page()
        for path in ("", "evidence-map", "concentrations", "studies"):
            open_page(tab, f"{server.url}/{path}?{query}")
            assert wanted in count_text(tab), path
    finally:
        other.close()


@pytest.mark.e2e
def test_sidebar_navigation_keeps_the_filters_in_the_url(server, page):
    open_page(page, f"{server.url}/?disease=osteoporosis")
    page.locator("[data-testid='stSidebarNav'] a", has_text="Studies").click()
    page.wait_for_url("**/studies?*")
    wait_for_app(page)
    assert "disease=osteoporosis" in page.url
    assert expected_studies(Filters(disease=("osteoporosis",))) in count_text(page)


@pytest.mark.e2e
def test_clicking_an_evidence_map_square_lists_only_that_squares_findings(server, page):
    """A square counts studies of one family (cases vs controls by default) and one direction; its click lists
    exactly those findings, not the whole cell."""
    open_page(page, f"{server.url}/evidence-map?disease=multiple_myeloma")
    chart = page.locator("[data-testid='stPlotlyChart']").first
    chart.scroll_into_view_if_needed()
    point = chart.locator(".scatterlayer .trace .points path").last
    point.click(force=True)
    wait_for_app(page)
    listing = page.locator("[data-testid='stText']", has_text="finding(s):").first
    listing.wait_for(timeout=15_000)
    listed = listing.inner_text()
    heading = page.locator("h3", has_text="Multiple myeloma ·").first.inner_text()
    parts = [p.strip() for p in heading.split("·")]
    analyte = {label: code for code, label in charts.MAP_ANALYTES.items()}[parts[1]]
    direction_class = {label.lower(): code for code, label in DIRECTION_CLASS_LABEL.items()}[parts[2]]
    assert parts[3] == "cases vs controls"
    kept = apply_filters(TABLES, Filters(disease=("multiple_myeloma",)))
    square = charts.findings_in_cell(
        charts.of_family(kept.findings, "cases_vs_controls"), TABLES.studies, "condition_group", "multiple_myeloma",
        analyte, direction_class,
    )  # fmt: skip
    whole_cell = charts.findings_in_cell(kept.findings, TABLES.studies, "condition_group", "multiple_myeloma", analyte)
    assert len(square) < len(whole_cell)  # the list is the square's, not the cell's
    for name in set(square["study"]):
        assert name in listed
    assert f"{square['study_id'].nunique()} stud(ies)" in listed
    assert f"{len(square)} finding(s)" in listed


@pytest.mark.e2e
def test_csv_download_contains_exactly_the_filtered_rows(server, page):
    open_page(page, f"{server.url}/studies?disease=juvenile_idiopathic_arthritis")
    page.locator("[data-testid='stExpander'] summary", has_text="Download exactly these rows").click()
    with page.expect_download() as info:
        page.locator("[data-testid='stDownloadButton'] button", has_text="CSV").first.click()
    download = info.value
    version = load_metadata(DATA)["version"]
    assert download.suggested_filename == f"rankl-atlas_v{version}_studies_disease-juvenile_idiopathic_arthritis.csv"
    header = Path(download.path()).read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("study_id,")  # a plain table: the first line is the header
    rows = pd.read_csv(download.path(), encoding="utf-8-sig")
    kept = apply_filters(TABLES, Filters(disease=("juvenile_idiopathic_arthritis",))).studies
    assert sorted(rows["study_id"]) == sorted(kept["study_id"])


@pytest.mark.e2e
def test_study_permalink_opens_that_study(server, page):
    open_page(page, f"{server.url}/studies?study=schett2004")
    assert page.get_by_role("heading", name="Schett 2004: Soluble RANKL and risk of nontraumatic fracture").is_visible()
    assert "study=schett2004" in page.url


@pytest.mark.e2e
def test_synthesis_page_pools_the_bundled_data_and_says_when_nothing_can_be_compared(server, page):
    open_page(page, f"{server.url}/synthesis")
    assert page.get_by_text("have at least two studies to pool").is_visible()
    open_page(page, f"{server.url}/synthesis?disease=paget_disease")
    assert page.get_by_text("No case–control pair under the current filters", exact=False).first.is_visible()


@pytest.mark.e2e
def test_synthesis_page_pools_synthetic_strata_in_the_browser(tmp_path, page):
    folder = write_poolable_dataset(tmp_path / "poolable")
    running = start_server(tmp_path, env={DATA_ENV: str(folder)})
    try:
        open_page(page, f"{running.url}/synthesis?method=pm&tab=strict")  # a link to the strict per-kit tab
        charts = page.locator("[data-testid='stPlotlyChart']")
        charts.locator(".ytick text").first.wait_for()
        labels = charts.locator(".ytick text").evaluate_all("els => els.map(e => e.textContent)")
        assert sum("Pooled, Paule-Mandel" in t for t in labels) == 2  # the two kits' strata
        assert "method=pm" in page.url and "tab=strict" in page.url
        assert page.get_by_text("have at least two studies to pool").count() == 0  # the other tabs are not drawn
        page.get_by_role("tab", name="Cases vs controls").click()
        wait_for_app(page)
        page.get_by_text("have at least two studies to pool").wait_for()
        assert "tab=" not in page.url and "method=pm" in page.url
        assert app_errors(page) == []
    finally:
        stop_server(running)
