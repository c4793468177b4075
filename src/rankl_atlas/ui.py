"""The one module that imports streamlit: cached loader, sidebar filters, footer and shared widgets."""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from rankl_atlas import export, figures, upload
from rankl_atlas import tables as atlas_tables
from rankl_atlas.data import (
    DataLoadError,
    Tables,
    data_dir,
    data_version,
    load_metadata,
    load_search_logs,
    load_tables,
)
from rankl_atlas.filters import (
    FILTER_SPECS,
    PAGE_PARAMS,
    Filters,
    FilterSpec,
    apply_filters,
    filter_options,
    parse_query_params,
    shown_safely,
    year_bounds,
)
from rankl_atlas.navigation import PAGES as PAGE_LIST
from rankl_atlas.validation import Issue, issues_frame


class StateKey(StrEnum):
    """Every st.session_state key this module uses besides the filter widgets (keyed by their URL param)."""

    URL_READ = "_url_read"
    URL_NOTICES = "_url_notices"
    URL_PAGE_PARAMS = "_url_page_params"  # page parameters read from the URL, waiting for their page
    PAGE_PARAMS = "_page_params"  # page parameters to write to the URL after this run
    YEAR_BOUNDS = "_year_bounds"
    CONTEXT = "_atlas_context"
    VISITOR_RESULT = "_visitor_result"
    VISITOR_ERROR = "_visitor_error"
    VISITOR_FILE_ID = "_visitor_file_id"
    UPLOAD_GENERATION = "_upload_generation"
    OPEN_STUDY = "_open_study"  # the search box asked to open a study's detail view
    LAST_FILTERS = "_last_filters"  # the filters of the last run, to restore widget state a page switch dropped


STUDIES_COLUMN_CONFIG = {
    "study": st.column_config.TextColumn("Study", width="small"),
    "title": st.column_config.TextColumn("Title", width="large"),
    "disease": st.column_config.TextColumn("Disease", width="small"),
    "analytes": st.column_config.TextColumn(
        "Analytes", width="small", help="Analytes measured in blood (also when only a ratio is reported)"
    ),
    "n": st.column_config.NumberColumn("n", format="%d", width="small"),
    "assay": st.column_config.TextColumn("Assay kit", help="Vendors named (or inferred) in the rows kept"),
    "link": st.column_config.LinkColumn("Link", help="PubMed, DOI, or a PubMed title search", display_text="open ↗"),
    "journal": st.column_config.TextColumn("Journal"),
    "pmid": st.column_config.TextColumn("PMID"),
    "year": st.column_config.NumberColumn("Year", format="%d"),
    "kind": st.column_config.TextColumn("Kind"),
    "source": st.column_config.TextColumn("Source"),
    "evidence": st.column_config.TextColumn("Evidence", help="What the curation read"),
    "ref_no": st.column_config.NumberColumn("Ref.", format="%d", help="Number in Findlay & Atkins 2011"),
    "origin": st.column_config.TextColumn("Whose", help="'yours' marks rows you uploaded in this session"),
    "study_id": st.column_config.TextColumn("Permalink id", help="Open with ?study=<id>"),
}

#: Narrow, wrapped columns so comparison, direction and p fit at 1280 px.
FINDING_COLUMN_CONFIG = {
    "study": st.column_config.TextColumn("Study", width="small"),
    "comparison": st.column_config.TextColumn("Comparison", width="large"),
    "direction": st.column_config.TextColumn("Direction", width="small"),
    "orientation": st.column_config.TextColumn("Orientation", width="small"),
    "effect_measure": st.column_config.TextColumn("Measure", width="small"),
    "effect_value": st.column_config.NumberColumn("Effect", width="small"),
    "p_text": st.column_config.TextColumn("p", width="small"),
    "n": st.column_config.NumberColumn("n", format="%d", width="small"),
    "assay_vendor": st.column_config.TextColumn("Kit vendor", width="small"),
    "analyte_form": st.column_config.TextColumn("Form", width="small"),
    "locator": st.column_config.TextColumn("Where", width="small"),
}

REPORT_COLUMN_CONFIG = {
    "report": st.column_config.LinkColumn(
        "Report", help="Open a prefilled issue about this row", display_text="report ↗"
    ),
}
CATALOGUE_COLUMN_CONFIG = {
    "kit": st.column_config.TextColumn("Kit", width="large"),
    "analyte": st.column_config.TextColumn("Analyte", width="small"),
    "detects": st.column_config.TextColumn("Detects", width="small", help="Form the kit detects, as its source says"),
    "form_note": st.column_config.TextColumn("What the source says", width="large"),
    "lod": st.column_config.TextColumn("LOD", width="small"),
    "range": st.column_config.TextColumn("Range", width="small"),
    "method": st.column_config.TextColumn("Method", width="small"),
    "catalogue": st.column_config.TextColumn("Catalogue no.", width="small"),
    "samples": st.column_config.TextColumn("Samples", width="small"),
    "source": st.column_config.LinkColumn("Source", display_text="open ↗", width="small"),
    "source_note": st.column_config.TextColumn("Source note", width="large"),
    "assay_id": st.column_config.TextColumn("Kit id", width="small"),
}

#: Pooled-answer tables: the question column narrow enough that the answer beside it shows on a phone.
ANSWER_COLUMN_CONFIG = {"Question": st.column_config.TextColumn("Question", width="medium")}

MAX_TABLE_ROWS = 2000
PLOTLY_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


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


@st.cache_resource(max_entries=64)
def _filtered_shared(filters: Filters, folder: str, version: str) -> Tables:
    """The rows one filter state keeps, computed once for every session that shows it (per data version)."""
    return apply_filters(_cached_tables(folder, version), filters)


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


def _reset_filters(bounds: tuple[int, int]) -> None:
    _set_filter_state(Filters(), bounds)


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


def sidebar_filters(atlas: Tables, metadata: dict, folder: Path) -> Context:
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
        with st.expander("More filters", expanded=any(_widget_is_active(s, bounds) for s in more)):
            for spec in more:
                _filter_widget(spec, options, bounds, labels)
        st.button("Reset all filters", on_click=_reset_filters, args=(bounds,), width="stretch", key="reset_filters")

    filters = current_filters(bounds)
    state[StateKey.LAST_FILTERS] = filters
    if state.pop(StateKey.OPEN_STUDY, False):  # after every sidebar widget has kept its state in this run
        st.switch_page(next(p.script for p in PAGE_LIST if p.key == "studies"))
    filtered = _filtered_shared(filters, str(folder), version) if visitor is None else apply_filters(tables, filters)
    context = Context(atlas, tables, filters, filtered, metadata, folder, version)
    state[StateKey.CONTEXT] = context
    return context


def _restore_dropped_filter_state(bounds: tuple[int, int]) -> None:
    """Streamlit forgets a widget's state when a run stops before drawing it (e.g. a page switch); put back the
    filters the session last had, so a switch never resets them (a fresh slider would hold one year, not two)."""
    last = st.session_state.get(StateKey.LAST_FILTERS)
    if last is None:
        return
    missing = [spec.param for spec in FILTER_SPECS if spec.param not in st.session_state]
    if missing:
        _set_filter_state(last, bounds, only=missing)


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


def _filter_widget(spec: FilterSpec, options: dict, bounds: tuple[int, int], labels: dict) -> None:
    spec.draw(st, options.get(spec.param), labels.get(spec.param), bounds)


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


def fragment(ctx: Context):
    """Decorate a page section that reruns on its own (st.fragment) when only its controls change, and keeps the
    address bar in step with them."""

    def decorate(func):
        @st.fragment
        def section() -> None:
            func()
            write_url(ctx)

        return section

    return decorate


def url_choice(param: str, options: dict[str, str], default: str, label_text: str) -> str:
    """A segmented control for a page's own choice, started from the URL and kept in it when not the default."""
    init_from_url(param, list(options), default)
    choice = st.segmented_control(label_text, list(options), format_func=options.get, key=param) or default
    keep_in_url(param, choice if choice != default else None)
    return choice


def write_url(ctx: Context) -> None:
    """Write the filters (as codes) and the page's own parameters to the address bar."""
    target = {**ctx.filters.to_query_params(), **st.session_state.get(StateKey.PAGE_PARAMS, {})}
    current = {key: st.query_params.get_all(key) for key in st.query_params}
    if current != target:
        st.query_params.from_dict(target)


def current_filters(bounds: tuple[int, int]) -> Filters:
    """Filters from the sidebar widgets' state."""
    state = st.session_state
    return Filters(
        **{
            spec.param: spec.from_state(state.get(spec.param, spec.to_state(spec.default, bounds)), bounds)
            for spec in FILTER_SPECS
        }
    )


def context() -> Context:
    """The context app.py prepared for this run."""
    return st.session_state[StateKey.CONTEXT]


_MARKDOWN_SPECIAL = "\\`*_{}[]()#+-.!|<>~$"


def plain(text: str) -> str:
    """Text escaped so Markdown renders it literally (no links, emphasis or HTML)."""
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in str(text))


def table(frame: pd.DataFrame, **kwargs):
    """A read-only table: full width, no index, empty cells blank (not 'None'), headers and codes as a reader's
    labels (a page's own column_config wins)."""
    given = kwargs.pop("column_config", None) or {}
    config = {c: st.column_config.Column(atlas_tables.column_label(c)) for c in frame.columns if c not in given}
    return st.dataframe(
        atlas_tables.for_reader(frame),
        **{"hide_index": True, "width": "stretch", "placeholder": "", "column_config": {**config, **given}, **kwargs},
    )


def heading_text(text: str) -> str:
    """Text for a heading (headings render Markdown): characters that Markdown or HTML would act on are left out;
    the exact text is shown beside it with st.text."""
    text = re.sub(r"(?i)\b(?:https?|ftp|javascript|data|mailto|www)[:.]/*", "", str(text))  # no autolinks
    return re.sub(r"[\\`*_\[\]()#<>!|~${}]", "", text).strip()


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


def chart(
    fig: go.Figure,
    ctx: Context,
    *,
    key: str,
    alt: str,
    data: pd.DataFrame | Callable[[], pd.DataFrame],
    title: str | None = None,
    on_select=None,
    follows_filters: bool = True,
    **kwargs,
):
    """A Plotly chart with a caption of the active filters, figure downloads (SVG, 300-dpi PNG) and its data
    table, which is built only when the reader asks for it."""
    event = st.plotly_chart(
        fig,
        key=key,
        config=PLOTLY_CONFIG,
        on_select=on_select or "ignore",
        width="stretch",
        **kwargs,
    )
    caption = (
        f"{alt} Filters: {ctx.filters.describe()}."
        if follows_filters
        else f"{alt} This chart shows the whole search and does not follow the filters."
    )
    st.caption(caption)
    title = title or alt.split(". ")[0].rstrip(".")
    source = f"Source: RANKL Atlas dataset v{ctx.metadata.get('version', '?')}, {view_url(ctx)}"
    show = st.toggle("Show the data behind this chart", key=f"{key}_show_data")
    with st.popover("Download figure", icon=":material/download:"):
        for fmt, column, label_text in (
            ("svg", "double", "SVG (vector)"),
            ("png", "single", "PNG 300 dpi, single column (85 mm)"),
            ("png", "double", "PNG 300 dpi, double column (180 mm)"),
        ):
            st.download_button(
                label_text,
                partial(figures.figure_bytes, fig, title, caption, source, fmt, column),
                file_name=f"rankl-atlas_v{ctx.metadata.get('version', '')}_{key}_{column}_{ctx.filters.slug()}.{fmt}",
                mime="image/svg+xml" if fmt == "svg" else "image/png",
                key=f"{key}_{fmt}_{column}",
                on_click="ignore",
            )
    if show:
        data = data() if callable(data) else data  # expensive tables are built only when the reader asks
        if len(data) > MAX_TABLE_ROWS:
            st.caption(f"First {MAX_TABLE_ROWS} of {len(data)} rows; the page's downloads hold them all.")
        table(
            data.head(MAX_TABLE_ROWS),
        )
    return event


def export_context(ctx: Context) -> export.ExportContext:
    """What each download states about itself: dataset version, filters, date and the view's URL."""
    return export.ExportContext(
        version=str(ctx.metadata.get("version", "")),
        filters=ctx.filters.describe(),
        slug=ctx.filters.slug(),
        url=view_url(ctx),
        date=date.today().isoformat(),
    )


def downloads(ctx: Context, tables: dict[str, pd.DataFrame], *, key: str) -> None:
    """CSV and Parquet of each given table, RIS and BibTeX of the filtered studies; names and headers carry the
    dataset version and the filters."""
    info = export_context(ctx)
    version = info.version
    with st.expander("Download exactly these rows"):
        columns = st.columns(len(tables) + 1)
        for column, (name, frame) in zip(columns, tables.items(), strict=False):
            with column:
                st.markdown(f"**{name.capitalize()}** ({len(frame)} rows)")
                st.download_button(
                    "CSV",
                    partial(export.to_csv_bytes, frame, info),
                    file_name=export.export_name(name, info.slug, "csv", version),
                    mime="text/csv",
                    key=f"{key}_{name}_csv",
                    on_click="ignore",
                )
                st.download_button(
                    "Parquet",
                    partial(export.to_parquet_bytes, frame, info),
                    file_name=export.export_name(name, info.slug, "parquet", version),
                    mime="application/vnd.apache.parquet",
                    key=f"{key}_{name}_parquet",
                    on_click="ignore",
                )
        with columns[-1]:
            studies = ctx.filtered.studies
            st.markdown(f"**Citations** ({len(studies)} studies)")
            st.download_button(
                "RIS",
                partial(export.ris_of_filtered, studies, ctx.filtered.measurements, ctx.filtered.findings, info),
                file_name=export.export_name("studies", info.slug, "ris", version),
                mime="application/x-research-info-systems",
                key=f"{key}_ris",
                on_click="ignore",
            )
            st.download_button(
                "BibTeX",
                partial(export.bibtex_of_filtered, studies, ctx.filtered.measurements, ctx.filtered.findings, info),
                file_name=export.export_name("studies", info.slug, "bib", version),
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
    return VisitorState(st.session_state.get(StateKey.VISITOR_RESULT), st.session_state.get(StateKey.VISITOR_ERROR))


def accept_upload(name: str, data: bytes, file_id: str) -> None:
    """Validate an uploaded file and keep its valid rows in this session only."""
    state = st.session_state
    state[StateKey.VISITOR_FILE_ID] = file_id
    try:
        result = upload.check_upload(name, data, context().atlas)
    except upload.UploadRejected as err:
        state[StateKey.VISITOR_ERROR] = f"{name}: {err}"
        return
    state[StateKey.VISITOR_RESULT] = result
    state[StateKey.VISITOR_ERROR] = None


def uploaded_file_id() -> str | None:
    """The id of the file this session last accepted (so a rerun does not read it again)."""
    return st.session_state.get(StateKey.VISITOR_FILE_ID)


def upload_generation() -> int:
    """A number that changes when the visitor removes their rows (it resets the uploader widget)."""
    return st.session_state.get(StateKey.UPLOAD_GENERATION, 0)


def clear_upload() -> None:
    """Forget the visitor's rows and reset the uploader."""
    for key in (StateKey.VISITOR_RESULT, StateKey.VISITOR_ERROR, StateKey.VISITOR_FILE_ID):
        st.session_state.pop(key, None)
    st.session_state[StateKey.UPLOAD_GENERATION] = upload_generation() + 1


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
    st.session_state.pop(StateKey.CONTEXT, None)


def view_url(ctx: Context) -> str:
    """The exact address of this view: the app's address, this page's path, the filters and page parameters."""
    try:
        current = st.context.url or ""
    except AttributeError:  # older Streamlit
        current = ""
    base = current.split("?", 1)[0] or str(ctx.metadata.get("app_url", ""))
    params = {**ctx.filters.to_query_params(), **st.session_state.get(StateKey.PAGE_PARAMS, {})}
    query = urlencode([(k, v) for k, values in params.items() for v in values])
    return base + (f"?{query}" if query else "")


def footer(ctx: Context) -> None:
    """Provenance on every page: source and licence (from the dataset's metadata), version, counts, and a
    'Cite this view' box."""
    meta = ctx.metadata
    sources = "; ".join(
        f"[{s.get('title', '')}]({s['path']})" if s.get("path") else s.get("title", "") for s in meta.get("sources", [])
    )
    licences = ", ".join(lic.get("title") or lic.get("name", "") for lic in meta.get("licenses", []))
    st.divider()
    st.caption(
        f"{upload.dataset_line(ctx.tables, str(meta.get('version', '?')))}. Sources: {sources}. "
        f"Extracted facts licensed {licences or 'as stated in datapackage.json'}."
    )
    with st.expander("Cite this view", icon=":material/format_quote:"):
        text, bibtex = export.view_citation(
            str(meta.get("title", "RANKL Atlas")),
            str(meta.get("version", "")),
            view_url(ctx),
            ctx.filters.describe(),
            date.today().isoformat(),
        )
        st.text(text)
        st.code(bibtex, language="bibtex", wrap_lines=True)
        st.caption(
            "Cite the original studies for their results: RIS and BibTeX of the filtered studies are under "
            "*Download exactly these rows* on the Studies, Evidence map and Concentrations pages."
        )


@st.cache_data(max_entries=4, show_spinner=False)
def _cached_search_logs(folder: str, version: str):
    return load_search_logs(Path(folder))


def search_logs(ctx: Context):
    """The search logs of the data folder in use (cached per folder and file times), or None."""
    search = ctx.folder / "search"
    stamp = "|".join(f"{p.name}:{p.stat().st_mtime_ns}" for p in sorted(search.glob("*"))) if search.exists() else ""
    return _cached_search_logs(str(ctx.folder), stamp)


def search_file_download(ctx: Context, name: str, label_text: str, mime: str) -> None:
    """A download button for one file of data/search (protocol or a log)."""
    path = ctx.folder / "search" / name
    if path.exists():
        st.download_button(
            label_text,
            path.read_bytes(),
            file_name=f"rankl-atlas_search_{name}",
            mime=mime,
            on_click="ignore",
            key=f"search_{name}",
        )


def changelog_text(ctx: Context) -> str:
    """The dataset's CHANGELOG.md from the data folder in use."""
    path = ctx.folder / "CHANGELOG.md"
    if not path.exists():
        return "No changelog in this data folder."
    lines = path.read_text(encoding="utf-8").splitlines()
    return "\n".join(lines[1:] if lines and lines[0].startswith("# ") else lines)  # the page has its own heading
