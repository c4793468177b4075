"""Merge curation round 3 (the curators' folders beside this file) into data/source and data/search.

Run from the repository root on the state before the merge:  .venv/bin/python data/curation/round3/merge.py
Every change it makes is printed; conflicts (two curators patching one cell differently) are listed and the
later folder wins. It never invents a value: it copies what the curators recorded, derives comparison_family
from comparison_type where a row lacks it, and reads a PMID from a study's own PubMed address.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "src"))

from rankl_atlas.schema import FAMILY_OF_TREND_DIRECTION, FAMILY_OF_TYPE, column_names  # noqa: E402

HERE = Path(__file__).resolve().parent
SOURCE = ROOT / "data" / "source"
SEARCH = ROOT / "data" / "search"
FOLDERS = sys.argv[1:] or ["complete_1", "complete_2", "complete_3", "rescreen_a", "rescreen_b", "targeted"]
KEYS = {"studies": "study_id", "measurements": "measurement_id", "findings": "finding_id", "screening": "record_id"}
PUBMED_URL = re.compile(r"pubmed\.ncbi\.nlm\.nih\.gov\.?/(\d{1,9})(?:[/?#]|$)")


def read(path: Path) -> pd.DataFrame:
    """Read a CSV as text; a row with more fields than the header (a curator's script wrote the last fields
    twice) is cut to the header's length, and only when the extra fields repeat values already in the row."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], []
    for number, row in enumerate(rows[1:], start=2):
        extra = row[len(header) :]
        if extra and not set(v for v in extra if v) <= set(row[: len(header)]):
            raise SystemExit(f"{path}:{number}: {len(row)} fields under a {len(header)}-field header: {extra}")
        body.append(row[: len(header)] + [""] * (len(header) - len(row)))
    frame = pd.DataFrame(body, columns=range(len(header)), dtype=str)
    keep = []
    for i, name in enumerate(header):
        first = header.index(name)
        if first != i and not (frame[i].eq(frame[first]) | frame[i].eq("")).all():
            raise SystemExit(f"{path}: column {name} is written twice with different values")
        if first == i:
            keep.append(i)
    return frame[keep].set_axis([header[i] for i in keep], axis=1)


def write(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)


def family_of(row: pd.Series) -> str:
    if row.get("comparison_type") == "trend":
        return FAMILY_OF_TREND_DIRECTION.get(row.get("direction", ""), "association")
    return FAMILY_OF_TYPE.get(row.get("comparison_type", ""), "")


def main() -> None:
    tables = {name: read(SOURCE / f"{name}.csv") for name in ("studies", "measurements", "findings")}
    tables["screening"] = read(SEARCH / "screening.csv")
    queries = read(SEARCH / "queries.csv")
    log: list[str] = []
    seen_cells: dict[tuple, tuple[str, str]] = {}

    for folder in FOLDERS:
        base = HERE / folder
        if not base.is_dir():
            continue
        # new rows
        for name in ("studies", "measurements", "findings"):
            path = base / f"{name}_new.csv"
            if not path.exists():
                continue
            new = read(path)
            if "sd_assumed" in new:
                new = new.drop(columns="sd_assumed")
            key = KEYS[name]
            clash = new[key].isin(tables[name][key])
            for value in new.loc[clash, key]:
                log.append(f"SKIP {folder}/{name}_new: {value} already exists")
            new = new[~clash]
            columns = column_names(name)
            unknown = [c for c in new.columns if c not in columns]
            if unknown:
                log.append(f"DROP columns {unknown} from {folder}/{name}_new")
            new = new.reindex(columns=columns, fill_value="")
            if name == "findings":
                empty = new["comparison_family"] == ""
                new.loc[empty, "comparison_family"] = new[empty].apply(family_of, axis=1)
            tables[name] = pd.concat([tables[name], new.fillna("")], ignore_index=True)
            log.append(f"ADD {len(new)} {name} from {folder}")
        # screening: updates and new records
        path = base / "screening_updates.csv"
        if path.exists():
            updates = read(path)
            screening = tables["screening"].set_index("record_id")
            for _, u in updates.iterrows():
                if u["record_id"] not in screening.index:
                    log.append(f"SKIP screening update for unknown record {u['record_id']}")
                    continue
                old_note = screening.at[u["record_id"], "note"]
                screening.at[u["record_id"], "decision"] = u["decision"]
                screening.at[u["record_id"], "exclusion_code"] = (
                    u["exclusion_code"] if u["decision"] == "exclude" else ""
                )
                screening.at[u["record_id"], "study_id"] = u["study_id"] if u["decision"] == "include" else ""
                screening.at[u["record_id"], "note"] = (
                    f"re-screened 2026-12-06 ({folder}): {u['note']} | earlier: {old_note}"
                )
            tables["screening"] = screening.reset_index()
            log.append(f"RESCREEN {len(updates)} records from {folder}")
        path = base / "screening_new.csv"
        if path.exists():
            new = read(path).reindex(columns=tables["screening"].columns, fill_value="")
            new = new[~new["record_id"].isin(tables["screening"]["record_id"])]
            tables["screening"] = pd.concat([tables["screening"], new], ignore_index=True)
            log.append(f"ADD {len(new)} screening records from {folder}")
        path = base / "queries.csv"
        if path.exists():
            new = read(path).reindex(columns=queries.columns, fill_value="")
            new = new[~new["query_id"].isin(queries["query_id"])]
            queries = pd.concat([queries, new], ignore_index=True)
            log.append(f"ADD {len(new)} queries from {folder}")
        # patches to existing rows
        path = base / "patches.csv"
        if path.exists():
            patches = read(path)
            for _, p in patches.iterrows():
                name, row_id, field, value = p["table"], p["row_id"], p["field"], p["new_value"]
                if name not in tables:
                    log.append(f"SKIP patch on unknown table {name}")
                    continue
                frame = tables[name]
                key = KEYS[name]
                if field not in frame.columns:
                    log.append(f"SKIP patch {name}.{row_id}.{field}: no such column")
                    continue
                hits = frame.index[frame[key] == row_id]
                if len(hits) != 1:
                    log.append(f"SKIP patch {name}.{row_id}.{field}: row not found")
                    continue
                cell = (name, row_id, field)
                if cell in seen_cells and seen_cells[cell][1] != value:
                    log.append(
                        f"CONFLICT {cell}: {seen_cells[cell][0]} said {seen_cells[cell][1]!r}, {folder} says {value!r}"
                    )
                seen_cells[cell] = (folder, value)
                if field == "source_url":
                    current = frame.at[hits[0], field]
                    parts = [u for u in current.split(" | ") if u]
                    for url in value.split(" | "):
                        if url and url not in parts:
                            parts.append(url)
                    value = " | ".join(parts)
                frame.at[hits[0], field] = value

    # PMID from the study's own PubMed address
    studies = tables["studies"]
    for i, row in studies.iterrows():
        if row["pmid"]:
            continue
        found = {m.group(1) for m in PUBMED_URL.finditer(row["source_url"])}
        if len(found) == 1:
            studies.at[i, "pmid"] = found.pop()
            studies.at[i, "pmid_attribution"] = "from_source_url"
            log.append(f"PMID from source_url: {row['study_id']} -> {studies.at[i, 'pmid']}")
    # year_basis for rows that have a year and none recorded
    studies.loc[(studies["year"] != "") & (studies["year_basis"] == ""), "year_basis"] = "printed"
    studies.loc[(studies["pmid"] != "") & (studies["pmid_attribution"] == ""), "pmid_attribution"] = "printed"
    findings = tables["findings"]
    empty = findings["comparison_family"] == ""
    findings.loc[empty, "comparison_family"] = findings[empty].apply(family_of, axis=1)

    for name in ("studies", "measurements", "findings"):
        write(tables[name][column_names(name)], SOURCE / f"{name}.csv")
    write(tables["screening"], SEARCH / "screening.csv")
    write(queries, SEARCH / "queries.csv")
    (HERE / "merge_log.txt").write_text("\n".join(log) + "\n", encoding="utf-8")
    print("\n".join(line for line in log if not line.startswith("PMID")))
    print(f"{sum(line.startswith('PMID') for line in log)} PMIDs read from the studies' own PubMed addresses")


if __name__ == "__main__":
    main()
