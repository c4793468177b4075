"""What each kind of page element costs the browser per filter change: the floor app alone, then with one part
added at a time (benchmarks/floor_variants.py), each on its own fresh Streamlit server, measured in Chromium.

Run: PYTHONPATH=src:. .venv/bin/python benchmarks/browser_ablation.py [--changes 10] [--variants "" white atlas ...]
     PYTHONPATH=src:. .venv/bin/python benchmarks/browser_ablation.py --atlas /tmp/data100 "" evidence-map assays
(the second form times atlas pages, by URL path, on a server reading that data folder, the same way).

Each change selects or clears the sidebar's disease (alternating) and is timed inside the page with
performance.now(): from the key press or click to the first change of the chart's DOM (a MutationObserver, no
polling interval), to the first check, every 20 ms, that finds the chart changed and the script state notRunning,
and the main thread's work from the change until 300 ms after it (Chromium's TaskDuration). Prints the median of each
and its difference from the floor measured in the same run. Why: the atlas's filter → chart stays above 1.3× the floor (docs/load.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from playwright.async_api import async_playwright  # noqa: E402

from benchmarks.run import SIDEBAR_MULTI, wait_for_app  # noqa: E402
from tests.e2e.conftest import LAUNCH_ARGS, find_chromium, start_server, stop_server  # noqa: E402

DISEASE = "Rheumatoid arthritis"
VARIANTS = ("", "white", "atlas", "extras", "second", "metrics", "markdown", "sidebar", "nav,required", "")
#: The count line's text ("Filters keep N of M studies ..."), or null on a page without one (the floor app).
COUNT_JS = """() => {
  const line = [...document.querySelectorAll("[data-testid='stCaptionContainer'], [data-testid='stMarkdownContainer']")]
    .find(e => e.textContent.trim().startsWith("Filters keep"));
  return line ? line.textContent : null;
}"""
#: Marks the start, then records when the first chart changes: its DOM changes, or another element takes its
#: place (a page may replace its first chart rather than redraw it).
WATCH_JS = f"""() => {{
  const first = () => document.querySelector("[data-testid='stPlotlyChart']");
  const chart = first();
  window.__count = {COUNT_JS};
  window.__t = {{start: performance.now(), chart: null, idle: null, count: window.__count()}};
  const mark = () => {{ if (window.__t.chart === null) window.__t.chart = performance.now(); }};
  if (chart) new MutationObserver((_, obs) => {{ mark(); obs.disconnect(); }})
    .observe(chart, {{childList: true, subtree: true, attributes: true, characterData: true}});
  new MutationObserver((_, obs) => {{ if (first() !== chart) {{ mark(); obs.disconnect(); }} }})
    .observe(document.querySelector("[data-testid='stMain']") || document.body, {{childList: true, subtree: true}});
}}"""
#: Done once the page has changed (its first chart, or else its count line: on Synthesis the question a reader
#: opened stays open when a disease is cleared, and its forest plot is then the same) and the script state reads
#: notRunning (checked every 20 ms: a fast rerun's running → notRunning can fall in one React commit, leaving no
#: attribute change to observe). A change that left the first chart as it was has no chart time.
DONE_JS = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  const changed = window.__t.chart !== null || (window.__t.count !== null && window.__count() !== window.__t.count);
  if (!changed || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (window.__t.idle === null) window.__t.idle = performance.now();
  return true;
}"""


async def main_thread_ms(cdp) -> float:
    """The page's main-thread task time so far (Chromium's Performance.getMetrics TaskDuration), in ms."""
    metrics = (await cdp.send("Performance.getMetrics"))["metrics"]
    return 1000 * next(m["value"] for m in metrics if m["name"] == "TaskDuration")


async def timed_changes(url: str, changes: int) -> tuple[list[float], list[float], list[float]]:
    """Milliseconds to the chart's change, to idle, and of main-thread work (from the change until 300 ms after
    idle), for `changes` filter changes in one session."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=find_chromium(), args=LAUNCH_ARGS, headless=True)
        tab = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
        cdp = await tab.context.new_cdp_session(tab)
        await cdp.send("Performance.enable")
        await tab.goto(url)
        await tab.wait_for_selector("[data-testid='stPlotlyChart'] .main-svg", state="attached", timeout=60_000)
        await wait_for_app(tab)
        box = tab.locator(SIDEBAR_MULTI).first
        to_chart, to_idle, busy = [], [], []
        for i in range(changes):
            if i % 2 == 0:
                await box.locator("input").click()
                await tab.keyboard.type(DISEASE)
                action = tab.keyboard.press("Enter")
            else:
                await tab.keyboard.press("Escape")
                action = box.get_by_role("button", name=f"Remove {DISEASE}").click()
            await tab.wait_for_timeout(300)
            await tab.evaluate(WATCH_JS)
            before = await main_thread_ms(cdp)
            await action
            await tab.wait_for_function(DONE_JS, timeout=60_000, polling=20)
            t = await tab.evaluate("() => window.__t")
            if t["chart"] is not None:
                to_chart.append(t["chart"] - t["start"])
            if t["idle"] is not None:
                to_idle.append(t["idle"] - t["start"])
            await tab.wait_for_timeout(300)
            busy.append(await main_thread_ms(cdp) - before)
        await browser.close()
    return to_chart, to_idle, busy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=10, help="filter changes per variant (add and clear)")
    parser.add_argument("--variants", nargs="*", default=VARIANTS, help="FLOOR_VARIANT values ('' is the floor)")
    parser.add_argument("--atlas", type=Path, help="time atlas pages instead, on this data folder")
    parser.add_argument("pages", nargs="*", help="with --atlas: URL paths ('' is the Overview)")
    args = parser.parse_args(argv)
    logs = Path(tempfile.mkdtemp(prefix="browser-ablation-"))
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    if args.atlas:
        server = start_server(logs, env={**env, "RANKL_ATLAS_DATA": str(args.atlas)})
        try:
            for page in args.pages:
                to_chart, to_idle, busy = asyncio.run(timed_changes(f"{server.url}/{page}", args.changes))
                chart = f"{statistics.median(to_chart):.0f} ms (worst {max(to_chart):.0f})" if to_chart else "-"
                print(
                    f"/{page}: chart {chart} in {len(to_chart)} of {len(to_idle)} changes, script finished "
                    f"{statistics.median(to_idle):.0f} ms (worst {max(to_idle):.0f}); each: {[round(x) for x in to_idle]}; "
                    f"main thread {statistics.median(busy):.0f} ms per change",
                    flush=True,
                )
        finally:
            stop_server(server)
        return 0
    rows, floor = [], None
    for variant in args.variants:
        server = start_server(logs, env={**env, "FLOOR_VARIANT": variant}, script="benchmarks/floor_variants.py")
        try:
            to_chart, to_idle, busy = asyncio.run(timed_changes(server.url + "/", args.changes))
        finally:
            stop_server(server)
        chart, idle = statistics.median(to_chart), statistics.median(to_idle) if to_idle else float("nan")
        if variant == "" and floor is None:
            floor = chart
        rows.append((variant or "floor", chart, idle, chart - floor, statistics.median(busy)))
        print(f"{variant or 'floor'}: to chart {[round(x) for x in to_chart]}", flush=True)
    print(f"\nMedian of {args.changes} changes per variant, one fresh server each, {os.cpu_count()} cores.\n")
    print(
        "| variant | change → chart (ms) | change → script finished (ms) | chart: + ms over the floor | main thread (ms) |"
    )
    print("|---|---|---|---|---|")
    for name, chart, idle, extra, work in rows:
        print(f"| {name} | {chart:.0f} | {idle:.0f} | {extra:+.0f} | {work:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
