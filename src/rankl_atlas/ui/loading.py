"""The dataset, loaded and validated once per process and shared by every session; rows per filter state shared too."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import streamlit as st

from rankl_atlas import tables as atlas_tables
from rankl_atlas.data import (
    DataLoadError,
    Tables,
    data_dir,
    data_version,
    load_metadata,
    load_tables,
)
from rankl_atlas.filters import (
    Filters,
    apply_filters,
    filter_options,
)
from rankl_atlas.ui.widgets import table
from rankl_atlas.validation import issues_frame

#: Benchmarks set RANKL_ATLAS_GC_FREEZE=0 to measure the server as Streamlit ships it.
GC_FREEZE = os.environ.get("RANKL_ATLAS_GC_FREEZE", "1") != "0"


@st.cache_resource(show_spinner="Loading the dataset…", max_entries=2)
def _cached_tables(folder: str, version: str) -> Tables:
    """Load and validate once per data version (file sizes and mtimes); one copy shared by all sessions.

    cache_resource rather than cache_data: cache_data hands every session its own unpickled copy (measured
    ~240 MB per session at 1000x data); the frames are never modified (every function in src/ is pure).
    After the load, every object alive (the imported libraries and the dataset) is moved to the garbage
    collector's permanent generation (gc.freeze), so the full collection Streamlit runs after each script run
    no longer walks them (see docs/benchmarks.md, "Many viewers").
    """
    tables = load_tables(Path(folder))
    if GC_FREEZE:
        gc.collect()
        gc.freeze()
    return tables


def _filtered_shared(filters: Filters, folder: str, version: str) -> Tables:
    """The rows one filter state keeps, computed once for every session that shows it (per data version)."""
    return _filtered_by_state(repr(filters), folder, version, filters)


@st.cache_resource(max_entries=64)
def _filtered_by_state(state: str, folder: str, version: str, _filters: Filters) -> Tables:
    # keyed by the filters' repr (their content): Streamlit would hash the dataclass itself by pickling it
    return apply_filters(_cached_tables(folder, version), _filters)


def load_dataset(bundled: Path) -> tuple[Tables, dict, Path]:
    """The validated tables, metadata and data folder, or a clear error page (file, problem, rebuild command).

    The folder is $RANKL_ATLAS_DATA when set, else ``bundled``.
    """
    folder = data_dir(bundled)
    try:
        tables = _cached_tables(str(folder), data_version(folder))
    except DataLoadError as err:
        st.error(
            f"**The dataset cannot be loaded.**\n\nFile: `{err.file}`\n\nProblem: {err.problem}.\n\n"
            f"Rebuild it from the curated sources with `{err.rebuild_command}` (or restore the file from git)."
        )
        if err.issues:
            table(
                issues_frame(err.issues).head(200),
            )
        st.stop()
    return tables, load_metadata(folder), folder


@st.cache_resource(max_entries=4)
def _shared_options(folder: str, version: str) -> tuple[dict, dict]:
    """Filter options and kit labels of the shared dataset, once per data version."""
    return _options_of(_cached_tables(folder, version))


def _options_of(tables: Tables) -> tuple[dict[str, list[str]], dict[str, dict[str, str]]]:
    """Allowed codes of every filter, and display labels of codes without a vocabulary (kits, with row counts)."""
    return filter_options(tables), {"kit": atlas_tables.kit_option_labels(tables)}


def _options_and_labels(tables: Tables, folder: Path, version: str, shared: bool):
    """Options and labels: cached for the shared dataset, computed for a visitor's own rows."""
    return _shared_options(str(folder), version) if shared else _options_of(tables)
