"""RANKL Atlas: the router. Page config, the dataset, the shared sidebar filters, the page list, the footer."""

from importlib import import_module
from pathlib import Path

import streamlit as st

from rankl_atlas import ui
from rankl_atlas.navigation import PAGES, PageInfo

st.set_page_config(page_title="RANKL Atlas", page_icon="🦴", layout="wide")


def page_of(info: PageInfo, run: dict) -> st.Page:
    """An st.Page whose body is the page module's render(ctx), handed this run's context."""

    def render() -> None:
        import_module(info.module).render(run["context"])

    render.__name__ = info.key  # st.Page names a callable page by its function
    return st.Page(render, title=info.title, icon=info.icon, url_path=info.url_path or None, default=not info.url_path)


run: dict = {}
pages = {info.key: page_of(info, run) for info in PAGES}
page = st.navigation(list(pages.values()))
tables, metadata, folder = ui.load_dataset(Path(__file__).parent / "data")
run["context"] = ui.sidebar_filters(tables, metadata, folder, pages)
page.run()
ui.finish_run(run["context"])
