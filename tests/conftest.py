"""Shared test setup: paths, a tiny synthetic dataset, and the rule that no test may be skipped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from rankl_atlas.build import build, content_hash

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
SOURCE = DATA / "source"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = terminalreporter.stats.get("skipped", [])
    if skipped:
        terminalreporter.write_line(
            f"FAILED: {len(skipped)} test(s) were skipped; every test, browser tests included, must run.",
            red=True,
        )


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped") and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def copy_sources(target: Path) -> Path:
    """A copy of the curated sources in target/source, for tests that break or extend them."""
    source = target / "source"
    shutil.copytree(SOURCE, source)
    return source


@pytest.fixture
def built_copy(tmp_path: Path) -> Path:
    """A data folder built from a copy of the curated sources (folder with source/ and *.parquet)."""
    copy_sources(tmp_path)
    build(tmp_path / "source", tmp_path)
    shutil.copy(DATA / "CHANGELOG.md", tmp_path / "CHANGELOG.md")
    return tmp_path


def edit_csv(path: Path, row: int | None, column: str, value: str) -> None:
    """Set one cell (row is 0-based data row; None = append a copy of the last row with that change)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if row is None:
        frame = pd.concat([frame, frame.tail(1)], ignore_index=True)
        row = len(frame) - 1
    frame.loc[row, column] = value
    frame.to_csv(path, index=False, lineterminator="\n")


def record_hashes(folder: Path) -> None:
    """Record the Parquet files' current content hashes in datapackage.json, as a build of these files would:
    for tests that edit a built file to break a rule, not to mix two builds."""
    path = folder / "datapackage.json"
    package = json.loads(path.read_text(encoding="utf-8"))
    for resource in package["resources"]:
        resource["hash"] = content_hash((folder / resource["path"]).read_bytes())
    path.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
