"""The page list, in one place: each page's module, title, icon, URL path, heading and URL parameters.

The router (app.py), the sidebar, the URL parser, the AppTest harness, the browser tests and the benchmarks read
this list; adding a page is one module with a ``render(ctx)`` function and one ``PageInfo`` line.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageInfo:
    """One page: key, module (a ``render(ctx)`` function), title, icon, URL path ('' for the home page), the
    heading it shows first, and the URL parameters it owns (besides the shared filters)."""

    key: str
    module: str
    title: str
    icon: str
    url_path: str
    heading: str
    params: tuple[str, ...] = ()


PAGES: tuple[PageInfo, ...] = (
    PageInfo("overview", "app_pages.overview", "Overview", ":material/home:", "", "RANKL Atlas"),
    PageInfo("evidence_map", "app_pages.evidence_map", "Evidence map", ":material/grid_view:", "evidence-map",
             "Evidence map", ("view", "shown")),
    PageInfo("concentrations", "app_pages.concentrations", "Concentrations", ":material/science:", "concentrations",
             "Reported concentrations", ("tab",)),
    PageInfo("studies", "app_pages.studies", "Studies", ":material/menu_book:", "studies", "Studies", ("study",)),
    PageInfo("synthesis", "app_pages.synthesis", "Synthesis", ":material/functions:", "synthesis", "Synthesis",
             ("method", "hk", "spread", "derived", "skewed", "tab", "question", "harvest_family")),
    PageInfo("assays", "app_pages.assays", "Assays", ":material/biotech:", "assays", "Assays"),
    PageInfo("your_data", "app_pages.your_data", "Your data", ":material/upload_file:", "your-data", "Your data"),
    PageInfo("about", "app_pages.about", "About the data", ":material/info:", "about", "About the data"),
)  # fmt: skip
PAGE_BY_KEY = {page.key: page for page in PAGES}
#: The heading each page shows first (its st.title), for tests.
PAGE_HEADINGS = {page.key: page.heading for page in PAGES}
#: Every URL parameter a page owns (not a filter); the URL parser keeps them for their page.
PAGE_PARAMS = frozenset(param for page in PAGES for param in page.params)
