"""A visitor's own extraction: template, reading an upload, validating it, and joining it to the atlas (pure).

The upload is one table in long form: a ``table`` column says which contract table each row belongs to
(studies, measurements or findings), the other columns are the contract's columns.
"""

from __future__ import annotations

import csv
import ctypes
import ctypes.util
import gc
import io
import threading
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from rankl_atlas.data import Tables, empty_table
from rankl_atlas.importers import compressed_format
from rankl_atlas.schema import ORIGIN_ATLAS, ORIGIN_VISITOR, TABLE_NAMES, column_names, derive_family
from rankl_atlas.validation import Issue, catalogue_issues, coerce_text_table, validate_tables

#: The tables a visitor can upload (the study tables; the assay catalogue is reference data).
TABLES = tuple(t for t in TABLE_NAMES if t not in ("assays", "meta_analyses"))
MAX_UPLOAD_MB = 5
MAX_ROWS = 5000
MAX_COLUMNS = 120
MAX_CELL_CHARS = 5000
MAX_UNCOMPRESSED_MB = 32  # Parquet: the data once decompressed, as the file's metadata declares it
#: Parquet: the text of the cells once decoded (a dictionary value counts once per row that refers to it) may
#: be no larger than the largest CSV accepted, so that no encoding makes an upload cost more than a CSV does.
MAX_DECODED_MB = MAX_UPLOAD_MB
#: One upload is read and checked at a time per server process, so simultaneous uploads share the memory
#: budget of one (about 50 MB above idle for the largest file accepted, docs/benchmarks_inputs.md).
_ONE_AT_A_TIME = threading.RLock()


def template_columns() -> list[str]:
    """'table' then every contract column once, in table order."""
    seen: dict[str, None] = {"table": None}
    for table in TABLES:
        seen.update(dict.fromkeys(column_names(table)))
    return list(seen)


def template_csv() -> bytes:
    """A CSV template with one fictional example per table, to be replaced by the visitor's rows."""
    rows = [
        dict(table="studies", study_id="example2020", first_author="Example", authors="Example A; Sample B", year=2020,
             title="Replace with the study's title", journal="J Example", study_kind="human_circulating",
             circulating_measured="true", species="human", condition="rheumatoid arthritis",
             condition_group="rheumatoid_arthritis", design="case_control", n_participants=60,
             summary="Your one-sentence summary.", evidence_level="full_text", curation_status="curated",
             analytes_measured="rankl", source_set="visitor_upload"),
        dict(table="measurements", measurement_id="example2020-m1", study_id="example2020", group_label="RA patients",
             group_role="case", condition_group="rheumatoid_arthritis", n=30, analyte="rankl", analyte_form="free",
             specimen="serum", assay_vendor="biomedica", assay_attribution="stated", assay_method="elisa",
             statistic="mean", value=0.35, sd=0.2, unit="pmol_l", source_location="full_text", locator="Table 2",
             spread_basis="stated"),
        dict(table="measurements", measurement_id="example2020-m2", study_id="example2020", group_label="controls",
             group_role="control", condition_group="healthy_population", n=30, analyte="rankl", analyte_form="free",
             specimen="serum", assay_vendor="biomedica", assay_attribution="stated", assay_method="elisa",
             statistic="mean", value=0.2, sd=0.15, unit="pmol_l", source_location="full_text", locator="Table 2",
             spread_basis="stated"),
        dict(table="findings", finding_id="example2020-f1", study_id="example2020", analyte="rankl",
             analyte_form="free", specimen="serum", assay_vendor="biomedica", assay_attribution="stated",
             comparison_type="case_vs_control", comparison="RA vs controls", related_to="condition",
             condition_group="rheumatoid_arthritis", direction="higher", p_value=0.01, p_text="0.01",
             source_location="full_text", locator="Table 2", comparison_family="cases_vs_controls"),
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=template_columns(), dtype=object)  # object: 2020 stays 2020, not 2020.0
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


class UploadRejected(Exception):
    """The file as a whole cannot be read; the message says why."""


@dataclass(frozen=True)
class RawUpload:
    """An upload read as text: one string per cell ('' when empty), and the issues reading it found.

    Reading lists cells that are not text (bytes that are not UTF-8) and Parquet columns that are not in the
    template (never read); validate_upload adds them to the issues it finds.
    """

    frame: pd.DataFrame
    issues: tuple[Issue, ...] = ()


def check_upload(name: str, data: bytes, atlas: Tables) -> UploadResult:
    """Read and validate an upload (read_upload, then validate_upload), one upload at a time per process;
    raise UploadRejected when the file as a whole cannot be read."""
    with _ONE_AT_A_TIME:
        try:
            return validate_upload(read_upload(name, data), atlas, file=name)
        finally:
            _return_freed_memory()


def _return_freed_memory() -> None:
    """Give the memory an upload freed back to the system (glibc keeps it per thread arena otherwise, so
    uploads from several sessions' threads would add up even when they run one at a time), and what Arrow's own
    memory pool keeps for reuse."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:  # not glibc (macOS, Windows, musl without the symbol)
        return None


_LIBC = _glibc()


def read_upload(name: str, data: bytes) -> RawUpload:
    """The uploaded CSV or Parquet as a table of strings; raise UploadRejected with a clear reason.

    Limits are checked before the data is decoded: for CSV the header's column count, for Parquet the rows,
    columns and uncompressed size in the file's metadata, and only the template's columns are read.
    """
    if len(data) > MAX_UPLOAD_MB * 1024 * 1024:
        raise UploadRejected(f"The file is larger than {MAX_UPLOAD_MB} MB.")
    lowered = name.lower()
    compression = compressed_format(data)
    if compression:
        raise UploadRejected(
            f"The file is a compressed file ({compression}), not a CSV or Parquet file; "
            "uncompress it and upload the file inside."
        )
    try:
        if lowered.endswith(".parquet"):
            return _read_parquet(name, data)
        if lowered.endswith(".csv"):
            return RawUpload(_read_csv(data))
        raise UploadRejected("Upload a .csv or .parquet file.")
    except UploadRejected:
        raise
    except Exception as err:  # noqa: BLE001 - any parser failure is a bad file, reported in words
        raise UploadRejected(f"The file cannot be read ({type(err).__name__}).") from err


def _too_many_columns(count: int) -> UploadRejected:
    return UploadRejected(f"The file has {count} columns; the template has {len(template_columns())}.")


def _read_csv(data: bytes) -> pd.DataFrame:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise UploadRejected("The CSV is not UTF-8 text; save it as UTF-8 and upload again.") from err
    if "\x00" in text:
        raise UploadRejected("The CSV contains binary data.")
    header = next(csv.reader([text.partition("\n")[0]]), [])
    if len(header) > MAX_COLUMNS:
        raise _too_many_columns(len(header))
    _refuse_rows_longer_than_the_header(text, len(header))
    raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, nrows=MAX_ROWS + 1)
    if raw.shape[1] > MAX_COLUMNS:
        raise _too_many_columns(raw.shape[1])
    if len(raw) > MAX_ROWS:
        raise UploadRejected(f"The file has more than {MAX_ROWS} rows.")
    raw.columns = [str(c) for c in raw.columns]
    if "table" not in raw.columns:
        raise UploadRejected("The file has no 'table' column; start from the template.")
    return raw.fillna("").astype(str)


def _refuse_rows_longer_than_the_header(text: str, columns: int) -> None:
    """Refuse a CSV whose row has more fields than its header has columns, naming the row and the counts."""
    reader = csv.reader(io.StringIO(text))
    try:
        next(reader, None)
        for row, fields in enumerate(reader, start=1):
            if len(fields) > columns:
                raise UploadRejected(
                    f"Row {row} has {len(fields)} fields but the header has {columns} columns; "
                    "every row may have at most as many fields as the header."
                )
            if row > MAX_ROWS:
                return
    except csv.Error as err:
        raise UploadRejected(f"The CSV cannot be read at row {reader.line_num - 1}: {err}.") from err


def _read_parquet(name: str, data: bytes) -> RawUpload:
    """Check the Parquet metadata against the limits, then read the template's columns only, as text."""
    parquet = pq.ParquetFile(io.BytesIO(data))
    meta = parquet.metadata
    groups = [meta.row_group(i) for i in range(meta.num_row_groups)]
    group_rows = [g.num_rows for g in groups]
    group_bytes = [g.total_byte_size for g in groups]
    chunk_bytes = [g.column(c).total_uncompressed_size for g in groups for c in range(g.num_columns)]
    if min([meta.num_rows, *group_rows, *group_bytes, *chunk_bytes]) < 0:
        raise UploadRejected("The file's metadata is inconsistent (negative counts).")
    rows = max(meta.num_rows, sum(group_rows))
    if rows > MAX_ROWS:
        raise UploadRejected(f"The file has {rows} rows; at most {MAX_ROWS} are accepted.")
    schema = parquet.schema_arrow
    columns = max(meta.num_columns, len(schema.names))
    if columns > MAX_COLUMNS:
        raise _too_many_columns(columns)
    uncompressed = max(sum(group_bytes), sum(chunk_bytes))
    if uncompressed > MAX_UNCOMPRESSED_MB * 1024 * 1024:
        raise UploadRejected(
            f"The file holds {uncompressed / 1024 / 1024:.0f} MB of data once uncompressed; "
            f"at most {MAX_UNCOMPRESSED_MB} MB are accepted."
        )
    names = schema.names
    if len(set(names)) < len(names):
        repeated = sorted({n for n in names if names.count(n) > 1})
        raise UploadRejected(f"The file repeats column names: {', '.join(repeated)}.")
    if "table" not in names:
        raise UploadRejected("The file has no 'table' column; start from the template.")
    allowed = set(template_columns())
    wanted = [n for n in names if n in allowed]
    _refuse_large_pages(data, groups, set(wanted))
    for column in wanted:
        kind = schema.field(column).type
        if pa.types.is_nested(kind):
            raise UploadRejected(f"Column '{column}' holds nested values ({kind}); use text or numbers.")
        if not (_is_text(kind) or _is_plain(kind)):
            raise UploadRejected(f"Column '{column}' holds values of type {kind}; use text or numbers.")
    issues = [
        Issue(name, None, n, "", "not a column of the template; it was not read")
        for n in names
        if n not in allowed and not n.startswith("__index_level_")
    ]
    text_columns = [c for c in wanted if _is_text(schema.field(c).type)]
    with _ONE_AT_A_TIME:
        # Text columns are read dictionary-encoded (each distinct value once), so their decoded size is
        # measured before any row is expanded.
        dictionary_reader = pq.ParquetFile(io.BytesIO(data), read_dictionary=text_columns)
        table = dictionary_reader.read(columns=wanted, use_pandas_metadata=False, use_threads=False)
        _refuse_oversized_text(table, text_columns)
        cells = {}
        for column in wanted:
            cells[column], not_text = _cells_as_text(table.column(column))
            issues += [Issue(name, row + 1, column, "(bytes)", "bytes that are not UTF-8 text") for row in not_text]
        del table
    return RawUpload(pd.DataFrame(cells, columns=wanted, dtype=object).astype(str), tuple(issues))


_TEXT_TYPES = (pa.types.is_string, pa.types.is_large_string, pa.types.is_binary, pa.types.is_large_binary)
#: Fixed-size types whose decoded size is a few bytes per row (fixed-size binary, whose one value can be
#: megabytes, is not among them).
_PLAIN_TYPES = (pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean, pa.types.is_null)


def _value_type(kind: pa.DataType) -> pa.DataType:
    return kind.value_type if pa.types.is_dictionary(kind) else kind


def _refuse_large_pages(data: bytes, groups: list, wanted: set[str]) -> None:
    """Refuse a file whose pages, as their own headers declare them, would take more than MAX_UNCOMPRESSED_MB
    once decompressed: the reader allocates what a page header says, whatever the footer claims."""
    total = 0
    for group in groups:
        for index in range(group.num_columns):
            chunk = group.column(index)
            if chunk.path_in_schema in wanted:
                total += sum(_page_sizes(data, chunk))
    if total > MAX_UNCOMPRESSED_MB * 1024 * 1024:
        raise UploadRejected(
            f"The file's pages hold {total / 1024 / 1024:.0f} MB of data once uncompressed (as their headers "
            f"declare it); at most {MAX_UNCOMPRESSED_MB} MB are accepted."
        )


_MAX_PAGES = 100_000


def _page_sizes(data: bytes, chunk) -> list[int]:
    """The uncompressed size of every page of a column chunk, read from the page headers (Thrift compact
    protocol: fields 2 and 3 of PageHeader are uncompressed_page_size and compressed_page_size)."""
    offsets = [o for o in (chunk.dictionary_page_offset, chunk.data_page_offset) if o is not None and o > 0]
    if not offsets:
        raise UploadRejected("The file's metadata is inconsistent (a column has no page).")
    position = min(offsets)
    end = position + chunk.total_compressed_size
    if end > len(data):
        raise UploadRejected("The file's metadata is inconsistent (a column ends after the file).")
    sizes = []
    while position < end:
        if len(sizes) >= _MAX_PAGES:
            raise UploadRejected(f"A column of the file has more than {_MAX_PAGES} pages.")
        header = _CompactReader(data, position)
        fields = header.struct_fields({2, 3})
        uncompressed, compressed = fields.get(2), fields.get(3)
        if uncompressed is None or compressed is None or uncompressed < 0 or compressed < 0:
            raise UploadRejected("The file's page headers are inconsistent.")
        sizes.append(uncompressed)
        position = header.position + compressed
    return sizes


class _CompactReader:
    """Just enough of Thrift's compact protocol to read the integer fields of a struct and skip the rest."""

    def __init__(self, data: bytes, position: int):
        self.data, self.position = data, position

    def _byte(self) -> int:
        if self.position >= len(self.data):
            raise UploadRejected("The file's page headers are inconsistent (a header runs past the file).")
        value = self.data[self.position]
        self.position += 1
        return value

    def _varint(self) -> int:
        shift = result = 0
        while True:
            byte = self._byte()
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise UploadRejected("The file's page headers are inconsistent (an integer is too long).")

    def _zigzag(self) -> int:
        value = self._varint()
        return (value >> 1) ^ -(value & 1)

    def struct_fields(self, wanted: set[int], depth: int = 0) -> dict[int, int]:
        """Read a struct; return its integer fields whose ids are in wanted, skipping every other field."""
        if depth > 16:
            raise UploadRejected("The file's page headers are inconsistent (nested too deeply).")
        found, field_id = {}, 0
        while True:
            header = self._byte()
            kind = header & 0x0F
            if kind == 0:  # STOP
                return found
            delta = header >> 4
            field_id = field_id + delta if delta else self._zigzag()
            if kind in (5, 6) and field_id in wanted:  # i32, i64
                found[field_id] = self._zigzag()
            else:
                self._skip(kind, depth)

    def _skip(self, kind: int, depth: int) -> None:
        if kind in (1, 2):  # booleans carry their value in the type
            return
        if kind == 3:
            self._byte()
        elif kind in (4, 5, 6):
            self._varint()
        elif kind == 7:
            self.position += 8
        elif kind == 8:
            length = self._varint()  # read before adding: the read moves the position
            self.position += length
        elif kind in (9, 10):  # list, set
            header = self._byte()
            size = header >> 4 if header >> 4 != 15 else self._varint()
            for _ in range(size):
                self._skip(header & 0x0F, depth + 1)
        elif kind == 11:  # map
            size = self._varint()
            if size:
                types = self._byte()
                for _ in range(size):
                    self._skip(types >> 4, depth + 1)
                    self._skip(types & 0x0F, depth + 1)
        elif kind == 12:
            self.struct_fields(set(), depth + 1)
        else:
            raise UploadRejected("The file's page headers are inconsistent (an unknown field type).")
        if self.position > len(self.data):
            raise UploadRejected("The file's page headers are inconsistent (a header runs past the file).")


def _is_text(kind: pa.DataType) -> bool:
    """Variable-length text or bytes, plain or dictionary-encoded: measured before it is decoded."""
    return any(test(_value_type(kind)) for test in _TEXT_TYPES)


def _is_plain(kind: pa.DataType) -> bool:
    """Numbers, booleans or nulls, plain or dictionary-encoded."""
    return any(test(_value_type(kind)) for test in _PLAIN_TYPES)


def _decoded_bytes(column: pa.ChunkedArray) -> int:
    """Bytes of text a column holds once every row is expanded (dictionary values counted per reference)."""
    total = 0
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            total += pc.sum(pc.take(pc.binary_length(chunk.dictionary), chunk.indices)).as_py() or 0
        else:
            total += pc.sum(pc.binary_length(chunk)).as_py() or 0
    return total


def _refuse_oversized_text(table: pa.Table, text_columns: list[str]) -> None:
    """Refuse a file whose text would exceed MAX_DECODED_MB once decoded, naming the largest column."""
    sizes = {column: _decoded_bytes(table.column(column)) for column in text_columns}
    total = sum(sizes.values())
    if total > MAX_DECODED_MB * 1024 * 1024:
        largest = max(sizes, key=sizes.get)
        raise UploadRejected(
            f"The file's text would take {total / 1024 / 1024:.0f} MB once decoded (column '{largest}': "
            f"{sizes[largest] / 1024 / 1024:.0f} MB, a value stored once can be repeated in every row); "
            f"at most {MAX_DECODED_MB} MB are accepted, as for a CSV."
        )


def _cells_as_text(column: pa.ChunkedArray) -> tuple[list[str], list[int]]:
    """Every value as the text a CSV would hold ('' for null); and the positions of bytes that are not UTF-8."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        column = column.cast(pa.large_binary())  # Parquet does not guarantee valid UTF-8: check it here
    texts, not_text = [], []
    for row, value in enumerate(column.to_pylist()):
        if value is None:
            texts.append("")
        elif isinstance(value, bytes):
            try:
                texts.append(value.decode("utf-8"))
            except UnicodeDecodeError:
                texts.append("")
                not_text.append(row)
        elif isinstance(value, bool):
            texts.append("true" if value else "false")
        elif isinstance(value, float):
            texts.append("" if value != value else repr(value))
        else:
            texts.append(str(value))
    return texts, not_text


@dataclass(frozen=True)
class UploadResult:
    """The rows that passed (as contract tables) and every issue: bad cells, and rows left out with them."""

    tables: Tables
    issues: list[Issue]


def validate_upload(raw: RawUpload, atlas: Tables, file: str = "upload") -> UploadResult:
    """Check every row of an upload with the dataset's schema; keep the valid rows, report each issue.

    Row numbers are data rows of the uploaded file (1 = first row under the header). A study row that is
    refused takes its measurement and finding rows with it, each listed. Never raises: an unexpected failure
    is itself a listed issue and keeps no row.
    """
    try:
        return _validate_upload(raw, atlas, file)
    except Exception as err:  # noqa: BLE001 - a visitor sees an issue, never a traceback
        issue = Issue(
            file, None, None, "", f"the file could not be checked ({type(err).__name__}); none of its rows were kept"
        )
        return UploadResult(Tables(**{t: empty_table(t) for t in TABLES}), [issue])


def _validate_upload(upload: RawUpload, atlas: Tables, file: str) -> UploadResult:
    raw = upload.frame
    issues: list[Issue] = list(upload.issues)
    too_long = raw.apply(lambda col: col.str.len() > MAX_CELL_CHARS)
    for idx, column in zip(*too_long.to_numpy().nonzero(), strict=True):
        issues.append(
            Issue(file, int(idx) + 1, raw.columns[column], "(too long)", f"longer than {MAX_CELL_CHARS} characters")
        )
    raw = raw.mask(too_long, "")
    unknown_tables = ~raw["table"].isin(TABLES)
    for idx in raw.index[unknown_tables]:
        issues.append(Issue(file, int(idx) + 1, "table", raw.at[idx, "table"], f"must be one of: {', '.join(TABLES)}"))
    parts: dict[str, pd.DataFrame] = {}
    for table in TABLES:
        rows = raw[raw["table"] == table]
        if table == "findings" and {"comparison_type", "direction"} <= set(rows.columns):
            # an empty or absent family (older templates) is derived from the comparison type, as for curated rows
            given = rows["comparison_family"] if "comparison_family" in rows else pd.Series("", index=rows.index)
            derived = [derive_family(t, d) for t, d in zip(rows["comparison_type"], rows["direction"], strict=True)]
            rows = rows.assign(comparison_family=given.where(given != "", derived))
        extra = [c for c in rows.columns if c not in column_names(table) and c != "table"]
        filled_extra = [c for c in extra if (rows[c].str.strip() != "").any()]
        for col in filled_extra:
            for idx in rows.index[rows[col].str.strip() != ""]:
                issues.append(Issue(file, int(idx) + 1, col, rows.at[idx, col], f"not a column of {table}"))
        frame, found = coerce_text_table(rows.drop(columns=["table", *extra]), table, file, keep_index=True)
        issues.extend(found)
        parts[table] = frame
    missing = [i for i in issues if i.row is None and i.rule == "required column is missing"]
    if missing:  # an older template: the missing columns are the cause, and no row can be checked without them
        order = template_columns()
        columns = sorted({i.column for i in missing}, key=order.index)
        issues = [Issue(file, None, column, "", "required column is missing") for column in columns]
        return UploadResult(Tables(**{t: empty_table(t) for t in TABLES}), issues)
    bad_rows = {i.row for i in issues if i.row is not None}

    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[~(frame.index + 1).isin(bad_rows)]

    #: The row of each study_id among the upload's study rows (the first, if repeated).
    study_rows: dict[str, int] = {}
    for idx, sid in parts["studies"]["study_id"].dropna().items():
        study_rows.setdefault(sid, int(idx) + 1)

    def without_refused_studies(frame: pd.DataFrame, kept_ids: set[str]) -> pd.DataFrame:
        """The rows whose study row was not refused; the others listed as left out with it."""
        orphan = frame["study_id"].isin(set(study_rows) - kept_ids).fillna(False).astype(bool)
        for idx in frame.index[orphan]:
            sid = frame.at[idx, "study_id"]
            rule = f"left out because its study row (row {study_rows[sid]}) was refused"
            issues.append(Issue(file, int(idx) + 1, "study_id", sid, rule))
        return frame[~orphan]

    studies = keep(parts["studies"])
    clash = studies["study_id"].isin(atlas.studies["study_id"])
    for idx in studies.index[clash]:
        issues.append(
            Issue(
                file,
                int(idx) + 1,
                "study_id",
                studies.at[idx, "study_id"],
                "already used by a study in the atlas; choose another id",
            )
        )
    studies = studies[~clash]
    kept_ids = set(studies["study_id"].dropna())
    candidate = {
        "studies": studies,
        "measurements": without_refused_studies(keep(parts["measurements"]), kept_ids),
        "findings": without_refused_studies(keep(parts["findings"]), kept_ids),
    }
    schema_found = validate_tables(candidate, dict.fromkeys(TABLES, file))
    for name in ("measurements", "findings"):  # a kit is checked against the catalogue as for curated rows
        schema_found += catalogue_issues(candidate[name], atlas.assays, file)
    issues.extend(schema_found)
    bad_rows |= {i.row for i in schema_found if i.row is not None}
    valid = {name: keep(frame) for name, frame in candidate.items()}
    kept_ids = set(valid["studies"]["study_id"].dropna())
    for name in ("measurements", "findings"):
        valid[name] = without_refused_studies(valid[name], kept_ids)
    issues = sorted(set(issues), key=lambda i: (i.row or 0, i.column or "", i.rule))
    return UploadResult(Tables(**{k: v.reset_index(drop=True) for k, v in valid.items()}), issues)


def join_visitor_rows(atlas: Tables, visitor: Tables) -> Tables:
    """The atlas with the visitor's rows added; an 'origin' column says whose each row is."""
    joined = {}
    for name in TABLES:
        ours = getattr(atlas, name).assign(origin=ORIGIN_ATLAS)
        theirs = getattr(visitor, name).assign(origin=ORIGIN_VISITOR)
        joined[name] = pd.concat([ours, theirs], ignore_index=True) if len(theirs) else ours
    return Tables(**joined, assays=atlas.assays, meta_analyses=atlas.meta_analyses)


def dataset_line(tables: Tables, version: str) -> str:
    """The footer's dataset line: the published dataset's counts, and the visitor's rows beside them, never in."""
    frames = tables.as_dict()
    if "origin" in tables.studies:
        mine = sum(int((frame["origin"] == ORIGIN_VISITOR).sum()) for frame in frames.values())
        frames = {name: frame[frame["origin"] != ORIGIN_VISITOR] for name, frame in frames.items()}
    else:
        mine = 0
    counts = ", ".join(f"{len(frame)} {name}" for name, frame in frames.items())
    line = f"RANKL Atlas dataset v{version} ({counts})"
    if mine:
        line += f" + {mine} of your rows (this session only, not part of the dataset)"
    return line


def is_visitors(row: object) -> bool:
    """Whether a row (a Series or a dict) is one of the visitor's own uploaded rows."""
    getter = getattr(row, "get", None)
    return bool(getter and getter("origin") == ORIGIN_VISITOR)
