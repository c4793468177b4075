"""In a real browser: shared links reproduce the view exactly, the new pages work, figures download, phones fit."""

from __future__ import annotations

import io
import random
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import pytest
from PIL import Image

from rankl_atlas.data import load_tables
from rankl_atlas.filters import Filters, apply_filters, filter_options, year_bounds
from rankl_atlas.navigation import PAGE_HEADINGS, PAGES
from tests.conftest import DATA
from tests.e2e.conftest import app_errors, count_text, open_page, rerun_requests, wait_for_app

TABLES = load_tables(DATA)
SHOTS = Path(tempfile.gettempdir()) / "rankl-atlas-screenshots"  # never in the work tree


def expected_studies(filters: Filters) -> str:
    return f"Filters keep {len(apply_filters(TABLES, filters).studies)} of {len(TABLES.studies)} studies"


def url_of(filters: Filters, path: str = "") -> str:
    params = filters.to_query_params()
    return f"/{path}?{urlencode(params, doseq=True)}" if params else f"/{path}"


@pytest.mark.e2e
def test_clearing_the_default_species_goes_into_the_shared_link(server, page, browser):
    open_page(page, f"{server.url}/")
    page.locator("[data-testid='stSidebar'] [aria-label='Remove human']").first.click()
    wait_for_app(page)
    page.wait_for_function("() => window.location.search.includes('species=all')")
    wanted = expected_studies(Filters(species=()))
    assert wanted in count_text(page)
    other = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        tab = other.new_page()
        open_page(tab, page.url)
        assert wanted in count_text(tab)
    finally:
        other.close()


@pytest.mark.e2e
def test_cite_this_view_opens_on_the_citation_and_bibtex_of_the_view(server, page):
    open_page(page, f"{server.url}/evidence-map?disease=osteoporosis")
    page.locator("[data-testid='stExpander'] summary", has_text="Cite this view").click()
    bibtex = page.locator("[data-testid='stExpander'] [data-testid='stCode']").first
    bibtex.wait_for(timeout=30_000)  # drawn by the rerun that opening the expander starts
    assert "@misc{rankl_atlas_v" in bibtex.inner_text() and "disease=osteoporosis" in bibtex.inner_text()
    assert app_errors(page) == []


@pytest.mark.e2e
def test_random_filter_states_reopen_with_the_same_counts_in_a_fresh_context(server, browser):
    """URL -> state -> URL is the identity (unit property test); here the browser shows the same counts."""
    rng = random.Random(20261130)
    options = filter_options(TABLES)
    bounds = year_bounds(TABLES.studies)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        tab = context.new_page()
        for _ in range(4):
            low = rng.randint(bounds[0], bounds[1] - 5)
            state = Filters(
                disease=tuple(rng.sample(options["disease"], rng.randint(0, 3))),
                year=(low, rng.randint(low + 1, bounds[1])),
                source=tuple(rng.sample(options["source"], rng.randint(0, 1))),
                species=rng.choice([(), ("human",), ("human", "mouse")]),
                analyte=tuple(rng.sample(options["analyte"], rng.randint(0, 1))),
            )
            open_page(tab, server.url + url_of(state, "studies"))
            assert expected_studies(state) in count_text(tab), state
            wait_for_app(tab)
            assert Filters.to_query_params(state) == {
                k: v for k, v in _query(tab.url).items() if k not in ("study",)
            }, "the app rewrote the shared link"
    finally:
        context.close()


def _query(url: str) -> dict[str, list[str]]:
    from urllib.parse import parse_qs, urlparse

    return {k: v for k, v in parse_qs(urlparse(url).query).items()}


@pytest.mark.e2e
def test_the_source_filter_and_the_coverage_view(server, page):
    open_page(page, f"{server.url}/?source=search_2026")
    assert expected_studies(Filters(source=("search_2026",))) in count_text(page)
    open_page(page, f"{server.url}/about")
    page.get_by_role("heading", name="Coverage of the literature").scroll_into_view_if_needed()
    flow = page.locator("[data-testid='stPlotlyChart']").first
    flow.locator("text=Records identified").first.wait_for()
    text = flow.inner_text()
    assert "Duplicates removed" in text and "Studies included in the atlas" in text
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "about_coverage_1280.png"), full_page=True)
    assert app_errors(page) == []


@pytest.mark.e2e
def test_a_chart_downloads_as_svg_and_300_dpi_png_with_its_title_and_source(server, page):
    reruns = rerun_requests(page)
    open_page(page, f"{server.url}/?disease=osteoporosis")
    before = len(reruns)
    page.get_by_text("Download figure").first.click()
    with page.expect_download(timeout=90_000) as info:
        page.get_by_text("SVG (vector)").first.click()
    svg = Path(info.value.path()).read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<svg")
    assert "Studies per year, by disease area" in svg  # title drawn in the image
    assert "RANKL Atlas dataset v" in svg and "Disease: Osteoporosis" in svg
    # Closed and opened again at once, as a reader who wants a second format does: the menu opens and closes in the
    # browser, so no rerun can leave it showing buttons whose files the server has dropped (seen under load when
    # each open and close reran the page: the click downloaded nothing).
    page.keyboard.press("Escape")
    page.get_by_text("Download figure").first.click()
    with page.expect_download(timeout=90_000) as info:
        page.get_by_text("PNG 300 dpi, single column (85 mm)").first.click()
    assert len(reruns) == before, "opening or closing the download menu reran the page"
    image = Image.open(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert image.format == "PNG"
    assert abs(image.size[0] - round(85 / 25.4 * 300)) <= 6  # 85 mm at 300 dpi
    assert round(image.info["dpi"][0]) == 300
    assert image.text["Title"] == "Studies per year, by disease area"


@pytest.mark.e2e
@pytest.mark.parametrize("info", PAGES, ids=[p.key for p in PAGES])
def test_every_page_fits_a_phone(browser, server, info):
    """390 x 844: no chart and no text wider than the screen (a tab strip may scroll sideways, as tab strips do on a
    phone); a screenshot of each page is kept to look at."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        tab = context.new_page()
        open_page(tab, f"{server.url}/{info.url_path}")
        assert tab.get_by_role("heading", name=PAGE_HEADINGS[info.key], exact=True).first.is_visible()
        tab.wait_for_timeout(1500)
        SHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SHOTS / f"{info.key}_390.png"), full_page=True)
        too_wide = tab.evaluate(
            """() => {
                const width = window.innerWidth;
                const out = [];
                const main = document.querySelector("[data-testid='stMain']");  // the sidebar is off-screen on a phone
                for (const el of main.querySelectorAll(
                    "[data-testid='stPlotlyChart'] .main-svg, [data-testid='stMarkdownContainer'] p, h1, h2, h3,"
                    + " [data-testid='stCaptionContainer'], [data-testid='stMetric']")) {
                    const box = el.getBoundingClientRect();
                    const strip = el.closest("[role='tablist']");  // a tab strip wider than a phone scrolls sideways
                    if (strip && ["auto", "scroll"].includes(getComputedStyle(strip).overflowX)) continue;
                    if (box.width > 0 && (box.left < -1 || box.right > width + 1)) {
                        out.push(`${el.tagName} ${Math.round(box.left)}..${Math.round(box.right)}: ${(el.textContent || '').slice(0, 40)}`);
                    }
                }
                return out;
            }"""
        )
        assert too_wide == [], too_wide
        assert tab.evaluate("() => document.documentElement.scrollWidth") <= 391
    finally:
        context.close()
