"""Provenance at the foot of every page: dataset line, sources, licence, Cite this view; the search logs."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import streamlit as st

from rankl_atlas import export, upload
from rankl_atlas.data import (
    load_search_logs,
)
from rankl_atlas.ui.state import Context, StateKey, lazy_expander, write_url


def finish_run(ctx: Context) -> None:
    """After the page: write the URL and draw the footer."""
    write_url(ctx)
    footer(ctx)


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
    cite = lazy_expander("Cite this view", "open_citation", icon=":material/format_quote:")
    if not cite.open:  # the citation is written only when the reader opens it
        return
    with cite:
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
            path.read_bytes,  # read when asked for
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
