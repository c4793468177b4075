"""Session state: the keys this package uses, the page context, and the filters read from and written to the URL."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import streamlit as st

from rankl_atlas.data import (
    Tables,
)
from rankl_atlas.filters import (
    FILTER_SPECS,
    PAGE_PARAMS,
    Filters,
    parse_query_params,
    shown_safely,
)


class StateKey(StrEnum):
    """Every st.session_state key this module uses besides the filter widgets (keyed by their URL param)."""

    URL_READ = "_url_read"
    URL_NOTICES = "_url_notices"
    URL_PAGE_PARAMS = "_url_page_params"  # page parameters read from the URL, waiting for their page
    PAGE_PARAMS = "_page_params"  # page parameters to write to the URL after this run
    YEAR_BOUNDS = "_year_bounds"
    VISITOR_RESULT = "_visitor_result"
    VISITOR_ERROR = "_visitor_error"
    VISITOR_FILE_ID = "_visitor_file_id"
    UPLOAD_GENERATION = "_upload_generation"
    OPEN_STUDY = "_open_study"  # the search box asked to open a study's detail view
    MORE_FILTERS_DRAWN = "_more_filters_drawn"  # the 'More filters' section was open (its widgets drawn) last run
    LAST_FILTERS = "_last_filters"  # the filters of the last run, to restore widget state a page switch dropped


@dataclass(frozen=True)
class Context:
    """What every page needs: the dataset, the active filters and the rows they keep.

    atlas is the dataset as loaded (shared by all sessions); tables adds this visitor's uploaded rows.
    """

    atlas: Tables
    tables: Tables
    filters: Filters
    filtered: Tables
    metadata: dict
    folder: Path
    version: str


def _reset_filters(bounds: tuple[int, int]) -> None:
    _set_filter_state(Filters(), bounds)
    st.session_state[StateKey.LAST_FILTERS] = Filters()  # the filters not drawn (a closed section) reset too


def _set_filter_state(filters: Filters, bounds: tuple[int, int], only: list[str] | None = None) -> None:
    for spec in FILTER_SPECS:
        if only is not None and spec.param not in only:
            continue
        st.session_state[spec.param] = spec.to_state(getattr(filters, spec.param), bounds)


def _read_url_once(options: dict[str, list[str]], bounds: tuple[int, int]) -> None:
    """On a session's first run, set the filter widgets from the URL and keep page parameters for the pages.

    The URL carries codes (``?disease=rheumatoid_arthritis``), never display labels, so shared links survive
    label changes. After this first read, the widgets are the state and the URL is written from them.
    """
    if StateKey.URL_READ in st.session_state:
        st.session_state[StateKey.URL_NOTICES] = ()
        return
    raw = {key: st.query_params.get_all(key) for key in st.query_params}
    parsed = parse_query_params(raw, options, bounds)
    _set_filter_state(parsed.filters, bounds)
    st.session_state[StateKey.URL_READ] = True
    st.session_state[StateKey.URL_NOTICES] = parsed.notices
    st.session_state[StateKey.URL_PAGE_PARAMS] = {key: values for key, values in raw.items() if key in PAGE_PARAMS}


def _restore_dropped_filter_state(bounds: tuple[int, int]) -> None:
    """Streamlit forgets a widget's state when a run stops before drawing it (e.g. a page switch); put back the
    filters the session last had, so a switch never resets them (a fresh slider would hold one year, not two)."""
    last = st.session_state.get(StateKey.LAST_FILTERS)
    if last is None:
        return
    missing = [spec.param for spec in FILTER_SPECS if spec.param not in st.session_state]
    if missing:
        _set_filter_state(last, bounds, only=missing)


def page_param(key: str, options: list[str]) -> str | None:
    """Initial value of a page's own URL parameter (e.g. ``study``) on the session's first run, if valid."""
    values = st.session_state.get(StateKey.URL_PAGE_PARAMS, {}).pop(key, None)
    if not values:
        return None
    if values[-1] in options:
        return values[-1]
    st.warning(f"'{key}': '{shown_safely(values[-1])}' is not known and was ignored.", icon=":material/warning:")
    return None


def init_from_url(key: str, options: list[str], default: str | None = None) -> None:
    """Give a page widget its starting value from the URL (first visit in a session) or the default."""
    if key not in st.session_state:
        st.session_state[key] = page_param(key, options) or default


def keep_in_url(key: str, value: str | None) -> None:
    """Carry a page's own parameter in the URL for this run (written with the filters at the end); None drops it."""
    params = st.session_state.setdefault(StateKey.PAGE_PARAMS, {})
    if value:
        params[key] = [value]
    else:
        params.pop(key, None)


def write_url(ctx: Context) -> None:
    """Write the filters (as codes) and the page's own parameters to the address bar."""
    target = {**ctx.filters.to_query_params(), **st.session_state.get(StateKey.PAGE_PARAMS, {})}
    current = {key: st.query_params.get_all(key) for key in st.query_params}
    if current != target:
        st.query_params.from_dict(target)


def current_filters(bounds: tuple[int, int], hidden: frozenset[str] = frozenset()) -> Filters:
    """Filters from the sidebar widgets' state; a filter not drawn in this run (hidden: its section is closed)
    keeps the value it had in the session's last run."""
    state = st.session_state
    last = state.get(StateKey.LAST_FILTERS)
    return Filters(
        **{
            spec.param: getattr(last, spec.param)
            if spec.param in hidden and last is not None
            else spec.from_state(state.get(spec.param, spec.to_state(spec.default, bounds)), bounds)
            for spec in FILTER_SPECS
        }
    )


def show_kept_filters(params: list[str], bounds: tuple[int, int]) -> None:
    """Before a closed section's filters are drawn again, give their widgets the values the filters kept."""
    last = st.session_state.get(StateKey.LAST_FILTERS)
    if last is not None:
        _set_filter_state(last, bounds, only=params)


#: Keys of the sections drawn only when opened (lazy_expander), as the runs meet them (tests open them all).
LAZY_KEYS: set[str] = set()


def lazy_expander(label: str, key: str, **kwargs):
    """An expander whose content the page draws only while it is open (`if box.open: with box: ...`): what no
    reader sees costs no work on the rerun of every viewer. Opening it reruns the page once."""
    LAZY_KEYS.add(key)
    return st.expander(label, key=key, on_change="rerun", **kwargs)
