"""Add studies from bibliographic exports (PubMed MEDLINE or XML, RIS, BibTeX) to the curated studies.csv.

Each exported record becomes a *draft* study row: every bibliographic column the export can fill is filled,
the curation columns get honest placeholders (see ``DRAFT_PLACEHOLDERS``) and ``curation_status`` is
``draft``, so the dashboard hides the row until a curator has read the paper. Records already in the table
(same PMID, same DOI, or same title and year) are skipped. One call is all-or-nothing: if any file or
record is malformed, or the resulting table would not pass the schema, studies.csv is left untouched.

Entry points: ``add_studies`` (what ``python -m rankl_atlas add-studies`` runs), ``read_export`` (one file to
citations) and ``plan_import`` (which citations become which rows). Names with a leading underscore are
internal.

Hostile input is refused by rule, not by accident: XML with a DOCTYPE internal subset (entity declarations)
is refused before parsing and parsed with entities and external references forbidden (defusedxml); DOIs and
PMIDs must match the schema's patterns; text that a spreadsheet would run as a formula (a title, author,
journal, volume or pages beginning with ``= + - @``) is refused with the file, record and field named.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
import pandas as pd
from defusedxml import DefusedXmlException

from rankl_atlas.build import TABLES, load_sources, write_atomic
from rankl_atlas.schema import (
    BIDI_CONTROLS,
    DOI_PATTERN,
    PMID_PATTERN,
    STUDY_ID_PATTERN,
    YEAR_MAX,
    YEAR_MIN,
    column_names,
    has_visible_character,
    show_invisible,
)
from rankl_atlas.validation import ValidationFailed

__all__ = [
    "DRAFT_PLACEHOLDERS",
    "FORMAT_LABELS",
    "Added",
    "Author",
    "Citation",
    "ImportFailed",
    "ImportPlan",
    "Problem",
    "Skipped",
    "add_studies",
    "compressed_format",
    "plan_import",
    "read_export",
]

FORMAT_LABELS = {
    "medline": "PubMed MEDLINE",
    "pubmed_xml": "PubMed XML",
    "ris": "RIS",
    "bibtex": "BibTeX",
}
_EXTENSION_FORMATS = {
    ".nbib": "medline",
    ".medline": "medline",
    ".xml": "pubmed_xml",
    ".ris": "ris",
    ".bib": "bibtex",
    ".bibtex": "bibtex",
}

#: Values for the contract's non-nullable curation columns, which no bibliographic export can give;
#: curation_status "draft" hides the row from the dashboard until a curator replaces them.
DRAFT_PLACEHOLDERS = {
    "study_kind": "not_curated",
    "condition_group": "other",
    "design": "not_reported",
    "evidence_level": "citation_only",
    "curation_status": "draft",
    "source_set": "curator_import",
}

_PMID = re.compile(PMID_PATTERN)
_DOI = re.compile(DOI_PATTERN)
_STUDY_ID = re.compile(STUDY_ID_PATTERN)
_STUDY_ID_PARTS = re.compile(r"([a-z]+[0-9]{4})([a-z]*)")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
#: A date begins with a four-digit year, then ends or goes on after a separator ('2005///', '1998 Apr 14',
#: '2022 Jan-Feb', '2021/06/01/'); '20011/2011' or '2011a' are malformed.
_LEADING_YEAR = re.compile(r"([0-9]{4})(?:$|[\s/.,;:-])")
#: Leading characters a spreadsheet reads as the start of a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@")
#: An article number (MDPI '551', Frontiers '789012', PLoS 'e0123456') given as PubMed's [pii] identifier.
_ARTICLE_NUMBER = re.compile(r"[A-Za-z]{0,2}[0-9]{1,12}")
#: Control characters (e.g. terminal escapes) and bidirectional override/isolate controls, removed on import.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|" + BIDI_CONTROLS)
_MEDLINE_LINE = re.compile(r"^[A-Z][A-Z0-9 ]{3}- ")
_MEDLINE_ID = re.compile(r"(\S+)\s*\[([a-z]+)\]")
_RIS_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: |$)")
#: Markup in titles: PubMed's inline tags (<i>, <b>, <u>, <sub>, <sup>), HTML emphasis and MathML, with
#: well-formed attributes only, so that text such as 'RANKL<OPG and OPG>RANKL' is kept.
_MARKUP_TAG = re.compile(
    r"</?(?:i|b|u|em|strong|sub|sup|sc|span|mml:[a-z]+|math|mi|mn|mo|ms|mtext|mrow|msub|msup|msubsup|mfrac"
    r"|msqrt|mroot|mstyle|mover|munder|munderover|mspace|mfenced|mtable|mtr|mtd|semantics|annotation)"
    r"(?:\s+[A-Za-z_:][\w:.-]*\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*'))*\s*/?>",
    re.IGNORECASE,
)
#: An XML DOCTYPE with an internal subset, or any entity declaration outside a comment: refused before parsing.
_DOCTYPE_SUBSET = re.compile(r"<!DOCTYPE[^>\[]*\[", re.IGNORECASE)
_ENTITY_DECLARATION = re.compile(r"<!ENTITY", re.IGNORECASE)
_XML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_ENTITY_REFUSAL = "XML with entity declarations is not accepted"
_SUBSET_REFUSAL = (
    "XML with a DOCTYPE internal subset is not accepted (declarations between '<!DOCTYPE ... [' and ']>', even "
    "without entities); export the records from PubMed again"
)
#: Magic bytes of compressed files, which a renamed export or upload may hold instead of text.
COMPRESSED_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"PK\x03\x04": "zip",
    b"PK\x05\x06": "zip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"7z\xbc\xaf\x27\x1c": "7-Zip",
}
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


def _refuse(file: str, problem: str, record: int | None = None) -> ImportFailed:
    return ImportFailed([Problem(file, record, None, problem)])


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
    notes: tuple[str, ...] = ()  # for the draft row's curation notes
    warnings: tuple[str, ...] = ()  # for the curator now: what was left out of the record, and why

    @property
    def record_id(self) -> str | None:
        """The best short name for messages: PMID, DOI, export key, or first author and year."""
        if self.pmid and _PMID.match(self.pmid):
            return f"PMID {self.pmid}"
        if self.doi and _DOI.match(self.doi):
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
    warnings: list[Problem] = field(default_factory=list)  # records imported with something left out


# --- Text helpers -------------------------------------------------------------------------------


def _clean(value: object) -> str | None:
    """Collapse whitespace and drop control characters (terminal escapes, bidirectional overrides and isolates);
    None for empty values."""
    if value is None:
        return None
    text = " ".join(_CONTROL.sub("", str(value)).split())
    return text or None


def _ascii_letters(text: str) -> str:
    """Lowercase ASCII letters only: accents stripped (Müller-Šťastná -> mullerstastna)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    return "".join(c for c in decomposed if c.isascii() and c.isalpha()).lower()


def _normalise_title(title: str) -> str:
    """Title key for duplicate detection: lowercase, accents stripped, only letters and digits."""
    decomposed = unicodedata.normalize("NFKD", title.translate(_TRANSLITERATE).casefold())
    return "".join(c for c in decomposed if c.isascii() and c.isalnum())


def _clean_title(title: object, pubmed: bool = False) -> tuple[str | None, tuple[str, ...]]:
    """Title as published: markup tags and one trailing period removed; PubMed's [translated title] unwrapped.

    Only real markup goes (see _MARKUP_TAG); other text between '<' and '>' stays.
    """
    text = _clean(_MARKUP_TAG.sub("", str(title))) if title is not None else None
    notes: tuple[str, ...] = ()
    if not text:
        return None, notes
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1].rstrip()
    if pubmed and text.startswith("[") and text.endswith("]"):
        text = text[1:-1].strip()
        notes = ("PubMed gives the title in brackets: an English translation of a title in another language.",)
    return text or None, notes


def _normalise_doi(value: object) -> str | None:
    """Lowercase DOI without a resolver prefix ('https://doi.org/', 'doi:')."""
    text = _clean(value)
    return _DOI_PREFIX.sub("", text).strip().lower() if text else None


def _normalise_pages(value: object) -> str | None:
    """Plain-hyphen page range with abbreviated end pages expanded (3597-602 -> 3597-3602)."""
    text = _clean(value)
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


def _year_of(value: object) -> tuple[int | None, str | None]:
    """The year a date begins with ('1998 Apr 14', '2005///', '2022 Jan-Feb'), and the date as given.

    None when the date does not begin with a four-digit year ('20011/2011', 'in press'); the caller reports it.
    """
    text = _clean(value)
    if not text:
        return None, None
    match = _LEADING_YEAR.match(text)
    return (int(match.group(1)) if match else None), text


def _initials_of(given: str) -> str:
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


def _author_from_text(text: str) -> Author | None:
    """'Surname, Given' (RIS) or 'Surname AB' (MEDLINE) as an Author; any other name is a group's name."""
    text = _clean(text.replace("{", "").replace("}", "")) if text else None
    if not text:
        return None
    if "," in text:
        surname, _, given = text.partition(",")
        return Author(_clean(surname) or text, _initials_of(given))
    head, _, last = text.rpartition(" ")
    bare = last.replace(".", "")
    if head and bare.isalpha() and bare.isupper() and len(bare) <= 4:
        return Author(head, bare)
    return Author(text, collective=True)


def _article_number(value: object) -> str | None:
    """An electronic article number ('551', 'e0123456') used as pages when a record has none; else None."""
    text = _clean(value)
    return text if text and _ARTICLE_NUMBER.fullmatch(text) else None


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


# --- Reading one file ---------------------------------------------------------------------------


def read_export(path: Path) -> list[Citation]:
    """Read one export file into citations; raise ImportFailed naming every malformed record."""
    file = path.name
    try:
        data = path.read_bytes()
    except OSError as err:
        raise _refuse(file, f"cannot be read: {err.strerror or err}") from None
    if not data.strip():
        raise _refuse(file, "file is empty")
    text = _decode_text(data, file)
    fmt = _detect_format(file, text)
    if fmt is None:
        raise _refuse(file, "unrecognised format (expected PubMed MEDLINE or XML, RIS or BibTeX)")
    if fmt == "pubmed_xml":
        citations = _read_pubmed_xml(data, text, file)
    else:
        citations = {"medline": _read_medline, "ris": _read_ris, "bibtex": _read_bibtex}[fmt](text, file)
    if not citations:
        raise _refuse(file, f"no records found in this {FORMAT_LABELS[fmt]} file")
    citations = [_without_unsafe_doi(c) for c in citations]
    problems = [p for c in citations for p in _check_citation(c)]
    if problems:
        raise ImportFailed(problems)
    return citations


def _detect_format(name: str, text: str) -> str | None:
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
    return _EXTENSION_FORMATS.get(Path(name).suffix.lower())


def compressed_format(data: bytes) -> str | None:
    """The compression format a file's first bytes announce (gzip, zip, ...), or None."""
    return next((name for magic, name in COMPRESSED_MAGIC.items() if data.startswith(magic)), None)


def _decode_text(data: bytes, file: str) -> str:
    """UTF-8 text (a BOM is allowed); binary or non-UTF-8 content is refused with the offending byte."""
    compression = compressed_format(data)
    if compression:
        raise _refuse(
            file, f"a compressed file ({compression}), not a text export; uncompress it and import the file inside"
        )
    if b"\x00" in data[:8192]:
        raise _refuse(file, "binary file, not a text export")
    try:
        return data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise _refuse(
            file,
            f"not UTF-8 encoded (byte 0x{data[err.start]:02x} on line {line}); export again as UTF-8 or convert the file",
        ) from None


# --- PubMed MEDLINE -----------------------------------------------------------------------------


def _read_medline(text: str, file: str) -> list[Citation]:
    """PubMed MEDLINE ('PubMed' format / .nbib) via Bio.Medline, after checking every line is a tag line."""
    from Bio import Medline

    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.startswith("      ") and not _MEDLINE_LINE.match(line):
            raise _refuse(file, f"line {number} is not a MEDLINE tag line: {line[:60]!r}")
    return [_medline_citation(record, file, index) for index, record in enumerate(Medline.parse(io.StringIO(text)), 1)]


def _medline_ids(record, tag: str, kind: str) -> list[str]:
    """Every '<id> [kind]' token of a tag: Bio.Medline joins repeated LID lines ('551 [pii] 10.3390/x [doi]')."""
    return [token for value in _as_list(record.get(tag)) for token, k in _MEDLINE_ID.findall(value) if k == kind]


def _medline_citation(record, file: str, index: int) -> Citation:
    authors = [_author_from_text(a) for a in record.get("AU", [])]
    if not any(authors):
        authors = [_author_from_text(a) for a in record.get("FAU", [])]
    authors += [Author(_clean(cn) or "", collective=True) for cn in _as_list(record.get("CN"))]
    doi = next(iter(_medline_ids(record, "LID", "doi") + _medline_ids(record, "AID", "doi")), None)
    pages = _normalise_pages(record.get("PG"))
    if not pages:
        pages = next(
            filter(None, map(_article_number, _medline_ids(record, "LID", "pii") + _medline_ids(record, "AID", "pii"))),
            None,
        )
    title, notes = _clean_title(record.get("TI"), pubmed=True)
    year, year_text = _year_of(record.get("DP"))
    return Citation(
        file=file,
        index=index,
        format="medline",
        title=title,
        year=year,
        year_text=year_text,
        authors=tuple(a for a in authors if a and a.surname),
        journal=_clean(record.get("TA")) or _clean(record.get("JT")),
        volume=_clean(record.get("VI")),
        pages=pages,
        pmid=_clean(record.get("PMID")),
        doi=_normalise_doi(doi),
        notes=notes,
    )


# --- PubMed XML ---------------------------------------------------------------------------------


def _read_pubmed_xml(data: bytes, text: str, file: str) -> list[Citation]:
    """A saved efetch PubmedArticleSet, parsed with defusedxml: no DTD is read, no entity expanded, offline."""
    if _ENTITY_DECLARATION.search(_XML_COMMENT.sub("", text)):
        raise _refuse(file, _ENTITY_REFUSAL)
    if _DOCTYPE_SUBSET.search(text):
        raise _refuse(file, _SUBSET_REFUSAL)
    root = _parse_pubmed_xml(data, file)
    citations = []
    for index, record in enumerate(r for r in root if r.tag in ("PubmedArticle", "PubmedBookArticle")):
        if record.tag == "PubmedArticle":
            citations.append(_article_citation(record, file, index + 1))
        else:
            citations.append(_book_citation(record, file, index + 1))
    return citations


def _parse_pubmed_xml(data: bytes, file: str) -> Element:
    """The PubmedArticleSet element; entity declarations, external references and other roots are refused."""
    try:
        root = safe_xml.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise _refuse(file, _ENTITY_REFUSAL) from None
    except ParseError as err:
        complete = data.count(b"</PubmedArticle>") + data.count(b"</PubmedBookArticle>")
        raise _refuse(
            file, f"broken or truncated XML after {complete} complete record(s): {err}", complete + 1
        ) from None
    if root.tag != "PubmedArticleSet":
        raise _refuse(file, f"not a PubMed XML file: root element {root.tag!r}, expected PubmedArticleSet")
    return root


def _xml_text(element: Element | None, path: str | None = None) -> str | None:
    """All text inside an element (inline markup such as <i> dropped by the parser), whitespace collapsed."""
    found = element.find(path) if element is not None and path else element
    return _clean("".join(found.itertext())) if found is not None else None


def _xml_authors(author_list: Element | None) -> tuple[Author, ...]:
    authors = []
    for a in author_list.findall("Author") if author_list is not None else []:
        if _xml_text(a, "CollectiveName"):
            authors.append(Author(_xml_text(a, "CollectiveName") or "", collective=True))
        elif _xml_text(a, "LastName"):
            initials = _xml_text(a, "Initials") or _initials_of(_xml_text(a, "ForeName") or "")
            authors.append(Author(_xml_text(a, "LastName") or "", initials or ""))
    return tuple(a for a in authors if a.surname)


def _xml_ids(elements: Iterable[Element], attribute: str, kind: str) -> Iterator[str]:
    return (text for e in elements if e.get(attribute) == kind and (text := _xml_text(e)))


def _xml_year(date: Element | None) -> tuple[int | None, str | None]:
    return _year_of(_xml_text(date, "Year") or _xml_text(date, "MedlineDate"))


def _article_citation(record: Element, file: str, index: int) -> Citation:
    citation = record.find("MedlineCitation")
    article = citation.find("Article") if citation is not None else None
    article = article if article is not None else Element("Article")
    journal = article.find("Journal")
    issue = journal.find("JournalIssue") if journal is not None else None
    year, year_text = _xml_year(issue.find("PubDate") if issue is not None else None)
    if year_text is None:
        year, year_text = _xml_year(article.find("ArticleDate"))
    pages = _xml_text(article, "Pagination/MedlinePgn")
    if _xml_text(article, "Pagination/StartPage"):
        pages = "-".join(
            p for p in (_xml_text(article, "Pagination/StartPage"), _xml_text(article, "Pagination/EndPage")) if p
        )
    elocations = article.findall("ELocationID")
    if not pages:
        pages = next(filter(None, map(_article_number, _xml_ids(elocations, "EIdType", "pii"))), None)
    iso = _xml_text(journal, "ISOAbbreviation")
    title, notes = _clean_title(
        _xml_text(article, "ArticleTitle") or _xml_text(article, "VernacularTitle"), pubmed=True
    )
    doi = next(_xml_ids(elocations, "EIdType", "doi"), None) or next(
        _xml_ids(record.findall("PubmedData/ArticleIdList/ArticleId"), "IdType", "doi"), None
    )
    return Citation(
        file=file,
        index=index,
        format="pubmed_xml",
        title=title,
        year=year,
        year_text=year_text,
        authors=_xml_authors(article.find("AuthorList")),
        journal=_xml_text(citation, "MedlineJournalInfo/MedlineTA")
        or (_clean(iso.replace(".", " ")) if iso else None)
        or _xml_text(journal, "Title"),
        volume=_xml_text(issue, "Volume"),
        pages=_normalise_pages(pages),
        pmid=_xml_text(citation, "PMID"),
        doi=_normalise_doi(doi),
        notes=notes,
    )


def _book_citation(record: Element, file: str, index: int) -> Citation:
    document = record.find("BookDocument")
    document = document if document is not None else Element("BookDocument")
    book = document.find("Book")
    year, year_text = _xml_year(book.find("PubDate") if book is not None else None)
    author_list = document.find("AuthorList")
    if author_list is None and book is not None:
        author_list = book.find("AuthorList")
    title, notes = _clean_title(_xml_text(document, "ArticleTitle") or _xml_text(book, "BookTitle"), pubmed=True)
    return Citation(
        file=file,
        index=index,
        format="pubmed_xml",
        title=title,
        year=year,
        year_text=year_text,
        authors=_xml_authors(author_list),
        journal=_xml_text(book, "BookTitle"),
        volume=_xml_text(book, "Volume"),
        pmid=_xml_text(document, "PMID"),
        doi=_normalise_doi(next(_xml_ids(document.findall("ArticleIdList/ArticleId"), "IdType", "doi"), None)),
        notes=(*notes, "PubMed book record: the journal column holds the book title."),
    )


# --- RIS ----------------------------------------------------------------------------------------


def _read_ris(text: str, file: str) -> list[Citation]:
    """RIS via rispy, after checking that every record opens with TY and closes with ER."""
    import rispy

    _check_ris_structure(text, file)
    try:
        entries = rispy.loads(text)
    except Exception as err:  # rispy raises plain IOError/ValueError subclasses on bad structure
        raise _refuse(file, f"cannot be read as RIS: {err}") from None
    return [_ris_citation(entry, file, index) for index, entry in enumerate(entries, start=1)]


def _check_ris_structure(text: str, file: str) -> None:
    """Every tag line lies inside a record that opens with 'TY  -' and closes with 'ER  -'."""
    open_at = None
    number = 0
    for line_no, line in enumerate(text.splitlines(), start=1):
        tag = _RIS_TAG.match(line)
        if not tag:
            continue
        if tag.group(1) == "TY":
            number += 1
            if open_at is not None:
                raise _refuse(file, f"record is not closed by 'ER  -' before line {line_no}", number - 1)
            open_at = line_no
        elif tag.group(1) == "ER":
            if open_at is None:
                raise _refuse(file, f"line {line_no}: 'ER  -' without a 'TY  -' record start")
            open_at = None
        elif open_at is None:
            raise _refuse(file, f"line {line_no} is outside a record (no 'TY  -' before it)")
    if open_at is not None:
        raise _refuse(file, f"record starting on line {open_at} is not closed by 'ER  -' (truncated file?)", number)


def _ris_citation(entry: dict, file: str, index: int) -> Citation:
    """One rispy entry as a Citation."""
    names = entry.get("authors") or entry.get("first_authors") or []
    year, year_text = _year_of(entry.get("year") or entry.get("publication_year") or entry.get("date"))
    pages = entry.get("start_page")
    if pages and entry.get("end_page"):
        pages = f"{pages}-{entry['end_page']}"
    title, notes = _clean_title(entry.get("title") or entry.get("primary_title"))
    database = f"{entry.get('name_of_database', '')} {entry.get('database_provider', '')}".lower()
    pmid = None
    if "pubmed" in database or "medline" in database:
        pmid = _clean(entry.get("accession_number"))
    for note in _as_list(entry.get("notes")) + _as_list(entry.get("note")):
        found = re.search(r"\bPMID:?\s*([0-9]+)", note)
        pmid = pmid or (found.group(1) if found else None)
    return Citation(
        file=file,
        index=index,
        format="ris",
        title=title,
        year=year,
        year_text=year_text,
        authors=tuple(a for a in (_author_from_text(n) for n in names) if a),
        journal=_clean(entry.get("alternate_title2"))  # JA: standard abbreviation
        or _clean(entry.get("alternate_title1"))  # J2: abbreviation
        or _clean(entry.get("journal_name"))  # JO
        or _clean(entry.get("secondary_title"))  # T2
        or _clean(entry.get("alternate_title3")),  # JF: full name
        volume=_clean(entry.get("volume")),
        pages=_normalise_pages(pages),
        pmid=pmid,
        doi=_normalise_doi(entry.get("doi")),
        key=_clean(entry.get("id")),
        notes=notes,
    )


# --- BibTeX -------------------------------------------------------------------------------------


def _read_bibtex(text: str, file: str) -> list[Citation]:
    """BibTeX via bibtexparser v2 with LaTeX decoding ({\\"u} -> ü) and name splitting."""
    return [_bibtex_citation(entry, file, index) for index, entry in enumerate(_parse_bibtex(text, file), start=1)]


def _parse_bibtex(text: str, file: str) -> list:
    """The library's entries; any block that cannot be parsed refuses the file."""
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
    return list(library.entries)


def _unbraced(text: str) -> str:
    return text.replace("{", "").replace("}", "")


def _bibtex_citation(entry, file: str, index: int) -> Citation:
    """One bibtexparser entry as a Citation."""
    values = {f.key.lower(): f.value for f in entry.fields}

    def text_of(*keys: str) -> str | None:
        for key in keys:
            if isinstance(values.get(key), str):
                found = _clean(_unbraced(values[key]))
                if found:
                    return found
        return None

    authors = []
    for name in values.get("author") or []:
        if isinstance(name, str):
            authors.append(_author_from_text(name))
            continue
        surname = _clean(_unbraced(" ".join(name.von + name.last)))
        initials = _initials_of(_unbraced(" ".join(name.first)))
        jr = _clean(_unbraced(" ".join(name.jr)))
        group = not name.first and not name.von and len(name.last) == 1 and name.last[0].startswith("{")
        if surname:
            authors.append(Author(surname, f"{initials} {jr}".strip() if jr else initials, collective=group))
    pmid = text_of("pmid")
    if not pmid and (text_of("eprinttype") or "").lower() == "pubmed":
        pmid = text_of("eprint")
    year, year_text = _year_of(text_of("year") or text_of("date"))
    title, notes = _clean_title(text_of("title"))
    return Citation(
        file=file,
        index=index,
        format="bibtex",
        title=title,
        year=year,
        year_text=year_text,
        authors=tuple(a for a in authors if a),
        journal=text_of("shortjournal", "journal", "journaltitle", "booktitle"),
        volume=text_of("volume"),
        pages=_normalise_pages(text_of("pages")),
        pmid=pmid,
        doi=_normalise_doi(text_of("doi")),
        key=entry.key,
        notes=notes,
    )


# --- Checks -------------------------------------------------------------------------------------


def _without_unsafe_doi(c: Citation) -> Citation:
    """The citation without a DOI that the schema's DOI_PATTERN refuses, with a warning naming it.

    The pattern refuses spaces, [ ] < > and unbalanced ( ), so that no DOI can break out of a link
    ('10.1234/x)[Login](https://evil.example)'). The record is still imported, as a draft, without the DOI.
    """
    if not c.doi or _DOI.match(c.doi):
        return c
    return replace(
        c,
        doi=None,
        notes=(*c.notes, "The export's DOI was left out: it holds a space, [ ] < > or unbalanced ( )."),
        warnings=(
            *c.warnings,
            f"DOI {c.doi!r} is not accepted and was left out: a DOI starts with '10.' and holds no spaces, "
            "[ ] < > or unbalanced ( ) (add it by hand if it is genuine)",
        ),
    )


def _check_citation(c: Citation) -> list[Problem]:
    """Problems that make a record unusable as a study row (named by record, not by CSV row)."""
    problems = []
    if not c.title:
        problems.append(c.problem("record has no title"))
    elif not has_visible_character(c.title):
        problems.append(c.problem(f"title has no visible character ({show_invisible(c.title)!r})"))
    if c.year is not None and not YEAR_MIN <= c.year <= YEAR_MAX:
        problems.append(c.problem(f"year {c.year} is outside {YEAR_MIN}-{YEAR_MAX}"))
    elif c.year is None and c.year_text:
        problems.append(
            c.problem(
                f"malformed date {c.year_text!r}: it must begin with a four-digit year "
                "(e.g. 2011, 2011/05/01, '2011 May')"
            )
        )
    elif c.year is None:
        problems.append(c.problem("record has no year"))
    if not c.authors:
        problems.append(c.problem("record has no author"))
    elif not _ascii_letters(c.authors[0].surname):
        problems.append(c.problem(f"cannot make a study_id from the first author {c.authors[0].surname!r}"))
    if not c.journal:
        problems.append(c.problem("record has no journal"))
    if c.pmid and not _PMID.match(c.pmid):
        problems.append(c.problem(f"PMID {c.pmid!r} is not 1-9 digits"))
    text_fields = [("title", c.title), ("journal", c.journal), ("volume", c.volume), ("pages", c.pages)]
    text_fields += [("authors", str(a)) for a in c.authors]
    for name, value in text_fields:
        if value and value.startswith(_FORMULA_START):
            problems.append(
                c.problem(
                    f"{name} begins with {value[0]!r}, which a spreadsheet would run as a formula "
                    f"({value[:40]!r}); correct the record in the export or add the study by hand"
                )
            )
    return problems


# --- Merge --------------------------------------------------------------------------------------


def _study_id_base(c: Citation) -> str:
    """First author surname + year as lowercase ASCII letters (collective authors: their first word)."""
    first = c.authors[0]
    letters = _ascii_letters(first.surname.split()[0]) if first.collective else ""
    return f"{letters or _ascii_letters(first.surname)}{c.year}"


def _suffix_rank(letters: str) -> int:
    """'' 0, 'a' 1, ..., 'z' 26, 'aa' 27, ..., 'zz' 702 (bijective base 26)."""
    rank = 0
    for letter in letters:
        rank = rank * 26 + ord(letter) - ord("a") + 1
    return rank


def _suffix(rank: int) -> str:
    """The letters of a rank (inverse of _suffix_rank)."""
    letters = ""
    while rank > 0:
        rank, rest = divmod(rank - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


class _StudyIds:
    """Hands out free study ids in constant time: the highest suffix in use is kept per surname+year base.

    A base already used takes the letter after the highest one in use, never before 'b' (the bare base
    stands for 'a'): existing 'yasuda1998a'/'yasuda1998b' make a new Yasuda 1998 'yasuda1998c'; after 'z'
    come 'aa', 'ab', ... as far as the schema's STUDY_ID_PATTERN allows.
    """

    def __init__(self, existing: Iterable[str]):
        self._taken = set(existing)
        self._highest: dict[str, int] = {}
        for study_id in self._taken:
            parts = _STUDY_ID_PARTS.fullmatch(study_id)
            if parts:
                base, letters = parts.groups()
                self._highest[base] = max(self._highest.get(base, 0), _suffix_rank(letters))

    def take(self, base: str) -> str:
        """The next free id for base, now taken; ValueError when the pattern allows no further letters."""
        rank = max(self._highest[base], 1) + 1 if base in self._highest else 0
        study_id = base + _suffix(rank)
        if not _STUDY_ID.match(study_id) or study_id in self._taken:
            raise ValueError(f"no free study_id left for {base}: {study_id!r} does not fit {STUDY_ID_PATTERN}")
        self._highest[base] = rank
        self._taken.add(study_id)
        return study_id


def _draft_row(c: Citation, study_id: str) -> dict[str, str]:
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
        first_author=c.authors[0].surname if c.authors else "",
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
    """Decide which citations become new draft rows and which are duplicates (of existing or new rows).

    Linear in the number of rows and citations: duplicates and free ids are looked up in dictionaries.
    """
    by_pmid: dict[str, str] = {}
    by_doi: dict[str, str] = {}
    by_title: dict[tuple[str, str], str] = {}

    def remember(pmid: str, doi: str, title: str, year: str, who: str) -> None:
        if pmid:
            by_pmid.setdefault(pmid.strip(), who)
        if doi:
            by_doi.setdefault(doi.strip().lower(), who)
        if title and year:
            by_title.setdefault((_normalise_title(title), year.strip()), who)

    for row in existing.itertuples(index=False):
        remember(row.pmid, row.doi, row.title, row.year, f"existing study {row.study_id}")
    ids = _StudyIds(existing["study_id"])
    plan = ImportPlan()
    for c in citations:
        plan.warnings.extend(c.problem(w) for w in c.warnings)
        title_key = (_normalise_title(c.title or ""), str(c.year))
        reason = None
        if c.pmid and c.pmid in by_pmid:
            reason = f"same PMID {c.pmid} as {by_pmid[c.pmid]}"
        elif c.doi and c.doi in by_doi:
            reason = f"same DOI {c.doi} as {by_doi[c.doi]}"
        elif title_key in by_title:
            reason = f"same title and year as {by_title[title_key]}"
        if reason:
            plan.skipped.append(Skipped(c, reason))
            continue
        try:
            study_id = ids.take(_study_id_base(c))
        except ValueError as err:
            raise ImportFailed([c.problem(str(err))]) from None
        remember(
            c.pmid or "", c.doi or "", c.title or "", str(c.year), f"new study {study_id} ({c.file}, record {c.index})"
        )
        plan.added.append(Added(study_id, c))
        plan.rows.append(_draft_row(c, study_id))
    return plan


def _appended_csv(existing_bytes: bytes, columns: list[str], rows: list[dict[str, str]]) -> bytes:
    """The existing bytes unchanged, then the new rows in the file's own column order and CSV dialect."""
    if not rows:
        return existing_bytes
    new = pd.DataFrame(rows)[columns].to_csv(index=False, header=False, lineterminator="\n").encode("utf-8")
    if existing_bytes and not existing_bytes.endswith(b"\n"):
        existing_bytes += b"\n"
    return existing_bytes + new


def _validate(source_dir: Path, studies_bytes: bytes, plan: ImportPlan, first_new_row: int) -> None:
    """Validate every table as `make data` would, on a temporary copy of the sources with the new studies.csv."""
    with tempfile.TemporaryDirectory(prefix="rankl-atlas-import-") as tmp:
        folder = Path(tmp)
        for table in TABLES:
            if table != "studies" and (source_dir / f"{table}.csv").exists():
                shutil.copyfile(source_dir / f"{table}.csv", folder / f"{table}.csv")
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
    new_bytes = _appended_csv(existing_bytes, list(existing.columns), plan.rows)
    _validate(source_dir, new_bytes, plan, first_new_row=len(existing) + 1)
    if plan.rows and not dry_run:
        if studies_path.read_bytes() != existing_bytes:
            raise _refuse(studies_path.name, "changed while importing; run the command again")
        write_atomic(studies_path, new_bytes)
    return plan
