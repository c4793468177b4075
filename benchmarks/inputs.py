"""Benchmarks of the two input paths against large and hostile files (issues 11 and 19).

Run: .venv/bin/python benchmarks/inputs.py [--out docs/benchmarks_inputs.md] [--skip-browser]

Measures:
  (a) curator import: `python -m rankl_atlas add-studies --dry-run` on one PubMed MEDLINE file of 1000 and of
      10 000 fictional records (wall time of the whole command, median of 3, and of `add_studies` alone);
  (b) visitor upload, in-process: peak RSS of a fresh interpreter that reads the Parquet row bomb of issue 11
      (about 1 MB, 100 million rows) with `upload.read_upload`, 5 times at once in 5 threads; beside it the
      peak of the same interpreter that only imports the module, and the peak of one naive full decode (the
      reading before the fix: `pq.read_table(...).to_pandas()`);
  (c) visitor upload, through the app: a real Streamlit server on 127.0.0.1 and 5 headless Chromium sessions
      that upload the bomb on the Your data page at the same time; the server's RSS (with its children) is
      sampled every 20 ms: idle with the 5 pages open, and the peak until every page shows the refusal;
  (d) the Parquet dictionary bomb of issue 19 (under 1 kB, 5000 rows whose title is one 50 kB or 200 kB
      dictionary value): in-process as in (b), one and 5 simultaneous reads; and through the app as in (c),
      one session and 5 sessions at once;
  (e) the largest upload that is accepted (5000 study rows, 4.6 MB CSV or its Parquet): peak RSS above idle of
      `upload.check_upload` in a fresh interpreter with the atlas loaded, one and 5 at once (threads); and
      through the app, one session and 5 at once, until every page lists the 5000 rows.

Prints a Markdown report; --out also writes it to a file.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

import psutil  # noqa: E402

from rankl_atlas import upload  # noqa: E402
from rankl_atlas.importers import add_studies  # noqa: E402
from tests.conftest import SOURCE  # noqa: E402
from tests.fixtures.hostile_uploads import (  # noqa: E402
    BOMB_ROWS,
    DICTIONARY_BOMB_ROWS,
    largest_accepted_upload,
    parquet_dictionary_bomb,
    parquet_row_bomb,
)

SIMULTANEOUS = 5
RECORD_COUNTS = (1000, 10_000)
DICTIONARY_VALUE_KB = (50, 200)


def medline_records(count: int) -> str:
    """`count` fictional PubMed MEDLINE records: 676 surnames, 35 years, DOIs after [pii] lines as PubMed writes."""
    records = []
    for k in range(count):
        surname = "Fict" + "".join(chr(ord("a") + (k // 26**i) % 26) for i in range(2))
        records.append(
            f"PMID- {90_000_000 + k}\nOWN - NLM\nDP  - {1990 + k % 35} Mar\n"
            f"TI  - Fictional record {k} on serum RANKL and osteoprotegerin (benchmark).\n"
            f"LID - {100 + k} [pii]\nLID - 10.99999/bench.{k} [doi]\n"
            f"AU  - {surname} A\nAU  - Other B\nTA  - J Fict Bone Res\nVI  - {k % 50}\n"
        )
    return "\n".join(records)


def bench_add_studies(workdir: Path) -> list[dict]:
    """(a) The dry-run command and the function alone, per record count."""
    results = []
    for count in RECORD_COUNTS:
        folder = workdir / f"import-{count}"
        shutil.copytree(SOURCE, folder / "source")
        export = folder / f"records-{count}.nbib"
        export.write_text(medline_records(count), encoding="utf-8")
        command = [sys.executable, "-m", "rankl_atlas", "add-studies", str(export), "--source", str(folder / "source")]
        walls = []
        for _ in range(3):
            started = time.perf_counter()
            done = subprocess.run([*command, "--dry-run"], capture_output=True, text=True, cwd=ROOT)
            walls.append(time.perf_counter() - started)
            if done.returncode != 0 or f"Would add {count} draft studies" not in done.stdout:
                raise RuntimeError(f"add-studies failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        started = time.perf_counter()
        plan = add_studies([export], folder / "source", dry_run=True)
        function_s = time.perf_counter() - started
        results.append(
            {
                "records": count,
                "added": len(plan.added),
                "command_s": statistics.median(walls),
                "function_s": function_s,
            }
        )
        print(f"  add-studies --dry-run, {count} records: {statistics.median(walls):.2f} s", flush=True)
    return results


PEAK_SCRIPT = """
import sys, threading
mode, path, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
from rankl_atlas import upload
import pyarrow.parquet as pq
data = open(path, "rb").read()
outcomes = []

def read_once():
    if mode == "naive":
        frame = pq.read_table(path).to_pandas()
        outcomes.append(f"decoded {len(frame)} rows")
        return
    try:
        upload.read_upload("bomb.parquet", data)
        outcomes.append("accepted")
    except upload.UploadRejected as err:
        outcomes.append(str(err))

if mode != "import":
    threads = [threading.Thread(target=read_once) for _ in range(copies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
print(outcomes[0] if outcomes else "-")
print(next(int(line.split()[1]) // 1024 for line in open("/proc/self/status") if line.startswith("VmHWM")))
"""


def peak_rss(mode: str, bomb: Path, copies: int) -> tuple[str, int, float]:
    """A fresh interpreter's outcome, peak RSS (MB) and wall time for one mode of PEAK_SCRIPT."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, mode, str(bomb), str(copies)], capture_output=True, text=True, cwd=ROOT
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    outcome, peak = done.stdout.strip().splitlines()[-2:]
    return outcome, int(peak), wall


def bench_upload_in_process(bomb: Path) -> dict:
    """(b) Peak RSS of 5 simultaneous reads, of an import-only interpreter, and of one naive decode."""
    imported = peak_rss("import", bomb, 0)
    fixed = peak_rss("fixed", bomb, SIMULTANEOUS)
    naive = peak_rss("naive", bomb, 1)
    print(f"  in-process: {SIMULTANEOUS} bomb reads peak {fixed[1]} MB (imports alone {imported[1]} MB)", flush=True)
    return {"import": imported, "fixed": fixed, "naive": naive}


def server_rss_mb(process: psutil.Process) -> float:
    """RSS of a process and its children, MB."""
    total = 0
    for p in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total / 1024 / 1024


LARGEST_SCRIPT = """
import sys, threading
from pathlib import Path
from rankl_atlas import upload
from rankl_atlas.data import load_tables
path, copies = sys.argv[1], int(sys.argv[2])
atlas = load_tables(Path(sys.argv[3]))
data = open(path, "rb").read()

def status(key):
    return next(int(line.split()[1]) // 1024 for line in open("/proc/self/status") if line.startswith(key))

idle = status("VmRSS")
kept = []

def check_once():
    result = upload.check_upload(Path(path).name, data, atlas)
    kept.append(f"{len(result.tables.studies)} studies kept, {len(result.issues)} issues")

threads = [threading.Thread(target=check_once) for _ in range(copies)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(kept[0])
print(idle)
print(status("VmHWM"))
"""


def bench_largest_accepted(workdir: Path, browser: bool) -> dict:
    """(e) The largest accepted upload: in-process above idle (1 and 5 at once), and in the app (CSV)."""
    from rankl_atlas.upload import template_csv
    from tests.conftest import DATA

    files = {}
    for fmt in ("csv", "parquet"):
        files[fmt] = workdir / f"largest.{fmt}"
        files[fmt].write_bytes(largest_accepted_upload(template_csv(), fmt))
    rows = []
    for fmt, path in files.items():
        for copies in (1, SIMULTANEOUS):
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", LARGEST_SCRIPT, str(path), str(copies), str(DATA)],
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            if done.returncode != 0:
                raise RuntimeError(done.stderr[-2000:])
            outcome, idle, peak = done.stdout.strip().splitlines()[-3:]
            rows.append(
                (fmt, path.stat().st_size, copies, outcome, int(idle), int(peak), time.perf_counter() - started)
            )
            print(f"  largest accepted {fmt} x{copies}: {int(peak) - int(idle)} MB above idle", flush=True)
    app = []
    if browser:
        for sessions in (1, SIMULTANEOUS):
            app.append(
                bench_upload_in_app(files["csv"], workdir, sessions, done_text="Your rows in this session: 5000")
            )
    return {"in_process": rows, "app": app}


def report_largest_accepted(largest: dict) -> list[str]:
    """(e) as Markdown."""
    lines = [
        "",
        "## (e) Visitor upload: the largest file that is accepted",
        "",
        "5000 study rows, each with its own id and a 685-character title (`largest_accepted_upload` in",
        "`tests/fixtures/hostile_uploads.py`). In-process: `upload.check_upload` (read and validate, one upload at",
        "a time per process, freed memory returned after each) in a fresh interpreter with the atlas loaded; peak",
        "RSS (VmHWM) minus RSS just before the uploads; that includes what the first upload imports and caches",
        "once (the unit test, which measures after pandas has written the file, sees 60-70 MB for five CSVs).",
        "",
        "| file | bytes | at once | outcome | idle (MB) | peak (MB) | peak - idle (MB) | wall (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {fmt} | {size} | {copies} | {outcome} | {idle} | {peak} | {peak - idle} | {wall:.2f} |"
        for fmt, size, copies, outcome, idle, peak, wall in largest["in_process"]
    ]
    if largest["app"]:
        lines += [
            "",
            "Through the app (CSV), measured as in (c), until every page lists the 5000 rows; the rows then stay in",
            "each session (they are the visitor's), so the peak includes what the sessions keep.",
            "",
            "| sessions at once | idle (MB) | peak (MB) | peak - idle (MB) | all shown after (s) | exceptions shown |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {a['sessions']} | {a['idle']:.0f} | {a['peak']:.0f} | {a['peak'] - a['idle']:.0f} "
            f"| {a['elapsed']:.1f} | {a['exceptions']} |"
            for a in largest["app"]
        ]
    return lines


def bench_upload_in_app(
    bomb: Path, workdir: Path, sessions: int = SIMULTANEOUS, refusal: str = "", done_text: str = ""
) -> dict:
    """(c) `sessions` browser sessions upload the bomb at once; the server's RSS is sampled every 20 ms."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import LAUNCH_ARGS, find_chromium, start_server, stop_server, wait_for_app

    server = start_server(workdir)
    process = psutil.Process(server.process.pid)
    samples: list[float] = []
    stop = threading.Event()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=find_chromium(), args=LAUNCH_ARGS, headless=True)
            pages = []
            for _ in range(sessions):
                page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
                page.goto(f"{server.url}/your-data")
                wait_for_app(page)
                pages.append(page)
            time.sleep(2)
            idle = server_rss_mb(process)

            def sample() -> None:
                while not stop.is_set():
                    samples.append(server_rss_mb(process))
                    time.sleep(0.02)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            started = time.perf_counter()
            for page in pages:
                page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(bomb))
            refusal = done_text or refusal or f"rows; at most {upload.MAX_ROWS} are accepted"
            for page in pages:
                page.get_by_text(refusal).first.wait_for(timeout=120_000)
            elapsed = time.perf_counter() - started
            time.sleep(1)
            stop.set()
            sampler.join()
            shown = sum(page.locator("[data-testid='stException']").count() for page in pages)
            browser.close()
    finally:
        stop.set()
        stop_server(server)
    peak = max(samples)
    print(
        f"  in the app: {sessions} {bomb.name} uploads, server RSS idle {idle:.0f} MB, peak {peak:.0f} MB", flush=True
    )
    return {
        "sessions": sessions,
        "idle": idle,
        "peak": peak,
        "elapsed": elapsed,
        "samples": len(samples),
        "exceptions": shown,
    }


def bench_dictionary_bombs(workdir: Path, browser: bool) -> list[dict]:
    """(d) Each dictionary bomb: in-process (imports only, 1 and 5 reads) and in the app (1 and 5 sessions)."""
    results = []
    for value_kb in DICTIONARY_VALUE_KB:
        bomb = parquet_dictionary_bomb(workdir / f"dictionary-bomb-{value_kb}kb.parquet", value_kb=value_kb)
        row = {
            "value_kb": value_kb,
            "bytes": bomb.stat().st_size,
            "import": peak_rss("import", bomb, 0),
            "one": peak_rss("fixed", bomb, 1),
            "five": peak_rss("fixed", bomb, SIMULTANEOUS),
            "app": [],
        }
        print(f"  dictionary bomb {value_kb} kB: 5 reads peak {row['five'][1]} MB", flush=True)
        if browser:
            for sessions in (1, SIMULTANEOUS):
                row["app"].append(
                    bench_upload_in_app(bomb, workdir, sessions, refusal=f"at most {upload.MAX_DECODED_MB} MB")
                )
        results.append(row)
    return results


def report_dictionary_bombs(results: list[dict]) -> list[str]:
    """(d) as Markdown."""
    lines = [
        "",
        "## (d) Visitor upload: the Parquet dictionary bomb (issue 19)",
        "",
        f"A Parquet file of {DICTIONARY_BOMB_ROWS} rows whose `title` is one dictionary value of 50 kB or 200 kB",
        "(`tests/fixtures/hostile_uploads.py`): the metadata declares 0.05 or 0.2 MB uncompressed, the decoded column",
        "takes 5000 times that. The reader now reads text columns dictionary-encoded, sums the length of the value",
        f"each row refers to, and refuses more than {upload.MAX_DECODED_MB} MB before expanding any row (page",
        "headers are read first, so no page is decompressed beyond 32 MB whatever the footer says); one upload is",
        "read and checked at a time per process. In-process: peak RSS of a fresh interpreter (VmHWM), as in (b).",
        "",
        "Reference, measured once on the same machine with the reader before issue 19 (not re-measured here): one",
        "`read_upload` of the 50 kB bomb accepted the file and peaked at 1427 MB (217 MB after the imports), of the",
        "200 kB bomb at 3986 MB; the cell-length limit was checked only after decoding.",
        "",
        "| value | file (bytes) | what | outcome | peak RSS (MB) | above imports only (MB) | wall (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        base = r["import"][1]
        for key, what in (
            ("import", "imports only (baseline)"),
            ("one", "1 `read_upload`"),
            ("five", f"{SIMULTANEOUS} simultaneous `read_upload` (threads)"),
        ):
            outcome, peak, wall = r[key]
            lines.append(
                f"| {r['value_kb']} kB | {r['bytes']} | {what} | {outcome} | {peak} | {peak - base} | {wall:.2f} |"
            )
    app_rows = [(r["value_kb"], a) for r in results for a in r["app"]]
    if app_rows:
        lines += [
            "",
            "Through the app, measured as in (c): server RSS with children, sampled every 20 ms, while the sessions",
            "upload the bomb at once on the Your data page, until every page shows the refusal.",
            "",
            "| value | sessions at once | idle (MB) | peak (MB) | peak - idle (MB) | all refused after (s) | exceptions shown |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {kb} kB | {a['sessions']} | {a['idle']:.0f} | {a['peak']:.0f} | {a['peak'] - a['idle']:.0f} "
            f"| {a['elapsed']:.1f} | {a['exceptions']} |"
            for kb, a in app_rows
        ]
    return lines


def report(
    imports: list[dict], in_process: dict, in_app: dict | None, bomb: Path, dictionary: list[dict], largest: dict
) -> str:
    machine = (
        f"{platform.processor() or platform.machine()}, {psutil.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 1024**3:.1f} GiB RAM, Python {platform.python_version()}"
    )
    lines = [
        "# Benchmarks: import and upload inputs",
        "",
        f"Generated by `.venv/bin/python benchmarks/inputs.py` (issues 11 and 19) on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; "
        f"{machine}. Method: see the script's docstring.",
        "",
        "## (a) Curator import: `python -m rankl_atlas add-studies FILE --dry-run`",
        "",
        "One PubMed MEDLINE file of fictional records ('LID - n [pii]' before 'LID - 10.x [doi]', as PubMed writes",
        "for MDPI, Frontiers and BMC), on a copy of the curated sources. Command: wall time of the whole command",
        "(interpreter start, reading, planning, validating all tables), median of 3; function: `add_studies` alone.",
        "",
        "| records | added | command (s) | add_studies (s) |",
        "|---|---|---|---|",
    ]
    lines += [f"| {r['records']} | {r['added']} | {r['command_s']:.2f} | {r['function_s']:.2f} |" for r in imports]
    lines += [
        "",
        "Reference, measured once on the same machine with the code before issue 11 (not re-measured here): each",
        "new study_id rescanned every id, so `add_studies` took 1.25 s for 1000 and 64.2 s for 10 000 similar",
        "fictional records (the issue reported 1.5 s for 1000 and 27 s for 8000).",
    ]
    imported, fixed, naive = in_process["import"], in_process["fixed"], in_process["naive"]
    lines += [
        "",
        "## (b) Visitor upload, in-process: the Parquet row bomb",
        "",
        f"The bomb: {bomb.stat().st_size / 1024 / 1024:.2f} MB on disk, {BOMB_ROWS:,} rows "
        "(`tests/fixtures/hostile_uploads.py`). Peak RSS of a fresh interpreter (VmHWM of /proc/self/status).",
        "",
        "| what | outcome | peak RSS (MB) | wall (s) |",
        "|---|---|---|---|",
        f"| imports only (baseline) | - | {imported[1]} | {imported[2]:.2f} |",
        f"| {SIMULTANEOUS} simultaneous `read_upload` (threads) | {fixed[0]} | {fixed[1]} | {fixed[2]:.2f} |",
        f"| 1 naive full decode (the reading before the fix) | {naive[0]} | {naive[1]} | {naive[2]:.2f} |",
    ]
    if in_app:
        lines += [
            "",
            f"## (c) Visitor upload through the app: {SIMULTANEOUS} simultaneous bomb uploads",
            "",
            f"Server RSS (with children), sampled every 20 ms ({in_app['samples']} samples).",
            "",
            "| idle, 5 pages open (MB) | peak during the uploads (MB) | peak - idle (MB) | all refused after (s) | exceptions shown |",
            "|---|---|---|---|---|",
            f"| {in_app['idle']:.0f} | {in_app['peak']:.0f} | {in_app['peak'] - in_app['idle']:.0f} "
            f"| {in_app['elapsed']:.1f} | {in_app['exceptions']} |",
        ]
    lines += report_dictionary_bombs(dictionary)
    lines += report_largest_accepted(largest)
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    parser.add_argument("--skip-browser", action="store_true", help="skip (c), the browser measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rankl-inputs-") as tmp:
        workdir = Path(tmp)
        print("(a) curator import", flush=True)
        imports = bench_add_studies(workdir)
        bomb = parquet_row_bomb(workdir / "bomb.parquet")
        print("(b) visitor upload, in-process", flush=True)
        in_process = bench_upload_in_process(bomb)
        in_app = None
        if not args.skip_browser:
            print("(c) visitor upload through the app", flush=True)
            in_app = bench_upload_in_app(bomb, workdir)
        print("(d) the Parquet dictionary bomb", flush=True)
        dictionary = bench_dictionary_bombs(workdir, browser=not args.skip_browser)
        print("(e) the largest accepted upload", flush=True)
        largest = bench_largest_accepted(workdir, browser=not args.skip_browser)
        text = report(imports, in_process, in_app, bomb, dictionary, largest)
    print()
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
