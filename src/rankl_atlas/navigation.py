"""The page list, in one place: the router, the tests and the benchmarks read it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageInfo:
    """One page: a short key, its script (relative to app.py), title, icon and URL path ('' for the home page)."""

    key: str
    script: str
    title: str
    icon: str
    url_path: str


PAGES: tuple[PageInfo, ...] = (
    PageInfo("overview", "app_pages/overview.py", "Overview", ":material/home:", ""),
    PageInfo("evidence_map", "app_pages/evidence_map.py", "Evidence map", ":material/grid_view:", "evidence-map"),
    PageInfo("concentrations", "app_pages/concentrations.py", "Concentrations", ":material/science:", "concentrations"),
    PageInfo("studies", "app_pages/studies.py", "Studies", ":material/menu_book:", "studies"),
    PageInfo("synthesis", "app_pages/synthesis.py", "Synthesis", ":material/functions:", "synthesis"),
    PageInfo("assays", "app_pages/assays.py", "Assays", ":material/biotech:", "assays"),
    PageInfo("your_data", "app_pages/your_data.py", "Your data", ":material/upload_file:", "your-data"),
    PageInfo("about", "app_pages/about.py", "About the data", ":material/info:", "about"),
)
#: The heading each page shows first (its st.title), for tests.
PAGE_HEADINGS = {
    "overview": "RANKL Atlas",
    "evidence_map": "Evidence map",
    "concentrations": "Reported concentrations",
    "studies": "Studies",
    "synthesis": "Synthesis",
    "assays": "Assays",
    "your_data": "Your data",
    "about": "About the data",
}
