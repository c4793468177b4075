#!/usr/bin/env python3
"""Load benchmark: N simulated viewers of one Streamlit page, speaking Streamlit's own websocket protocol.

A viewer does on the wire what a browser tab does (protobuf BackMsg / ForwardMsg from ``streamlit.proto`` over
``ws://127.0.0.1:PORT/_stcore/stream``): GET /_stcore/health and /_stcore/host-config, open the websocket, send
``rerun_script`` with the page name and query string, and wait for ``script_finished``. Like the browser it keeps
every widget's value from the deltas (and sends them all on each rerun), takes the page hash from the navigation
message and the query string from ``page_info_changed``, and keeps the forward-message cache. Then it makes K
changes to one multiselect (default key ``disease``), alternating between its opening value and that value plus
one option, with a think time between changes; each change is timed from the send to ``script_finished``.

For each level (N concurrent viewers) a fresh server is started on a free loopback port and warmed up by one
viewer; then N viewers open the page at once and make their changes. Reported per level: rerun p50/p95/max,
errors (timeouts, disconnects, exceptions drawn, unsuccessful runs, ...), open p50/max, server CPU per rerun
(psutil: server and children, change phase only), server RSS peak, and the CPU other processes used meanwhile.

    .venv/bin/python benchmarks/loadgen.py --app app.py --page /evidence-map --viewers 1,10,25,50,100 \\
        --reruns 10 --think 0.5 --env RANKL_ATLAS_GC_FREEZE=0 --label "evidence map, shipped" \\
        --json tmp/load/evidence-shipped.json --markdown docs/load.md

``--url http://127.0.0.1:PORT`` drives a server or proxy that is already running instead (no server is started;
``--server-pid`` names the processes whose CPU and RSS are counted); viewers keep cookies like a browser, so a proxy
with cookie-sticky sessions keeps each on one process. ``benchmarks/serve_bench.py`` uses it to compare one process
with several behind nginx at saturation.

Method and results: docs/load.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
from streamlit.proto.Common_pb2 import DoubleArray, StringArray
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates

HOST = "127.0.0.1"  # only ever loopback
FINISHED_OK = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}

# ------------------------------------------------------------------------------------------------ small helpers


def think_time(think: float, jitter: float, rng: random.Random) -> float:
    """Seconds a viewer waits before the next change: ``think`` scaled by a uniform factor in [1-jitter, 1+jitter]."""
    return think * rng.uniform(1 - jitter, 1 + jitter) if jitter else think


def jitter_text(jitter: float) -> str:
    return f" ± {jitter:.0%}" if jitter else ""


def percentile(values: list[float], p: float) -> float | None:
    """The p-th percentile with linear interpolation between closest ranks (numpy's default); None if empty."""
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def parse_viewers(text: str) -> list[int]:
    """'1,10, 25' -> [1, 10, 25]; every level must be a positive integer."""
    levels = [int(part) for part in text.split(",") if part.strip()]
    if not levels or min(levels) < 1:
        raise ValueError(f"viewer levels must be positive integers: {text!r}")
    return levels


def parse_env(items: list[str]) -> dict[str, str]:
    """['A=1', 'B=x=y'] -> {'A': '1', 'B': 'x=y'}."""
    env = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--env wants KEY=VALUE, got {item!r}")
        env[key] = value
    return env


def split_page(page: str) -> tuple[str, str]:
    """'/evidence-map?disease=x' -> ('evidence-map', 'disease=x'); '/' -> ('', '')."""
    path, _, query = page.partition("?")
    return path.strip("/"), query


def toggle_values(opening: list[str], options: list[str], option: str | None = None) -> tuple[list[str], list[str]]:
    """The two values a viewer alternates between: its opening value plus one option, then the opening value."""
    if option is None:
        option = next((o for o in options if o not in opening), None)
    if option is None or option not in options or option in opening:
        raise ValueError(f"no option to add to {opening!r} among {options!r} (asked for {option!r})")
    return [*opening, option], list(opening)


def browser_value(etype: str, w) -> WidgetState | None:
    """The value a browser holds for a widget element as drawn (its set value, else its default)."""
    if etype in ("multiselect", "button_group"):
        options = [o.content for o in w.options] if etype == "button_group" else list(w.options)
        values = list(w.raw_values) if w.set_value else [options[i] for i in w.default if 0 <= i < len(options)]
        return WidgetState(id=w.id, string_array_value=StringArray(data=values))
    if etype == "slider" and not w.options:  # numeric slider (a select_slider keeps its server-side value)
        return WidgetState(id=w.id, double_array_value=DoubleArray(data=list(w.value if w.set_value else w.default)))
    if etype == "checkbox":  # also st.toggle
        return WidgetState(id=w.id, bool_value=w.value if w.set_value else w.default)
    if etype in ("selectbox", "radio"):
        if w.set_value and w.HasField("raw_value"):
            return WidgetState(id=w.id, string_value=w.raw_value)
        if w.HasField("default") and 0 <= w.default < len(w.options):
            return WidgetState(id=w.id, string_value=w.options[w.default])
    return None


TRACKED = ("multiselect", "button_group", "slider", "checkbox", "selectbox", "radio")


# ------------------------------------------------------------------------------------------------ one viewer


class ViewerError(Exception):
    """A failed open or rerun; kind is one of timeout, disconnect, unsuccessful, setup."""

    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


async def http_get(port: int, path: str, timeout: float, cookies: dict[str, str] | None = None) -> int:
    """Status code of GET http://127.0.0.1:PORT/path (the two requests a browser makes before the websocket).

    Like a browser it sends the cookies it holds and keeps those the response sets (in `cookies`), so a reverse
    proxy that makes sessions sticky by cookie (deploy/serve.py) sends this viewer's websocket to the same process.
    """

    async def get() -> int:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            jar = f"Cookie: {cookie_header(cookies)}\r\n" if cookies else ""
            request = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n{jar}Connection: close\r\n\r\n"
            writer.write(request.encode())
            await writer.drain()
            head, _, _ = (await reader.read()).partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            if cookies is not None:
                cookies.update(set_cookies(lines[1:]))
            return int(lines[0].split()[1]) if lines[0].startswith("HTTP/") else 0
        finally:
            writer.close()

    return await asyncio.wait_for(get(), timeout)


def set_cookies(header_lines: list[str]) -> dict[str, str]:
    """{name: value} of the Set-Cookie headers among these response header lines (attributes dropped)."""
    found = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "set-cookie":
            key, sep, val = value.strip().split(";", 1)[0].partition("=")
            if sep and key.strip():
                found[key.strip()] = val.strip()
    return found


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


class Viewer:
    """One browser tab on one page, protocol only."""

    def __init__(self, port: int, page: str, timeout: float):
        self.port = port
        self.page_name, self.query = split_page(page)
        self.timeout = timeout
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.page_hash = ""
        self.widgets: dict[str, WidgetState] = {}  # what the browser sends back on each rerun
        self.multiselects: dict[str, list[str]] = {}  # id -> options
        self.drawn: set[str] = set()  # tracked widgets drawn in the current run
        self.cache: dict[str, int] = {}  # forward-message cache: hash -> run number when last used
        self.max_age = 2
        self.runs = 0
        self.cookies: dict[str, str] = {}  # kept like a browser's (sticky sessions behind a proxy)
        self.problems: list[str] = []  # exceptions drawn, cache misses, page not found
        self._done: asyncio.Future | None = None

    def _context(self) -> ContextInfo:
        return ContextInfo(
            timezone="UTC", timezone_offset=0, locale="en-US", url=f"http://{HOST}:{self.port}/{self.page_name}"
        )

    async def open(self) -> float:
        """Connect and run the page once; seconds from the first GET to script_finished."""
        t0 = time.perf_counter()
        try:
            for path in ("/_stcore/health", "/_stcore/host-config"):
                if (status := await http_get(self.port, path, self.timeout, self.cookies)) != 200:
                    raise ViewerError("disconnect", f"GET {path}: HTTP {status}")
            self.ws = await websockets.connect(
                f"ws://{HOST}:{self.port}/_stcore/stream",
                subprotocols=["streamlit"],
                compression=None,  # as the server (websocket compression is off by default)
                max_size=None,
                ping_interval=None,
                open_timeout=self.timeout,
                close_timeout=2,
                additional_headers={"Cookie": cookie_header(self.cookies)} if self.cookies else None,
            )
        except (OSError, TimeoutError, websockets.WebSocketException) as err:
            raise ViewerError("disconnect", f"connect: {err!r}") from None
        self.reader = asyncio.create_task(self._read())
        first = ClientState(
            query_string=self.query,
            page_name=self.page_name,
            widget_states=WidgetStates(),
            context_info=self._context(),
        )
        await self._run(first)
        return time.perf_counter() - t0

    def widget_id(self, key: str) -> str:
        """The id of the multiselect with this key (ids end with '-KEY')."""
        for wid in self.multiselects:
            if wid.endswith("-" + key):
                return wid
        raise ViewerError("setup", f"no multiselect with key {key!r}; have {sorted(self.multiselects)}")

    async def change(self, wid: str, values: list[str]) -> float:
        """Set a multiselect and rerun with every widget's value; seconds from the send to script_finished."""
        self.widgets[wid] = WidgetState(id=wid, string_array_value=StringArray(data=values))
        state = ClientState(
            query_string=self.query,
            page_script_hash=self.page_hash,
            widget_states=WidgetStates(widgets=list(self.widgets.values())),
            cached_message_hashes=list(self.cache),
            context_info=self._context(),
        )
        return await self._run(state)

    async def _run(self, state: ClientState) -> float:
        self._done = asyncio.get_running_loop().create_future()
        t0 = time.perf_counter()
        try:
            await self.ws.send(BackMsg(rerun_script=state).SerializeToString())
            finished_at = await asyncio.wait_for(self._done, self.timeout)
        except TimeoutError:
            raise ViewerError("timeout", f"no script_finished within {self.timeout:g} s") from None
        except websockets.ConnectionClosed as err:
            raise ViewerError("disconnect", repr(err)) from None
        return finished_at - t0

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader

    async def _read(self) -> None:
        """Handle every ForwardMsg until the socket closes (then a pending run fails as a disconnect)."""
        try:
            async for data in self.ws:
                self.handle(ForwardMsg.FromString(data), time.perf_counter())
        except Exception as err:  # noqa: BLE001 - a closed or broken stream fails the pending run
            self._fail(ViewerError("disconnect", repr(err)))
        self._fail(ViewerError("disconnect", "websocket closed by the server"))

    def _fail(self, err: ViewerError) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_exception(err)

    def handle(self, msg: ForwardMsg, now: float) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":  # starts every run
            self.drawn = set()
            self.max_age = msg.new_session.config.max_cached_message_age or self.max_age
            self.page_hash = self.page_hash or msg.new_session.page_script_hash
        elif kind == "navigation" and msg.navigation.page_script_hash:
            self.page_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "page_not_found":
            self.problems.append(f"page not found: {msg.page_not_found.page_name!r}")
        elif kind == "ref_hash":
            if msg.ref_hash in self.cache:
                self.cache[msg.ref_hash] = self.runs
            else:
                self.problems.append(f"cache miss {msg.ref_hash}")
        elif kind == "delta":
            if msg.metadata.cacheable and msg.hash:
                self.cache[msg.hash] = self.runs
            self._element(msg.delta)
        elif kind == "script_finished":
            self._finished(msg.script_finished, now)

    def _element(self, delta) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        etype = delta.new_element.WhichOneof("type")
        w = getattr(delta.new_element, etype) if etype else None
        if etype == "exception":
            self.problems.append(f"exception drawn: {w.type}: {w.message[:160]}")
        if etype not in TRACKED:
            return
        self.drawn.add(w.id)
        if etype == "multiselect":
            self.multiselects[w.id] = list(w.options)
        if w.set_value or w.id not in self.widgets:
            value = browser_value(etype, w)
            if value is not None:
                self.widgets[w.id] = value

    def _finished(self, status: int, now: float) -> None:
        if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
            return  # another run follows
        self.runs += 1  # the browser ages its message cache once per finished run
        self.cache = {h: last for h, last in self.cache.items() if self.runs - last <= self.max_age}
        if status in FINISHED_OK:  # ... and forgets widgets this run did not draw
            self.widgets = {wid: s for wid, s in self.widgets.items() if wid in self.drawn}
            if self._done is not None and not self._done.done():
                self._done.set_result(now)
        else:
            self._fail(ViewerError("unsuccessful", f"script_finished status {status}"))


# ------------------------------------------------------------------------------------------------ server


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """``python -m streamlit run APP`` on a free loopback port, in its own process group; stopped by its PID."""

    def __init__(self, app: Path, server_args: list[str], env: dict[str, str], cwd: Path | None = None):
        self.port = free_port()
        cmd = [
            sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(self.port),
            "--server.address", HOST, "--server.headless", "true", "--browser.gatherUsageStats", "false",
            # As the shipped .streamlit/config.toml (with the watcher on, every new session first scans every
            # loaded module: docs/load.md, "Opening"); in a shared checkout an edit would also reload modules.
            "--server.fileWatcherType", "none", *server_args,
        ]  # fmt: skip
        self.log = tempfile.NamedTemporaryFile("w+", prefix="loadgen-server-", suffix=".log", delete=False)  # noqa: SIM115
        self.proc = subprocess.Popen(
            cmd,
            cwd=cwd or app.parent,  # Streamlit reads .streamlit/config.toml from here
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.proc.pid

    async def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log_tail()}")
            with contextlib.suppress(OSError, TimeoutError, ValueError, IndexError):
                if await http_get(self.port, "/_stcore/health", 2) == 200:
                    return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"server not healthy within {timeout:g} s: {self.log_tail()}")

    def log_tail(self, chars: int = 2000) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-chars:]

    def stop(self, keep_log: bool = False) -> None:
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            if self.proc.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, sig)  # the group of the server we started (start_new_session)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(wait)
        self.log.close()
        if not keep_log:
            Path(self.log.name).unlink(missing_ok=True)


class Usage:
    """CPU seconds and RSS of the server (processes + their children), this client and the whole machine."""

    def __init__(self, pid: int | list[int]):
        self.servers = [psutil.Process(p) for p in (pid if isinstance(pid, list) else [pid])]
        self.me = psutil.Process()

    def _server_procs(self) -> list[psutil.Process]:
        procs = []
        for server in self.servers:
            with contextlib.suppress(psutil.Error):
                procs += [server, *server.children(recursive=True)]
        return procs

    def server_cpu(self) -> float:
        total = 0.0
        for p in self._server_procs():
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                total += t.user + t.system
        return total

    def server_rss_mb(self) -> float:
        total = 0
        for p in self._server_procs():
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        return total / 2**20

    def snapshot(self) -> tuple[float, float, float, float]:
        """(wall, server CPU, client CPU, machine CPU) seconds, for differences."""
        mine, machine = self.me.cpu_times(), psutil.cpu_times()
        busy = (
            machine.user + machine.system + machine.nice + getattr(machine, "irq", 0) + getattr(machine, "softirq", 0)
        )
        return time.perf_counter(), self.server_cpu(), mine.user + mine.system, busy

    async def wait_quiet(self, limit: float, cores: float = 0.3, window: float = 2.0) -> float:
        """Wait up to `limit` s until other processes use < `cores` (the machine may be shared); seconds waited."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < limit:
            a = self.snapshot()
            await asyncio.sleep(window)
            if other_cores(a, self.snapshot()) < cores:
                break
        return time.monotonic() - t0


def other_cores(a: tuple, b: tuple) -> float:
    """Cores used by processes other than the server and this client between two snapshots."""
    wall, server, client, machine = (y - x for x, y in zip(a, b, strict=True))
    return max(0.0, (machine - server - client) / wall) if wall > 0 else 0.0


# ------------------------------------------------------------------------------------------------ one level


@dataclass
class Level:
    viewers: int
    rerun_ms: list[float] = field(default_factory=list)
    rerun_at_s: list[float] = field(default_factory=list)  # when each change was sent, seconds into the level
    open_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    server_cpu_s: float = 0.0
    wall_s: float = 0.0
    rss_peak_mb: float = 0.0
    rss_series: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MB) every --rss-every s
    other_cores: float = 0.0
    client_cores: float = 0.0  # this load generator's own CPU

    def summary(self) -> dict:
        n = len(self.rerun_ms)
        return {
            "viewers": self.viewers,
            "reruns": n,
            "reruns_per_s": n / self.wall_s if self.wall_s else None,
            "errors": len(self.errors),
            "p50_ms": percentile(self.rerun_ms, 50),
            "p95_ms": percentile(self.rerun_ms, 95),
            "max_ms": max(self.rerun_ms, default=None),
            "open_p50_ms": percentile(self.open_ms, 50),
            "open_max_ms": max(self.open_ms, default=None),
            "cpu_ms_per_rerun": 1000 * self.server_cpu_s / n if n else None,
            "server_cores": self.server_cpu_s / self.wall_s if self.wall_s else None,
            "rss_peak_mb": self.rss_peak_mb,
            "other_cores": self.other_cores,
            "client_cores": self.client_cores,
        }


async def warm_up(port: int, args) -> None:
    """--warmup viewers (default one) open the page and make two changes each (imports, caches, first-run
    costs), unmeasured; behind a proxy, several viewers reach every process."""

    async def one() -> None:
        v = Viewer(port, args.page, args.timeout)
        try:
            await v.open()
            wid = v.widget_id(args.widget)
            for values in toggle_values(v.widgets[wid].string_array_value.data, v.multiselects[wid], args.option):
                await v.change(wid, values)
        finally:
            await v.close()

    await asyncio.gather(*(one() for _ in range(max(1, args.warmup))))


async def measure(port: int, pid: int | list[int], n: int, args) -> Level:
    """N viewers open the page at once, then each makes args.reruns changes; CPU is counted over the changes."""
    level, usage = Level(n), Usage(pid)
    viewers = [Viewer(port, args.page, args.timeout) for _ in range(n)]
    deadline = time.monotonic() + args.level_timeout
    sampling, started = True, time.monotonic()

    async def sample_rss() -> None:
        while sampling:
            rss, elapsed = usage.server_rss_mb(), time.monotonic() - started
            level.rss_peak_mb = max(level.rss_peak_mb, rss)
            if elapsed >= len(level.rss_series) * args.rss_every:
                level.rss_series.append((round(elapsed, 1), round(rss, 1)))
            await asyncio.sleep(0.5)

    async def open_one(v: Viewer) -> bool:
        try:
            level.open_ms.append(1000 * await v.open())
            return True
        except ViewerError as err:
            level.errors.append(f"open {err}")
            return False

    async def changes(i: int, v: Viewer) -> None:
        try:
            wid = v.widget_id(args.widget)
            plan = toggle_values(v.widgets[wid].string_array_value.data, v.multiselects[wid], args.option)
        except (ViewerError, ValueError, KeyError) as err:
            level.errors.append(f"setup {err}")
            return
        pace = random.Random(i)
        await asyncio.sleep(pace.uniform(0, args.think))  # viewers do not act in lockstep
        for k in range(args.reruns):
            if args.duration and time.monotonic() - changes_from > args.duration:
                return  # a soak: enough changes for this run
            if time.monotonic() > deadline:
                level.errors.append(f"level timeout: {args.reruns - k} change(s) not made")
                return
            try:
                sent = time.monotonic() - changes_from
                level.rerun_ms.append(1000 * await v.change(wid, plan[k % 2]))
                level.rerun_at_s.append(round(sent, 3))
            except ViewerError as err:
                level.errors.append(f"rerun {err}")
                return  # a viewer whose run timed out or whose socket closed stops
            if k < args.reruns - 1:
                await asyncio.sleep(think_time(args.think, args.jitter, pace))

    sampler = asyncio.create_task(sample_rss())
    try:
        opened = await asyncio.gather(*(open_one(v) for v in viewers))
        before, changes_from = usage.snapshot(), time.monotonic()
        await asyncio.gather(*(changes(i, v) for i, (v, ok) in enumerate(zip(viewers, opened, strict=True)) if ok))
        after = usage.snapshot()
    finally:
        sampling = False
        await sampler
        await asyncio.gather(*(v.close() for v in viewers))
    level.wall_s, level.server_cpu_s = after[0] - before[0], after[1] - before[1]
    level.other_cores = other_cores(before, after)
    level.client_cores = (after[2] - before[2]) / level.wall_s if level.wall_s else 0.0
    level.errors += [f"stream {p}" for v in viewers for p in v.problems]
    return level


def gc_threshold_env(spec: str, pythonpath: str = "") -> dict[str, str]:
    """Environment that makes the server call gc.set_threshold(*spec) at start-up (a sitecustomize on PYTHONPATH)."""
    values = [int(x) for x in spec.split(",")]
    folder = tempfile.mkdtemp(prefix="loadgen-gc-")
    Path(folder, "sitecustomize.py").write_text(f"import gc\n\ngc.set_threshold(*{values!r})\n")
    return {"PYTHONPATH": os.pathsep.join(p for p in (folder, pythonpath) if p)}


def url_port(url: str) -> int:
    """The port of a running server's URL; only http://127.0.0.1:PORT or http://localhost:PORT (loopback)."""
    m = re.fullmatch(r"http://(127\.0\.0\.1|localhost):(\d+)/?", url.strip())
    if not m:
        raise ValueError(f"--url must be http://127.0.0.1:PORT (loopback only), got {url!r}")
    return int(m.group(2))


async def run_level_at_url(n: int, args) -> Level:
    """A level against an already running server or proxy (--url); its CPU and RSS from --server-pid."""
    port = url_port(args.url)
    pids = [int(p) for p in args.server_pid] or [os.getpid()]
    await warm_up(port, args)
    await Usage(pids).wait_quiet(args.quiet_wait)
    return await measure(port, pids, n, args)


async def run_level(n: int, args, env: dict[str, str]) -> Level:
    if args.url:
        return await run_level_at_url(n, args)
    server, level = Server(Path(args.app).resolve(), args.server_arg, env), None
    try:
        await server.wait_ready()
        await warm_up(server.port, args)
        await Usage(server.pid).wait_quiet(args.quiet_wait)
        level = await measure(server.port, server.pid, n, args)
        return level
    finally:
        keep = level is None or bool(level.errors)
        server.stop(keep_log=keep)
        if keep:
            print(f"  server log kept: {server.log.name}", flush=True)


# ------------------------------------------------------------------------------------------------ report

COLUMNS = [  # key, heading, format
    ("viewers", "viewers", "{}"),
    ("reruns", "reruns", "{}"),
    ("errors", "errors", "{}"),
    ("p50_ms", "p50 ms", "{:.0f}"),
    ("p95_ms", "p95 ms", "{:.0f}"),
    ("max_ms", "max ms", "{:.0f}"),
    ("open_p50_ms", "open p50 ms", "{:.0f}"),
    ("open_max_ms", "open max ms", "{:.0f}"),
    ("cpu_ms_per_rerun", "server CPU ms/rerun", "{:.0f}"),
    ("reruns_per_s", "reruns/s", "{:.1f}"),
    ("server_cores", "server cores", "{:.2f}"),
    ("rss_peak_mb", "RSS peak MB", "{:.0f}"),
    ("other_cores", "other procs cores", "{:.2f}"),
]


def markdown_table(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(h for _, h, _ in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        cells = ["–" if row.get(k) is None else f.format(row[k]) for k, _, f in COLUMNS]
        if row.get("skipped"):
            cells[1:] = ["skipped: time budget spent"] + [""] * (len(COLUMNS) - 2)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def replace_block(text: str, label: str, block: str) -> str:
    """Put block between <!-- loadgen:LABEL --> markers in text (replacing what was there, else appending)."""
    start, end = f"<!-- loadgen:{label} -->", f"<!-- /loadgen:{label} -->"
    new = f"{start}\n{block.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        return pattern.sub(lambda _: new, text, count=1)
    return (text.rstrip() + "\n\n" if text.strip() else "") + new + "\n"


def describe(args) -> str:
    extras = " ".join(
        [*args.server_arg, *args.env] + ([f"gc.set_threshold({args.gc_threshold})"] if args.gc_threshold else [])
    )
    return (
        f"**{args.label}**: `{Path(args.app).name if args.app else args.url}` page `{args.page}`, {args.reruns} changes of `{args.widget}` per "
        f"viewer, think {args.think:g} s{jitter_text(args.jitter)}; {extras or 'no extra server settings'}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}."
    )


async def main(args) -> int:
    env = parse_env(args.env)
    if args.gc_threshold:
        env.update(gc_threshold_env(args.gc_threshold, env.get("PYTHONPATH", os.environ.get("PYTHONPATH", ""))))
    rows, raw, t0 = [], [], time.monotonic()
    for n in parse_viewers(args.viewers):
        left = args.budget - (time.monotonic() - t0) if args.budget else args.level_timeout
        if left < 30:
            rows.append({"viewers": n, "skipped": True})
            print(f"  {n} viewers: skipped, time budget spent", flush=True)
            continue
        args.level_timeout = min(args.level_timeout, left)
        level = await run_level(n, args, env)
        rows.append(level.summary())
        raw.append(
            {"viewers": n, "rerun_ms": level.rerun_ms, "rerun_at_s": level.rerun_at_s, "open_ms": level.open_ms, "rss_series": level.rss_series,
             "errors": level.errors[:50]}
        )  # fmt: skip
        print(markdown_table(rows[-1:]).splitlines()[-1] if len(rows) > 1 else markdown_table(rows[-1:]), flush=True)
        for err in level.errors[:3]:
            print(f"  error: {err}", flush=True)
    if args.json:
        meta = {
            "label": args.label, "app": args.app, "page": args.page, "widget": args.widget, "option": args.option,
            "reruns": args.reruns, "think_s": args.think, "jitter": args.jitter, "server_args": args.server_arg, "env": args.env,
            "gc_threshold": args.gc_threshold, "cores": os.cpu_count(), "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        }  # fmt: skip
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({**meta, "levels": rows, "raw": raw}, indent=1))
    if args.markdown:
        path = Path(args.markdown)
        old = path.read_text() if path.exists() else ""
        path.write_text(replace_block(old, args.label, describe(args) + "\n\n" + markdown_table(rows)))
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Simulated Streamlit viewers; a fresh server per level (docs/load.md).")
    p.add_argument("--app", help="Streamlit script, e.g. app.py or benchmarks/floor_app.py (or --url)")
    p.add_argument("--url", help="drive this running server or proxy instead, e.g. http://127.0.0.1:8080 (loopback)")
    p.add_argument(
        "--server-pid", action="append", default=[], help="with --url: PID whose CPU/RSS (with children) is counted"
    )
    p.add_argument("--warmup", type=int, default=1, help="warm-up viewers before each level (unmeasured)")
    p.add_argument("--page", default="/", help='page path and query string, e.g. "/" or "/evidence-map?disease=x"')
    p.add_argument("--viewers", default="1,10,25,50,100", help="comma-separated concurrent viewer counts")
    p.add_argument("--reruns", type=int, default=10, help="widget changes per viewer")
    p.add_argument("--think", type=float, default=0.5, help="seconds between one change finishing and the next")
    p.add_argument(
        "--jitter",
        type=float,
        default=0.0,
        help="each think time is drawn from think x [1-J, 1+J] (seeded per viewer); 0: fixed. Fixed think times "
        "let viewers drift into lockstep over minutes (runs that overlap finish together), which a soak should avoid",
    )
    p.add_argument("--widget", default="disease", help="key of the multiselect to toggle")
    p.add_argument("--option", help="option to add and remove (default: the first one not selected)")
    p.add_argument("--server-arg", action="append", default=[], help="extra streamlit flag (repeatable)")
    p.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server (repeatable)")
    p.add_argument("--gc-threshold", help="e.g. 10000,50,100: the server calls gc.set_threshold with these at start")
    p.add_argument("--timeout", type=float, default=120, help="seconds to wait for one run")
    p.add_argument("--duration", type=float, default=0, help="soak: stop changing after this many s (0: off)")
    p.add_argument("--rss-every", type=float, default=60, help="seconds between the RSS samples kept in the JSON")
    p.add_argument("--level-timeout", type=float, default=900, help="no new change starts after this many seconds")
    p.add_argument("--quiet-wait", type=float, default=20, help="wait up to this many s for other processes to idle")
    p.add_argument("--budget", type=float, default=0, help="seconds for all levels; later levels are skipped (0: off)")
    p.add_argument("--label", default="load", help="name in the tables, the JSON and the Markdown markers")
    p.add_argument("--json", help="write the summary and raw timings here")
    p.add_argument("--markdown", help="write the table into this file between <!-- loadgen:LABEL --> markers")
    args = p.parse_args(argv)
    if args.reruns < 1 or args.think < 0:
        p.error("--reruns must be >= 1 and --think >= 0")
    if not 0 <= args.jitter <= 1:
        p.error("--jitter must be between 0 and 1")
    if bool(args.app) == bool(args.url):
        p.error("give one of --app (a fresh server per level) or --url (a running server)")
    if args.url:
        try:
            url_port(args.url)
        except ValueError as err:
            p.error(str(err))
    return args


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind, so the running server is stopped
    sys.exit(asyncio.run(main(parse_args())))
