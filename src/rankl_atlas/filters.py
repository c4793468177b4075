"""Filters shared by every page: one registry of filter specs, a frozen dataclass, its URL form, apply_filters.

Adding a filter takes one ``FilterSpec`` line in ``FILTER_SPECS`` and a field of the same name on ``Filters``
(a unit test checks that the two agree). The sidebar, URL parsing and writing, ``describe``, ``is_active``,
the reset and ``apply_filters`` all read the registry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import pandas as pd

from rankl_atlas.data import Tables
from rankl_atlas.schema import VOCABULARIES, label

#: Where a filter applies: to studies, to measurement and finding rows, or to findings only.
LEVELS = ("studies", "rows", "findings")


@dataclass(frozen=True)
class FilterSpec:
    """One filter: its URL parameter (= Filters field), title, options, column and where it applies.

    kind: "multi" (several codes), "range" (two years) or "toggle" (true/false). vocabulary names the
    schema vocabulary of the codes; options_from instead takes the codes from a column of a table
    (species from studies, kits from the assay catalogue). A list column holds ';'-separated codes.
    row_column/row_expand: a study-level filter that also keeps only the matching measurement and finding
    rows (the analyte filter keeps ratio findings with either analyte). more: drawn under "More filters".
    """

    param: str
    title: str
    column: str
    level: str
    kind: str = "multi"
    vocabulary: str | None = None
    options_from: tuple[str, str] | None = None
    list_column: bool = False
    row_column: str | None = None
    row_expand: Mapping[str, tuple[str, ...]] | None = None
    section: str | None = None
    more: bool = False
    placeholder: str = "All"
    null_code: str | None = None


_RATIOS = ("rankl_opg_ratio", "opg_rankl_ratio")

#: The registry, in sidebar and caption order.
FILTER_SPECS: tuple[FilterSpec, ...] = (
    FilterSpec(
        "disease", "Disease", "condition_group", "studies", vocabulary="condition_group", placeholder="All diseases"
    ),
    FilterSpec("year", "Years", "year", "studies", kind="range"),
    FilterSpec("source", "Source", "source_set", "studies", vocabulary="source_set", placeholder="Both sources"),
    FilterSpec(
        "species", "Species", "species", "studies", options_from=("studies", "species"), placeholder="All species"
    ),
    FilterSpec("vendor", "Assay vendor", "assay_vendor", "rows", vocabulary="assay_vendor", section="Assay"),
    FilterSpec(
        "kit",
        "Assay kit",
        "assay_id",
        "rows",
        options_from=("assays", "assay_id"),
        section="Assay",
        null_code="not_reported",
    ),
    FilterSpec("form", "Analyte form (free/total)", "analyte_form", "rows", vocabulary="analyte_form", section="Assay"),
    FilterSpec(
        "analyte",
        "Analyte measured",
        "analytes_measured",
        "studies",
        vocabulary="measured_analyte",
        list_column=True,
        row_column="analyte",
        row_expand={"rankl": ("rankl", *_RATIOS), "opg": ("opg", *_RATIOS)},
        more=True,
    ),
    FilterSpec("specimen", "Specimen", "specimen", "rows", vocabulary="specimen", more=True),
    FilterSpec("kind", "Study kind", "study_kind", "studies", vocabulary="study_kind", more=True),
    FilterSpec("direction", "Direction of finding", "direction", "findings", vocabulary="direction", more=True),
    FilterSpec("related", "Finding relates to", "related_to", "findings", vocabulary="related_to", more=True),
    FilterSpec("drafts", "Include drafts", "curation_status", "studies", kind="toggle", more=True),
)
SPECS: dict[str, FilterSpec] = {spec.param: spec for spec in FILTER_SPECS}
MULTI_PARAMS = tuple(spec.param for spec in FILTER_SPECS if spec.kind == "multi")

KNOWN_SPECIES = ["human", "mouse", "rat"]
DEFAULT_SPECIES = ("human",)
#: The URL word for "no restriction" on a filter whose default restricts (species=all).
ALL_VALUES = "all"
#: Parameters owned by single pages (not filters) that the URL may carry.
PAGE_PARAMS = {"study", "view", "method", "derived", "skewed", "hk", "spread", "question"}
MAX_VALUES_PER_PARAM = 50
MAX_PARAMS = 40


@dataclass(frozen=True)
class Filters:
    """The active filters; empty tuples mean 'all'. year None means all years. Fields = FILTER_SPECS params."""

    disease: tuple[str, ...] = ()
    year: tuple[int, int] | None = None
    source: tuple[str, ...] = ()
    species: tuple[str, ...] = DEFAULT_SPECIES
    vendor: tuple[str, ...] = ()
    kit: tuple[str, ...] = ()
    form: tuple[str, ...] = ()
    analyte: tuple[str, ...] = ()
    specimen: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()
    direction: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    drafts: bool = False

    def to_query_params(self) -> dict[str, list[str]]:
        """Every non-default filter as URL parameters (codes; 'all' for a cleared default such as species)."""
        params: dict[str, list[str]] = {}
        default = Filters()
        for spec in FILTER_SPECS:
            value = getattr(self, spec.param)
            if value == getattr(default, spec.param):
                continue
            if spec.kind == "range":
                params[spec.param] = [str(value[0]), str(value[1])] if value else []
            elif spec.kind == "toggle":
                params[spec.param] = [str(value).lower()]
            else:
                params[spec.param] = list(value) or [ALL_VALUES]
        return params

    def is_active(self, param: str) -> bool:
        """True when this filter differs from its default."""
        return getattr(self, param) != getattr(Filters(), param)

    def describe(self) -> str:
        """One line naming every filter that narrows the data, in registry order, with display labels."""
        parts = []
        for spec in FILTER_SPECS:
            value = getattr(self, spec.param)
            if spec.kind == "range":
                if value:
                    parts.append(f"{spec.title}: {value[0]}–{value[1]}")
            elif spec.kind == "toggle":
                if value:
                    parts.append(spec.title.lower().replace("include ", "including "))
            elif value:
                shown = ", ".join(value if spec.vocabulary is None else (label(spec.vocabulary, v) for v in value))
                parts.append(f"{spec.title}: {shown}")
            elif spec.param == "species":
                parts.append("Species: all")
        return " · ".join(parts) if parts else "No filters (all studies)"

    def slug(self) -> str:
        """A short file-name-safe form of the filters, e.g. 'disease-rheumatoid_arthritis_year-2000-2010'."""
        params = self.to_query_params()
        if not params:
            return "all"
        text = "_".join(f"{key}-{'-'.join(values) or 'none'}" for key, values in params.items())
        return re.sub(r"[^A-Za-z0-9_.-]", "", text)[:120]


def filter_options(tables: Tables) -> dict[str, list[str]]:
    """Allowed codes of every multi-value filter: vocabularies, or values found in the data."""
    options = {}
    for spec in FILTER_SPECS:
        if spec.kind != "multi":
            continue
        if spec.options_from == ("studies", "species"):
            options[spec.param] = sorted(set(KNOWN_SPECIES) | set(tables.studies["species"].dropna().astype(str)))
        elif spec.options_from == ("assays", "assay_id"):
            kits = tables.assays.sort_values(["vendor", "kit_name", "assay_id"])["assay_id"].dropna().astype(str)
            options[spec.param] = [*kits, spec.null_code]
        else:
            options[spec.param] = list(VOCABULARIES[spec.vocabulary])
    return options


def year_bounds(studies: pd.DataFrame) -> tuple[int, int]:
    """Smallest and largest publication year in the studies (a fallback range when empty)."""
    years = studies["year"].dropna()
    return (int(years.min()), int(years.max())) if len(years) else (1990, 2026)


def shown_safely(value: str) -> str:
    """A value made safe to show in a notice: printable word characters only, shortened."""
    safe = re.sub(r"[^A-Za-z0-9_. -]", "·", value)
    return safe[:40] + ("…" if len(safe) > 40 else "")


@dataclass(frozen=True)
class ParsedParams:
    """Filters read from a URL, and a notice for every value that was dropped."""

    filters: Filters
    notices: tuple[str, ...]


def parse_query_params(
    params: Mapping[str, Sequence[str] | str],
    options: Mapping[str, Sequence[str]],
    bounds: tuple[int, int],
) -> ParsedParams:
    """Read filters from URL parameters; unknown or malformed values are dropped with a notice.

    Never raises: any text in any parameter gives a valid Filters.
    """
    notices: list[str] = []
    values: dict[str, object] = {}
    items = list(params.items())
    if len(items) > MAX_PARAMS:
        notices.append(f"The link had {len(items)} parameters; only the first {MAX_PARAMS} were read.")
        items = items[:MAX_PARAMS]
    for key, raw in items:
        given = [raw] if isinstance(raw, str) else [str(v) for v in raw]
        if len(given) > MAX_VALUES_PER_PARAM:
            notices.append(
                f"'{shown_safely(key)}' had {len(given)} values; only the first {MAX_VALUES_PER_PARAM} were read."
            )
            given = given[:MAX_VALUES_PER_PARAM]
        given = [v for v in given if v != ""]
        spec = SPECS.get(key)
        if spec is None:
            if key not in PAGE_PARAMS and not key.startswith("embed"):
                notices.append(f"Unknown parameter '{shown_safely(key)}' was ignored.")
            continue
        if spec.kind == "multi":
            if given == [ALL_VALUES]:
                values[key] = ()
                continue
            allowed = set(options.get(key, ()))
            kept = tuple(dict.fromkeys(v for v in given if v in allowed))
            for bad in [v for v in given if v not in allowed]:
                notices.append(f"{spec.title}: '{shown_safely(bad)}' is not a known value and was ignored.")
            if kept or not given:
                values[key] = kept
        elif spec.kind == "range":
            year = _parse_year(given, bounds)
            if year is None and given:
                notices.append(
                    f"{spec.title}: '{shown_safely(' '.join(given))}' is not a range of two years within "
                    f"{bounds[0]}–{bounds[1]} and was ignored."
                )
            elif year is not None:
                values[key] = None if year == bounds else year
        elif given and given[-1].lower() in {"true", "false"}:
            values[key] = given[-1].lower() == "true"
        elif given:
            notices.append(f"{spec.title}: '{shown_safely(given[-1])}' is not true or false and was ignored.")
    return ParsedParams(replace(Filters(), **values), tuple(notices))


def _parse_year(given: list[str], bounds: tuple[int, int]) -> tuple[int, int] | None:
    if len(given) != 2 or not all(re.fullmatch(r"\d{4}", v) for v in given):
        return None
    low, high = int(given[0]), int(given[1])
    if not bounds[0] <= low <= high <= bounds[1]:
        return None
    return (low, high)


def _keep(series: pd.Series, allowed: tuple[str, ...], null_code: str | None = None) -> pd.Series:
    """Boolean mask: all True when nothing is selected, else membership (null_code selects empty cells)."""
    if not allowed:
        return pd.Series(True, index=series.index)
    mask = series.isin(allowed).fillna(False).astype(bool)
    if null_code is not None and null_code in allowed:
        mask |= series.isna()
    return mask


def _keep_listed(series: pd.Series, allowed: tuple[str, ...]) -> pd.Series:
    """Boolean mask for a ';'-separated list column: any listed code is allowed."""
    if not allowed:
        return pd.Series(True, index=series.index)
    pattern = r"(?:^|;)(?:" + "|".join(re.escape(a) for a in allowed) + r")(?:;|$)"
    return series.str.contains(pattern, regex=True).fillna(False).astype(bool)


def _in_ids(series: pd.Series, ids: pd.Series) -> pd.Series:
    """Boolean mask: series value is one of ids (hash lookup; ~8x faster than Series.isin on Arrow strings)."""
    index = pd.Index(pd.unique(ids.dropna()))
    return pd.Series(index.get_indexer(series) >= 0, index=series.index)


def _study_mask(studies: pd.DataFrame, f: Filters) -> pd.Series:
    is_draft = (studies["curation_status"] == "draft").fillna(False).astype(bool)
    mask = pd.Series(True, index=studies.index)
    for spec in FILTER_SPECS:
        if spec.level != "studies":
            continue
        value = getattr(f, spec.param)
        if spec.kind == "range":
            if value:
                mask &= studies[spec.column].between(value[0], value[1]).fillna(False).astype(bool)
        elif spec.kind == "toggle":
            if not value:
                mask &= ~is_draft
        else:
            keep = _keep_listed if spec.list_column else _keep
            column = studies[spec.column]
            mask &= keep(column, value) | (is_draft & column.isna())  # a draft's empty field is not yet curated
    return mask


def _row_mask(frame: pd.DataFrame, f: Filters, levels: tuple[str, ...]) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for spec in FILTER_SPECS:
        value = getattr(f, spec.param)
        if spec.kind != "multi" or not value:
            continue
        if spec.level in levels:
            mask &= _keep(frame[spec.column], value, spec.null_code)
        elif spec.row_column:
            expanded = tuple(dict.fromkeys(code for v in value for code in (spec.row_expand or {}).get(v, (v,))))
            mask &= _keep(frame[spec.row_column], expanded)
    return mask


def apply_filters(tables: Tables, f: Filters) -> Tables:
    """The rows the filters keep, in every table (pure; inputs are not changed).

    Study filters select studies; row filters (assay vendor, kit, form, specimen) select their measurements and
    findings, and finding filters (direction, relates to) select findings. When a row or finding filter is
    active, only studies with a kept row remain, and a finding filter also limits measurements to studies with
    a kept finding. The analyte filter reads the study's list of analytes measured, and keeps the rows of
    that analyte (and ratio findings).
    """
    studies = tables.studies[_study_mask(tables.studies, f)]
    ids = studies["study_id"]
    measurements = tables.measurements[
        _in_ids(tables.measurements["study_id"], ids) & _row_mask(tables.measurements, f, ("rows",))
    ]
    findings = tables.findings[
        _in_ids(tables.findings["study_id"], ids) & _row_mask(tables.findings, f, ("rows", "findings"))
    ]
    finding_filter = any(f.is_active(s.param) for s in FILTER_SPECS if s.level == "findings")
    row_filter = any(f.is_active(s.param) for s in FILTER_SPECS if s.level == "rows")
    if finding_filter:
        measurements = measurements[_in_ids(measurements["study_id"], findings["study_id"])]
    if finding_filter or row_filter:
        with_rows = pd.concat([measurements["study_id"], findings["study_id"]])
        studies = studies[_in_ids(studies["study_id"], with_rows)]
    return Tables(studies, measurements, findings, tables.assays, tables.meta_analyses)
