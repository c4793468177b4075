#!/usr/bin/env python3
"""Throughput at saturation: one Streamlit process against several behind nginx (deploy/serve.py).

For each configuration the server is started fresh, warmed up by --warmup viewers, then --viewers simulated viewers
(benchmarks/loadgen.py, protocol level, cookies kept like a browser) open the page and change the filter as fast as
they can (think 0) for --duration seconds. Reported: timed reruns per second over the change phase, rerun p50/p95,
server CPU per rerun (server processes + children: the Streamlit process, or the launcher with nginx and its
workers), server cores, and the cores other processes used meanwhile. Configurations run in turn, --rounds times:

- ``1 direct``: one ``streamlit run`` on a loopback port, no proxy (as loadgen.py starts it);
- ``1 nginx``: ``deploy/serve.py --workers 1`` (the proxy's own cost);
- ``2 nginx``: ``deploy/serve.py --workers 2``.

    .venv/bin/python benchmarks/serve_bench.py --app app.py --page / --viewers 40 --duration 45 \\
        --markdown docs/load.md --label "serve overview"

Target (issue 24): 2 processes behind nginx >= 1.7 x the reruns per second of 1 process. Method: docs/load.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("loadgen", ROOT / "benchmarks" / "loadgen.py")
lg = importlib.util.module_from_spec(_spec)
sys.modules["loadgen"] = lg
_spec.loader.exec_module(lg)

TARGET = 1.7


class Proxied:
    """deploy/serve.py with N workers on a free loopback port; its run folder in a temp dir."""

    def __init__(self, app: str, workers: int):
        self.port = lg.free_port()
        self.run_dir = Path(tempfile.mkdtemp(prefix="serve-bench-"))
        self.log = (self.run_dir / "launcher.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "deploy" / "serve.py"), "--workers", str(workers), "--port", str(self.port),
             "--address", lg.HOST, "--run-dir", str(self.run_dir), "--app", app],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.pid = self.proc.pid

    async def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while not (self.run_dir / "serve.json").exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve.py did not start: {(self.run_dir / 'launcher.log').read_text()[-2000:]}")
            await asyncio.sleep(0.3)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
        self.log.close()


async def one_config(name: str, args) -> dict:
    if name == "1 direct":
        server = lg.Server(ROOT / args.app, [], {}, cwd=ROOT)  # the same config.toml as deploy/serve.py's workers
    else:
        server = Proxied(args.app, int(name.split()[0]))
    try:
        await server.wait_ready()
        level_args = lg.parse_args(
            ["--url", f"http://{lg.HOST}:{server.port}", "--server-pid", str(server.pid), "--page", args.page,
             "--widget", args.widget, "--viewers", str(args.viewers), "--reruns", "1000000", "--think", "0",
             "--duration", str(args.duration), "--warmup", str(args.warmup), "--quiet-wait", str(args.quiet_wait),
             "--timeout", "120"]
        )  # fmt: skip
        level = await lg.run_level(args.viewers, level_args, {})
    finally:
        server.stop()
    row = {"config": name, **level.summary()}
    row["error_samples"] = level.errors[:3]
    return row


COLUMNS = [
    ("config", "processes", "{}"),
    ("viewers", "viewers", "{}"),
    ("reruns", "reruns", "{}"),
    ("errors", "errors", "{}"),
    ("reruns_per_s", "reruns/s", "{:.1f}"),
    ("p50_ms", "p50 ms", "{:.0f}"),
    ("p95_ms", "p95 ms", "{:.0f}"),
    ("cpu_ms_per_rerun", "server CPU ms/rerun", "{:.0f}"),
    ("server_cores", "server cores", "{:.2f}"),
    ("client_cores", "load generator cores", "{:.2f}"),
    ("other_cores", "other procs cores", "{:.2f}"),
]
NAMES = {"1 direct": "1, direct", "1 nginx": "1 behind nginx", "2 nginx": "2 behind nginx"}


def table(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(h for _, h, _ in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        cells = [
            "–" if row.get(k) is None else (NAMES.get(row[k], row[k]) if k == "config" else f.format(row[k]))
            for k, _, f in COLUMNS
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ratio_line(rows: list[dict]) -> tuple[str, float | None]:
    def best(name: str) -> list[float]:
        return [r["reruns_per_s"] for r in rows if r["config"] == name and r.get("reruns_per_s")]

    one, two = best("1 direct"), best("2 nginx")
    if not one or not two:
        return "ratio: not measured", None
    mean1, mean2 = sum(one) / len(one), sum(two) / len(two)
    ratio = mean2 / mean1
    verdict = "met" if ratio >= TARGET else "missed"
    return (
        f"2 processes behind nginx / 1 process direct: {mean2:.1f} / {mean1:.1f} reruns/s = **{ratio:.2f}×** "
        f"(mean of {len(two)} and {len(one)} run(s); target ≥ {TARGET}×: {verdict})",
        ratio,
    )


async def main(args) -> int:
    rows = []
    for r in range(args.rounds):
        for name in args.configs.split(","):
            print(f"round {r + 1}: {NAMES[name]} ...", flush=True)
            row = await one_config(name, args)
            rows.append(row)
            print(table([row]).splitlines()[-1], flush=True)
            for err in row["error_samples"]:
                print(f"  error: {err}", flush=True)
    line, ratio = ratio_line(rows)
    print(table(rows), line, sep="\n\n", flush=True)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"args": vars(args), "date": stamp, "rows": rows, "ratio": ratio}))
    if args.markdown:
        head = (
            f"**{args.label}**: `{args.app}` page `{args.page}`, {args.viewers} viewers toggling `{args.widget}` "
            f"with no think time for {args.duration:g} s per run, {args.rounds} round(s); {stamp}."
        )
        path = Path(args.markdown)
        path.write_text(
            lg.replace_block(
                path.read_text() if path.exists() else "", args.label, f"{head}\n\n{table(rows)}\n\n{line}"
            )
        )
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Reruns per second at saturation: 1 process vs N behind nginx.")
    p.add_argument("--app", default="app.py", help="Streamlit script relative to the repository root")
    p.add_argument("--page", default="/", help="page path and query string")
    p.add_argument("--widget", default="disease", help="key of the multiselect to toggle")
    p.add_argument("--viewers", type=int, default=40, help="simulated viewers, each changing as fast as it can")
    p.add_argument("--duration", type=float, default=45, help="seconds of changes per run")
    p.add_argument("--warmup", type=int, default=8, help="warm-up viewers per run (reach every worker)")
    p.add_argument("--quiet-wait", type=float, default=10, help="wait up to this long for other processes to idle")
    p.add_argument("--rounds", type=int, default=1, help="times to run every configuration, in turn")
    p.add_argument("--configs", default="1 direct,1 nginx,2 nginx", help="comma list of: 1 direct, K nginx")
    p.add_argument("--label", default="serve", help="Markdown marker name")
    p.add_argument("--markdown", help="write the table between <!-- loadgen:LABEL --> markers in this file")
    p.add_argument("--json", help="write the rows here")
    args = p.parse_args(argv)
    for name in args.configs.split(","):
        if name != "1 direct" and not (name.endswith(" nginx") and name.split()[0].isdigit()):
            p.error(f"unknown configuration {name!r}")
        NAMES.setdefault(name, f"{name.split()[0]} behind nginx")
    return args


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(asyncio.run(main(parse_args())))
