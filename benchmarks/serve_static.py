"""What a browser's first visit costs the Streamlit processes behind `make serve`: worker and nginx CPU seconds per
fresh visit, and open → first chart, for one or more checkouts (e.g. one from `git archive` before a change).

Run: PYTHONPATH=src:. .venv/bin/python benchmarks/serve_static.py [--visits 8] CHECKOUT [CHECKOUT ...]

Each checkout's deploy/serve.py starts one worker behind its nginx (no warm-up); after one warm-up visit, `--visits`
fresh Chromium contexts (empty caches, as first-time visitors) open the Overview one after another; one more counts
the bytes received until the first chart. A first visit downloads Streamlit's scripts (≈ 10 MB uncompressed);
docs/load.md, *Opening*, says who serves them and how.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from playwright.async_api import async_playwright  # noqa: E402

from benchmarks.browser_bench import open_once  # noqa: E402
from tests.e2e.conftest import LAUNCH_ARGS, find_chromium, free_port  # noqa: E402


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User + system CPU seconds of these processes so far."""
    return sum(sum(p.cpu_times()[:2]) for p in processes)


async def wire_megabytes(browser, url: str) -> float:
    """Megabytes a fresh browser receives (as sent, compressed or not) until the page's first chart is drawn."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    tab = await context.new_page()
    cdp = await context.new_cdp_session(tab)
    await cdp.send("Network.enable")
    received: list[float] = []
    cdp.on("Network.loadingFinished", lambda event: received.append(event["encodedDataLength"]))
    await tab.goto(url)
    await tab.wait_for_selector("[data-testid='stPlotlyChart'] .main-svg", state="attached", timeout=60_000)
    await context.close()
    return sum(received) / 1e6


async def visits(url: str, count: int, workers, nginx) -> tuple[float, float, float, float]:
    """Worker and nginx CPU seconds per fresh visit, the median open → first chart (s) and MB over the wire."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=find_chromium(), args=LAUNCH_ARGS, headless=True)
        await open_once(browser, url)
        worker_before, nginx_before = cpu_seconds(workers), cpu_seconds(nginx)
        opened = [(await open_once(browser, url))[0] for _ in range(count)]
        worker_cpu, nginx_cpu = cpu_seconds(workers) - worker_before, cpu_seconds(nginx) - nginx_before
        wire = await wire_megabytes(browser, url)
        await browser.close()
    return worker_cpu / count, nginx_cpu / count, statistics.median(opened), wire


def measure(checkout: Path, count: int) -> str:
    run_dir, port = Path(tempfile.mkdtemp(prefix="serve-static-")) / "run", free_port()
    command = [sys.executable, str(checkout / "deploy" / "serve.py"), "--workers", "1", "--port", str(port),
               "--address", "127.0.0.1", "--run-dir", str(run_dir), "--no-warm"]  # fmt: skip
    launcher = subprocess.Popen(command, cwd=checkout, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not (run_dir / "serve.json").exists():
            if launcher.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{checkout}: make serve did not start")
            time.sleep(0.3)
        children = psutil.Process(launcher.pid).children(recursive=True)
        workers = [p for p in children if "streamlit" in " ".join(p.cmdline())]
        nginx = [p for p in children if "nginx" in p.name()]
        worker, proxy, opened, wire = asyncio.run(visits(f"http://127.0.0.1:{port}/", count, workers, nginx))
    finally:
        launcher.terminate()
        launcher.wait(30)
    return (
        f"{checkout}: worker CPU {worker:.2f} s per first visit, nginx {proxy:.3f} s, open → first chart "
        f"{opened:.2f} s, {wire:.1f} MB over the wire"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="+", type=Path)
    parser.add_argument("--visits", type=int, default=8)
    args = parser.parse_args(argv)
    for checkout in args.checkouts:
        print(measure(checkout.resolve(), args.visits), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
