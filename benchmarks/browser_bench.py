"""Browser timings of the atlas against the floor app (benchmarks/floor_app.py), measured in one run (issue 24).

Run: PYTHONPATH=src:. .venv/bin/python benchmarks/browser_bench.py [--runs 5] [--changes 5] [--markdown FILE]

Measured the way /work/shared/tools/first_chart.py measures: each app gets its own fresh Streamlit server; every
page is visited once to warm it, then opened in N fresh browser contexts (1280×800), each timed from page.goto to
the first ``[data-testid=stPlotlyChart] .main-svg`` attached (open → first chart) and to the script state
notRunning (idle). The rounds alternate floor and atlas pages, so a busy moment on the machine hits both.
Filter → chart: in one session per page, the sidebar disease multiselect gets one option, then is cleared
(--changes times each way, the pages taking turns); each change is timed until the first chart's DOM has changed and
the script state is notRunning (benchmarks/run.py section (c)). Targets: open → first chart ≤ 1.2× the floor,
filter → chart ≤ 1.3× the floor. --before DIR adds the pages of another checkout (e.g. `git archive main`) to the
same rounds, for a before/after comparison under the same load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from playwright.async_api import async_playwright  # noqa: E402

from benchmarks.run import BROWSER_DISEASE, RUNNING, toggle_disease, wait_for_app  # noqa: E402
from rankl_atlas.navigation import PAGES  # noqa: E402
from rankl_atlas.schema import CONDITION_GROUP  # noqa: E402
from tests.e2e.conftest import LAUNCH_ARGS, find_chromium, start_server, stop_server  # noqa: E402

FIRST_CHART = "[data-testid='stPlotlyChart'] .main-svg"
CHART_PAGES = ("overview", "evidence_map", "concentrations", "synthesis", "assays")
FLOOR_DISEASE = "Rheumatoid arthritis"  # one of floor_app.COUNTS
OPEN_TARGET, FILTER_TARGET = 1.2, 1.3


async def open_once(browser, url: str) -> tuple[float, float]:
    """Seconds from goto to the first chart attached, and to the script finished, in a fresh context."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    tab = await context.new_page()
    start = time.perf_counter()
    await tab.goto(url)
    await tab.wait_for_selector(FIRST_CHART, state="attached", timeout=60_000)
    chart = time.perf_counter() - start
    await tab.wait_for_selector(RUNNING, timeout=60_000)
    idle = time.perf_counter() - start
    await context.close()
    return chart, idle


async def open_session(browser, url: str):
    """A fresh context on the page, its script finished."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    tab = await context.new_page()
    await tab.goto(url)
    await tab.wait_for_selector(FIRST_CHART, state="attached", timeout=60_000)
    await wait_for_app(tab)
    return context, tab


async def measure(targets: dict[str, str], disease: dict[str, str], runs: int, changes: int) -> dict:
    """targets: name -> URL. Open times round by round (round 0 warms), then filter times, alternating targets."""
    opened: dict[str, list[tuple[float, float]]] = {name: [] for name in targets}
    loads = []  # the 1-minute load average at each round
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=find_chromium(), args=LAUNCH_ARGS, headless=True)
        for round_no in range(runs + 1):
            loads.append(os.getloadavg()[0])
            for name, url in targets.items():
                timing = await open_once(browser, url)
                if round_no:
                    opened[name].append(timing)
        # Filter → chart: one session per target, the changes also alternate between targets round by round.
        sessions = {name: await open_session(browser, url) for name, url in targets.items()}
        filtered: dict[str, list[float]] = {name: [] for name in targets}
        for _ in range(changes):
            loads.append(os.getloadavg()[0])
            for name, (_, tab) in sessions.items():
                filtered[name] += await toggle_disease(tab, disease[name], 60)  # add the disease, then clear it
        for context, _ in sessions.values():
            await context.close()
        await browser.close()
    return {"open": opened, "filter": filtered, "loads": loads}


def report(results: dict, runs: int, changes: int) -> str:
    med = statistics.median
    floor_open = med(c for c, _ in results["open"]["floor"])
    floor_filter = med(results["filter"]["floor"])
    rows = []
    for name in results["open"]:
        chart = med(c for c, _ in results["open"][name])
        idle = med(i for _, i in results["open"][name])
        change = med(results["filter"][name])
        o_ratio, f_ratio = chart / floor_open, change / floor_filter
        verdict = "" if name == "floor" else (
            f"{'met' if o_ratio <= OPEN_TARGET else '**MISSED**'} / {'met' if f_ratio <= FILTER_TARGET else '**MISSED**'}"
        )  # fmt: skip
        rows.append(
            f"| {name} | {chart:.2f} | {o_ratio:.2f}× | {idle:.2f} | {change:.2f} | {f_ratio:.2f}× | {verdict} |"
        )
    loads = results["loads"]
    return "\n".join(
        [
            f"Open → first chart: median of {runs} fresh contexts after one warm-up visit; filter → chart: median of "
            f"{2 * changes} changes ({changes} add, {changes} clear) in one session. 1-minute load average during "
            f"the run: median {statistics.median(loads):.1f} (min {min(loads):.1f}, max {max(loads):.1f}) on "
            f"{os.cpu_count()} cores.",
            "",
            f"| page | open → first chart (s) | ratio (≤ {OPEN_TARGET}×) | open → idle (s) | filter → chart (s) "
            f"| ratio (≤ {FILTER_TARGET}×) | open / filter target |",
            "|---|---|---|---|---|---|---|",
            *rows,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed fresh contexts per page (after one warm-up)")
    parser.add_argument("--changes", type=int, default=5, help="filter changes each way per page")
    parser.add_argument("--pages", nargs="*", default=CHART_PAGES, help=f"atlas pages (default: {CHART_PAGES})")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--before", type=Path, help="another checkout of the atlas, measured in the same rounds")
    args = parser.parse_args(argv)

    env = {"PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    logs = Path(tempfile.mkdtemp(prefix="browser-bench-"))
    floor = start_server(logs, env=env, script="benchmarks/floor_app.py")
    atlas = start_server(logs, env=env)
    servers = [floor, atlas]
    try:
        by_key = {page.key: page for page in PAGES}
        targets = {"floor": floor.url + "/"}
        if args.before:
            before_env = {"PYTHONPATH": os.pathsep.join([str(args.before / "src"), str(args.before)])}
            servers.append(start_server(logs, env=before_env, cwd=args.before))
            targets |= {f"before: {key}": f"{servers[-1].url}/{by_key[key].url_path}" for key in args.pages}
        targets |= {key: f"{atlas.url}/{by_key[key].url_path}" for key in args.pages}
        label = CONDITION_GROUP[BROWSER_DISEASE]
        disease = {name: FLOOR_DISEASE if name == "floor" else label for name in targets}
        results = asyncio.run(measure(targets, disease, args.runs, args.changes))
    finally:
        for server in servers:
            stop_server(server)
    for name, opened in results["open"].items():
        print(
            f"{name}: open {[round(c, 2) for c, _ in opened]}, filter {[round(t, 2) for t in results['filter'][name]]}"
        )
    text = report(results, args.runs, args.changes)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
