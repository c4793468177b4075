"""The one module that imports streamlit: cached loader, sidebar filters, footer and shared widgets."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from rankl_atlas import export, upload
from rankl_atlas.data import DataLoadError, Tables, data_dir, data_version, load_metadata, load_tables
from rankl_atlas.filters import (
    DEFAULT_SPECIES,
    FILTER_TITLES,
    MULTI_FILTERS,
    PAGE_PARAMS,
    Filters,
    apply_filters,
    filter_options,
    parse_query_params,
    shown_safely,
    year_bounds,
)
from rankl_atlas.schema import label
from rankl_atlas.validation import Issue, issues_frame

STUDIES_COLUMN_CONFIG = {
    "ref_no": st.column_config.NumberColumn("Ref.", format="%d", help="Number in Findlay & Atkins 2011"),
    "first_author": st.column_config.TextColumn("First author"),
    "year": st.column_config.NumberColumn("Year", format="%d"),
    "disease": st.column_config.TextColumn("Disease"),
    "kind": st.column_config.TextColumn("Kind"),
    "analytes": st.column_config.TextColumn("Analytes", help="Analytes with recorded measurements or findings"),
    "assay": st.column_config.TextColumn("Assay kit", help="Vendors named (or inferred) in the rows kept"),
    "evidence": st.column_config.TextColumn("Evidence", help="What the curation read"),
    "title": st.column_config.TextColumn("Title", width="large"),
    "origin": st.column_config.TextColumn("Whose", help="'yours' marks rows you uploaded in this session"),
    "n": st.column_config.NumberColumn("n", format="%d"),
    "link": st.column_config.LinkColumn("Link", help="PubMed, DOI, or a PubMed title search", display_text="open ↗"),
    "study_id": st.column_config.TextColumn("Permalink id", help="Open with ?study=<id>"),
}

MAX_TABLE_ROWS = 2000
PLOTLY_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


@dataclass(frozen=True)
class Context:
    """What every page needs: all tables, the active filters, and the rows they keep."""

    tables: Tables
    filters: Filters
    filtered: Tables
    metadata: dict
    folder: Path


@st.cache_resource(show_spinner="Loading the dataset…", max_entries=2)
def _cached_tables(folder: str, version: str) -> Tables:
    """Load and validate once per data version (file sizes and mtimes); one copy shared by all sessions.

    cache_resource rather than cache_data: cache_data hands every session its own unpickled copy (measured
    ~240 MB per session at 1000x data); the frames are never modified (every function in src/ is pure).
    """
    return load_tables(Path(folder))


def load_dataset(bundled: Path) -> tuple[Tables, dict, Path]:
    """The validated tables, metadata and data folder, or a clear error page (file, problem, rebuild command).

    The folder is $RANKL_ATLAS_DATA when set, else ``bundled``.
    """
    st.session_state["_bundled_data"] = bundled
    folder = data_dir(bundled)
    try:
        tables = _cached_tables(str(folder), data_version(folder))
    except DataLoadError as err:
        st.error(
            f"**The dataset cannot be loaded.**\n\nFile: `{err.file}`\n\nProblem: {err.problem}.\n\n"
            f"Rebuild it from the curated sources with `{err.rebuild_command}` (or restore the file from git)."
        )
        if err.issues:
            st.dataframe(issues_frame(err.issues).head(200), hide_index=True)
        st.stop()
    return tables, load_metadata(folder), folder


def _reset_filters(bounds: tuple[int, int]) -> None:
    _set_filter_state(Filters(), bounds)


def _set_filter_state(filters: Filters, bounds: tuple[int, int]) -> None:
    for key in MULTI_FILTERS:
        st.session_state[key] = list(getattr(filters, key))
    st.session_state["year"] = filters.year or bounds
    st.session_state["drafts"] = filters.drafts


def _read_url_once(options: dict[str, list[str]], bounds: tuple[int, int]) -> None:
    """On a session's first run, set the filter widgets from the URL and keep page parameters for the pages.

    The URL carries codes (``?disease=rheumatoid_arthritis``), never display labels, so shared links survive
    label changes. After this first read, the widgets are the state and the URL is written from them.
    """
    if "_url_read" in st.session_state:
        st.session_state["_url_notices"] = ()
        return
    raw = {key: st.query_params.get_all(key) for key in st.query_params}
    parsed = parse_query_params(raw, options, bounds)
    _set_filter_state(parsed.filters, bounds)
    st.session_state["_url_read"] = True
    st.session_state["_url_notices"] = parsed.notices
    st.session_state["_url_page_params"] = {key: values for key, values in raw.items() if key in PAGE_PARAMS}


def sidebar_filters(tables: Tables, metadata: dict, folder: Path) -> Context:
    """Draw the shared filters and return the page context.

    On a session's first run the filters come from the URL; malformed or unknown URL parameters are
    dropped with a visible notice.
    """
    visitor = visitor_state().result
    if visitor is not None:
        tables = upload.join_visitor_rows(tables, visitor.tables)
    options = filter_options(tables.studies)
    bounds = year_bounds(tables.studies)
    _read_url_once(options, bounds)
    if st.session_state.get("_year_bounds") not in (None, bounds) and tuple(st.session_state["year"]) == tuple(
        st.session_state["_year_bounds"]
    ):
        st.session_state["year"] = bounds  # the full range stays the full range when uploaded rows widen it
    st.session_state["_year_bounds"] = bounds
    st.session_state["_page_params"] = {}
    for notice in st.session_state["_url_notices"]:
        st.warning(notice, icon=":material/warning:")

    with st.sidebar:
        st.header("Filters")
        _multi("disease", options, "All diseases")
        st.slider(FILTER_TITLES["year"], min_value=bounds[0], max_value=bounds[1], step=1, key="year")
        st.caption("Assay")
        for key in ("vendor", "form"):
            _multi(key, options)
        more = ("analyte", "specimen", "species", "kind", "direction", "related")
        with st.expander("More filters", expanded=any(st.session_state.get(k) for k in more if k != "species")):
            for key in more:
                _multi(key, options)
            st.toggle(FILTER_TITLES["drafts"], key="drafts")
        st.button("Reset all filters", on_click=_reset_filters, args=(bounds,), width="stretch", key="reset_filters")

    filters = current_filters(bounds)
    context = Context(tables, filters, apply_filters(tables, filters), metadata, folder)
    st.session_state["_atlas_context"] = context
    return context


def page_param(key: str, options: list[str]) -> str | None:
    """Initial value of a page's own URL parameter (e.g. ``study``) on the session's first run, if valid."""
    values = st.session_state.get("_url_page_params", {}).pop(key, None)
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
    """Carry a page's own parameter in the URL for this run (written with the filters at the end)."""
    if value:
        st.session_state["_page_params"][key] = [value]


def write_url(ctx: Context) -> None:
    """Write the filters (as codes) and the page's own parameters to the address bar."""
    target = {**ctx.filters.to_query_params(), **st.session_state.get("_page_params", {})}
    current = {key: st.query_params.get_all(key) for key in st.query_params}
    if current != target:
        st.query_params.from_dict(target)


def _multi(key: str, options: dict[str, list[str]], placeholder: str = "All") -> None:
    vocabulary = MULTI_FILTERS[key]
    st.multiselect(
        FILTER_TITLES[key],
        options[key],
        format_func=(lambda c: c) if vocabulary == "species" else (lambda c, v=vocabulary: label(v, c)),
        key=key,
        placeholder=placeholder,
    )


def current_filters(bounds: tuple[int, int]) -> Filters:
    """Filters from the sidebar widgets' state."""
    state = st.session_state
    year = tuple(int(y) for y in state.get("year", bounds))
    values = {key: tuple(state.get(key, DEFAULT_SPECIES if key == "species" else ())) for key in MULTI_FILTERS}
    return Filters(**values, year=None if year == tuple(bounds) else year, drafts=bool(state.get("drafts", False)))


def context() -> Context:
    """The context app.py prepared for this run."""
    return st.session_state["_atlas_context"]


_MARKDOWN_SPECIAL = "\\`*_{}[]()#+-.!|<>~$"


def plain(text: str) -> str:
    """Text escaped so Markdown renders it literally (no links, emphasis or HTML)."""
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in str(text))


def count_line(ctx: Context) -> None:
    """How many studies and rows the current filters keep."""
    f, a = ctx.filtered, ctx.tables
    yours = ""
    if "origin" in f.studies:
        mine = sum(int((t["origin"] == upload.ORIGIN_VISITOR).sum()) for t in f.as_dict().values())
        yours = f" Includes {mine} of your own rows (this session only)."
    st.caption(
        f"Filters keep **{len(f.studies)} of {len(a.studies)} studies**, "
        f"{len(f.measurements)} of {len(a.measurements)} measurements and "
        f"{len(f.findings)} of {len(a.findings)} findings. Active: {ctx.filters.describe()}.{yours}"
    )


def nothing_left(ctx: Context, frame: pd.DataFrame, what: str = "studies") -> bool:
    """When the filters keep no rows, say so with a reset button and return True."""
    if not frame.empty:
        return False
    st.info(f"No {what} match the current filters.", icon=":material/filter_alt_off:")
    bounds = year_bounds(ctx.tables.studies)
    st.button("Reset all filters", on_click=_reset_filters, args=(bounds,), key=f"reset_empty_{what}")
    return True


def chart(fig: go.Figure, ctx: Context, *, key: str, alt: str, data: pd.DataFrame, on_select=None, **kwargs):
    """A Plotly chart with a caption of the active filters and its data in an expander beneath."""
    event = st.plotly_chart(
        fig,
        key=key,
        config=PLOTLY_CONFIG,
        on_select=on_select or "ignore",
        width="stretch",
        **kwargs,
    )
    st.caption(f"{alt} Filters: {ctx.filters.describe()}.")
    with st.expander("Data behind this chart"):
        if len(data) > MAX_TABLE_ROWS:
            st.caption(f"First {MAX_TABLE_ROWS} of {len(data)} rows; the page's downloads hold them all.")
        st.dataframe(data.head(MAX_TABLE_ROWS), hide_index=True, width="stretch")
    return event


def downloads(ctx: Context, tables: dict[str, pd.DataFrame], *, key: str) -> None:
    """CSV and Parquet of each given table, RIS and BibTeX of the filtered studies."""
    slug = ctx.filters.slug()
    with st.expander("Download exactly these rows"):
        columns = st.columns(len(tables) + 1)
        for column, (name, frame) in zip(columns, tables.items(), strict=False):
            with column:
                st.markdown(f"**{name.capitalize()}** ({len(frame)} rows)")
                st.download_button(
                    "CSV",
                    partial(export.to_csv_bytes, frame),
                    file_name=export.export_name(name, slug, "csv"),
                    mime="text/csv",
                    key=f"{key}_{name}_csv",
                    on_click="ignore",
                )
                st.download_button(
                    "Parquet",
                    partial(export.to_parquet_bytes, frame),
                    file_name=export.export_name(name, slug, "parquet"),
                    mime="application/vnd.apache.parquet",
                    key=f"{key}_{name}_parquet",
                    on_click="ignore",
                )
        with columns[-1]:
            studies = ctx.filtered.studies
            st.markdown(f"**Citations** ({len(studies)} studies)")
            st.download_button(
                "RIS",
                partial(export.to_ris, studies),
                file_name=export.export_name("studies", slug, "ris"),
                mime="application/x-research-info-systems",
                key=f"{key}_ris",
                on_click="ignore",
            )
            st.download_button(
                "BibTeX",
                partial(export.to_bibtex, studies),
                file_name=export.export_name("studies", slug, "bib"),
                mime="application/x-bibtex",
                key=f"{key}_bib",
                on_click="ignore",
            )


@dataclass(frozen=True)
class VisitorState:
    """This session's uploaded rows (never shared) and the last upload's error, if any."""

    result: upload.UploadResult | None
    error: str | None


def visitor_state() -> VisitorState:
    """The visitor's upload state for this session."""
    return VisitorState(st.session_state.get("_visitor_result"), st.session_state.get("_visitor_error"))


def accept_upload(name: str, data: bytes, file_id: str) -> None:
    """Validate an uploaded file and keep its valid rows in this session only."""
    st.session_state["_visitor_file_id"] = file_id
    try:
        raw = upload.read_upload(name, data)
    except upload.UploadRejected as err:
        st.session_state["_visitor_error"] = f"{name}: {err}"
        return
    tables, _, _ = load_dataset(st.session_state["_bundled_data"])
    st.session_state["_visitor_result"] = upload.validate_upload(raw, tables, file=name)
    st.session_state["_visitor_error"] = None


def clear_upload() -> None:
    """Forget the visitor's rows and reset the uploader."""
    for key in ("_visitor_result", "_visitor_error", "_visitor_file_id"):
        st.session_state.pop(key, None)
    st.session_state["_upload_generation"] = st.session_state.get("_upload_generation", 0) + 1


def issues_table(issues: list[Issue]) -> pd.DataFrame:
    """Bad cells as a table for display."""
    return issues_frame(issues)


def csv_bytes(frame: pd.DataFrame):
    """CSV bytes for a download (formulas made inert), made only when the button is clicked."""
    return partial(export.to_csv_bytes, frame)


def finish_run(ctx: Context) -> None:
    """After the page: write the URL, draw the footer, and drop this run's filtered frames from the session."""
    write_url(ctx)
    footer(ctx)
    st.session_state.pop("_atlas_context", None)


def footer(ctx: Context) -> None:
    """Provenance on every page: source, licence, dataset version and counts."""
    meta = ctx.metadata
    counts = f"{len(ctx.tables.studies)} studies, {len(ctx.tables.measurements)} measurements, {len(ctx.tables.findings)} findings"
    st.divider()
    st.caption(
        f"RANKL Atlas dataset v{meta.get('version', '?')} ({counts}). Source: the reference list of Findlay & Atkins, "
        "Osteoporos Int 2011;22:2597, each study curated from its PubMed abstract or open full text. "
        "Extracted facts licensed CC BY 4.0. See *About the data* for how to cite."
    )


def changelog_text(ctx: Context) -> str:
    """The dataset's CHANGELOG.md from the data folder in use."""
    path = ctx.folder / "CHANGELOG.md"
    if not path.exists():
        return "No changelog in this data folder."
    lines = path.read_text(encoding="utf-8").splitlines()
    return "\n".join(lines[1:] if lines and lines[0].startswith("# ") else lines)  # the page has its own heading
