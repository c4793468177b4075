"""`make serve`: two Streamlit processes behind Debian's nginx, sessions sticky by cookie, stopped cleanly."""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

import psutil
import pytest

from rankl_atlas import upload
from tests.conftest import ROOT
from tests.e2e.conftest import app_errors, count_text, free_port, is_probe, open_page, wait_for_app

_spec = importlib.util.spec_from_file_location("serve", ROOT / "deploy" / "serve.py")
serve = importlib.util.module_from_spec(_spec)
sys.modules["serve"] = serve  # dataclasses look their module up
_spec.loader.exec_module(serve)
_spec = importlib.util.spec_from_file_location("warm", ROOT / "deploy" / "warm.py")
warm = importlib.util.module_from_spec(_spec)
sys.modules["warm"] = warm
_spec.loader.exec_module(warm)

pytestmark = pytest.mark.e2e


def choose_disease(tab, label: str) -> None:
    box = tab.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").first
    box.click()
    tab.keyboard.type(label)
    tab.keyboard.press("Enter")
    tab.keyboard.press("Escape")
    wait_for_app(tab)


def get(url: str, cookie: str | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        cookies = dict(c.split(";")[0].split("=", 1) for c in response.headers.get_all("Set-Cookie") or [])
        return response.status, response.read().decode(), cookies


def served_by(access_log: Path) -> dict[str, set[str]]:
    """Sticky id -> the worker addresses that served its requests, from nginx's access log."""
    seen = defaultdict(set)
    for line in access_log.read_text().splitlines():
        m = re.search(r"upstream=(\S+) sticky=(\S+)", line)
        if m and m.group(1) != "-":
            seen[m.group(2)].add(m.group(1))
    return seen


def test_two_workers_behind_nginx_serve_sticky_sessions_and_stop_cleanly(browser, tmp_path):
    assert serve.find_nginx() is not None, serve.NGINX_HELP  # never skipped: .ci/run installs Debian's nginx
    port, run_dir = free_port(), tmp_path / "run"
    log = (tmp_path / "serve.log").open("w")
    launcher = subprocess.Popen(
        [sys.executable, str(ROOT / "deploy" / "serve.py"), "--workers", "2", "--port", str(port),
         "--address", "127.0.0.1", "--run-dir", str(run_dir), "--access-log"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    procs: list[psutil.Process] = []
    contexts = []
    try:
        deadline = time.monotonic() + 150
        while not (run_dir / "serve.json").exists():
            assert launcher.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "not started in 150 s:\n" + (tmp_path / "serve.log").read_text()
            time.sleep(0.3)
        state = json.loads((run_dir / "serve.json").read_text())
        procs = [psutil.Process(launcher.pid), *psutil.Process(launcher.pid).children(recursive=True)]
        assert len(state["workers"]) == 2 and len({w["port"] for w in state["workers"]}) == 2
        url = f"http://127.0.0.1:{port}"

        # Every page's default view is opened once on each worker in the background (13 views each).
        views = len(warm.views())
        while (
            f"warm-up: opened {2 * views} of {2 * views} views on 2 process(es)"
            not in (tmp_path / "serve.log").read_text()
        ):
            assert "warm-up: opened" not in (tmp_path / "serve.log").read_text(), (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline + 120, "no warm-up:\n" + (tmp_path / "serve.log").read_text()
            time.sleep(0.3)

        # Health through the proxy; a browser without the cookie gets one.
        status, body, cookies = get(f"{url}/_stcore/health")
        assert (status, body) == (200, "ok") and re.fullmatch(r"[0-9a-f]{32}", cookies[serve.COOKIE])
        for w in state["workers"]:
            assert get(f"http://127.0.0.1:{w['port']}/_stcore/health")[:2] == (200, "ok")
        # New browsers are spread over both workers; one cookie always reaches the same worker.
        for _ in range(16):
            get(f"{url}/_stcore/health")
        sticky = f"{serve.COOKIE}=0123456789abcdef0123456789abcdef"
        for _ in range(8):
            get(f"{url}/_stcore/host-config", cookie=sticky)

        # Streamlit's largest script, from nginx: gzip to a client that accepts it, the same bytes as the package's.
        plotly = next((serve.streamlit_static_dir() / "static" / "js").glob("PlotlyChart.*.js"))
        script_url = f"{url}/static/js/{plotly.name}"
        with urllib.request.urlopen(urllib.request.Request(script_url, headers={"Accept-Encoding": "gzip"})) as r:
            assert r.headers["Content-Encoding"] == "gzip" and "immutable" in r.headers["Cache-Control"]
            packed = r.read()
        assert gzip.decompress(packed) == plotly.read_bytes() and len(packed) < plotly.stat().st_size / 2
        with urllib.request.urlopen(script_url) as r:
            assert r.headers["Content-Encoding"] is None and r.read() == plotly.read_bytes()

        # Two browsers, each with its own working session: the page loads, a filter change reruns.
        contexts = [browser.new_context(viewport={"width": 1280, "height": 800}) for _ in range(2)]
        tabs = [c.new_page() for c in contexts]
        for tab in tabs:
            tab.console_errors, tab.failed_responses = [], []
            tab.on("console", lambda m, t=tab: m.type == "error" and t.console_errors.append(m.text))
            tab.on("pageerror", lambda exc, t=tab: t.console_errors.append(f"pageerror: {exc}"))
            tab.on(
                "response",
                lambda r, t=tab: r.status >= 400 and not is_probe(r.url) and t.failed_responses.append(r.url),
            )
            open_page(tab, url)
            assert "Filters keep" in count_text(tab)
        before = count_text(tabs[0])
        choose_disease(tabs[0], "Multiple myeloma")
        tabs[0].wait_for_function("() => window.location.search.includes('disease=multiple_myeloma')")
        tabs[0].wait_for_function(f"() => !document.body.innerText.includes({before!r})")
        assert count_text(tabs[0]) != before
        assert count_text(tabs[1]) == before  # the other browser's session is untouched
        # An upload reaches the process that holds the session only if the proxy is sticky.
        csv = tmp_path / "mine.csv"
        csv.write_bytes(upload.template_csv())
        open_page(tabs[1], f"{url}/your-data")
        with tabs[1].expect_file_chooser() as chooser:
            tabs[1].locator("[data-testid='stFileUploader'] button").first.click()
        chooser.value.set_files(str(csv))
        tabs[1].get_by_text("Your rows in this session", exact=False).first.wait_for(timeout=30_000)
        cookie_values = [{c["name"]: c["value"] for c in ctx.cookies()}.get(serve.COOKIE) for ctx in contexts]
        assert None not in cookie_values and cookie_values[0] != cookie_values[1]
        for tab in tabs:
            assert tab.locator("[data-testid='stException']").count() == 0
            assert app_errors(tab) == []

        # Stop while both browsers are still connected, as Ctrl+C on a live server would.
        t0 = time.monotonic()
        launcher.send_signal(signal.SIGTERM)
        code = launcher.wait(60)
        stop_seconds = time.monotonic() - t0
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait(10)
        for c in contexts:
            c.close()
        log.close()
    assert code == 0, (tmp_path / "serve.log").read_text()
    assert "stopped" in (tmp_path / "serve.log").read_text()
    assert stop_seconds < 20, f"stopping took {stop_seconds:.1f} s"
    gone, alive = psutil.wait_procs(procs, timeout=5)
    assert not alive, f"left running: {[p.pid for p in alive]}"
    assert len(procs) >= 4  # launcher, nginx master and worker, two Streamlit processes
    assert not (run_dir / "serve.json").exists()

    # Streamlit's scripts came from nginx itself (no upstream), and the page worked with them (checked above).
    scripts = [line for line in (run_dir / "nginx-access.log").read_text().splitlines() if "GET /static/js/" in line]
    assert scripts and all(" 200 " in line and "upstream=- " in line for line in scripts), scripts[:3]
    seen = served_by(run_dir / "nginx-access.log")
    assert all(len(addresses) == 1 for addresses in seen.values()), seen  # sticky: one worker per browser
    worker_addresses = {f"127.0.0.1:{w['port']}" for w in state["workers"]}
    assert set().union(*seen.values()) == worker_addresses  # both workers took browsers
    assert seen["0123456789abcdef0123456789abcdef"] and all(v in seen for v in cookie_values)
