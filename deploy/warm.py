"""Warm a freshly started atlas process: open each page's default view (and each Synthesis section) once, over
Streamlit's own websocket protocol, so that the first viewers find what those views show already built.

What a page shows for a filter state is built once per process and shared by every viewer (``ui.shared``); the
first viewer of the default state pays for it (at 100× the bundled data 0.5–1.2 s a page, docs/load.md), every
later one gets a warm rerun. ``deploy/serve.py`` runs this against each worker once it answers its health check.

    .venv/bin/python deploy/warm.py http://127.0.0.1:8501 [http://127.0.0.1:8502 ...]

It speaks Streamlit's protocol messages (``streamlit.proto``) as a client; it is not part of the app.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetStates

from rankl_atlas.navigation import PAGES

#: The Synthesis page's sections by their ?tab= code (tests/unit/test_warm.py keeps this equal to the page's own).
SYNTHESIS_TABS = ("answers", "mirror", "ratios", "published", "harvest", "strict")
FINISHED_OK = {ForwardMsg.FINISHED_SUCCESSFULLY}


def views() -> list[tuple[str, str]]:
    """(URL path, query string) of every page's default view, then each Synthesis section after the first."""
    pages = [(page.url_path, "") for page in PAGES]
    return pages + [("synthesis", f"tab={code}") for code in SYNTHESIS_TABS[1:]]


@dataclass(frozen=True)
class Opened:
    """One view opened: where, how long to its end, and what went wrong (empty when it ran to the end)."""

    url: str
    seconds: float
    problem: str = ""


async def open_view(base_url: str, path: str, query: str, timeout: float = 120) -> Opened:
    """Run one view as a browser tab's first visit does, and wait for the script to finish."""
    url = f"{base_url.rstrip('/')}/{path}" + (f"?{query}" if query else "")
    start = time.perf_counter()
    stream = base_url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
    try:
        ws = await websockets.connect(stream, subprotocols=["streamlit"], max_size=None, open_timeout=timeout)
    except (OSError, TimeoutError, websockets.WebSocketException) as err:
        return Opened(url, time.perf_counter() - start, f"could not connect: {err!r}")
    try:
        state = ClientState(query_string=query, page_name=path, widget_states=WidgetStates())
        await ws.send(BackMsg(rerun_script=state).SerializeToString())
        problem = await asyncio.wait_for(_finished(ws), timeout)
    except TimeoutError:
        problem = f"did not finish within {timeout:g} s"
    except websockets.ConnectionClosed as err:
        problem = f"the server closed the connection: {err!r}"
    finally:
        await ws.close()
    return Opened(url, time.perf_counter() - start, problem)


async def _finished(ws) -> str:
    """Read until the run ends; the problem seen (an exception drawn, page not found, a failed run), or ''."""
    problems = []
    async for data in ws:
        msg = ForwardMsg.FromString(data)
        kind = msg.WhichOneof("type")
        if kind == "page_not_found":
            problems.append(f"page not found: {msg.page_not_found.page_name!r}")
        elif kind == "delta" and msg.delta.new_element.WhichOneof("type") == "exception":
            problems.append(f"exception drawn: {msg.delta.new_element.exception.message[:160]}")
        elif kind == "script_finished" and msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
            if msg.script_finished not in FINISHED_OK:
                problems.append(f"script_finished status {msg.script_finished}")
            return "; ".join(problems)
    return "; ".join([*problems, "the server closed the connection"])


async def warm(base_urls: list[str], timeout: float = 120) -> list[Opened]:
    """Open every view on each server in turn (servers side by side: one process each)."""

    async def one_server(base_url: str) -> list[Opened]:
        return [await open_view(base_url, path, query, timeout) for path, query in views()]

    per_server = await asyncio.gather(*(one_server(url) for url in base_urls))
    return [opened for server in per_server for opened in server]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+", help="base URL of each Streamlit process")
    parser.add_argument("--timeout", type=float, default=120, help="seconds allowed for one view")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    opened = asyncio.run(warm(args.urls, args.timeout))
    failed = [o for o in opened if o.problem]
    for o in failed:
        print(f"warm-up: {o.url}: {o.problem}", file=sys.stderr, flush=True)
    slowest = max(opened, key=lambda o: o.seconds)
    print(
        f"warm-up: opened {len(opened) - len(failed)} of {len(opened)} views on {len(args.urls)} process(es) in "
        f"{time.perf_counter() - start:.1f} s (slowest {slowest.seconds:.2f} s: {slowest.url})",
        flush=True,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
