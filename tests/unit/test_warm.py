"""The warm-up opens every page's default view and each Synthesis section; the shipped config keeps new sessions
cheap (no file watcher)."""

from __future__ import annotations

import importlib.util
import sys
import tomllib

from app_pages.synthesis import SECTIONS
from rankl_atlas.navigation import PAGES
from tests.conftest import ROOT
from tests.e2e.conftest import free_port
from tests.unit.test_loadgen import run_async

_spec = importlib.util.spec_from_file_location("warm", ROOT / "deploy" / "warm.py")
warm = importlib.util.module_from_spec(_spec)
sys.modules["warm"] = warm  # dataclasses look their module up
_spec.loader.exec_module(warm)


def test_the_warm_up_opens_every_page_and_every_synthesis_section():
    views = warm.views()
    assert [path for path, query in views if not query] == [page.url_path for page in PAGES]
    assert tuple(SECTIONS) == warm.SYNTHESIS_TABS  # the page's own sections, by their ?tab= code
    assert ("synthesis", "tab=mirror") in views and (
        "synthesis",
        "tab=answers",
    ) not in views  # the first is the default
    assert len(views) == len(PAGES) + len(SECTIONS) - 1


def test_a_server_that_is_not_there_is_reported_not_raised():
    opened = run_async(warm.open_view(f"http://127.0.0.1:{free_port()}", "synthesis", "tab=mirror", timeout=5))
    assert opened.url.endswith("/synthesis?tab=mirror")
    assert opened.problem.startswith("could not connect")


def test_the_shipped_config_turns_streamlits_file_watcher_off():
    """With it on, every new session scanned every loaded module before its first run: 50 viewers opening a link
    at once waited 12.2 s instead of 0.85 s (benchmarks/opens.py, docs/load.md "Opening")."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["fileWatcherType"] == "none"
