"""AppTest harness: run app.py by absolute path, clear the data cache between tests."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from rankl_atlas import navigation
from rankl_atlas.navigation import PAGE_HEADINGS
from rankl_atlas.navigation import PAGES as NAV_PAGES
from rankl_atlas.ui.state import LAZY_KEYS
from tests.conftest import ROOT

APP = str(ROOT / "app.py")
PAGES = {p.key: p.url_path for p in NAV_PAGES if p.key != "your_data"}


def switch_to(at: AppTest, key: str) -> AppTest:
    """Select a page by its key for the next run.

    Pages are render(ctx) functions handed to st.Page, and AppTest.switch_page (Streamlit 1.67) only switches to
    page files; so select the registered page whose URL path is the page's, as a browser's address would.
    """
    url_path = navigation.PAGE_BY_KEY[key].url_path
    hashes = [h for h, info in at._registered_pages.items() if info.get("url_pathname") == url_path]
    assert len(hashes) == 1, f"page {key!r} ({url_path!r}) is not registered once: {at._registered_pages}"
    at._page_hash = hashes[0]
    return at


TITLES = PAGE_HEADINGS


@pytest.fixture(autouse=True)
def _clear_cache():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def run_app(
    page: str | None = None,
    query: dict | None = None,
    timeout: float = 60,
    check_title: bool = True,
    open_sections: tuple[str, ...] | bool = (),
) -> AppTest:
    """Run app.py with URL parameters, then switch to a page (name in PAGES) and run it.

    AppTest must run the main page first (its switch_page works only after a run), so the URL is read on
    that first run; true first-request deep links are covered by the browser tests. open_sections: keys of
    sections drawn only when opened (ui.lazy_expander) to open, as a reader would, or True for all of them.
    """
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page and page != "overview":
        switch_to(at, page).run()
    if open_sections:
        keys = sorted(LAZY_KEYS) if open_sections is True else open_sections
        for key in keys:
            at.session_state[key] = True
        at.run()
    if check_title:
        assert [t.value for t in at.title][:1] == [TITLES[page or "overview"]], "the wrong page ran"
    return at


def open_tab(at: AppTest, label: str) -> AppTest:
    """Open a page's tab (ui.url_tabs) by its label, as a reader clicking it, and rerun."""
    at.session_state["tab"] = label
    return at.run()


def count_caption(at: AppTest) -> str:
    """The 'Filters keep N of M studies' line."""
    return next(c.value for c in at.caption if c.value.startswith("Filters keep"))


@pytest.fixture(autouse=True)
def _show_error_details():
    """Tests see the exception text that production hides from visitors (.streamlit/config.toml)."""
    from streamlit import config

    before = config.get_option("client.showErrorDetails")
    config.set_option("client.showErrorDetails", "full")
    yield
    config.set_option("client.showErrorDetails", before)
