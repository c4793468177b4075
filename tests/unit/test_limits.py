"""Issue 19, item 7: Streamlit drops a query string of more than 1 000 parameters silently; the app cannot see
it (the query string is removed before the page runs), so the README's limits section says so."""

from __future__ import annotations

from streamlit.runtime.state.query_params import CLIENT_STATE_QUERY_STRING_MAX_FIELDS, sanitize_query_string

from tests.conftest import ROOT


def readme_limits() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("## Limits", 1)[1].split("\n## ", 1)[0]


def test_query_string_of_more_than_1000_parameters_is_dropped_by_streamlit_and_the_readme_says_so():
    over = "&".join(["disease=rheumatoid_arthritis"] * 1001)
    assert sanitize_query_string(over) == ""  # dropped whole, before any page sees it
    assert sanitize_query_string("&".join(["disease=rheumatoid_arthritis"] * 1000)) != ""
    assert CLIENT_STATE_QUERY_STRING_MAX_FIELDS == 1000  # the figure the README gives
    limits = readme_limits()
    assert "more than 1 000 parameters" in limits and "The app cannot tell" in limits
