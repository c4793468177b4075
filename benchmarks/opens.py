"""Many viewers opening a shared link at once: seconds from connecting to the first page run's end, per viewer, on a
fresh server with the repository's config (what ships), and with extra `streamlit run` flags to compare.

Run: PYTHONPATH=src:. .venv/bin/python benchmarks/opens.py [--viewers 1,20,50] [--page ""] [--compare "--server.fileWatcherType auto"]

Each level: N protocol-level viewers (deploy/warm.py open_view: a browser tab's first visit over Streamlit's
websocket) open the page at the same moment, after one warm-up visit of every view. Prints p50 and max of the open
times. Why: with Streamlit's file watcher on, every new session first scanned every loaded module (docs/load.md,
*Opening*), which the load generator, started with the watcher off, never saw.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src"), str(ROOT / "deploy")]

import warm  # noqa: E402

from tests.e2e.conftest import start_server, stop_server  # noqa: E402


async def opens(url: str, page: str, viewers: int) -> list[float]:
    """Open times (s) of `viewers` first visits made at once."""
    opened = await asyncio.gather(*(warm.open_view(url, page, "") for _ in range(viewers)))
    problems = [o.problem for o in opened if o.problem]
    if problems:
        raise RuntimeError(f"{len(problems)} viewers failed: {problems[0]}")
    return sorted(o.seconds for o in opened)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", default="1,20,50", help="comma-separated numbers of viewers opening at once")
    parser.add_argument("--page", default="", help="URL path ('' is the Overview)")
    parser.add_argument("--compare", action="append", default=[], help="extra streamlit flags for a second server")
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.viewers.split(",")]
    print(f"| config | {' | '.join(f'{n} at once: p50 / max (s)' for n in levels)} |")
    print(f"|---|{'---|' * len(levels)}")
    for flags in ["", *args.compare]:
        server = start_server(Path(tempfile.mkdtemp(prefix="opens-")), extra_args=tuple(shlex.split(flags)))
        try:
            asyncio.run(warm.warm([server.url]))
            cells = []
            for n in levels:
                times = asyncio.run(opens(server.url, args.page, n))
                cells.append(f"{statistics.median(times):.2f} / {times[-1]:.2f}")
        finally:
            stop_server(server)
        print(f"| {flags or 'shipped (.streamlit/config.toml)'} | {' | '.join(cells)} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
