"""Uploading your own extraction in the browser: it joins your view only, with a table of every bad cell."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from rankl_atlas import upload
from tests.e2e.conftest import app_errors, count_text, open_page, wait_for_app


def choose_file(page, path) -> None:
    with page.expect_file_chooser() as chooser:
        page.locator("[data-testid='stFileUploader'] button").first.click()
    chooser.value.set_files(str(path))
    page.wait_for_timeout(500)
    wait_for_app(page)


@pytest.mark.e2e
def test_uploaded_rows_join_only_this_visitors_view(server, page, browser, tmp_path):
    path = tmp_path / "mine.csv"
    path.write_bytes(upload.template_csv())
    open_page(page, f"{server.url}/your-data")
    choose_file(page, path)
    page.get_by_text("Your rows in this session: 1 studies, 2 measurements, 1 findings").wait_for()
    page.locator("[data-testid='stSidebarNav'] a", has_text="Studies").click()
    page.wait_for_url("**/studies*")
    wait_for_app(page)
    assert "Includes 4 of your own rows" in count_text(page)
    assert "of 60 studies" in count_text(page)

    other = browser.new_context()
    try:
        tab = other.new_page()
        open_page(tab, f"{server.url}/studies")
        assert "of 59 studies" in count_text(tab) and "your own rows" not in count_text(tab)
    finally:
        other.close()
    assert app_errors(page) == []


@pytest.mark.e2e
def test_a_bad_upload_shows_every_bad_cell_and_keeps_the_good_rows(server, page, tmp_path):
    frame = pd.read_csv(io.BytesIO(upload.template_csv()), dtype=str, keep_default_na=False)
    frame.loc[1, "value"] = "lots"
    frame.loc[3, "comparison"] = "<img src=x onerror=alert(1)>"
    frame.loc[3, "direction"] = "sideways"
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_page(page, f"{server.url}/your-data")
    choose_file(page, path)
    page.get_by_text("cell(s) break the schema").wait_for()
    assert page.get_by_text("Your rows in this session: 1 studies, 1 measurements, 0 findings").is_visible()
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    assert page.locator("[data-testid='stDataFrame']").count() == 1
    assert page.locator("img[src='x']").count() == 0 and dialogs == []
    page.get_by_role("button", name="Remove my rows").click()
    wait_for_app(page)
    assert page.get_by_text("Your rows in this session").count() == 0


@pytest.mark.e2e
def test_a_file_that_is_not_utf8_is_refused_in_words(server, page, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("table,title\nstudies,Müller\n".encode("latin-1"))
    open_page(page, f"{server.url}/your-data")
    choose_file(page, path)
    page.get_by_text("is not UTF-8 text").wait_for()
    assert page.locator("[data-testid='stException']").count() == 0
