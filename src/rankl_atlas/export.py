"""Exports of exactly the filtered rows: CSV, Parquet, RIS and BibTeX bytes (pure)."""

from __future__ import annotations

import io
import re

import bibtexparser
import pandas as pd
import rispy
from bibtexparser.model import Entry, Field

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe (a new frame)."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_string_dtype(out[column]) or out[column].dtype == object:
            text = out[column]
            risky = text.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_START))
            out[column] = text.where(~risky, "'" + text.astype(str))
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM so spreadsheets detect the encoding), formulas made inert."""
    return neutralise_formulas(frame).to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Parquet bytes of the rows as they are."""
    buffer = io.BytesIO()
    frame.reset_index(drop=True).to_parquet(buffer, index=False)
    return buffer.getvalue()


def export_name(table: str, slug: str, extension: str) -> str:
    """File name that carries the table and the filters, e.g. 'rankl-atlas_studies_all.csv'."""
    return f"rankl-atlas_{table}_{slug}.{extension}"


def _authors(text: object) -> list[str]:
    """'Surname AB; Other C' -> ['Surname, A. B.', 'Other, C.'] (an 'et al.' entry is dropped)."""
    if not isinstance(text, str):
        return []
    names = []
    for part in (p.strip() for p in text.split(";")):
        if not part or part.lower().startswith("et al"):
            continue
        match = re.fullmatch(r"(.+?)\s+([A-Z][A-Za-z-]{0,3})", part)
        if match and match.group(2).isupper():
            surname, initials = match.groups()
            names.append(f"{surname}, {' '.join(ch + '.' for ch in initials if ch.isalpha())}")
        else:
            names.append(part)
    return names


def _pages(pages: object) -> tuple[str | None, str | None]:
    if not isinstance(pages, str) or not pages.strip():
        return None, None
    first, _, last = pages.replace("–", "-").partition("-")
    return first.strip() or None, last.strip() or None


def _text(value: object) -> str | None:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def to_ris(studies: pd.DataFrame) -> bytes:
    """RIS records of the studies (journal articles), written with rispy."""
    entries = []
    for row in studies.itertuples(index=False):
        start, end = _pages(row.pages)
        entry = {
            "type_of_reference": "JOUR",
            "id": row.study_id,
            "authors": _authors(row.authors),
            "title": row.title,
            "year": str(row.year),
            "journal_name": row.journal,
            "volume": _text(row.volume),
            "start_page": start,
            "end_page": end,
            "doi": _text(row.doi),
            "notes": [f"PMID: {row.pmid}"] if _text(row.pmid) else None,
            "abstract": _text(row.summary),
        }
        entries.append({k: v for k, v in entry.items() if v not in (None, [], "")})
    return rispy.dumps(entries).encode("utf-8")


def _braces_safe(text: str) -> str:
    return text.replace("{", "(").replace("}", ")")


def to_bibtex(studies: pd.DataFrame) -> bytes:
    """BibTeX @article entries of the studies (keys are study ids), written with bibtexparser."""
    library = bibtexparser.Library()
    for row in studies.itertuples(index=False):
        start, end = _pages(row.pages)
        values = {
            "author": " and ".join(_authors(row.authors)),
            "title": row.title,
            "journal": row.journal,
            "year": str(row.year),
            "volume": _text(row.volume),
            "pages": f"{start}--{end}" if start and end else start,
            "doi": _text(row.doi),
            "pmid": _text(row.pmid),
        }
        fields = [Field(k, _braces_safe(str(v))) for k, v in values.items() if v]
        library.add(Entry("article", row.study_id, fields))
    stack = bibtexparser.middlewares.default_unparse_stack(allow_inplace_modification=True)  # no deep copy
    return bibtexparser.write_string(library, unparse_stack=stack).encode("utf-8")
