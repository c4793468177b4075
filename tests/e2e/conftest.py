"""Browser harness: a real Streamlit server on a free loopback port, driven by Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from streamlit.proto import BackMsg_pb2

from tests.conftest import ROOT

CHROMIUM_HELP = (
    "Chromium not found: the browser tests need it. Install it with `apt-get install chromium` "
    "(Debian/Ubuntu), or set RANKL_ATLAS_CHROMIUM to a Chromium or Chrome binary."
)
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def find_chromium() -> str | None:
    """The Chromium binary: $RANKL_ATLAS_CHROMIUM, /usr/bin/chromium, or one on PATH."""
    candidates = [os.environ.get("RANKL_ATLAS_CHROMIUM"), "/usr/bin/chromium"]
    candidates += [shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")]
    return next((c for c in candidates if c and Path(c).exists()), None)


def pytest_collection_modifyitems(config, items):
    """Fail the whole run, never skip, when browser tests are collected and no Chromium exists."""
    if any("/e2e/" in str(item.fspath) for item in items) and find_chromium() is None:
        raise pytest.UsageError(CHROMIUM_HELP)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running `streamlit run app.py` and its base URL."""

    url: str
    process: subprocess.Popen
    log: Path
    env: dict = field(default_factory=dict)


def start_server(
    log_dir: Path,
    env: dict | None = None,
    python: str = sys.executable,
    cwd: Path = ROOT,
    script: str = "app.py",
    extra_args: tuple[str, ...] = (),
) -> Server:
    """Start the app (or another Streamlit script) headless on a free loopback port and wait for /_stcore/health,
    with the repository's .streamlit/config.toml (what ships) and any extra `streamlit run` flags."""
    port = free_port()
    log = log_dir / f"streamlit-{port}.log"
    full_env = {**os.environ, **(env or {})}
    process = subprocess.Popen(
        [python, "-m", "streamlit", "run", script, "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", *extra_args],
        cwd=cwd, env=full_env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Streamlit exited early; log:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return Server(url, process, log, env or {})
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"Streamlit did not become healthy in 60 s; log:\n{log.read_text()}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    """One server on the bundled dataset for the whole session."""
    running = start_server(tmp_path_factory.mktemp("server"))
    yield running
    stop_server(running)


@pytest.fixture
def fresh_server(tmp_path) -> Iterator[Server]:
    """A newly started server whose first request is the test's."""
    running = start_server(tmp_path)
    yield running
    stop_server(running)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=find_chromium(), args=LAUNCH_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def page(browser: Browser, request, tmp_path) -> Iterator[Page]:
    """A fresh browser context at 1280x800; console errors are collected, and on failure a screenshot
    and the console log are saved under the test's tmp dir."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    tab = context.new_page()
    tab.console_errors = []
    tab.console_log = []
    tab.on("console", lambda msg: tab.console_log.append(f"{msg.type}: {msg.text}"))
    tab.on("console", lambda msg: msg.type == "error" and tab.console_errors.append(msg.text))
    tab.on("pageerror", lambda exc: tab.console_errors.append(f"pageerror: {exc}"))
    tab.failed_responses = []
    tab.on(
        "response",
        lambda r: r.status >= 400 and not is_probe(r.url) and tab.failed_responses.append(f"{r.status} {r.url}"),
    )
    yield tab
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        tab.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
        (tmp_path / "console.log").write_text("\n".join(tab.console_log), encoding="utf-8")
        print(f"\nScreenshot and console log saved in {tmp_path}")
    context.close()


def wait_for_app(tab: Page, timeout: float = 30_000) -> None:
    """Wait until the script has finished running and the page is rendered."""
    tab.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)
    tab.wait_for_timeout(300)
    tab.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)


def open_page(tab: Page, url: str) -> None:
    tab.goto(url)
    wait_for_app(tab)


def rerun_requests(tab: Page) -> list[str]:
    """A list that grows each time the page asks the server to rerun its script (a BackMsg rerun_script on the
    page's websocket). Call before the page is opened."""
    sent: list[str] = []

    def watch(socket) -> None:
        def frame(payload) -> None:
            if isinstance(payload, bytes):
                message = BackMsg_pb2.BackMsg()
                message.ParseFromString(payload)
                if message.HasField("rerun_script"):
                    sent.append(message.rerun_script.query_string)

        socket.on("framesent", frame)

    tab.on("websocket", watch)
    return sent


def count_text(tab: Page) -> str:
    """The 'Filters keep N of M studies ...' caption."""
    return tab.get_by_text("Filters keep", exact=False).first.inner_text()


#: Streamlit's frontend probes /<page>/_stcore/... before the base path; those 404s are expected.
PROBES = ("/_stcore/health", "/_stcore/host-config")
#: Failed loads are checked by HTTP status in failed_responses (which names the URL); the console line does not.
BENIGN_CONSOLE = ("Failed to load resource",)


def is_probe(url: str) -> bool:
    return url.endswith(PROBES)


def app_errors(tab: Page) -> list[str]:
    """Console errors and failed HTTP responses caused by the app (not by the sandbox's lack of internet)."""
    console = [m for m in tab.console_errors if not any(b in m for b in BENIGN_CONSOLE)]
    return console + tab.failed_responses
