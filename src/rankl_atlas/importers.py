"""Add studies from bibliographic exports (PubMed MEDLINE or XML, RIS, BibTeX) to the curated studies.csv.

Each exported record becomes a *draft* study row: every bibliographic column the export can fill is filled,
the curation columns get honest placeholders (see ``DRAFT_PLACEHOLDERS``) and ``curation_status`` is
``draft``, so the dashboard hides the row until a curator has read the paper. Records already in the table
(same PMID, same DOI, or same title and year) are skipped. One call is all-or-nothing: if any file or
record is malformed, or the resulting table would not pass the schema, studies.csv is left untouched.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rankl_atlas.build import load_sources, write_atomic
from rankl_atlas.schema import YEAR_MAX, YEAR_MIN, column_names
from rankl_atlas.validation import ValidationFailed

FORMAT_LABELS = {
    "medline": "PubMed MEDLINE",
    "pubmed_xml": "PubMed XML",
    "ris": "RIS",
    "bibtex": "BibTeX",
}
EXTENSION_FORMATS = {
    ".nbib": "medline",
    ".medline": "medline",
    ".xml": "pubmed_xml",
    ".ris": "ris",
    ".bib": "bibtex",
    ".bibtex": "bibtex",
}

#: Values for the contract's non-nullable curation columns, which no bibliographic export can give.
#: study_kind has no "not yet curated" code, so the atlas's own scope (human circulating levels) stands in;
#: curation_status "draft" hides the row from the dashboard until a curator replaces these.
DRAFT_PLACEHOLDERS = {
    "study_kind": "not_curated",
    "condition_group": "other",
    "design": "not_reported",
    "evidence_level": "citation_only",
    "curation_status": "draft",
}

_PMID = re.compile(r"^[0-9]{1,9}$")
_DOI = re.compile(r"^10\.[0-9]{4,9}/\S+$")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_YEAR = re.compile(r"(?<![0-9])([0-9]{4})(?![0-9])")
_MEDLINE_LINE = re.compile(r"^[A-Z][A-Z0-9 ]{3}- ")
_RIS_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: |$)")
# Letters that Unicode decomposition does not reduce to ASCII.
_TRANSLITERATE = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE", "ł": "l", "Ł": "L"}
    | {"đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "ı": "i"}
)


# --- Results and problems ----------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Why an import was refused: the file, the record (1-based index and an id) and what is wrong."""

    file: str
    record: int | None
    record_id: str | None
    problem: str

    def __str__(self) -> str:
        where = self.file
        if self.record is not None:
            where += f", record {self.record}"
        if self.record_id:
            where += f" ({self.record_id})"
        return f"{where}: {self.problem}"


class ImportFailed(Exception):
    """Raised with every problem found; nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Author:
    """One author as MEDLINE writes it: surname (accents kept) and initials without dots, or a group name."""

    surname: str
    initials: str = ""
    collective: bool = False  # a group ('Austrian Study Group ...'): the whole name is in surname

    def __str__(self) -> str:
        return f"{self.surname} {self.initials}".strip()


@dataclass(frozen=True)
class Citation:
    """The bibliographic facts of one exported record, already normalised; None when not given."""

    file: str
    index: int  # 1-based position in its file
    format: str
    title: str | None = None
    year: int | None = None
    year_text: str | None = None  # the raw date, for messages when it is not a year
    authors: tuple[Author, ...] = ()
    journal: str | None = None
    volume: str | None = None
    pages: str | None = None
    pmid: str | None = None
    doi: str | None = None
    key: str | None = None  # BibTeX key or RIS ID
    notes: tuple[str, ...] = ()

    @property
    def record_id(self) -> str | None:
        """The best short name for messages: PMID, DOI, export key, or first author and year."""
        if self.pmid:
            return f"PMID {self.pmid}"
        if self.doi:
            return f"DOI {self.doi}"
        if self.key:
            return self.key
        if self.authors:
            return f"{self.authors[0].surname} {self.year_text or ''}".strip()
        return None

    def problem(self, text: str) -> Problem:
        return Problem(self.file, self.index, self.record_id, text)


@dataclass(frozen=True)
class Added:
    study_id: str
    citation: Citation


@dataclass(frozen=True)
class Skipped:
    citation: Citation
    reason: str


@dataclass
class ImportPlan:
    """What an import adds (rows in contract column order, as text) and skips."""

    added: list[Added] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)


# --- Text helpers -------------------------------------------------------------------------------


def clean(value: object) -> str | None:
    """Collapse whitespace; None for empty values."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def ascii_letters(text: str) -> str:
    """Lowercase ASCII letters only: accents stripped (Müller-Šťastná -> mullerstastna)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    return "".join(c for c in decomposed if c.isascii() and c.isalpha()).lower()


def normalise_title(title: str) -> str:
    """Title key for duplicate detection: lowercase, accents stripped, only letters and digits."""
    decomposed = unicodedata.normalize("NFKD", title.translate(_TRANSLITERATE).casefold())
    return "".join(c for c in decomposed if c.isascii() and c.isalnum())


def clean_title(title: object, pubmed: bool = False) -> tuple[str | None, tuple[str, ...]]:
    """Title as published: markup and one trailing period removed; PubMed's [translated title] unwrapped."""
    text = clean(re.sub(r"</?[A-Za-z][^<>]*>", "", str(title))) if title is not None else None
    notes: tuple[str, ...] = ()
    if not text:
        return None, notes
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1].rstrip()
    if pubmed and text.startswith("[") and text.endswith("]"):
        text = text[1:-1].strip()
        notes = ("PubMed gives the title in brackets: an English translation of a title in another language.",)
    return text or None, notes


def normalise_doi(value: object) -> str | None:
    """Lowercase DOI without a resolver prefix ('https://doi.org/', 'doi:')."""
    text = clean(value)
    return _DOI_PREFIX.sub("", text).strip().lower() if text else None


def normalise_pages(value: object) -> str | None:
    """Plain-hyphen page range with abbreviated end pages expanded (3597-602 -> 3597-3602)."""
    text = clean(value)
    if not text:
        return None
    text = re.sub(r"\s*(?:--|[\u2010-\u2015\u2212]|-)\s*", "-", text)
    match = re.fullmatch(r"([A-Za-z]*)([0-9]+)-([A-Za-z]*)([0-9]+)", text)
    if match:
        prefix, start, end_prefix, end = match.groups()
        if (not end_prefix or end_prefix == prefix) and len(end) < len(start):
            end = start[: len(start) - len(end)] + end
            return f"{prefix}{start}-{prefix}{end}"
    return text


def year_of(value: object) -> tuple[int | None, str | None]:
    """The first four-digit year in a date ('1998 Apr 14', '2005///', '2022 Jan-Feb')."""
    text = clean(value)
    if not text:
        return None, None
    match = _YEAR.search(text)
    return (int(match.group(1)) if match else None), text


def initials_of(given: str) -> str:
    """Initials from given names: 'Jana K.' -> 'JK', 'Jean-Pierre' -> 'JP', 'L. H.' -> 'LH', 'AB' -> 'AB'."""
    letters = []
    for token in re.split(r"[\s.]+", given):
        if not token:
            continue
        if token.isalpha() and token.isupper() and len(token) <= 3:
            letters.append(token)  # already initials
            continue
        letters.extend(part[0].upper() for part in token.split("-") if part and part[0].isalpha())
    return "".join(letters)


def author_from_text(text: str) -> Author | None:
    """'Surname, Given' (RIS) or 'Surname AB' (MEDLINE) as an Author; any other name is a group's name."""
    text = clean(text.replace("{", "").replace("}", "")) if text else None
    if not text:
        return None
    if "," in text:
        surname, _, given = text.partition(",")
        return Author(clean(surname) or text, initials_of(given))
    head, _, last = text.rpartition(" ")
    bare = last.replace(".", "")
    if head and bare.isalpha() and bare.isupper() and len(bare) <= 4:
        return Author(head, bare)
    return Author(text, collective=True)


def first_author_surname(authors: Sequence[Author]) -> str | None:
    return authors[0].surname if authors else None


# --- Readers ------------------------------------------------------------------------------------


def detect_format(name: str, text: str) -> str | None:
    """The export format from the content, else from the file extension; None when neither tells."""
    head = text.lstrip("\ufeff \t\r\n")[:4000]
    if head.startswith("<?xml") or head.startswith("<!DOCTYPE") or head.startswith("<PubmedArticleSet"):
        return "pubmed_xml"
    if re.search(r"(?m)^TY  - ", head):
        return "ris"
    if re.search(r"(?m)^(?:PMID|OWN |STAT|TI  |AU  |DP  )- ", head):
        return "medline"
    if re.search(r"(?m)^\s*@\s*[A-Za-z]+\s*[{(]", head):
        return "bibtex"
    return EXTENSION_FORMATS.get(Path(name).suffix.lower())


def decode_text(data: bytes, file: str) -> str:
    """UTF-8 text (a BOM is allowed); binary or non-UTF-8 content is refused with the offending byte."""
    if b"\x00" in data[:8192]:
        raise ImportFailed([Problem(file, None, None, "binary file, not a text export")])
    try:
        return data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ImportFailed(
            [
                Problem(
                    file,
                    None,
                    None,
                    f"not UTF-8 encoded (byte 0x{data[err.start]:02x} on line {line}); "
                    "export again as UTF-8 or convert the file",
                )
            ]
        ) from None


def read_export(path: Path) -> list[Citation]:
    """Read one export file into citations; raise ImportFailed naming every malformed record."""
    file = path.name
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ImportFailed([Problem(file, None, None, f"cannot be read: {err.strerror or err}")]) from None
    if not data.strip():
        raise ImportFailed([Problem(file, None, None, "file is empty")])
    text = decode_text(data, file)
    fmt = detect_format(file, text)
    if fmt is None:
        raise ImportFailed(
            [Problem(file, None, None, "unrecognised format (expected PubMed MEDLINE or XML, RIS or BibTeX)")]
        )
    reader = {"medline": read_medline, "pubmed_xml": read_pubmed_xml, "ris": read_ris, "bibtex": read_bibtex}[fmt]
    citations = reader(data if fmt == "pubmed_xml" else text, file)
    if not citations:
        raise ImportFailed([Problem(file, None, None, f"no records found in this {FORMAT_LABELS[fmt]} file")])
    problems = [p for c in citations for p in check_citation(c)]
    if problems:
        raise ImportFailed(problems)
    return citations


def read_medline(text: str, file: str) -> list[Citation]:
    """PubMed MEDLINE ('PubMed' format / .nbib) via Bio.Medline, after checking every line is a tag line."""
    from Bio import Medline

    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.startswith("      ") and not _MEDLINE_LINE.match(line):
            raise ImportFailed([Problem(file, None, None, f"line {number} is not a MEDLINE tag line: {line[:60]!r}")])
    citations = []
    for index, record in enumerate(Medline.parse(io.StringIO(text)), start=1):
        authors = [author_from_text(a) for a in record.get("AU", [])]
        if not any(authors):
            authors = [author_from_text(a) for a in record.get("FAU", [])]
        authors += [Author(clean(cn) or "", collective=True) for cn in _as_list(record.get("CN"))]
        doi = next(
            (
                value.rsplit("[", 1)[0]
                for value in _as_list(record.get("LID")) + _as_list(record.get("AID"))
                if value.strip().endswith("[doi]")
            ),
            None,
        )
        title, notes = clean_title(record.get("TI"), pubmed=True)
        year, year_text = year_of(record.get("DP"))
        citations.append(
            Citation(
                file=file,
                index=index,
                format="medline",
                title=title,
                year=year,
                year_text=year_text,
                authors=tuple(a for a in authors if a and a.surname),
                journal=clean(record.get("TA")) or clean(record.get("JT")),
                volume=clean(record.get("VI")),
                pages=normalise_pages(record.get("PG")),
                pmid=clean(record.get("PMID")),
                doi=normalise_doi(doi),
                notes=notes,
            )
        )
    return citations


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _local_pubmed_dtds() -> tuple[set[str], str]:
    """DTD file names Bio.Entrez can open without the network, and the newest bundled PubMed DTD."""
    from Bio.Entrez.Parser import DataHandler

    names: set[str] = set()
    for folder in (DataHandler.global_dtd_dir, DataHandler.local_dtd_dir):
        if folder and Path(folder).is_dir():
            names.update(p.name for p in Path(folder).iterdir())
    bundled = sorted(p.name for p in Path(DataHandler.global_dtd_dir).glob("pubmed_[0-9]*.dtd"))
    return names, bundled[-1]


_DOCTYPE = re.compile(rb"<!DOCTYPE\s+([A-Za-z_][\w.-]*)[^>\[]*>")
_DTD_FILE = re.compile(rb"[\"']([^\"']*?([^/\"']+\.dtd))[\"']\s*>$")
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*)[\s>/]")


def offline_pubmed_xml(data: bytes, file: str) -> bytes:
    """The XML with a DOCTYPE that Bio.Entrez resolves from its local DTD folders, so it never downloads.

    Only a PubmedArticleSet is accepted. A DOCTYPE naming a DTD that is not available locally (e.g. a newer
    PubMed DTD) is pointed at the newest bundled PubMed DTD; the file is then parsed with validate=False, so
    tags unknown to that DTD are skipped. A missing XML declaration or DOCTYPE is added.
    """
    local, newest = _local_pubmed_dtds()
    doctype = (
        b'<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle//EN" '
        b'"https://dtd.nlm.nih.gov/ncbi/pubmed/out/' + newest.encode() + b'">'
    )
    body = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not body.startswith(b"<?xml"):
        body = b'<?xml version="1.0" encoding="UTF-8"?>' + body  # same line: keeps line numbers in errors
    prolog_end = body.find(b"?>") + 2
    if prolog_end < 2:
        raise ImportFailed([Problem(file, None, None, "broken XML declaration (no closing '?>')")])
    match = _DOCTYPE.search(body)
    if match:
        root = match.group(1)
    else:
        prolog = re.sub(rb"<!--.*?-->|<\?.*?\?>", b"", body, flags=re.DOTALL)
        first = _ROOT.search(prolog)
        root = first.group(1) if first else b""
    if root != b"PubmedArticleSet":
        shown = root.decode("utf-8", "replace") or "none"
        raise ImportFailed(
            [Problem(file, None, None, f"not a PubMed XML file: root element {shown!r}, expected PubmedArticleSet")]
        )
    if match:
        named = _DTD_FILE.search(match.group(0))
        if named is None or named.group(2).decode("ascii", "replace") not in local:
            body = body[: match.start()] + doctype + body[match.end() :]
    else:
        body = body[:prolog_end] + doctype + body[prolog_end:]
    return body


def read_pubmed_xml(data: bytes, file: str) -> list[Citation]:
    """A saved efetch PubmedArticleSet via Bio.Entrez.read, offline (see offline_pubmed_xml)."""
    from Bio import Entrez
    from Bio.Entrez.Parser import CorruptedXMLError, NotXMLError

    try:
        parsed = Entrez.read(io.BytesIO(offline_pubmed_xml(data, file)), validate=False)
    except CorruptedXMLError as err:
        complete = data.count(b"</PubmedArticle>") + data.count(b"</PubmedBookArticle>")
        raise ImportFailed(
            [
                Problem(
                    file, complete + 1, None, f"broken or truncated XML after {complete} complete record(s): {err.msg}"
                )
            ]
        ) from None
    except (NotXMLError, ValueError, RuntimeError) as err:
        raise ImportFailed([Problem(file, None, None, f"not a PubMed XML (PubmedArticleSet) file: {err}")]) from None
    if not hasattr(parsed, "get") or "PubmedArticle" not in parsed:
        raise ImportFailed([Problem(file, None, None, "not a PubMed XML file: no PubmedArticleSet element")])
    citations = []
    records = [(r, False) for r in parsed.get("PubmedArticle", [])] + [
        (r, True) for r in parsed.get("PubmedBookArticle", [])
    ]
    for index, (record, is_book) in enumerate(records, start=1):
        citations.append(_book_citation(record, file, index) if is_book else _article_citation(record, file, index))
    return citations


def _xml_authors(author_list) -> tuple[Author, ...]:
    authors = []
    for a in author_list or []:
        if a.get("CollectiveName"):
            authors.append(Author(clean(a["CollectiveName"]) or "", collective=True))
        elif a.get("LastName"):
            initials = clean(a.get("Initials")) or initials_of(str(a.get("ForeName", "")))
            authors.append(Author(clean(a["LastName"]) or "", initials or ""))
    return tuple(a for a in authors if a.surname)


def _xml_doi(*candidates) -> str | None:
    for items, attribute in candidates:
        for item in items or []:
            if getattr(item, "attributes", {}).get(attribute) == "doi":
                return normalise_doi(item)
    return None


def _article_citation(record, file: str, index: int) -> Citation:
    citation = record.get("MedlineCitation", {})
    article = citation.get("Article", {})
    journal = article.get("Journal", {})
    issue = journal.get("JournalIssue", {})
    pub_date = issue.get("PubDate", {})
    year, year_text = year_of(pub_date.get("Year") or pub_date.get("MedlineDate"))
    if year is None and article.get("ArticleDate"):
        year, year_text = year_of(article["ArticleDate"][0].get("Year"))
    pagination = article.get("Pagination", {})
    pages = pagination.get("MedlinePgn")
    if pagination.get("StartPage"):
        pages = "-".join(str(p) for p in (pagination["StartPage"], pagination.get("EndPage")) if p)
    iso = clean(journal.get("ISOAbbreviation"))
    title, notes = clean_title(article.get("ArticleTitle") or article.get("VernacularTitle"), pubmed=True)
    return Citation(
        file=file,
        index=index,
        format="pubmed_xml",
        title=title,
        year=year,
        year_text=year_text,
        authors=_xml_authors(article.get("AuthorList")),
        journal=clean(citation.get("MedlineJournalInfo", {}).get("MedlineTA"))
        or (clean(iso.replace(".", " ")) if iso else None)
        or clean(journal.get("Title")),
        volume=clean(issue.get("Volume")),
        pages=normalise_pages(pages),
        pmid=clean(citation.get("PMID")),
        doi=_xml_doi(
            (article.get("ELocationID"), "EIdType"),
            (record.get("PubmedData", {}).get("ArticleIdList"), "IdType"),
        ),
        notes=notes,
    )


def _book_citation(record, file: str, index: int) -> Citation:
    document = record.get("BookDocument", {})
    book = document.get("Book", {})
    year, year_text = year_of(book.get("PubDate", {}).get("Year") or book.get("PubDate", {}).get("MedlineDate"))
    author_lists = document.get("AuthorList") or book.get("AuthorList") or [[]]
    title, notes = clean_title(document.get("ArticleTitle") or book.get("BookTitle"), pubmed=True)
    return Citation(
        file=file,
        index=index,
        format="pubmed_xml",
        title=title,
        year=year,
        year_text=year_text,
        authors=_xml_authors(author_lists[0]),
        journal=clean(book.get("BookTitle")),
        volume=clean(book.get("Volume")),
        pmid=clean(document.get("PMID")),
        doi=_xml_doi((document.get("ArticleIdList"), "IdType")),
        notes=(*notes, "PubMed book record: the journal column holds the book title."),
    )


def read_ris(text: str, file: str) -> list[Citation]:
    """RIS via rispy, after checking that every record opens with TY and closes with ER."""
    import rispy

    open_at = None
    number = 0
    for line_no, line in enumerate(text.splitlines(), start=1):
        tag = _RIS_TAG.match(line)
        if not tag:
            continue
        if tag.group(1) == "TY":
            number += 1
            if open_at is not None:
                raise ImportFailed(
                    [Problem(file, number - 1, None, f"record is not closed by 'ER  -' before line {line_no}")]
                )
            open_at = line_no
        elif tag.group(1) == "ER":
            if open_at is None:
                raise ImportFailed(
                    [Problem(file, None, None, f"line {line_no}: 'ER  -' without a 'TY  -' record start")]
                )
            open_at = None
        elif open_at is None:
            raise ImportFailed(
                [Problem(file, None, None, f"line {line_no} is outside a record (no 'TY  -' before it)")]
            )
    if open_at is not None:
        raise ImportFailed(
            [
                Problem(
                    file, number, None, f"record starting on line {open_at} is not closed by 'ER  -' (truncated file?)"
                )
            ]
        )
    try:
        entries = rispy.loads(text)
    except Exception as err:  # rispy raises plain IOError/ValueError subclasses on bad structure
        raise ImportFailed([Problem(file, None, None, f"cannot be read as RIS: {err}")]) from None
    citations = []
    for index, entry in enumerate(entries, start=1):
        names = entry.get("authors") or entry.get("first_authors") or []
        year, year_text = year_of(entry.get("year") or entry.get("publication_year") or entry.get("date"))
        pages = entry.get("start_page")
        if pages and entry.get("end_page"):
            pages = f"{pages}-{entry['end_page']}"
        title, notes = clean_title(entry.get("title") or entry.get("primary_title"))
        database = f"{entry.get('name_of_database', '')} {entry.get('database_provider', '')}".lower()
        pmid = None
        if "pubmed" in database or "medline" in database:
            pmid = clean(entry.get("accession_number"))
        for note in _as_list(entry.get("notes")) + _as_list(entry.get("note")):
            found = re.search(r"\bPMID:?\s*([0-9]+)", note)
            pmid = pmid or (found.group(1) if found else None)
        citations.append(
            Citation(
                file=file,
                index=index,
                format="ris",
                title=title,
                year=year,
                year_text=year_text,
                authors=tuple(a for a in (author_from_text(n) for n in names) if a),
                journal=clean(entry.get("alternate_title2"))  # JA: standard abbreviation
                or clean(entry.get("alternate_title1"))  # J2: abbreviation
                or clean(entry.get("journal_name"))  # JO
                or clean(entry.get("secondary_title"))  # T2
                or clean(entry.get("alternate_title3")),  # JF: full name
                volume=clean(entry.get("volume")),
                pages=normalise_pages(pages),
                pmid=pmid,
                doi=normalise_doi(entry.get("doi")),
                key=clean(entry.get("id")),
                notes=notes,
            )
        )
    return citations


def read_bibtex(text: str, file: str) -> list[Citation]:
    """BibTeX via bibtexparser v2 with LaTeX decoding ({\\"u} -> ü) and name splitting."""
    import bibtexparser
    from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors, SplitNameParts

    library = bibtexparser.parse_string(
        text,
        append_middleware=[LatexDecodingMiddleware(keep_braced_groups=True), SeparateCoAuthors(), SplitNameParts()],
    )
    if library.failed_blocks:
        raise ImportFailed(
            [
                Problem(
                    file,
                    None,
                    getattr(b, "key", None),
                    f"BibTeX block at line {b.start_line + 1} cannot be parsed: {b.error}",
                )
                for b in library.failed_blocks
            ]
        )
    citations = []
    for index, entry in enumerate(library.entries, start=1):
        values = {f.key.lower(): f.value for f in entry.fields}

        def text_of(*keys: str, values=values) -> str | None:
            for key in keys:
                if isinstance(values.get(key), str):
                    found = clean(values[key].replace("{", "").replace("}", ""))
                    if found:
                        return found
            return None

        authors = []
        for name in values.get("author") or []:
            if isinstance(name, str):
                authors.append(author_from_text(name))
                continue
            surname = clean(" ".join(name.von + name.last).replace("{", "").replace("}", ""))
            initials = initials_of(" ".join(name.first).replace("{", "").replace("}", ""))
            jr = clean(" ".join(name.jr).replace("{", "").replace("}", ""))
            group = not name.first and not name.von and len(name.last) == 1 and name.last[0].startswith("{")
            if surname:
                authors.append(Author(surname, f"{initials} {jr}".strip() if jr else initials, collective=group))
        pmid = text_of("pmid")
        if not pmid and (text_of("eprinttype") or "").lower() == "pubmed":
            pmid = text_of("eprint")
        year, year_text = year_of(text_of("year") or text_of("date"))
        title, notes = clean_title(text_of("title"))
        citations.append(
            Citation(
                file=file,
                index=index,
                format="bibtex",
                title=title,
                year=year,
                year_text=year_text,
                authors=tuple(a for a in authors if a),
                journal=text_of("shortjournal", "journal", "journaltitle", "booktitle"),
                volume=text_of("volume"),
                pages=normalise_pages(text_of("pages")),
                pmid=pmid,
                doi=normalise_doi(text_of("doi")),
                key=entry.key,
                notes=notes,
            )
        )
    return citations


def check_citation(c: Citation) -> list[Problem]:
    """Problems that make a record unusable as a study row (named by record, not by CSV row)."""
    problems = []
    if not c.title:
        problems.append(c.problem("record has no title"))
    if c.year is None:
        problems.append(
            c.problem(f"record has no year (date {c.year_text!r})" if c.year_text else "record has no year")
        )
    elif not YEAR_MIN <= c.year <= YEAR_MAX:
        problems.append(c.problem(f"year {c.year} is outside {YEAR_MIN}-{YEAR_MAX}"))
    if not c.authors:
        problems.append(c.problem("record has no author"))
    elif not ascii_letters(c.authors[0].surname):
        problems.append(c.problem(f"cannot make a study_id from the first author {c.authors[0].surname!r}"))
    if not c.journal:
        problems.append(c.problem("record has no journal"))
    if c.pmid and not _PMID.match(c.pmid):
        problems.append(c.problem(f"PMID {c.pmid!r} is not 1-9 digits"))
    if c.doi and not _DOI.match(c.doi):
        problems.append(c.problem(f"DOI {c.doi!r} does not look like a DOI (10.xxxx/...)"))
    return problems


# --- Merge --------------------------------------------------------------------------------------


def study_id_base(c: Citation) -> str:
    """First author surname + year as lowercase ASCII letters (collective authors: their first word)."""
    first = c.authors[0]
    letters = ascii_letters(first.surname.split()[0]) if first.collective else ""
    return f"{letters or ascii_letters(first.surname)}{c.year}"


def next_study_id(base: str, taken: set[str]) -> str:
    """base, or base + the next free letter (b, c, ...) when base or base+letter is already used.

    Existing 'yasuda1998a'/'yasuda1998b' occupy 'yasuda1998', so a new Yasuda 1998 becomes 'yasuda1998c'.
    """
    suffixes = {sid[len(base) :] for sid in taken if sid == base or re.fullmatch(re.escape(base) + "[a-z]", sid)}
    if not suffixes:
        return base
    after = max(suffixes | {"a"})  # never reuse 'a' or a letter before the last one in use
    letter = chr(ord(after) + 1)
    if letter > "z":
        raise ValueError(f"no free study_id letter left for {base}")
    return base + letter


def draft_row(c: Citation, study_id: str) -> dict[str, str]:
    """One studies.csv row (all contract columns, as text) for a citation."""
    label = FORMAT_LABELS[c.format]
    where = f"{c.file}, record {c.index}"
    notes = [
        f"Imported from a {label} export ({where}); not yet curated.",
        "Placeholders until curated: study_kind {study_kind}, condition_group {condition_group}, "
        "design {design}; circulating_measured, species, condition and n_participants empty.".format(
            **DRAFT_PLACEHOLDERS
        ),
        *c.notes,
    ]
    row = dict.fromkeys(column_names("studies"), "")
    row.update(
        study_id=study_id,
        pmid=c.pmid or "",
        doi=c.doi or "",
        first_author=first_author_surname(c.authors) or "",
        authors="; ".join(str(a) for a in c.authors),
        year=str(c.year),
        title=c.title or "",
        journal=c.journal or "",
        volume=c.volume or "",
        pages=c.pages or "",
        summary=f"Draft imported from {label} export; not yet curated.",
        curation_notes=" ".join(notes),
        **DRAFT_PLACEHOLDERS,
    )
    return row


def plan_import(existing: pd.DataFrame, citations: Iterable[Citation]) -> ImportPlan:
    """Decide which citations become new draft rows and which are duplicates (of existing or new rows)."""
    by_pmid: dict[str, str] = {}
    by_doi: dict[str, str] = {}
    by_title: dict[tuple[str, str], str] = {}

    def remember(pmid: str, doi: str, title: str, year: str, who: str) -> None:
        if pmid:
            by_pmid.setdefault(pmid.strip(), who)
        if doi:
            by_doi.setdefault(doi.strip().lower(), who)
        if title and year:
            by_title.setdefault((normalise_title(title), year.strip()), who)

    for row in existing.itertuples(index=False):
        remember(row.pmid, row.doi, row.title, row.year, f"existing study {row.study_id}")
    taken = set(existing["study_id"])
    plan = ImportPlan()
    for c in citations:
        reason = None
        if c.pmid and c.pmid in by_pmid:
            reason = f"same PMID {c.pmid} as {by_pmid[c.pmid]}"
        elif c.doi and c.doi in by_doi:
            reason = f"same DOI {c.doi} as {by_doi[c.doi]}"
        elif (normalise_title(c.title or ""), str(c.year)) in by_title:
            reason = f"same title and year as {by_title[(normalise_title(c.title or ''), str(c.year))]}"
        if reason:
            plan.skipped.append(Skipped(c, reason))
            continue
        try:
            study_id = next_study_id(study_id_base(c), taken)
        except ValueError as err:
            raise ImportFailed([c.problem(str(err))]) from None
        taken.add(study_id)
        remember(
            c.pmid or "", c.doi or "", c.title or "", str(c.year), f"new study {study_id} ({c.file}, record {c.index})"
        )
        plan.added.append(Added(study_id, c))
        plan.rows.append(draft_row(c, study_id))
    return plan


def appended_csv(existing_bytes: bytes, columns: list[str], rows: list[dict[str, str]]) -> bytes:
    """The existing bytes unchanged, then the new rows in the file's own column order and CSV dialect."""
    if not rows:
        return existing_bytes
    new = pd.DataFrame(rows)[columns].to_csv(index=False, header=False, lineterminator="\n").encode("utf-8")
    if existing_bytes and not existing_bytes.endswith(b"\n"):
        existing_bytes += b"\n"
    return existing_bytes + new


def _validate(source_dir: Path, studies_bytes: bytes, plan: ImportPlan, first_new_row: int) -> None:
    """Validate all three tables as `make data` would, on a temporary copy with the new studies.csv."""
    with tempfile.TemporaryDirectory(prefix="rankl-atlas-import-") as tmp:
        folder = Path(tmp)
        for name in ("measurements.csv", "findings.csv"):
            if (source_dir / name).exists():
                shutil.copyfile(source_dir / name, folder / name)
        (folder / "studies.csv").write_bytes(studies_bytes)
        try:
            load_sources(folder)
        except ValidationFailed as failed:
            problems = []
            for issue in failed.issues:
                position = (issue.row or 0) - first_new_row
                if issue.file == "studies.csv" and 0 <= position < len(plan.added):
                    added = plan.added[position]
                    problems.append(
                        added.citation.problem(
                            f"new study {added.study_id}: column {issue.column}: value {issue.value!r}: {issue.rule}"
                        )
                    )
                else:
                    problems.append(Problem(issue.file, None, None, str(issue)))
            raise ImportFailed(problems) from None


def add_studies(paths: Sequence[Path], source_dir: Path, dry_run: bool = False) -> ImportPlan:
    """Read every export, plan the additions, validate, and append them to studies.csv atomically.

    Raises ImportFailed (and writes nothing) on any malformed file or record, when the current sources are
    already invalid, or when the resulting tables would not validate.
    """
    studies_path = source_dir / "studies.csv"
    try:
        load_sources(source_dir)
    except ValidationFailed as failed:
        raise ImportFailed(
            [
                Problem(i.file, None, None, f"the current sources are invalid (fix them first): {i}")
                for i in failed.issues
            ]
        ) from None
    problems: list[Problem] = []
    citations: list[Citation] = []
    for path in paths:
        try:
            citations.extend(read_export(Path(path)))
        except ImportFailed as failed:
            problems.extend(failed.problems)
    if problems:
        raise ImportFailed(problems)
    existing_bytes = studies_path.read_bytes()
    existing = pd.read_csv(io.BytesIO(existing_bytes), dtype=str, keep_default_na=False, encoding="utf-8")
    plan = plan_import(existing, citations)
    new_bytes = appended_csv(existing_bytes, list(existing.columns), plan.rows)
    _validate(source_dir, new_bytes, plan, first_new_row=len(existing) + 1)
    if plan.rows and not dry_run:
        if studies_path.read_bytes() != existing_bytes:
            raise ImportFailed(
                [Problem(studies_path.name, None, None, "changed while importing; run the command again")]
            )
        write_atomic(studies_path, new_bytes)
    return plan
