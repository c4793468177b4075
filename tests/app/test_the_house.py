"""The house: a page, a chart and a filter are each added where docs/architecture.md says, in one place."""

from __future__ import annotations

from rankl_atlas import navigation
from rankl_atlas.filters import FILTER_SPECS, MultiChoice
from tests.app.conftest import run_app, switch_to
from tests.conftest import ROOT


def test_adding_a_page_and_a_chart_takes_one_pageinfo_line_and_one_render_function(monkeypatch):
    example = navigation.PageInfo(
        "example", "tests.app.example_page", "Example", ":material/star:", "example", "Example page", ("demo",)
    )
    pages = (*navigation.PAGES, example)
    monkeypatch.setattr(navigation, "PAGES", pages)
    monkeypatch.setattr(navigation, "PAGE_BY_KEY", {p.key: p for p in pages})
    monkeypatch.setattr(navigation, "PAGE_HEADINGS", {p.key: p.heading for p in pages})
    at = run_app(check_title=False, query={"disease": ["osteoporosis"]})
    switch_to(at, "example").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Example page"]
    assert len(at.get("plotly_chart")) == 1  # the chart, drawn by ui.chart with its caption of the filters
    assert any("Studies per kind (test-only chart). Filters: Disease: Osteoporosis" in c.value for c in at.caption)


def test_no_module_of_the_app_imports_the_build_and_only_ui_imports_streamlit():
    import ast
    from pathlib import Path

    src = Path(navigation.__file__).parent
    for path in src.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            node.module if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        runtime = path.name not in {"build.py", "importers.py", "synthetic.py", "__main__.py"}
        if runtime:
            assert "rankl_atlas.build" not in imported, path
        if "ui" not in path.parts:
            assert not any(str(m).startswith("streamlit") for m in imported), path


def test_every_filter_is_one_registry_line_of_a_kind_class():
    assert all(isinstance(spec, MultiChoice) or type(spec).__name__ in {"YearRange", "Toggle"} for spec in FILTER_SPECS)


def test_the_overview_opens_without_importing_scipys_statistics():
    """A cold start (Community Cloud wakes the app for its first visitor) imports what the first page needs: SciPy's
    statistics and statsmodels' meta-analysis are imported where pooling and tests run (≈ 0.3 s of the 1.6 s of
    imports measured on this machine)."""
    import subprocess
    import sys

    code = (
        "import sys, app_pages.overview, rankl_atlas.ui; "
        "print(sorted(m for m in ('scipy.stats', 'statsmodels.stats.meta_analysis', 'statsmodels.api') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"
