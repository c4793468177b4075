"""Uploading your own extraction in the browser: it joins your view only, with a table of every bad cell."""

from __future__ import annotations

import io

import pandas as pd
import pyarrow.parquet as pq
import pytest

from rankl_atlas import upload
from tests.conftest import DATA
from tests.e2e.conftest import app_errors, count_text, open_page, wait_for_app
from tests.fixtures.hostile_uploads import parquet_binary_title, parquet_row_bomb


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
    page.get_by_text("Your rows in this session: 1 study, 2 measurements, 1 finding").wait_for()
    page.locator("[data-testid='stSidebarNav'] a", has_text="Studies").click()
    page.wait_for_url("**/studies*")
    wait_for_app(page)
    atlas_studies = pq.read_metadata(DATA / "studies.parquet").num_rows
    assert "Includes 4 of your own rows" in count_text(page)
    assert f"of {atlas_studies + 1} studies" in count_text(page)

    other = browser.new_context()
    try:
        tab = other.new_page()
        open_page(tab, f"{server.url}/studies")
        assert f"of {atlas_studies} studies" in count_text(tab) and "your own rows" not in count_text(tab)
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
    page.get_by_text("issue(s) found; the rows they name were left out").wait_for()
    assert page.get_by_text("Your rows in this session: 1 study, 1 measurement, 0 findings").is_visible()
    page.locator("[data-testid='stDataFrame']").first.wait_for()
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


# --- Issue 11: hostile uploads in the browser ---------------------------------------------------


@pytest.mark.e2e
def test_a_parquet_row_bomb_is_refused_in_words(server, page, tmp_path):
    bomb = parquet_row_bomb(tmp_path / "bomb.parquet")
    open_page(page, f"{server.url}/your-data")
    choose_file(page, bomb)
    page.get_by_text(f"rows; at most {upload.MAX_ROWS} are accepted").wait_for(timeout=20_000)
    assert page.locator("[data-testid='stException']").count() == 0
    assert app_errors(page) == []


@pytest.mark.e2e
def test_binary_cells_and_a_refused_study_are_listed_never_a_traceback(server, page, tmp_path):
    frame = pd.read_csv(io.BytesIO(upload.template_csv()), dtype=str, keep_default_na=False)
    path = parquet_binary_title(tmp_path / "binary.parquet", frame.to_dict("records"))
    open_page(page, f"{server.url}/your-data")
    choose_file(page, path)
    page.get_by_text("4 issue(s) found; the rows they name were left out").wait_for()
    assert page.get_by_text("Your rows in this session: 0 studies, 0 measurements, 0 findings").is_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    assert app_errors(page) == []


@pytest.mark.e2e
def test_what_the_visitor_wrote_is_shown_as_plain_text(server, page, tmp_path):
    name = "see [Login](https:__evil.example_login) http:__evil.example.csv"
    bad = tmp_path / name
    bad.write_bytes("table,title\nstudies,Müller\n".encode("latin-1"))
    open_page(page, f"{server.url}/your-data")
    choose_file(page, bad)
    page.get_by_text("is not UTF-8 text", exact=False).wait_for()
    assert page.locator("a[href*='evil.example']").count() == 0
    assert page.get_by_text(f"{name}: The CSV is not UTF-8 text", exact=False).is_visible()

    frame = pd.read_csv(io.BytesIO(upload.template_csv()), dtype=str, keep_default_na=False)
    frame.loc[0, "title"] = "Bare http://evil.example/a_(b) and [Login](https://evil.example/login) *here*"
    good = tmp_path / "mine.csv"
    frame.to_csv(good, index=False)
    open_page(page, f"{server.url}/your-data")
    choose_file(page, good)
    page.get_by_text("Your rows in this session: 1 study").wait_for()
    page.get_by_text("Your rows, as they were read").click()
    page.get_by_text("Studies (1 rows)").wait_for()
    assert page.locator("a[href*='evil.example']").count() == 0
