"""Build data/source/*.csv into validated, deterministic data/*.parquet plus datapackage.json.

Usage: python -m rankl_atlas.build [--source DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rankl_atlas.agreement import qa_issues
from rankl_atlas.schema import (
    NUMERIC_RANGES,
    PANDAS_DTYPE,
    TABLE_FIELDS,
    TABLE_KEYS,
    TABLE_NAMES,
    TABLE_TITLES,
    VOCABULARIES,
    column_names,
    content_hash,
)
from rankl_atlas.search_log import log_issues, read_logs
from rankl_atlas.validation import Issue, ValidationFailed, coerce_text_table, print_problems, validate_tables

TABLES = TABLE_NAMES
ARROW_TYPE = {"string": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}
FRICTIONLESS_TYPE = {"string": "string", "int": "integer", "float": "number", "bool": "boolean"}


def read_source_csv(path: Path, table: str) -> tuple[pd.DataFrame, list[Issue]]:
    """Read one curated CSV as text and coerce it to contract dtypes, collecting issues."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError:
        return pd.DataFrame(columns=column_names(table)), [Issue(path.name, None, None, "", "file is missing")]
    except (UnicodeDecodeError, pd.errors.ParserError) as err:
        return pd.DataFrame(columns=column_names(table)), [Issue(path.name, None, None, "", f"cannot be read: {err}")]
    return coerce_text_table(raw, table, path.name)


def load_sources(source_dir: Path) -> dict[str, pd.DataFrame]:
    """Read and validate the source CSVs (and the search logs in ../search when present); raise ValidationFailed
    listing every bad cell."""
    tables, issues = {}, []
    for table in TABLES:
        frame, found = read_source_csv(source_dir / f"{table}.csv", table)
        tables[table] = frame
        issues.extend(found)
    if not any("column" in i.rule or i.row is None for i in issues):
        reported = {(i.file, i.row, i.column) for i in issues}
        more = validate_tables(tables, {t: f"{t}.csv" for t in TABLES})
        issues += [i for i in more if (i.file, i.row, i.column) not in reported]
    search_dir = source_dir.parent / "search"
    if not issues and search_dir.is_dir():
        issues += log_issues(read_logs(search_dir), tables["studies"])
    qa_dir = source_dir.parent / "qa"
    if not issues and qa_dir.is_dir():
        for folder in (qa_dir, *sorted(p for p in qa_dir.glob("round*") if p.is_dir())):
            issues += qa_issues(folder, tables["studies"])
    if issues:
        raise ValidationFailed(issues)
    return tables


def sort_table(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Deterministic row order: by key (studies by reference number first)."""
    key = TABLE_KEYS[table]
    by = {"studies": ["ref_no", key], "assays": [key], "meta_analyses": [key]}.get(table, ["study_id", key])
    return frame.sort_values(by, na_position="last", kind="stable").reset_index(drop=True)


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of a table, with each column's description as field metadata."""
    return pa.schema(
        [
            pa.field(f.name, ARROW_TYPE[f.dtype], nullable=True, metadata={"description": f.description})
            for f in TABLE_FIELDS[table]
        ]
    )


def parquet_bytes(frame: pd.DataFrame, table: str) -> bytes:
    """Serialise a table to Parquet bytes deterministically (fixed schema, no pandas index)."""
    arrow = pa.Table.from_pandas(frame[column_names(table)], schema=arrow_schema(table), preserve_index=False)
    arrow = arrow.replace_schema_metadata({"table": table})
    sink = pa.BufferOutputStream()
    pq.write_table(arrow, sink, compression="zstd", write_statistics=True, store_schema=False)
    return sink.getvalue().to_pybytes()


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes to a temp file beside path, then atomically replace path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def datapackage(metadata: dict, tables: dict[str, pd.DataFrame], files: dict[str, bytes] | None = None) -> dict:
    """A Frictionless Data Package describing every column from the same schema; with the tables' Parquet
    bytes, each resource also gives its size and content hash, which the loader checks (data.load_tables)."""
    resources = []
    for table in TABLES:
        fields = []
        for f in TABLE_FIELDS[table]:
            field = {"name": f.name, "type": FRICTIONLESS_TYPE[f.dtype], "description": f.description}
            constraints = {"required": not f.nullable}
            if f.vocabulary:
                constraints["enum"] = list(VOCABULARIES[f.vocabulary])
            if f.name in NUMERIC_RANGES[table]:
                constraints["minimum"], constraints["maximum"] = NUMERIC_RANGES[table][f.name]
            field["constraints"] = constraints
            fields.append(field)
        schema = {"fields": fields, "primaryKey": [TABLE_KEYS[table]]}
        if table in ("measurements", "findings"):
            schema["foreignKeys"] = [
                {"fields": ["study_id"], "reference": {"resource": "studies", "fields": ["study_id"]}}
            ]
        resource = {
            "name": table,
            "path": f"{table}.parquet",
            "format": "parquet",
            "title": TABLE_TITLES[table],
            "rows": int(len(tables[table])),
        }
        if files is not None:
            resource |= {"bytes": len(files[table]), "hash": content_hash(files[table])}
        resources.append(resource | {"schema": schema})
    return {**metadata, "resources": resources}


def build(source_dir: Path, out_dir: Path) -> dict[str, int]:
    """Validate the sources and write the Parquet tables and datapackage.json; return row counts.

    Nothing is written unless every table is valid. Each file is replaced atomically, and the set switches at
    once: datapackage.json, written last, holds each Parquet file's content hash, and the loader refuses a
    set whose files do not match it (a build killed midway, or one still running), naming the command that
    rebuilds it.
    """
    tables = load_sources(source_dir)
    metadata = json.loads((source_dir / "metadata.json").read_text(encoding="utf-8"))
    files = {}
    for table in TABLES:
        tables[table] = sort_table(
            tables[table].astype({f.name: PANDAS_DTYPE[f.dtype] for f in TABLE_FIELDS[table]}), table
        )
        files[table] = parquet_bytes(tables[table], table)
    package = json.dumps(datapackage(metadata, tables, files), indent=2, ensure_ascii=False) + "\n"
    for table, data in files.items():
        write_atomic(out_dir / f"{table}.parquet", data)
    write_atomic(out_dir / "datapackage.json", package.encode("utf-8"))
    return {table: len(frame) for table, frame in tables.items()}


def main(argv: list[str] | None = None) -> int:
    """Command line entry: build, print counts, or print every issue and exit 1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("data/source"), help="curated CSVs (default data/source)")
    parser.add_argument("--out", type=Path, default=Path("data"), help="output folder (default data)")
    args = parser.parse_args(argv)
    try:
        counts = build(args.source, args.out)
    except ValidationFailed as failed:
        print_problems("Build", failed.issues)
        return 1
    print("Built " + ", ".join(f"{n} {t}" for t, n in counts.items()) + f" into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
