"""Answers in a real browser: the comparison-family filter, the spread reading, the pool command."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from rankl_atlas.data import load_tables
from rankl_atlas.filters import Filters, apply_filters
from tests.conftest import DATA
from tests.e2e.conftest import app_errors, count_text, open_page, wait_for_app

TABLES = load_tables(DATA)


@pytest.mark.e2e
def test_the_family_filter_narrows_findings_stays_in_the_url_and_drives_the_map(server, page):
    open_page(page, f"{server.url}/evidence-map?family=prediction")
    kept = apply_filters(TABLES, Filters(family=("prediction",)))
    assert f"Filters keep {len(kept.studies)} of {len(TABLES.studies)} studies" in count_text(page)
    assert f"{len(kept.findings)} of {len(TABLES.findings)} findings" in count_text(page)
    assert parse_qs(urlparse(page.url).query)["family"] == ["prediction"]
    shown = page.locator("[data-testid='stButtonGroup']", has_text="Prediction of an outcome").first
    assert shown.is_visible()
    assert page.locator("[data-testid='stButtonGroup']", has_text="Cases vs controls").count() == 0
    assert app_errors(page) == []


@pytest.mark.e2e
def test_reading_unlabelled_spreads_as_sd_pools_more_and_goes_into_the_url(server, page):
    open_page(page, f"{server.url}/synthesis")
    before = page.get_by_text("have at least two studies to pool").inner_text()
    page.locator("[data-testid='stButtonGroup'] button", has_text="Read as SD").click()
    wait_for_app(page)
    after = page.get_by_text("have at least two studies to pool").inner_text()
    assert int(after.split()[0]) > int(before.split()[0])
    assert parse_qs(urlparse(page.url).query)["spread"] == ["sd"]
    page.locator("[data-testid='stExpander'] summary", has_text="The same numbers from the command line").click()
    command = page.locator("[data-testid='stExpander'] [data-testid='stCode']").first
    command.wait_for(timeout=30_000)  # drawn by the rerun that opening the section starts
    assert "--spread sd" in command.inner_text()
    assert app_errors(page) == []
