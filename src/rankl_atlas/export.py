"""Exports of exactly the filtered rows: CSV, Parquet, RIS and BibTeX bytes (pure)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import bibtexparser
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import rispy
from bibtexparser.model import Entry, Field

from rankl_atlas.labels import year_text
from rankl_atlas.schema import ORIGIN_VISITOR, label
from rankl_atlas.validation import text_or_none

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


@dataclass(frozen=True)
class ExportContext:
    """What every download says about itself: dataset version, the filters (text and slug), the view's URL."""

    version: str
    filters: str
    slug: str
    url: str = ""
    date: str = ""

    def header(self) -> str:
        """One line: atlas, version, filters, date and URL."""
        parts = [f"RANKL Atlas dataset v{self.version}", f"filters: {self.filters}"]
        if self.date:
            parts.append(f"exported {self.date}")
        if self.url:
            parts.append(self.url)
        return "; ".join(parts)


def to_csv_bytes(frame: pd.DataFrame, context: ExportContext | None = None) -> bytes:
    """UTF-8 CSV (with BOM so spreadsheets detect the encoding), formulas made inert. A plain table whose first
    line is the header, so Excel and pandas.read_csv read it as is; the dataset version and filters are in the
    file name (export_name) and in the Parquet export's metadata, never inside the CSV."""
    return neutralise_formulas(frame).to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


def to_parquet_bytes(frame: pd.DataFrame, context: ExportContext | None = None) -> bytes:
    """Parquet bytes of the rows as they are; the dataset version and filters in the file's key-value metadata."""
    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    if context is not None:
        meta = dict(table.schema.metadata or {})
        meta.update(
            {b"rankl_atlas_version": context.version.encode(), b"rankl_atlas_filters": context.filters.encode()}
        )
        if context.url:
            meta[b"rankl_atlas_url"] = context.url.encode()
        table = table.replace_schema_metadata(meta)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def export_name(table: str, slug: str, extension: str, version: str | None = None) -> str:
    """File name that carries the table, dataset version and filters, e.g. 'rankl-atlas_v1.1.0_studies_all.csv'."""
    prefix = f"rankl-atlas_v{version}" if version else "rankl-atlas"
    return f"{prefix}_{table}_{slug}.{extension}"


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


_text = text_or_none


def inert(value: object) -> str | None:
    """Text that a spreadsheet or reference manager would run as a formula gets a leading apostrophe."""
    text = _text(value)
    return "'" + text if text and text.startswith(FORMULA_START) else text


#: How the citation exports label a study's summary: the atlas curators', or a visitor's own uploaded study's.
OUR_SUMMARY = "RANKL Atlas curators' summary (ours"
YOUR_SUMMARY = "Your own summary (from your upload, not RANKL Atlas"
YOUR_KITS = "Assay kit(s) from your upload"


class _UnnumberedRisWriter(rispy.RisWriter):
    """rispy's writer without the '1.' numbering line before each record (not part of the RIS standard)."""

    def set_header(self, count: int) -> str:
        return ""


def kits_by_study(measurements: pd.DataFrame, findings: pd.DataFrame) -> dict[str, str]:
    """study_id -> 'Vendor (stated|inferred) [assay_id]; ...' from its rows, for the citation exports."""
    rows = pd.concat(
        [frame[["study_id", "assay_vendor", "assay_attribution", "assay_id"]] for frame in (measurements, findings)]
    )
    rows = rows[rows["assay_vendor"] != "not_reported"].drop_duplicates()
    if rows.empty:
        return {}
    vendor = rows["assay_vendor"].map(lambda c: label("assay_vendor", c)).astype(str)
    kit = rows["assay_id"].astype(object).map(lambda a: f" [{a}]" if isinstance(a, str) else "")
    text = vendor + " (" + rows["assay_attribution"].astype(str) + ")" + kit
    return text.groupby(rows["study_id"].to_numpy()).agg("; ".join).to_dict()


def ris_of_filtered(studies, measurements, findings, context: ExportContext | None = None) -> bytes:
    """RIS of the studies with the kits of their rows (computed only when the download is asked for)."""
    return to_ris(studies, kits_by_study(measurements, findings), context)


def bibtex_of_filtered(studies, measurements, findings, context: ExportContext | None = None) -> bytes:
    """BibTeX of the studies with the kits of their rows (computed only when the download is asked for)."""
    return to_bibtex(studies, kits_by_study(measurements, findings), context)


def to_ris(studies: pd.DataFrame, kits: dict[str, str] | None = None, context: ExportContext | None = None) -> bytes:
    """RIS records of the studies (journal articles) with standard tags only, written with rispy.

    The curators' summary and the assay kit go in N1 notes labelled as the atlas's; text fields that a
    spreadsheet would run as a formula are made inert. No numbering lines.
    """
    kits = kits or {}
    entries = []
    for row in studies.itertuples(index=False):
        start, end = _pages(row.pages)
        notes = [f"PMID: {row.pmid}"] if _text(row.pmid) else []
        theirs = getattr(row, "origin", None) == ORIGIN_VISITOR
        notes.append(f"{YOUR_SUMMARY if theirs else OUR_SUMMARY}, not the abstract): {inert(row.summary)}")
        if row.study_id in kits:
            notes.append(f"{YOUR_KITS if theirs else 'RANKL Atlas assay kit(s)'}: {kits[row.study_id]}")
        if context is not None:
            notes.append(context.header())
        entry = {
            "type_of_reference": "JOUR",
            "id": row.study_id,
            "authors": [inert(a) for a in _authors(row.authors)],
            "title": inert(row.title),
            "year": year_text(row.year),
            "journal_name": inert(row.journal),
            "volume": inert(row.volume),
            "start_page": start,
            "end_page": end,
            "doi": _text(row.doi),
            "notes": notes,
        }
        entries.append({k: v for k, v in entry.items() if v not in (None, [], "")})
    return rispy.dumps(entries, implementation=_UnnumberedRisWriter).encode("utf-8")


def _braces_safe(text: str) -> str:
    return text.replace("{", "(").replace("}", ")")


def to_bibtex(studies: pd.DataFrame, kits: dict[str, str] | None = None, context: ExportContext | None = None) -> bytes:
    """BibTeX @article entries of the studies (keys are study ids), written with bibtexparser.

    Standard fields only, plus a 'note' holding the kit and the curators' summary labelled as ours; a leading
    @comment names the dataset version and filters. Formula-like text is made inert.
    """
    kits = kits or {}
    library = bibtexparser.Library()
    if context is not None:
        library.add(bibtexparser.model.ExplicitComment(context.header()))
    for row in studies.itertuples(index=False):
        start, end = _pages(row.pages)
        theirs = getattr(row, "origin", None) == ORIGIN_VISITOR
        note = f"{YOUR_SUMMARY if theirs else OUR_SUMMARY}): {inert(row.summary)}"
        if row.study_id in kits:
            note = f"{YOUR_KITS if theirs else 'RANKL Atlas assay kit(s)'}: {kits[row.study_id]}. {note}"
        values = {
            "author": " and ".join(inert(a) for a in _authors(row.authors)),
            "title": inert(row.title),
            "journal": inert(row.journal),
            "year": year_text(row.year),
            "volume": inert(row.volume),
            "pages": f"{start}--{end}" if start and end else start,
            "doi": _text(row.doi),
            "pmid": _text(row.pmid),
            "note": note,
        }
        fields = [Field(k, _braces_safe(str(v))) for k, v in values.items() if v]
        library.add(Entry("article", row.study_id, fields))
    stack = bibtexparser.middlewares.default_unparse_stack(allow_inplace_modification=True)  # no deep copy
    return bibtexparser.write_string(library, unparse_stack=stack).encode("utf-8")


def view_citation(title: str, version: str, url: str, filters: str, accessed: str) -> tuple[str, str]:
    """A citation text and a BibTeX @misc entry for one view of the atlas (version, access date, exact URL)."""
    year = accessed[:4]
    filters = filters.replace(" · ", "; ")  # plain ASCII separators in a citation
    text = (
        f"RANKL Atlas contributors ({year}). {title}. Dataset version {version}. View: {filters}. {url} "
        f"(accessed {accessed})."
    )
    key = "rankl_atlas_v" + re.sub(r"[^0-9a-z]", "_", version.lower()) + "_" + accessed.replace("-", "")
    library = bibtexparser.Library()
    fields = {
        "author": "{RANKL Atlas contributors}",
        "title": _braces_safe(title),
        "year": year,
        "version": version,
        "howpublished": "Streamlit web application and CC BY 4.0 dataset",
        "note": _braces_safe(f"View: {filters}"),
        "url": url,
        "urldate": accessed,
    }
    library.add(Entry("misc", key, [Field(k, v) for k, v in fields.items()]))
    return text, bibtexparser.write_string(library)


def report_problem_url(
    repository: str, table: str, row_id: str, field: str = "", source_says: str = "", source_link: str = ""
) -> str:
    """A prefilled GitHub new-issue URL to report a problem with one row (id, field, what the source says, and
    the page(s) the curation read)."""
    title = f"Data problem: {table} {row_id}" + (f", {field}" if field else "")
    body = (
        f"**Row**: `{row_id}` ({table})\n**Field**: {field or '(which column?)'}\n"
        f"**What the source says** (quote and where: abstract, Table 2…): {source_says or ''}\n"
        f"**Source link**: {source_link}\n"
    )
    query = urlencode({"title": title, "body": body, "labels": "data"}, quote_via=quote)
    return f"{repository.rstrip('/')}/issues/new?{query}"
