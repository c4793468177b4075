"""Curator commands: python -m rankl_atlas COMMAND ...

add-studies FILE... [--source DIR] [--dry-run]
    Append draft study rows from PubMed MEDLINE (.nbib/.txt), PubMed XML, RIS or BibTeX exports to
    DIR/studies.csv (default data/source). Duplicates are skipped; any malformed input changes nothing.

pool --condition C --analyte A --family F [--related R] [--kit-subgroups] [--format json|csv] [--data DIR]
    Print the pooled result the Synthesis page shows for one question (the same function), e.g.
    python -m rankl_atlas pool --condition rheumatoid_arthritis --analyte opg --family cases_vs_controls

report [--out docs/synthesis.md]
    Write the pooled answers at the default view beside every published meta-analysis (Markdown).

infer-spread [--source DIR]
    Decide what each unlabelled '± x' is (SD or SE) from the paper's own test, and record spread_basis
    (with the computation in notes) in DIR/measurements.csv. Run `make data` afterwards.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from urllib.parse import parse_qs

import pandas as pd

from rankl_atlas import answers
from rankl_atlas.build import load_sources, write_atomic
from rankl_atlas.data import DataLoadError, load_tables
from rankl_atlas.filters import apply_filters, filter_options, parse_query_params, year_bounds
from rankl_atlas.importers import ImportFailed, add_studies
from rankl_atlas.schema import ANALYTE, COMPARISON_FAMILY, CONDITION_GROUP, RELATED_TO
from rankl_atlas.synthesis import infer_spread_readings
from rankl_atlas.validation import ValidationFailed, print_problems

BUNDLED_DATA = Path(__file__).resolve().parents[2] / "data"


def _add_studies(args: argparse.Namespace) -> int:
    try:
        plan = add_studies(args.files, args.source, dry_run=args.dry_run)
    except ImportFailed as failed:
        print_problems("Import", failed.problems)
        return 1
    target = args.source / "studies.csv"
    verb = "Would add" if args.dry_run else "Added"
    if plan.added:
        print(f"{verb} {len(plan.added)} draft stud{'y' if len(plan.added) == 1 else 'ies'} to {target}:")
    else:
        print(f"No new studies; {target} is unchanged.")
    for added in plan.added:
        print(f"  + {added.study_id}: {added.citation.title}")
    if plan.skipped:
        print(f"Skipped {len(plan.skipped)} duplicate(s):")
        for skipped in plan.skipped:
            c = skipped.citation
            print(f"  - {c.file}, record {c.index}: {c.title} ({skipped.reason})")
    if plan.warnings:
        print(f"Check {len(plan.warnings)} record(s) imported with something left out:")
        for warning in plan.warnings:
            print(f"  ! {warning}")
    if plan.added and not args.dry_run:
        print("New rows have curation_status 'draft'; curate them, then run `make data`.")
    return 0


def _pool(args: argparse.Namespace) -> int:
    try:
        tables = load_tables(args.data)
    except DataLoadError as err:
        print(err, file=sys.stderr)
        return 1
    filters = parse_query_params(parse_qs(args.filters or ""), filter_options(tables), year_bounds(tables.studies))
    for notice in filters.notices:
        print(f"note: {notice}", file=sys.stderr)
    settings = answers.Settings(args.method, args.hartung_knapp, args.spread)
    evidence = answers.gather_evidence(apply_filters(tables, filters.filters), settings, filters.filters.family)
    result = answers.answer_question(
        evidence, args.condition, args.analyte, args.family, args.related, args.kit_subgroups
    )
    if args.format == "json":
        print(json.dumps(result.as_dict(), indent=2, ensure_ascii=False, default=str))
    else:
        buffer = io.StringIO()
        result.table.to_csv(buffer, index=False)
        print(buffer.getvalue(), end="")
    return 0


def _infer_spread(args: argparse.Namespace) -> int:
    try:
        tables = load_sources(args.source)
    except ValidationFailed as failed:
        print_problems("Sources", failed.issues)
        return 1
    readings = infer_spread_readings(tables["measurements"], tables["studies"], tables["findings"])
    path = args.source / "measurements.csv"
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    changed = 0
    for _, row in readings[readings["reading"] != ""].iterrows():
        at = raw.index[raw["measurement_id"] == row["measurement_id"]][0]
        if raw.at[at, "spread_basis"] != "unknown":
            continue
        if row["reading"] == "se":
            raw.at[at, "se"], raw.at[at, "sd"] = raw.at[at, "sd"], ""
        raw.at[at, "spread_basis"] = "inferred_from_test"
        raw.at[at, "notes"] = "; ".join(t for t in (raw.at[at, "notes"], row["note"]) if t)
        changed += 1
    for _, row in readings[readings["reading"] == ""].iterrows():
        at = raw.index[raw["measurement_id"] == row["measurement_id"]][0]
        if row["note"] not in raw.at[at, "notes"]:
            raw.at[at, "notes"] = "; ".join(t for t in (raw.at[at, "notes"], "unresolved: " + row["note"]) if t)
    buffer = io.StringIO()
    raw.to_csv(buffer, index=False, lineterminator="\n")
    write_atomic(path, buffer.getvalue().encode("utf-8"))
    print(f"{changed} measurement(s) resolved from the paper's own test; {int((readings['reading'] == '').sum())} "
          f"tested but left unknown. Run `make data`.")  # fmt: skip
    return 0


def _report(args: argparse.Namespace) -> int:
    tables = load_tables(args.data)
    version = json.loads((args.data / "datapackage.json").read_text(encoding="utf-8")).get("version", "")
    text = answers.synthesis_report(tables, version)
    if args.out:
        write_atomic(args.out, text.encode("utf-8"))
    else:
        print(text, end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rankl_atlas", description="RANKL Atlas curator commands.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add = commands.add_parser(
        "add-studies",
        help="add draft studies from bibliographic exports",
        description="Append draft study rows from PubMed MEDLINE (.nbib/.txt), PubMed XML, RIS or BibTeX exports. "
        "Duplicates (same PMID, DOI, or title and year) are skipped; if any file or record is malformed, nothing "
        "is changed.",
    )
    add.add_argument("files", nargs="+", type=Path, metavar="FILE", help="export files (.nbib .txt .xml .ris .bib)")
    add.add_argument(
        "--source", type=Path, default=Path("data/source"), help="curated CSV folder (default data/source)"
    )
    add.add_argument("--dry-run", action="store_true", help="show what would be added without writing")
    add.set_defaults(handler=_add_studies)

    pool = commands.add_parser(
        "pool",
        help="print the pooled result of one question (as on the Synthesis page)",
        description="Pool one question with the same function the Synthesis page uses: Hedges' g across kits for "
        "cases vs controls (kit and form subgroups), Fisher-z pooled r for associations (--related), log-scale "
        "pooled ratios of like contrasts for prediction.",
    )
    pool.add_argument("--condition", required=True, choices=list(CONDITION_GROUP), metavar="CONDITION_GROUP")
    pool.add_argument("--analyte", required=True, choices=list(ANALYTE), metavar="ANALYTE")
    pool.add_argument("--family", required=True, choices=list(COMPARISON_FAMILY), metavar="FAMILY")
    pool.add_argument("--related", choices=list(RELATED_TO), default=None, help="for associations and predictions")
    pool.add_argument("--method", choices=["dl", "pm"], default="dl", help="τ² estimator (default dl)")
    pool.add_argument("--hartung-knapp", action="store_true", help="Hartung-Knapp CI")
    pool.add_argument("--spread", choices=["exclude", "sd", "se"], default="exclude",
                      help="unlabelled '±': leave out (default), read as SD, read as SE")  # fmt: skip
    pool.add_argument("--kit-subgroups", action="store_true", help="also print the kit and form subgroups")
    pool.add_argument("--format", choices=["csv", "json"], default="csv")
    pool.add_argument("--filters", default="", help="the page's URL query, e.g. 'year=2000&year=2015' (default: none)")
    pool.add_argument("--data", type=Path, default=BUNDLED_DATA, help="data folder (default: the bundled dataset)")
    pool.set_defaults(handler=_pool)

    report = commands.add_parser("report", help="write docs/synthesis.md: pooled answers beside published reviews")
    report.add_argument("--data", type=Path, default=BUNDLED_DATA)
    report.add_argument("--out", type=Path, default=None, help="file to write (default: print)")
    report.set_defaults(handler=_report)

    spread = commands.add_parser("infer-spread", help="decide unlabelled '±' (SD or SE) from the paper's own test")
    spread.add_argument("--source", type=Path, default=Path("data/source"), help="curated CSV folder")
    spread.set_defaults(handler=_infer_spread)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one curator command; return the exit code (0 success, 1 malformed input, 2 usage error)."""
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
