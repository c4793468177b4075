"""Curator commands: python -m rankl_atlas COMMAND ...

add-studies FILE... [--source DIR] [--dry-run]
    Append draft study rows from PubMed MEDLINE (.nbib/.txt), PubMed XML, RIS or BibTeX exports to
    DIR/studies.csv (default data/source). Duplicates are skipped; any malformed input changes nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rankl_atlas.importers import ImportFailed, add_studies
from rankl_atlas.validation import print_problems


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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one curator command; return the exit code (0 success, 1 malformed input, 2 usage error)."""
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
