"""Benchmarks of the RANKL Atlas at 1×, 100× and 1000× the bundled data (issue 6).

Run: .venv/bin/python benchmarks/run.py [--quick] [--out FILE]

Measures (medians over repeated runs; the repeat counts are printed and written with the results):
  (a) Parquet load + validation (`load_tables`) per scale;
  (b) every page's full server-side run with streamlit.testing.v1.AppTest (warm reruns, the data cache filled by
      the first run) under default filters and a narrow filter (?disease=rheumatoid_arthritis), and the same for
      benchmarks/reference_app.py, a page with one small Plotly chart: the floor;
  (c) in headless Chromium, the time from changing the first sidebar multiselect (disease) to the updated chart
      on screen, on every page that draws a chart, at 1× and 1000×;
  (d) server RSS (with child processes) idle, with 1 and with N open browser sessions;
  (e) N concurrent browser sessions repeatedly changing filters for a bounded time: errors, p50/p95.

Only loopback traffic: the server listens on 127.0.0.1 and the browser opens nothing else.
The full run writes docs/benchmarks.md; --quick (fewer repeats, 5 sessions for 15 s) prints its report and writes
it to $TMPDIR/rankl-benchmarks-quick.md unless --out is given.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

import psutil  # noqa: E402
import streamlit as st  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from rankl_atlas.data import DATA_ENV, load_tables  # noqa: E402
from rankl_atlas.navigation import PAGES as NAV_PAGES  # noqa: E402
from rankl_atlas.schema import CONDITION_GROUP  # noqa: E402
from rankl_atlas.synthetic import write_synthetic  # noqa: E402
from tests.app.conftest import switch_to  # noqa: E402
from tests.e2e.conftest import (  # noqa: E402
    BENIGN_CONSOLE,
    LAUNCH_ARGS,
    find_chromium,
    is_probe,
    start_server,
    stop_server,
)

APP = ROOT / "app.py"
REFERENCE = ROOT / "benchmarks" / "reference_app.py"
NARROW = {"disease": "rheumatoid_arthritis"}
#: The disease chosen in the browser: it keeps rows on every chart page at 1×.
BROWSER_DISEASE = "juvenile_idiopathic_arthritis"
RUNNING = "[data-testid='stApp'][data-test-script-state='notRunning']"
SIDEBAR_MULTI = "[data-testid='stSidebar'] [data-testid='stMultiSelect']"
MB = 1024 * 1024
#: How often each tab checks whether its chart has updated (ms): the resolution of (c) and (e). Polling on every
#: animation frame instead costs so much renderer CPU with 20 tabs that it slows what it measures.
POLL_MS = 50

#: A fingerprint of what the first chart on the page shows (or of the notice that replaced it).
SIGNATURE_JS = """() => {
  const chart = document.querySelector("[data-testid='stPlotlyChart']");
  if (!chart) {
    const alert = document.querySelector("[data-testid='stMain'] [data-testid='stAlert']");
    return "no chart:" + (alert ? alert.textContent : "");
  }
  const texts = Array.from(chart.querySelectorAll(".xtick text, .ytick text, .legendtext, .textpoint text"))
    .map((e) => e.textContent).join("|");
  return chart.querySelectorAll("path, rect").length + ":" + texts;
}"""
#: True once the script has finished and the chart differs from `before`.
UPDATED_JS = (
    "(before) => { const app = document.querySelector(\"[data-testid='stApp']\");"
    " if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;"
    f" const now = ({SIGNATURE_JS})(); return now !== before; }}"
)

TARGETS = {
    "floor": "at 1× every page's server-side run within 2× the floor (reference page)",
    "page_1000": "at 1000× every page's server-side run ≤ 1 s",
    "chart_1000": "at 1000× filter-to-chart ≤ 1.5 s (median of each chart page)",
    "rss": "≤ 30 MB more server RSS per extra session",
    "load": "20 concurrent sessions with zero errors",
}


@dataclass(frozen=True)
class Config:
    scales: tuple[int, ...] = (1, 100, 1000)
    browser_scales: tuple[int, ...] = (1, 1000)
    load_repeats: int = 5
    page_repeats: int = 5
    floor_repeats: int = 15
    chart_repeats: int = 5  # select + deselect each time: 2 × this many changes per page
    #: A slow page stops repeating once its measured runs took this long (keeping at least min_repeats runs).
    page_budget_s: float = 60.0
    min_repeats: int = 3
    sessions: int = 20
    load_seconds: float = 60.0
    change_timeout_s: float = 60.0  # one session
    page_timeout_s: float = 180.0  # opening a page in Chromium
    load_change_timeout_s: float = 30.0  # under load


FULL = Config()
QUICK = Config(
    load_repeats=2, page_repeats=2, floor_repeats=5, chart_repeats=2, sessions=5, load_seconds=15.0, min_repeats=2
)


@dataclass
class Results:
    config: Config
    machine: dict[str, str] = field(default_factory=dict)
    generate_s: dict[int, float] = field(default_factory=dict)
    rows: dict[int, dict[str, int]] = field(default_factory=dict)
    load_s: dict[int, float] = field(default_factory=dict)
    floor_s: float = 0.0
    cold_s: dict[int, float] = field(default_factory=dict)
    pages_s: dict[tuple[int, str, str], float] = field(default_factory=dict)  # (scale, filter, page) -> median
    pages_n: dict[tuple[int, str, str], int] = field(default_factory=dict)  # how many runs the median is of
    chart_s: dict[tuple[int, str], list[float]] = field(default_factory=dict)  # (scale, page) -> each change
    chart_timeouts: dict[tuple[int, str], int] = field(default_factory=dict)
    page_open_s: dict[tuple[int, str], float] = field(default_factory=dict)  # (scale, page) -> seconds to open
    rss_mb: dict[int, dict[str, float]] = field(default_factory=dict)
    load: dict[int, dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# --- pages as app.py registers them ------------------------------------------------------------


@dataclass(frozen=True)
class PageInfo:
    key: str  # navigation key, e.g. overview
    url_path: str  # "" for the default page
    title: str

    @property
    def name(self) -> str:
        return self.key


def registered_pages(app: Path = APP) -> list[PageInfo]:
    """The pages app.py registers (rankl_atlas.navigation.PAGES), in order, with their URL paths."""
    return [PageInfo(p.key, p.url_path, p.title) for p in NAV_PAGES]


# --- machine -----------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    chromium = find_chromium() or "not found"
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
        commit = head.strip() + (" + uncommitted changes" if dirty.strip() else "")
    except OSError:
        commit = "unknown"
    return {
        "code": f"git {commit}",
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "RAM": f"{psutil.virtual_memory().total / 1024**3:.1f} GiB",
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "Streamlit": st.__version__,
        "Chromium": chromium,
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
    }


# --- (a) load + validate ------------------------------------------------------------------------


def bench_load(folder: Path, repeats: int) -> float:
    load_tables(folder)  # warm the OS file cache
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        load_tables(folder)
        times.append(time.perf_counter() - start)
    return median(times)


# --- (b) server-side page runs (AppTest) ----------------------------------------------------------


def timed_runs(at: AppTest, repeats: int, what: str, budget_s: float = math.inf, least: int = 1) -> list[float]:
    """Seconds of each warm rerun: `repeats` runs, fewer (at least `least`) once they took `budget_s` in total."""
    times: list[float] = []
    while len(times) < repeats and (len(times) < least or sum(times) < budget_s):
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
        if at.exception:
            raise RuntimeError(f"{what}: exception {[e.message for e in at.exception]}")
    return times


def bench_floor(repeats: int) -> float:
    at = AppTest.from_file(str(REFERENCE), default_timeout=120)
    at.run()  # first run imports plotly
    return median(timed_runs(at, repeats, "reference page"))


def bench_pages(folder: Path, scale: int, pages: list[PageInfo], repeats: int, results: Results) -> None:
    """Warm reruns of every page, default and narrow filters; the data cache is cleared once, before the first run."""
    os.environ[DATA_ENV] = str(folder)
    st.cache_data.clear()
    for label, query in (("default", {}), ("narrow", NARROW)):
        at = AppTest.from_file(str(APP), default_timeout=600)
        for key, value in query.items():
            at.query_params[key] = value
        start = time.perf_counter()
        at.run()
        if label == "default":
            results.cold_s[scale] = time.perf_counter() - start
        if at.exception:
            raise RuntimeError(f"{scale}× first run: {[e.message for e in at.exception]}")
        for page in pages:
            switch_to(at, page.key).run()  # the page's first run, not measured
            cfg = results.config
            times = timed_runs(at, repeats, f"{scale}× {page.name} ({label})", cfg.page_budget_s, cfg.min_repeats)
            results.pages_s[(scale, label, page.name)] = median(times)
            results.pages_n[(scale, label, page.name)] = len(times)
            print(f"    {scale}× {label:7} {page.name:15} {median(times) * 1000:8.0f} ms (median of {len(times)})")


# --- browser helpers ------------------------------------------------------------------------------


class Watch:
    """Collects a tab's console errors, uncaught exceptions and failed HTTP responses."""

    def __init__(self, tab):
        self.errors: list[str] = []
        tab.on("console", self._console)
        tab.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        tab.on("response", self._response)

    def _console(self, msg) -> None:
        if msg.type == "error" and not any(b in msg.text for b in BENIGN_CONSOLE):
            self.errors.append(f"console: {msg.text[:200]}")

    def _response(self, response) -> None:
        if response.status >= 400 and not is_probe(response.url):
            self.errors.append(f"HTTP {response.status} {response.url}")


async def wait_for_app(tab, timeout_s: float = 120) -> None:
    await tab.wait_for_selector(RUNNING, timeout=timeout_s * 1000)
    await tab.wait_for_timeout(300)
    await tab.wait_for_selector(RUNNING, timeout=timeout_s * 1000)


async def open_tab(browser, url: str, timeout_s: float = 120):
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    tab = await context.new_page()
    watch = Watch(tab)
    await tab.goto(url, timeout=timeout_s * 1000)
    await wait_for_app(tab, timeout_s)
    return context, tab, watch


async def change_and_wait(tab, action, timeout_s: float) -> float:
    """Seconds from the filter change (action) to the script finished with the chart changed."""
    before = await tab.evaluate(SIGNATURE_JS)
    start = time.perf_counter()
    await action()
    await tab.wait_for_function(UPDATED_JS, arg=before, timeout=timeout_s * 1000, polling=POLL_MS)
    return time.perf_counter() - start


async def toggle_disease(tab, disease_label: str, timeout_s: float) -> list[float]:
    """Select the disease in the first sidebar multiselect, then remove it again: two timed changes."""
    box = tab.locator(SIDEBAR_MULTI).first
    await box.locator("input").click()
    await tab.keyboard.type(disease_label)
    selected = await change_and_wait(tab, lambda: tab.keyboard.press("Enter"), timeout_s)
    await tab.keyboard.press("Escape")
    remove = box.get_by_role("button", name=f"Remove {disease_label}")
    cleared = await change_and_wait(tab, remove.click, timeout_s)
    return [selected, cleared]


async def page_errors(tab, watch: Watch) -> list[str]:
    shown = await tab.locator("[data-testid='stException']").count()
    return watch.errors + ([f"{shown} exception(s) shown on the page"] if shown else [])


def server_rss_mb(process: psutil.Process) -> float:
    total = 0
    for proc in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += proc.memory_info().rss
    return total / MB


# --- (c) filter-to-chart, (d) RSS, (e) load --------------------------------------------------------


async def bench_browser(folder: Path, scale: int, pages: list[PageInfo], cfg: Config, results: Results, logs: Path):
    """(d) RSS and (e) load with N sessions on the landing page, then (c) filter-to-chart in a fresh session."""
    env = {
        DATA_ENV: str(folder),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])),
    }
    server = start_server(logs, env=env, python=sys.executable, cwd=ROOT)
    disease_label = CONDITION_GROUP[BROWSER_DISEASE]
    try:
        process = psutil.Process(server.process.pid)
        async with async_playwright() as playwright:
            launch = dict(executable_path=find_chromium(), args=LAUNCH_ARGS, headless=True)
            browsers = [await playwright.chromium.launch(**launch) for _ in range(2)]
            results.machine["Chromium"] = f"{find_chromium()} ({browsers[0].version})"
            await asyncio.sleep(2)
            rss = {"idle": server_rss_mb(process)}

            # (d) sessions on the landing page, opened one after another
            opened = [await open_tab(browsers[0], server.url)]
            await asyncio.sleep(2)
            rss["1 session"] = server_rss_mb(process)
            for i in range(1, cfg.sessions):
                opened.append(await open_tab(browsers[i % 2], server.url))
            await asyncio.sleep(2)
            rss[f"{cfg.sessions} sessions"] = server_rss_mb(process)
            rss["per extra session"] = (rss[f"{cfg.sessions} sessions"] - rss["1 session"]) / max(1, cfg.sessions - 1)
            results.rss_mb[scale] = rss
            print(f"    {scale}× RSS " + ", ".join(f"{k} {v:.0f} MB" for k, v in rss.items()))

            # (e) the same sessions change filters concurrently for a bounded time
            results.load[scale] = await load_test(opened, disease_label, cfg, process)
            load = results.load[scale]
            print(
                f"    {scale}× load: {load['sessions']} sessions, {load['changes']} changes, {len(load['errors'])} "
                f"errors, p50 {load['p50'] * 1000:.0f} ms, p95 {load['p95'] * 1000:.0f} ms, CPU server "
                f"{load['server_cores']:.2f} / browsers {load['browser_cores']:.2f} cores"
            )
            for context, _, _ in opened:
                await context.close()
            await wait_until_idle(process)

            # (c) one fresh session, every page that draws a chart (opened through the sidebar, as a user does)
            await filter_to_chart(browsers[0], server.url, pages, disease_label, scale, cfg, results)
            for browser in browsers:
                await browser.close()
    finally:
        stop_server(server)


async def wait_until_idle(process: psutil.Process, limit_s: float = 180) -> None:
    """Wait (bounded) until the server has stopped working on runs of closed sessions."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        before = cpu_seconds([process])
        await asyncio.sleep(1)
        if cpu_seconds([process]) - before < 0.1:
            return


def cpu_seconds(roots: list[psutil.Process], exclude: set[int] = frozenset()) -> float:
    """User + system CPU seconds of processes and their descendants (those still alive)."""
    total = 0.0
    for root in roots:
        with contextlib.suppress(psutil.NoSuchProcess):
            for proc in [root, *root.children(recursive=True)]:
                if proc.pid in exclude:
                    continue
                with contextlib.suppress(psutil.NoSuchProcess):
                    times = proc.cpu_times()
                    total += times.user + times.system
    return total


async def goto_page(tab, page: PageInfo, timeout_s: float) -> None:
    """Open a page through the sidebar navigation (the session and its filters stay)."""
    await tab.locator("[data-testid='stSidebarNavLink']", has_text=page.title).first.click()
    if page.url_path:
        await tab.wait_for_url(f"**/{page.url_path}*", timeout=timeout_s * 1000)
    await wait_for_app(tab, timeout_s)


async def filter_to_chart(browser, url: str, pages: list[PageInfo], disease: str, scale: int, cfg: Config, results):
    """Toggle the disease filter on every page with a chart; a page stops early once it used its time budget.

    A page that does not finish within page_timeout_s is reported and the session replaced by a fresh one.
    """
    context, tab, watch = await open_tab(browser, url)
    for page in pages:
        start = time.perf_counter()
        try:
            await goto_page(tab, page, cfg.page_timeout_s)
        except Exception as err:  # noqa: BLE001 - a page that never finishes is a result, not a crash
            results.notes.append(
                f"{scale}× {page.name}: opening the page did not finish within {cfg.page_timeout_s:.0f} s in Chromium "
                f"({type(err).__name__}); no filter-to-chart figure for it."
            )
            results.chart_s[(scale, page.name)] = []
            print(f"    {scale}× filter-to-chart {page.name:15} page did not finish in {cfg.page_timeout_s:.0f} s")
            with contextlib.suppress(Exception):
                await asyncio.wait_for(context.close(), 30)
            context, tab, watch = await open_tab(browser, url)
            continue
        results.page_open_s[(scale, page.name)] = time.perf_counter() - start
        if await tab.locator("[data-testid='stPlotlyChart']").count() == 0:
            continue
        times: list[float] = []
        try:
            while len(times) < 2 * cfg.chart_repeats and (len(times) < 2 or sum(times) < cfg.page_budget_s):
                times += await toggle_disease(tab, disease, cfg.change_timeout_s)
        except Exception as err:  # noqa: BLE001 - a change that does not finish in time is reported, not fatal
            results.chart_timeouts[(scale, page.name)] = 1
            times.append(cfg.change_timeout_s)
            results.notes.append(
                f"{scale}× {page.name}: a filter change did not finish within {cfg.change_timeout_s:.0f} s "
                f"({type(err).__name__}); counted as ≥ {cfg.change_timeout_s:.0f} s and the page's other changes skipped."
            )
            with contextlib.suppress(Exception):
                await asyncio.wait_for(context.close(), 30)
            context, tab, watch = await open_tab(browser, url)
        results.chart_s[(scale, page.name)] = times
        print(f"    {scale}× filter-to-chart {page.name:15} median {median(times) * 1000:6.0f} ms of {len(times)}")
    errors = await page_errors(tab, watch)
    if errors:
        results.notes.append(f"{scale}× filter-to-chart session errors: {errors[:5]}")
    await context.close()


async def load_test(sessions: list, disease_label: str, cfg: Config, server: psutil.Process) -> dict:
    me = psutil.Process()
    server_pids = {server.pid, *(c.pid for c in server.children(recursive=True))}
    cpu_before = (cpu_seconds([server]), cpu_seconds([me], exclude=server_pids | {me.pid}))
    started = time.monotonic()
    deadline = started + cfg.load_seconds
    times: list[float] = []
    errors: list[str] = []

    async def one(index: int, tab, watch: Watch) -> None:
        start_errors = len(watch.errors)
        while time.monotonic() < deadline:
            try:
                times.extend(await toggle_disease(tab, disease_label, cfg.load_change_timeout_s))
            except Exception as err:  # noqa: BLE001 - a timeout or a broken page is an error of the run
                errors.append(f"session {index}: {type(err).__name__}: {str(err).splitlines()[0][:160]}")
                try:
                    await tab.reload()
                    await wait_for_app(tab, 2 * cfg.load_change_timeout_s)
                except Exception as again:  # noqa: BLE001
                    errors.append(f"session {index}: reload failed: {type(again).__name__}")
                    return
        shown = await tab.locator("[data-testid='stException']").count()
        errors.extend(f"session {index}: {e}" for e in watch.errors[start_errors:])
        if shown:
            errors.append(f"session {index}: {shown} exception(s) shown on the page")

    # Hard bound: every change has its own timeout, and the whole phase is cut after load_seconds + 2 timeouts.
    tasks = [one(i, tab, watch) for i, (_, tab, watch) in enumerate(sessions)]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=cfg.load_seconds + 3 * cfg.load_change_timeout_s)
    except TimeoutError:
        errors.append("load phase exceeded its time bound")
    elapsed = time.monotonic() - started
    server_cpu = cpu_seconds([server]) - cpu_before[0]
    browser_cpu = cpu_seconds([me], exclude=server_pids | {me.pid}) - cpu_before[1]
    return {
        "server_cores": server_cpu / elapsed,
        "browser_cores": browser_cpu / elapsed,
        "sessions": len(sessions),
        "seconds": cfg.load_seconds,
        "changes": len(times),
        "errors": errors,
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "max": max(times) if times else float("nan"),
    }


# --- report --------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


def evaluate(results: Results, pages: list[PageInfo]) -> list[tuple[str, str, str]]:
    """(target, where it stands, met/missed) for each target."""
    out = []
    floor = results.floor_s
    smallest, largest = min(results.config.scales), max(results.config.scales)
    ratios = {(f, p.name): results.pages_s[(smallest, f, p.name)] / floor for f in ("default", "narrow") for p in pages}
    worst = max(ratios, key=ratios.get)
    out.append(
        (
            TARGETS["floor"],
            f"worst {worst[1]} ({worst[0]}) {ratios[worst]:.1f}× the floor of {floor * 1000:.0f} ms",
            verdict(ratios[worst] <= 2),
        )
    )
    slow = {(f, p.name): results.pages_s[(largest, f, p.name)] for f in ("default", "narrow") for p in pages}
    worst = max(slow, key=slow.get)
    over = [f"{p} ({f})" for (f, p), s in slow.items() if s > 1]
    out.append(
        (
            TARGETS["page_1000"],
            f"worst {worst[1]} ({worst[0]}) {slow[worst]:.2f} s; over 1 s: {', '.join(over) or 'none'}",
            verdict(not over),
        )
    )
    big = max(results.config.browser_scales)
    charts = {p: median(t) if t else math.inf for (s, p), t in results.chart_s.items() if s == big}
    if charts:
        worst_page = max(charts, key=charts.get)
        shown = "did not open" if charts[worst_page] == math.inf else f"median {charts[worst_page]:.2f} s"
        over = [p for p, v in charts.items() if v > 1.5]
        out.append(
            (
                TARGETS["chart_1000"],
                f"worst {worst_page} {shown}; over 1.5 s: {', '.join(over) or 'none'}",
                verdict(charts[worst_page] <= 1.5),
            )
        )
    for scale, rss in sorted(results.rss_mb.items()):
        per = rss["per extra session"]
        out.append((f"{TARGETS['rss']} ({scale}×)", f"{per:.1f} MB per extra session", verdict(per <= 30)))
    for scale, load in sorted(results.load.items()):
        ok = not load["errors"] and load["sessions"] >= 20
        stands = f"{load['sessions']} sessions, {load['changes']} changes, {len(load['errors'])} errors"
        out.append(
            (f"{TARGETS['load']} ({scale}×)", stands, verdict(ok) if load["sessions"] >= 20 else "not run (quick)")
        )
    return out


def table(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(
        ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        + ["| " + " | ".join(r) + " |" for r in rows]
    )


def report(results: Results, pages: list[PageInfo], command: str) -> str:
    cfg = results.config
    scales = cfg.scales
    parts = [
        "# Benchmarks",
        "",
        f"Generated by `{command}` (issue 6). "
        "Synthetic data from `rankl_atlas.synthetic` (seed 0) at each scale; the app reads it via `RANKL_ATLAS_DATA`.",
        "",
        "## Machine",
        "",
        table(["", ""], [[k, v] for k, v in results.machine.items()]),
        "",
        "## Method",
        "",
        f"- (a) `load_tables` (Parquet read + pandera and cross-table validation): median of {cfg.load_repeats} runs "
        "after one warm-up.",
        f"- (b) `streamlit.testing.v1.AppTest` on `app.py`, `switch_page` to each page registered in `app.py`; "
        f"`st.cache_data` cleared once per scale before the first run; each page runs once unmeasured, then the "
        f"median of {cfg.page_repeats} warm reruns (a slow page stops after {cfg.page_budget_s:.0f} s of measured "
        f"runs, keeping at least {cfg.min_repeats}; cells say n= when fewer). Filters: default, and narrow `?disease={NARROW['disease']}` "
        f"(read from the URL on the session's first run). Floor: `benchmarks/reference_app.py` (one small Plotly "
        f"chart), median of {cfg.floor_repeats} reruns.",
        f"- (c) Headless Chromium, one session: on every page with a chart, select "
        f"*{CONDITION_GROUP[BROWSER_DISEASE]}* in the sidebar's first multiselect, then remove it "
        f"({cfg.chart_repeats}× each, {2 * cfg.chart_repeats} changes per page; a slow page stops after "
        f"{cfg.page_budget_s:.0f} s, keeping at least 2): time from the key press/click to "
        "`data-test-script-state='notRunning'` with the first chart's DOM changed. Pages are opened through the "
        f"sidebar navigation in one fresh session after (d) and (e), once the server is idle; a change that takes "
        f"over {cfg.change_timeout_s:.0f} s is counted as that long (≥), and a page that does not finish opening "
        f"within {cfg.page_timeout_s:.0f} s gets no figure (the session is replaced).",
        f"- (d) RSS of the server process and its children (psutil): idle after start, with 1 session, and with "
        f"{cfg.sessions} sessions (browser contexts in 2 Chromium processes, opened one after another on the "
        "landing page).",
        f"- (e) Those {cfg.sessions} sessions toggle the disease filter concurrently for {cfg.load_seconds:.0f} s "
        f"(each change times out after {cfg.load_change_timeout_s:.0f} s); errors are console errors, uncaught page "
        "exceptions, failed HTTP responses, exceptions shown on the page, and timeouts. CPU columns: CPU seconds "
        "used during the phase per wall second, by the server and by the Chromium processes.",
        "- The browser and the server share the machine's cores, so (c) and (e) include client-side rendering "
        "under contention.",
        "",
        "## Data",
        "",
        table(
            ["scale", "studies", "measurements", "findings", "generate (s)", "(a) load+validate (s)"],
            [
                [
                    f"{s}×",
                    *(str(results.rows[s][t]) for t in ("studies", "measurements", "findings")),
                    f"{results.generate_s[s]:.1f}",
                    f"{results.load_s[s]:.3f}",
                ]
                for s in scales
            ],
        ),
        "",
        "## (b) Server-side page runs (AppTest, warm reruns)",
        "",
        f"Floor (reference page): **{results.floor_s * 1000:.0f} ms**. Cells: median ms (ratio to the floor).",
        "",
    ]
    header = ["page", *(f"{s}× {f}" for s in scales for f in ("default", "narrow"))]

    def cell(key: tuple[int, str, str]) -> str:
        n = results.pages_n[key]
        fewer = f", n={n}" if n < cfg.page_repeats else ""
        return f"{results.pages_s[key] * 1000:.0f} ({results.pages_s[key] / results.floor_s:.1f}×{fewer})"

    rows = [[p.name, *(cell((s, f, p.name)) for s in scales for f in ("default", "narrow"))] for p in pages]
    rows.append(
        ["first run, cold cache (default)", *(x for s in scales for x in (f"{results.cold_s[s] * 1000:.0f}", ""))]
    )
    parts += [table(header, rows), "", "## (c) Filter-to-chart in Chromium (one session)", ""]
    parts.append(
        "Open: seconds from the sidebar click to the page finished (no target). Pages without a chart show only that."
    )
    parts.append("")
    chart_rows = []
    for s in cfg.browser_scales:
        for p in pages:
            t = results.chart_s.get((s, p.name))
            opened = results.page_open_s.get((s, p.name))
            if t is None and opened is None:
                continue
            open_cell = "did not finish" if opened is None else f"{opened:.1f}"
            if not t:
                chart_rows.append([f"{s}×", p.name, open_cell, "–", "–", "–", "–"])
                continue
            timed_out = bool(results.chart_timeouts.get((s, p.name)))
            chart_rows.append(
                [
                    f"{s}×",
                    p.name,
                    open_cell,
                    str(len(t)),
                    ("≥ " if timed_out and median(t) >= cfg.change_timeout_s else "") + f"{median(t) * 1000:.0f}",
                    f"{min(t) * 1000:.0f}",
                    ("≥ " if timed_out else "") + f"{max(t) * 1000:.0f}",
                ]
            )
    parts.append(table(["scale", "page", "open (s)", "changes", "median (ms)", "min (ms)", "max (ms)"], chart_rows))
    parts += ["", "## (d) Server RSS", ""]
    keys = ["idle", "1 session", f"{cfg.sessions} sessions", "per extra session"]
    parts.append(
        table(
            ["scale", *(f"{k} (MB)" for k in keys)],
            [
                [f"{s}×", *(f"{r[k]:.0f}" if k != keys[-1] else f"{r[k]:.1f}" for k in keys)]
                for s, r in sorted(results.rss_mb.items())
            ],
        )
    )
    parts += ["", f"## (e) {cfg.sessions} concurrent sessions changing filters for {cfg.load_seconds:.0f} s", ""]
    parts.append(
        table(
            [
                "scale",
                "sessions",
                "changes",
                "errors",
                "p50 (ms)",
                "p95 (ms)",
                "max (ms)",
                "server CPU (cores)",
                "Chromium CPU (cores)",
            ],
            [
                [
                    f"{s}×",
                    str(r["sessions"]),
                    str(r["changes"]),
                    str(len(r["errors"])),
                    f"{r['p50'] * 1000:.0f}",
                    f"{r['p95'] * 1000:.0f}",
                    f"{r['max'] * 1000:.0f}",
                    f"{r['server_cores']:.2f}",
                    f"{r['browser_cores']:.2f}",
                ]
                for s, r in sorted(results.load.items())
            ],
        )
    )
    for s, r in sorted(results.load.items()):
        if r["errors"]:
            parts += ["", f"First errors at {s}×:", "", *(f"- `{e}`" for e in r["errors"][:10])]
    parts += ["", "## Targets", ""]
    parts.append(table(["target", "measured", "status"], [list(t) for t in evaluate(results, pages)]))
    if results.notes:
        parts += ["", "## Notes", "", *(f"- {n}" for n in results.notes)]
    return "\n".join(parts) + "\n"


def quiet() -> None:
    """Keep the console readable: library warnings of the in-process runs are not results."""
    st.logger.set_log_level("error")
    logging.getLogger("bibtexparser").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=RuntimeWarning)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, 5 sessions for 15 s (smoke test)")
    parser.add_argument("--out", type=Path, help="report file (default docs/benchmarks.md; quick: the temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (data and server logs)")
    parser.add_argument("--scales", help="comma-separated scales instead of 1,100,1000")
    parser.add_argument("--browser-scales", help="comma-separated scales for the browser part instead of 1,1000")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    if args.scales:
        cfg = replace(cfg, scales=tuple(int(x) for x in args.scales.split(",")))
    if args.browser_scales:
        cfg = replace(cfg, browser_scales=tuple(int(x) for x in args.browser_scales.split(",")))
    if not set(cfg.browser_scales) <= set(cfg.scales):
        parser.error("every browser scale must be one of the scales")
    quiet()
    pages = registered_pages()
    results = Results(cfg, machine())
    work = Path(tempfile.mkdtemp(prefix="rankl-bench-"))
    print(f"RANKL Atlas benchmarks ({'quick' if args.quick else 'full'}); work folder {work}")
    print(f"Pages from app.py: {', '.join(p.path for p in pages)}")
    try:
        folders = {}
        for scale in cfg.scales:
            folders[scale] = work / f"data-{scale}x"
            start = time.perf_counter()
            write_synthetic(folders[scale], scale)
            results.generate_s[scale] = time.perf_counter() - start
            tables = load_tables(folders[scale])
            results.rows[scale] = {name: len(frame) for name, frame in tables.as_dict().items()}
            print(f"  {scale}× data: {results.rows[scale]} in {results.generate_s[scale]:.1f} s")
        print(f"(a) load + validate, median of {cfg.load_repeats}")
        for scale in cfg.scales:
            results.load_s[scale] = bench_load(folders[scale], cfg.load_repeats)
            print(f"    {scale}× {results.load_s[scale]:.3f} s")
        print(f"(b) server-side page runs, median of {cfg.page_repeats} warm reruns")
        results.floor_s = bench_floor(cfg.floor_repeats)
        print(f"    floor (reference page) {results.floor_s * 1000:.0f} ms")
        for scale in cfg.scales:
            bench_pages(folders[scale], scale, pages, cfg.page_repeats, results)
        os.environ.pop(DATA_ENV, None)
        print("(c)-(e) browser")
        logs = work / "logs"
        logs.mkdir()
        for scale in cfg.browser_scales:
            asyncio.run(bench_browser(folders[scale], scale, pages, cfg, results, logs))
        text = report(results, pages, " ".join([".venv/bin/python benchmarks/run.py", *sys.argv[1:]]))
        quick_out = Path(tempfile.gettempdir()) / "rankl-benchmarks-quick.md"
        out = args.out or (quick_out if args.quick else ROOT / "docs" / "benchmarks.md")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        print()
        print(text)
        print(f"Report written to {out}")
    finally:
        if args.keep:
            print(f"Kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
