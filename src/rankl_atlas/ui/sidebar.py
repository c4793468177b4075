"""The shared sidebar: the study search box and the filter widgets drawn from the registry."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from rankl_atlas import tables as atlas_tables
from rankl_atlas import upload
from rankl_atlas.data import (
    Tables,
    data_version,
)
from rankl_atlas.filters import (
    FILTER_SPECS,
    FilterSpec,
    apply_filters,
    year_bounds,
)
from rankl_atlas.ui.loading import _filtered_shared, _options_and_labels
from rankl_atlas.ui.state import (
    Context,
    StateKey,
    _read_url_once,
    _reset_filters,
    _restore_dropped_filter_state,
    current_filters,
    lazy_expander,
    show_kept_filters,
)
from rankl_atlas.ui.visitor import visitor_state


def sidebar_filters(atlas: Tables, metadata: dict, folder: Path, pages: dict | None = None) -> Context:
    """Draw the shared filters (from the registry) and return the page context.

    On a session's first run the filters come from the URL; malformed or unknown URL parameters are
    dropped with a visible notice.
    """
    visitor = visitor_state().result
    tables = atlas if visitor is None else upload.join_visitor_rows(atlas, visitor.tables)
    version = data_version(folder)  # once per run: file sizes and times key every shared cache
    options, labels = _options_and_labels(tables, folder, version, shared=visitor is None)
    bounds = year_bounds(tables.studies)
    _read_url_once(options, bounds)
    state = st.session_state
    if state.get(StateKey.YEAR_BOUNDS) not in (None, bounds) and tuple(state["year"]) == tuple(
        state[StateKey.YEAR_BOUNDS]
    ):
        state["year"] = bounds  # the full range stays the full range when uploaded rows widen it
    state[StateKey.YEAR_BOUNDS] = bounds
    state[StateKey.PAGE_PARAMS] = {}
    for notice in state[StateKey.URL_NOTICES]:
        st.warning(notice, icon=":material/warning:")

    _restore_dropped_filter_state(bounds)
    with st.sidebar:
        _study_search(tables)
        st.header("Filters")
        section = None
        for spec in (s for s in FILTER_SPECS if not s.more):
            if spec.section != section and spec.section:
                st.caption(spec.section)
            section = spec.section
            _filter_widget(spec, options, bounds, labels)
        more = [s for s in FILTER_SPECS if s.more]
        if "open_more_filters" not in st.session_state:  # opened at first when a link sets one of its filters
            st.session_state["open_more_filters"] = any(_widget_is_active(s, bounds) for s in more)
        box = lazy_expander("More filters", "open_more_filters")
        hidden = frozenset() if box.open else frozenset(s.param for s in more)  # closed: kept, not drawn
        if box.open:
            if not state.get(StateKey.MORE_FILTERS_DRAWN):
                show_kept_filters([s.param for s in more], bounds)
            with box:
                for spec in more:
                    _filter_widget(spec, options, bounds, labels)
        state[StateKey.MORE_FILTERS_DRAWN] = bool(box.open)
        st.button("Reset all filters", on_click=_reset_filters, args=(bounds,), width="stretch", key="reset_filters")

    filters = current_filters(bounds, hidden)
    state[StateKey.LAST_FILTERS] = filters
    if state.pop(StateKey.OPEN_STUDY, False):  # after every sidebar widget has kept its state in this run
        st.switch_page(pages["studies"])
    filtered = _filtered_shared(filters, str(folder), version) if visitor is None else apply_filters(tables, filters)
    context = Context(atlas, tables, filters, filtered, metadata, folder, version)
    return context


def _open_study(study_id: str) -> None:
    st.session_state["study"] = study_id
    st.session_state[StateKey.OPEN_STUDY] = True


def _study_search(tables: Tables) -> None:
    """A search box that finds a study by author, title words, PMID or DOI and opens its detail view."""
    text = st.text_input("Find a study", key="find", placeholder="Author, title words, PMID or DOI")
    if not text.strip():
        return
    found = atlas_tables.find_studies(tables.studies, text)
    if found.empty:
        st.caption("No study matches.")
    for row in found.itertuples(index=False):
        st.button(row.label, key=f"find_{row.study_id}", on_click=_open_study, args=(row.study_id,), width="stretch")


def _widget_is_active(spec: FilterSpec, bounds: tuple[int, int]) -> bool:
    return spec.state_is_active(st.session_state.get(spec.param, spec.to_state(spec.default, bounds)), bounds)


def _filter_widget(spec: FilterSpec, options: dict, bounds: tuple[int, int], labels: dict) -> None:
    spec.draw(st, options.get(spec.param), labels.get(spec.param), bounds)
