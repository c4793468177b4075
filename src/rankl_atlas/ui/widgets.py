"""Widgets every page uses: tables with reader labels, charts with captions and downloads, page choices kept in the URL."""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from datetime import date
from functools import partial

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pyarrow as pa
import streamlit as st
from streamlit import dataframe_util

from rankl_atlas import export, figures, upload
from rankl_atlas import tables as atlas_tables
from rankl_atlas.filters import (
    year_bounds,
)
from rankl_atlas.ui.footer import view_url
from rankl_atlas.ui.state import (
    Context,
    _reset_filters,
    init_from_url,
    keep_in_url,
    lazy_expander,
    page_param,
    write_url,
)
from rankl_atlas.validation import Issue, issues_frame

STUDIES_COLUMN_CONFIG = {
    "study": st.column_config.TextColumn("Study", width="medium"),
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


# st.plotly_chart encodes each figure with plotly.io.to_json on every rerun. Plotly picks orjson when it is
# installed, and its orjson path first walks the whole figure in Python: 0.69 ms against 0.28 ms for the standard
# library's C encoder on the Overview's chart (measured in this round); the standard encoder is kept either way.
pio.json.config.default_engine = "json"

PLOTLY_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


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


def url_tabs(param: str, tabs: dict[str, str]) -> dict[str, object]:
    """Tabs for a page's sections (code → label; the first is the default), of which only the open one is drawn
    (``if tab.open: with tab: ...``): what no reader sees costs no work on every viewer's rerun, and the browser
    draws one section's charts, not all. The open tab starts from the URL and is kept in it (when not the first),
    so a shared link opens the same section. Switching tabs reruns the page."""
    codes, labels = list(tabs), list(tabs.values())
    if param not in st.session_state:
        code = page_param(param, codes)
        if code:
            st.session_state[param] = tabs[code]
    containers = st.tabs(labels, key=param, on_change="rerun")
    shown = st.session_state.get(param)
    code = next((c for c, label in tabs.items() if label == shown), codes[0])
    keep_in_url(param, code if code != codes[0] else None)
    return dict(zip(codes, containers, strict=True))


#: A shown frame's reader form (Arrow table and column headers), by the frame's identity, dropped with the frame.
_READER_FORMS: dict[int, tuple[pa.Table, dict]] = {}


def _reader_form(frame: pd.DataFrame) -> tuple[pa.Table, dict]:
    """The frame as the reader sees it (labels for codes, blank empty cells) in Arrow form, with its headers.
    A frame shared by every session (ui.shared) is converted once, not on every rerun (pandas → Arrow was ≈ 25 ms
    of the Synthesis page's rerun); shared frames are read-only, so its identity stands for its content."""
    key = id(frame)
    form = _READER_FORMS.get(key)
    if form is None:
        shown = dataframe_util.convert_pandas_df_to_arrow_table(atlas_tables.for_reader(frame), preserve_index=False)
        headers = {c: st.column_config.Column(atlas_tables.column_label(c)) for c in frame.columns}
        form = _READER_FORMS[key] = (shown, headers)
        weakref.finalize(frame, _READER_FORMS.pop, key, None)
    return form


def table(
    frame: pd.DataFrame | Callable[[], pd.DataFrame], ctx: Context | None = None, *, depends_on: tuple = (), **kwargs
):
    """A read-only table: full width, no index, empty cells blank (not 'None'), headers and codes as a reader's
    labels (a page's own column_config wins). Given a builder and the context, the table is built once per filter
    state and page choices (depends_on) and shared by every viewer, like a chart."""
    if callable(frame):
        frame = shared(ctx, f"table:{kwargs['key']}", frame, depends_on)
    shown, headers = _reader_form(frame)
    given = kwargs.pop("column_config", None) or {}
    return st.dataframe(
        shown,
        **{"hide_index": True, "width": "stretch", "placeholder": "", "column_config": {**headers, **given}, **kwargs},
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


@st.cache_resource(max_entries=512, show_spinner=False)
def _shared(key: str, filters: str, version: str, depends_on: str, _build: Callable[[], object]) -> object:
    return _build()


def shared(ctx: Context, key: str, build: Callable[[], object], depends_on: tuple = ()) -> object:
    """What a page element shows for this filter state (a figure, a pooled table), built once per element, filter
    state, page choices (depends_on) and data version, and shared by every session; a session keeps none of it.
    A visitor's own uploaded rows are theirs alone: then it is built for this run only. The result is read-only.
    """
    if ctx.tables is not ctx.atlas:
        return build()
    # The cache key is made of strings: Streamlit hashes a dataclass argument by pickling it (≈ 1–4 ms a call).
    # Filters, Settings and the page choices are frozen dataclasses and strings, whose repr is their content.
    return _shared(key, repr(ctx.filters), ctx.version, repr(tuple(depends_on)), build)


def chart(
    fig: go.Figure | Callable[[], go.Figure],
    ctx: Context,
    *,
    key: str,
    alt: str,
    data: pd.DataFrame | Callable[[], pd.DataFrame],
    title: str | None = None,
    on_select=None,
    follows_filters: bool = True,
    depends_on: tuple = (),
    **kwargs,
):
    """A Plotly chart with a caption of the active filters, figure downloads (SVG, 300-dpi PNG) and its data
    table, which is built only when the reader asks for it. Given a builder (a function returning the figure),
    the figure is built once per filter state and page choices (depends_on) and shared by every viewer."""
    if callable(fig):
        build = fig
        fig = shared(ctx, key, lambda: figures.frozen(build()), depends_on)
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
    show = st.toggle("Show the data behind this chart", key=f"{key}_show_data")
    # The menu opens and closes in the browser, without a rerun: its buttons are drawn on every run and each file is
    # made only when its button is clicked. A menu drawn only when opened (a rerun on open and on close) left, when a
    # reader closed and reopened it quickly, the previous run's buttons on screen, whose files the server had
    # already dropped: the click downloaded nothing (seen under load; docs/load.md, *Figure downloads under load*).
    title = title or alt.split(". ")[0].rstrip(".")
    source = f"Source: RANKL Atlas dataset v{ctx.metadata.get('version', '?')}, {view_url(ctx)}"
    with st.popover("Download figure", icon=":material/download:", key=f"{key}_downloads"):
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
    box = lazy_expander("Download exactly these rows", f"open_{key}_downloads")
    if not box.open:  # its buttons are drawn only when the reader opens it
        return
    with box:
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


def issues_table(issues: list[Issue]) -> pd.DataFrame:
    """Bad cells as a table for display."""
    return issues_frame(issues)


def csv_bytes(frame: pd.DataFrame):
    """CSV bytes for a download (formulas made inert), made only when the button is clicked."""
    return partial(export.to_csv_bytes, frame)
