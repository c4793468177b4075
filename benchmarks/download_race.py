"""Figure downloads under load: how often a reader who closes the *Download figure* menu, opens it again and clicks a
format at once gets no file (docs/load.md, *Figure downloads under load*).

Run: PYTHONPATH=src:. .venv/bin/python benchmarks/download_race.py [--tries 3] [--viewers 50] [--think 0.2] [--rows]

A fresh Streamlit server on the bundled data; unless --viewers is 0, benchmarks/loadgen.py drives that many
protocol-level viewers on the Overview at the same time (a change every --think seconds each). In Chromium, on the
Overview's first chart, each try: open the menu, download the SVG, close it (Escape), open it again after 0, 100 or
300 ms, close it. --rows does the same with the Assays page's *Download exactly these rows* section and its first CSV
(a section opened and closed by a click on its header). Prints, per delay, the downloads that never arrived (60 s each), the rerun requests the browser sent
while opening and closing the menu, and how many files the server failed to make (`Error executing deferred callable` in its log).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e.conftest import (  # noqa: E402
    LAUNCH_ARGS,
    find_chromium,
    rerun_requests,
    start_server,
    stop_server,
    wait_for_app,
)

DELAYS_MS = (0, 100, 300)
#: What is opened, how it is closed, the button clicked in it and the page: the figure menu, or the table downloads.
TARGETS = {
    "figure": ("Download figure", "Escape", "SVG (vector)", "/?disease=osteoporosis"),
    "rows": ("Download exactly these rows", "click", "CSV", "/assays?disease=osteoporosis"),
}


def run_tries(url: str, tries: int, target: str) -> tuple[dict[int, int], dict[int, int]]:
    """Per delay: downloads that never arrived, and rerun requests sent while the menu was opened and closed."""
    menu, close_by, button, _ = TARGETS[target]

    def close() -> None:
        if close_by == "Escape":
            tab.keyboard.press("Escape")
        else:
            tab.get_by_text(menu).first.click()

    missing = dict.fromkeys(DELAYS_MS, 0)
    reruns = dict.fromkeys(DELAYS_MS, 0)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), args=LAUNCH_ARGS, headless=True)
        tab = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True).new_page()
        sent = rerun_requests(tab)
        tab.goto(url)
        wait_for_app(tab, timeout=60_000)
        for _ in range(tries):
            for delay in DELAYS_MS:
                before = len(sent)
                tab.get_by_text(menu).first.click()
                try:
                    with tab.expect_download(timeout=60_000):
                        tab.get_by_role("button", name=button, exact=True).first.click()
                except Exception:  # noqa: BLE001 - a download that never came is what is counted
                    missing[delay] += 1
                close()
                tab.wait_for_timeout(delay)
                tab.get_by_text(menu).first.click()
                tab.get_by_role("button", name=button, exact=True).first.wait_for(state="visible", timeout=60_000)
                close()
                tab.get_by_role("button", name=button, exact=True).first.wait_for(state="hidden", timeout=60_000)
                reruns[delay] += len(sent) - before
                wait_for_app(tab)
        browser.close()
    return missing, reruns


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=3, help="tries per delay")
    parser.add_argument("--viewers", type=int, default=50, help="protocol-level viewers changing filters (0: idle)")
    parser.add_argument("--think", type=float, default=0.2, help="seconds between a viewer's changes")
    parser.add_argument("--rows", action="store_true", help="the table downloads of the Assays page, not a figure's")
    args = parser.parse_args(argv)
    logs = Path(tempfile.mkdtemp(prefix="download-race-"))
    server = start_server(logs, env={"PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])})
    load = None
    try:
        if args.viewers:
            command = [sys.executable, str(ROOT / "benchmarks" / "loadgen.py"), "--url", server.url, "--page", "/",
                       "--viewers", str(args.viewers), "--reruns", "100000", "--think", str(args.think),
                       "--duration", "3600", "--warmup", "0", "--quiet-wait", "0"]  # fmt: skip
            load = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(15)  # the viewers open the page and start changing it
        started = time.strftime("%H:%M:%S")
        target = "rows" if args.rows else "figure"
        missing, reruns = run_tries(f"{server.url}{TARGETS[target][3]}", args.tries, target)
        load_average = os.getloadavg()[0]
    finally:
        if load:
            load.terminate()
            load.wait()
        stop_server(server)
    not_found = server.log.read_text(errors="replace").count("Error executing deferred callable")
    total = args.tries * len(DELAYS_MS)
    print(f"{target}: {started}–{time.strftime('%H:%M:%S')} UTC, {args.viewers} viewers (a change every {args.think} s each), "
          f"load average {load_average:.1f}")  # fmt: skip
    for delay in DELAYS_MS:
        print(f"reopened after {delay:>3} ms: {missing[delay]} of {args.tries} downloads never arrived; "
              f"{reruns[delay]} rerun requests from opening and closing it")  # fmt: skip
    print(f"all: {sum(missing.values())} of {total} downloads missing; the server failed to make {not_found} file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
