"""Load the dataset's Parquet tables (pure I/O; the data folder is passed in)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rankl_atlas.schema import REBUILD_COMMAND, TABLE_NAMES, column_names, content_hash
from rankl_atlas.search_log import SearchLogs, read_logs
from rankl_atlas.validation import Issue, as_contract_dtypes, validate_tables

DATA_ENV = "RANKL_ATLAS_DATA"


def empty_table(table: str) -> pd.DataFrame:
    """A table with the contract's columns and dtypes and no rows."""
    return as_contract_dtypes(pd.DataFrame(columns=column_names(table)), table)


@dataclass(frozen=True)
class Tables:
    """The tables of the atlas: studies, their measurements and findings, and the assay catalogue."""

    studies: pd.DataFrame
    measurements: pd.DataFrame
    findings: pd.DataFrame
    assays: pd.DataFrame = field(default_factory=lambda: empty_table("assays"))
    meta_analyses: pd.DataFrame = field(default_factory=lambda: empty_table("meta_analyses"))

    def as_dict(self) -> dict[str, pd.DataFrame]:
        """The study tables by name (the assay catalogue is reference data, see ``assays``)."""
        return {"studies": self.studies, "measurements": self.measurements, "findings": self.findings}


class DataLoadError(Exception):
    """The dataset cannot be used: names the file, what is wrong and the command that rebuilds it."""

    def __init__(self, file: Path, problem: str, issues: list[Issue] | None = None):
        self.file = file
        self.problem = problem
        self.issues = issues or []
        self.rebuild_command = REBUILD_COMMAND
        super().__init__(f"{file}: {problem}. Rebuild the dataset with `{REBUILD_COMMAND}`.")


def data_dir(bundled: Path) -> Path:
    """The data folder: $RANKL_ATLAS_DATA when set, else the bundled folder passed in."""
    return Path(os.environ.get(DATA_ENV) or bundled)


def data_version(folder: Path) -> str:
    """Fingerprint of the Parquet files and datapackage.json (names, sizes, mtimes) used to key the app's cache."""
    parts = []
    for name in [f"{table}.parquet" for table in TABLE_NAMES] + ["datapackage.json"]:
        path = folder / name
        stat = path.stat() if path.exists() else None
        parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}" if stat else f"{name}:missing")
    return "|".join(parts)


#: What a Parquet file that does not match datapackage.json means, for the error page.
INCONSISTENT = (
    "does not match datapackage.json (its content hash differs): the dataset is being rebuilt, or a rebuild "
    "was interrupted and left files of two builds"
)


def read_table(folder: Path, table: str, expected_hash: str | None = None) -> pd.DataFrame:
    """Read one Parquet table with contract dtypes; raise DataLoadError if missing, unreadable, or (given the
    content hash datapackage.json records) not the file of the same build."""
    path = folder / f"{table}.parquet"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataLoadError(path, "file is missing") from None
    try:
        frame = pq.read_table(pa.BufferReader(data)).to_pandas()
    except Exception as err:  # noqa: BLE001 - any reader failure means a corrupt file
        raise DataLoadError(path, f"file cannot be read as Parquet ({type(err).__name__}: {err})") from err
    if expected_hash is not None and content_hash(data) != expected_hash:
        raise DataLoadError(path, INCONSISTENT)
    missing = [c for c in column_names(table) if c not in frame.columns]
    if missing:
        raise DataLoadError(path, f"required column(s) missing: {', '.join(missing)}")
    try:
        return as_contract_dtypes(frame[column_names(table)], table)
    except (TypeError, ValueError) as err:
        raise DataLoadError(path, f"a column has the wrong type ({err})") from err


def recorded_hashes(folder: Path) -> dict[str, str]:
    """The content hash datapackage.json records for each table (none for a folder built without them)."""
    path = folder / "datapackage.json"
    try:
        package = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataLoadError(path, f"file cannot be read as JSON ({err})") from err
    return {r["name"]: r["hash"] for r in package.get("resources", []) if "name" in r and "hash" in r}


def load_tables(folder: Path) -> Tables:
    """Read and validate the tables; raise DataLoadError naming the first bad file.

    Every file must be the one datapackage.json records (same content hash), so a set of files from two
    builds is refused as a whole, never loaded half old and half new.
    """
    hashes = recorded_hashes(folder)
    frames = {table: read_table(folder, table, hashes.get(table)) for table in TABLE_NAMES}
    issues = validate_tables(frames, {t: f"{t}.parquet" for t in TABLE_NAMES})
    if issues:
        first = issues[0].file
        raise DataLoadError(folder / first, f"{len(issues)} value(s) break the data contract", issues)
    return Tables(**frames)


def load_metadata(folder: Path) -> dict:
    """datapackage.json of the data folder (empty dict when absent)."""
    path = folder / "datapackage.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def load_search_logs(folder: Path) -> SearchLogs | None:
    """The literature search's logs beside the data (data/search), or None when this folder has none."""
    search = folder / "search"
    return read_logs(search) if (search / "screening.csv").exists() else None
