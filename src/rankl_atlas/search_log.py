"""The systematic search of the later literature: query and screening logs, their rules, PRISMA counts.

Logs live in data/search/ as CSV (queries.csv, screening.csv, duplicates.csv) beside protocol.md; the build
validates them against the studies table, and the Coverage view draws the PRISMA 2020 flow and the
saturation curve from them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from rankl_atlas.schema import DOI_PATTERN, EXCLUSION_REASON, PMID_PATTERN
from rankl_atlas.validation import Issue

SEARCH_SOURCE_SET = "search_2026"


QUERY_COLUMNS = ["query_id", "area", "query", "corpus", "date", "n_results", "n_new_candidates", "n_new_includes"]
SCREENING_COLUMNS = [
    "record_id", "area", "query_id", "first_author", "year", "title", "pmid", "doi", "url", "decision",
    "exclusion_code", "study_id", "note",
]  # fmt: skip
DUPLICATE_COLUMNS = ["record_id", "area", "query_id", "title", "duplicate_of"]

_COUNT = pa.Column("Int64", pa.Check.ge(0), nullable=False)
QUERIES_SCHEMA = pa.DataFrameSchema(
    {
        "query_id": pa.Column(str, unique=True),
        "area": pa.Column(str),
        "query": pa.Column(str, pa.Check.str_length(1, 400)),
        "corpus": pa.Column(str, pa.Check.isin(["pages", "docs", "code", "issues"])),
        "date": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$")),
        "n_results": _COUNT,
        "n_new_candidates": _COUNT,
        "n_new_includes": _COUNT,
    },
    strict=True,
    ordered=True,
    name="queries",
)
SCREENING_SCHEMA = pa.DataFrameSchema(
    {
        "record_id": pa.Column(str, unique=True),
        "area": pa.Column(str),
        "query_id": pa.Column(str),
        "first_author": pa.Column(str, nullable=True),
        "year": pa.Column("Int64", pa.Check.in_range(1950, 2100), nullable=True),
        "title": pa.Column(str, nullable=True),
        "pmid": pa.Column(str, pa.Check.str_matches(PMID_PATTERN), nullable=True),
        "doi": pa.Column(str, pa.Check.str_matches(DOI_PATTERN), nullable=True),
        "url": pa.Column(str, nullable=True),
        "decision": pa.Column(str, pa.Check.isin(["include", "exclude"])),
        "exclusion_code": pa.Column(str, pa.Check.isin(list(EXCLUSION_REASON)), nullable=True),
        "study_id": pa.Column(str, nullable=True),
        "note": pa.Column(str, nullable=True),
    },
    strict=True,
    ordered=True,
    name="screening",
)


@dataclass(frozen=True)
class SearchLogs:
    """The three logs of the search."""

    queries: pd.DataFrame
    screening: pd.DataFrame
    duplicates: pd.DataFrame


def read_logs(folder: Path) -> SearchLogs:
    """Read the logs (empty tables when the folder has none)."""

    def read(name: str, columns: list[str], integers: tuple[str, ...] = ()) -> pd.DataFrame:
        path = folder / name
        if not path.exists():
            return pd.DataFrame(columns=columns)
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        frame = frame.replace({"": None})
        for column in integers:
            if column in frame:
                frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int64")
        return frame

    return SearchLogs(
        read("queries.csv", QUERY_COLUMNS, ("n_results", "n_new_candidates", "n_new_includes")),
        read("screening.csv", SCREENING_COLUMNS, ("year",)),
        read("duplicates.csv", DUPLICATE_COLUMNS),
    )


def normalised_title(title: object) -> str:
    """Lowercase ascii letters and digits only, for duplicate detection."""
    text = unicodedata.normalize("NFKD", str(title or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text.lower())


def log_issues(logs: SearchLogs, studies: pd.DataFrame) -> list[Issue]:
    """Every rule the logs break: their schemas, exclusion codes, includes in the atlas, no record twice."""
    issues: list[Issue] = []
    for frame, schema, file in (
        (logs.queries, QUERIES_SCHEMA, "search/queries.csv"),
        (logs.screening, SCREENING_SCHEMA, "search/screening.csv"),
    ):
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as err:
            for case in err.failure_cases.itertuples(index=False):
                row = None if case.index is None or pd.isna(case.index) else int(case.index) + 1
                issues.append(Issue(file, row, str(case.column), str(case.failure_case), str(case.check)))
    s = logs.screening
    file = "search/screening.csv"
    known_queries = set(logs.queries["query_id"])
    search_studies = set(studies.loc[studies["source_set"] == SEARCH_SOURCE_SET, "study_id"])
    included = set()
    for pos, row in enumerate(s.to_dict("records"), start=1):
        if row["query_id"] not in known_queries:
            issues.append(Issue(file, pos, "query_id", str(row["query_id"]), "query_id is not in queries.csv"))
        if row["decision"] == "exclude" and not row.get("exclusion_code"):
            issues.append(Issue(file, pos, "exclusion_code", "", "an excluded record needs an exclusion code"))
        if row["decision"] == "include":
            if row.get("exclusion_code"):
                issues.append(Issue(file, pos, "exclusion_code", row["exclusion_code"], "an include has no code"))
            if row.get("study_id") not in search_studies:
                issues.append(
                    Issue(
                        file,
                        pos,
                        "study_id",
                        str(row.get("study_id")),
                        "included record is not a study of the search set",
                    )
                )
            included.add(row.get("study_id"))
    for missing in sorted(search_studies - included):
        issues.append(Issue(file, None, "study_id", missing, "study of the search set has no include row"))
    for column, key in (("pmid", s["pmid"]), ("doi", s["doi"].str.lower())):
        repeated = key[key.notna() & key.duplicated(keep=False)]
        for value in sorted(set(repeated)):
            issues.append(Issue(file, None, column, value, "record appears twice (same identifier)"))
    title_year = s["title"].map(normalised_title) + "|" + s["year"].astype(str)
    has_title = s["title"].notna() & s["year"].notna()
    repeated = title_year[has_title & title_year.duplicated(keep=False)]
    for value in sorted(set(repeated)):
        issues.append(
            Issue(file, None, "title", value.split("|")[0][:60], "record appears twice (same title and year)")
        )
    return issues


def prisma_counts(logs: SearchLogs) -> dict[str, object]:
    """PRISMA 2020 flow numbers: identified, duplicates removed, screened, excluded by reason, included."""
    s = logs.screening
    excluded = s[s["decision"] == "exclude"]
    by_reason = {code: int((excluded["exclusion_code"] == code).sum()) for code in EXCLUSION_REASON}
    return {
        "queries": len(logs.queries),
        "identified": len(s) + len(logs.duplicates),
        "duplicates_removed": len(logs.duplicates),
        "screened": len(s),
        "excluded": len(excluded),
        "excluded_by_reason": {code: n for code, n in by_reason.items() if n},
        "included": int((s["decision"] == "include").sum()),
    }


def saturation_curve(logs: SearchLogs) -> pd.DataFrame:
    """Cumulative new includes and candidates by query, in the order run within each area (areas in turn)."""
    q = logs.queries.reset_index(drop=True)
    out = pd.DataFrame(
        {
            "query_number": range(1, len(q) + 1),
            "query_id": q["query_id"],
            "area": q["area"],
            "new_includes": q["n_new_includes"].astype(int),
            "new_candidates": q["n_new_candidates"].astype(int),
        }
    )
    out["cumulative_includes"] = out["new_includes"].cumsum()
    out["cumulative_candidates"] = out["new_candidates"].cumsum()
    return out


def exclusion_table(logs: SearchLogs) -> pd.DataFrame:
    """Excluded records per reason, with labels (the data behind the flow diagram)."""
    counts = prisma_counts(logs)["excluded_by_reason"]
    return pd.DataFrame(
        [(code, EXCLUSION_REASON[code], n) for code, n in counts.items()], columns=["code", "reason", "records"]
    )
