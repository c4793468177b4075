"""Streamlit Community Cloud readiness: install only from requirements.txt, then every page loads."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from rankl_atlas.navigation import PAGES as NAV_PAGES
from tests.conftest import ROOT
from tests.e2e.conftest import app_errors, open_page, start_server, stop_server

PAGES = [p.url_path for p in NAV_PAGES]


def copy_of_repository(target):
    """The repository as Community Cloud would clone it (no virtual env, caches or build leftovers)."""
    ignore = shutil.ignore_patterns(
        ".venv", ".git", "__pycache__", "*.egg-info", ".pytest_cache", ".ruff_cache", "build", "tmp"
    )
    shutil.copytree(ROOT, target, ignore=ignore)
    return target


@pytest.mark.e2e
@pytest.mark.slow
def test_fresh_environment_from_requirements_txt_serves_every_page(tmp_path, page):
    repo = copy_of_repository(tmp_path / "repo")
    venv = tmp_path / "cloud-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "-r", "requirements.txt"], cwd=repo, capture_output=True, text=True
    )
    assert install.returncode == 0, install.stderr[-3000:]
    # the app must import its package from the installed environment, not from a source path
    probe = subprocess.run([python, "-c", "import rankl_atlas, sys; print(rankl_atlas.__file__)"], cwd=repo,
                           capture_output=True, text=True, check=True)  # fmt: skip
    assert str(venv) in probe.stdout
    server = start_server(tmp_path, python=python, cwd=repo)
    try:
        for path in PAGES:
            open_page(page, f"{server.url}/{path}")
            assert page.locator("[data-testid='stException']").count() == 0, path
            assert "The dataset cannot be loaded" not in page.inner_text("body"), path
        assert app_errors(page) == []
    finally:
        stop_server(server)
