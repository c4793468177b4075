"""Hostile and broken data in the browser: markup in text fields stays inert; broken files give a clear page."""

from __future__ import annotations

import pytest

from rankl_atlas.build import build
from rankl_atlas.data import DATA_ENV
from tests.conftest import edit_csv
from tests.e2e.conftest import open_page, start_server, stop_server

PAYLOAD = (
    '<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2">'
    "[click me](javascript:window.__pwned=3) **bold** <b>tag</b>"
)


@pytest.fixture
def hostile_server(built_copy, tmp_path):
    studies = built_copy / "source" / "studies.csv"
    edit_csv(studies, 36, "title", PAYLOAD)  # ref 37, Schett 2004
    edit_csv(studies, 36, "summary", PAYLOAD)
    edit_csv(built_copy / "source" / "findings.csv", 0, "comparison", PAYLOAD)
    build(built_copy / "source", built_copy)
    running = start_server(tmp_path, env={DATA_ENV: str(built_copy)})
    yield running
    stop_server(running)


@pytest.mark.e2e
@pytest.mark.parametrize("path", ["studies?study=schett2004", "studies", "evidence-map", "synthesis"])
def test_markup_in_text_fields_renders_as_text(hostile_server, page, path):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_page(page, f"{hostile_server.url}/{path}")
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    assert dialogs == []
    if path.startswith("studies?study"):
        assert "<script>window.__pwned = 1</script>" in page.inner_text("body")


@pytest.mark.e2e
@pytest.mark.parametrize(("table", "damage"), [("findings", "missing"), ("studies", "truncated")])
def test_broken_parquet_gives_a_page_naming_the_file_and_the_fix(built_copy, tmp_path, page, table, damage):
    path = built_copy / f"{table}.parquet"
    if damage == "missing":
        path.unlink()
    else:
        path.write_bytes(path.read_bytes()[:150])
    running = start_server(tmp_path, env={DATA_ENV: str(built_copy)})
    try:
        open_page(page, f"{running.url}/studies")
        body = page.inner_text("body")
        assert "The dataset cannot be loaded" in body
        assert f"{table}.parquet" in body and "make data" in body
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        stop_server(running)
