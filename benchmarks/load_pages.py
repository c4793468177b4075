#!/usr/bin/env python3
"""Every page under many viewers, the floor app in the same run: the per-page tables of docs/load.md (issue 24).

    .venv/bin/python benchmarks/load_pages.py [--pages overview,synthesis] [--viewers 1,10,25,50,100]
        [--modes reader,stress] [--out tmp/load/pages] [--markdown docs/load.md]

For each mode — *reader's pace* (a change every 5 s) and *stress* (a change every 0.5 s), 5 changes of the
sidebar's disease filter per viewer — the floor app (benchmarks/floor_app.py) runs first, then each page, every
level on a fresh server (benchmarks/loadgen.py: protocol-level viewers, `runner.postScriptGC=false` for both
apps). One JSON per run goes to --out; with --markdown, one table per page is written between
``<!-- loadgen:page-KEY -->`` markers, each row beside the floor's figure at the same level and mode.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from loadgen import replace_block  # noqa: E402

from rankl_atlas.navigation import PAGES  # noqa: E402

#: name → (seconds between changes, changes per viewer)
MODES = {"reader": (5.0, 5), "stress": (0.5, 5)}
SERVER_ARGS = ["--server-arg=--runner.postScriptGC=false"]


def run_one(app: Path, page: str, mode: str, viewers: str, out: Path, label: str) -> dict:
    """One loadgen run (every level on a fresh server); its JSON summary."""
    think, reruns = MODES[mode]
    target = out / f"{label}-{mode}.json"
    command = [
        sys.executable, str(ROOT / "benchmarks" / "loadgen.py"), "--app", str(app), "--page", page,
        "--viewers", viewers, "--reruns", str(reruns), "--think", str(think), "--label", f"{label} ({mode})",
        "--json", str(target), *SERVER_ARGS,
    ]  # fmt: skip
    print(f"== {label}, {mode}: {' '.join(command[2:])}", flush=True)
    subprocess.run(command, check=True, cwd=ROOT)
    return json.loads(target.read_text())


def by_viewers(run: dict) -> dict[int, dict]:
    return {level["viewers"]: level for level in run["levels"] if not level.get("skipped")}


def cell(value, fmt: str = "{:.0f}") -> str:
    return "–" if value is None else fmt.format(value)


def page_table(title: str, runs: dict[str, dict], floors: dict[str, dict]) -> str:
    """One page's table: per level, rerun p50/p95 at a reader's pace and under stress, errors, CPU per rerun
    beside the floor's at the same level, RSS peak."""
    lines = [
        f"**{title}**",
        "",
        "| viewers | reader p50 ms | reader p95 ms | stress p50 ms | stress p95 ms | errors | CPU ms/rerun (reader) "
        "| floor CPU ms/rerun | × floor | stress reruns/s | RSS peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    reader, stress = by_viewers(runs.get("reader", {"levels": []})), by_viewers(runs.get("stress", {"levels": []}))
    floor = by_viewers(floors.get("reader", {"levels": []}))
    for n in sorted(set(reader) | set(stress)):
        r, s, f = reader.get(n, {}), stress.get(n, {}), floor.get(n, {})
        cpu, floor_cpu = r.get("cpu_ms_per_rerun"), f.get("cpu_ms_per_rerun")
        ratio = cpu / floor_cpu if cpu and floor_cpu else None
        errors = (r.get("errors") or 0) + (s.get("errors") or 0)
        rss = max(x for x in (r.get("rss_peak_mb"), s.get("rss_peak_mb"), 0) if x is not None)
        lines.append(
            f"| {n} | {cell(r.get('p50_ms'))} | {cell(r.get('p95_ms'))} | {cell(s.get('p50_ms'))} | "
            f"{cell(s.get('p95_ms'))} | {errors} | {cell(cpu)} | {cell(floor_cpu)} | {cell(ratio, '{:.1f}×')} | "
            f"{cell(s.get('reruns_per_s'), '{:.1f}')} | {cell(rss or None)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default=",".join(p.key for p in PAGES), help="page keys (navigation.PAGES)")
    parser.add_argument("--viewers", default="1,10,25,50,100", help="levels at a reader's pace")
    parser.add_argument("--stress-viewers", default="1,10,25,50,100", help="levels under stress")
    parser.add_argument("--modes", default="reader,stress")
    parser.add_argument("--out", type=Path, default=ROOT / "tmp" / "load" / "pages")
    parser.add_argument("--markdown", type=Path, help="write the per-page tables into this file (markers)")
    parser.add_argument("--render-only", action="store_true", help="write the tables from the JSON files in --out")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    modes = args.modes.split(",")
    pages = [p for key in args.pages.split(",") for p in PAGES if p.key == key]
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results: dict[str, dict[str, dict]] = {"floor": {}}
    for mode in modes:
        if args.render_only:
            for key in ["floor", *(page.key for page in pages)]:
                results.setdefault(key, {})[mode] = json.loads((args.out / f"{key}-{mode}.json").read_text())
            started = results["floor"][mode]["date"][:16] + " UTC"
            continue
        viewers = args.stress_viewers if mode == "stress" else args.viewers
        floor_app = ROOT / "benchmarks" / "floor_app.py"
        results["floor"][mode] = run_one(floor_app, "/", mode, viewers, args.out, "floor")
        for page in pages:
            path = "/" + (page.url_path or "")
            results.setdefault(page.key, {})[mode] = run_one(ROOT / "app.py", path, mode, viewers, args.out, page.key)
    tables = {
        page.key: page_table(f"{page.title} (`/{page.url_path or ''}`), {started}", results[page.key], results["floor"])
        for page in pages
    }
    for block in tables.values():
        print("\n" + block, flush=True)
    if args.markdown:
        text = args.markdown.read_text() if args.markdown.exists() else ""
        for key, block in tables.items():
            text = replace_block(text, f"page-{key}", block)
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
