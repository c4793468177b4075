"""Filters shared by every page: one registry of filter specs, a frozen dataclass, its URL form, apply_filters.

Each filter kind is one class (MultiChoice, YearRange, Toggle) that owns its default, URL parsing and writing,
caption text, widget and row mask; ``FILTER_SPECS`` lists the filters, and ``Filters`` is generated from it.
Adding a filter on an existing column is one line in ``FILTER_SPECS``; adding a kind is one class. The sidebar,
URL parsing and writing, ``describe``, ``is_active``, the reset and ``apply_filters`` all read the registry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, make_dataclass

import pandas as pd

from rankl_atlas.data import Tables
from rankl_atlas.navigation import PAGE_PARAMS
from rankl_atlas.schema import VOCABULARIES, label

#: The URL word for "no restriction" on a filter whose default restricts (species=all).
ALL_VALUES = "all"
KNOWN_SPECIES = ["human", "mouse", "rat"]


@dataclass(frozen=True)
class ParseResult:
    """What one filter read from its URL values: the value (or KEEP_DEFAULT) and notices for dropped values."""

    value: object
    notices: tuple[str, ...] = ()


KEEP_DEFAULT = object()


@dataclass(frozen=True)
class FilterSpec:
    """Base of every filter kind: its URL parameter (= Filters field), title, column and where it applies.

    level: "studies" (selects studies), "rows" (measurement and finding rows) or "findings" (findings only).
    A kind owns its default, URL parsing and writing, caption text, widget state, widget and row mask; adding
    a filter is one line in FILTER_SPECS, adding a kind is one class. more: drawn under "More filters".
    """

    param: str
    title: str
    column: str
    level: str
    section: str | None = None
    more: bool = False

    default: object = None

    def parse(self, given: list[str], options: Sequence[str], bounds: tuple[int, int]) -> ParseResult:
        raise NotImplementedError

    def to_params(self, value) -> list[str]:
        raise NotImplementedError

    def describe(self, value) -> str | None:
        raise NotImplementedError

    def options(self, tables: Tables) -> list[str] | None:
        """Allowed codes (multi-choice kinds only)."""
        return None

    def to_state(self, value, bounds: tuple[int, int]):
        """The widget's session-state value for a filter value."""
        return value

    def from_state(self, state, bounds: tuple[int, int]):
        """The filter value for a widget's session-state value."""
        return state

    def state_is_active(self, state, bounds: tuple[int, int]) -> bool:
        return bool(state)

    def draw(self, st, options: Sequence[str] | None, labels: Mapping[str, str] | None, bounds: tuple[int, int]):
        """Draw the widget (st is the streamlit module, passed in so this module never imports it)."""
        raise NotImplementedError

    def study_mask(self, studies: pd.DataFrame, value, is_draft: pd.Series) -> pd.Series | None:
        """Rows of studies this filter keeps (None: not a study filter)."""
        return None

    def row_mask(self, frame: pd.DataFrame, value, levels: tuple[str, ...]) -> pd.Series | None:
        """Measurement or finding rows this filter keeps (None: no restriction)."""
        return None


@dataclass(frozen=True)
class MultiChoice(FilterSpec):
    """Several codes; empty means all. vocabulary names the schema vocabulary; options_from instead takes the codes
    from the data (a function of the tables). A list column holds ';'-separated codes. row_column/row_expand: a
    study filter that also keeps only the matching rows (the analyte filter keeps ratio findings with either
    analyte). null_code selects empty cells (the kit filter's 'not reported')."""

    default: tuple[str, ...] = ()
    vocabulary: str | None = None
    options_from: Callable[[Tables], list[str]] | None = None
    list_column: bool = False
    row_column: str | None = None
    row_expand: Mapping[str, tuple[str, ...]] | None = None
    placeholder: str = "All"
    null_code: str | None = None

    def options(self, tables: Tables) -> list[str]:
        if self.options_from is not None:
            return self.options_from(tables)
        return list(VOCABULARIES[self.vocabulary])

    def parse(self, given, options, bounds):
        if given == [ALL_VALUES]:
            return ParseResult(())
        allowed = set(options)
        kept = tuple(dict.fromkeys(v for v in given if v in allowed))
        notices = tuple(
            f"{self.title}: '{shown_safely(bad)}' is not a known value and was ignored."
            for bad in given
            if bad not in allowed
        )
        return ParseResult(kept if kept or not given else KEEP_DEFAULT, notices)

    def to_params(self, value):
        return list(value) or [ALL_VALUES]

    def describe(self, value):
        if not value:
            return f"{self.title}: all" if self.default else None
        shown = ", ".join(value if self.vocabulary is None else (label(self.vocabulary, v) for v in value))
        return f"{self.title}: {shown}"

    def to_state(self, value, bounds):
        return list(value)

    def from_state(self, state, bounds):
        return tuple(state)

    def draw(self, st, options, labels, bounds):
        if labels:
            format_func = lambda c, names=labels: names.get(c, c)  # noqa: E731
        elif self.vocabulary is None:
            format_func = str
        else:
            format_func = lambda c, v=self.vocabulary: label(v, c)  # noqa: E731
        st.multiselect(self.title, options, format_func=format_func, key=self.param, placeholder=self.placeholder)

    def study_mask(self, studies, value, is_draft):
        if self.level != "studies":
            return None
        keep = _keep_listed if self.list_column else _keep
        column = studies[self.column]
        return keep(column, value) | (is_draft & column.isna())  # a draft's empty field is not yet curated

    def row_mask(self, frame, value, levels):
        if not value:
            return None
        if self.level in levels:
            return _keep(frame[self.column], value, self.null_code)
        if self.row_column:
            expanded = tuple(dict.fromkeys(code for v in value for code in (self.row_expand or {}).get(v, (v,))))
            return _keep(frame[self.row_column], expanded)
        return None


@dataclass(frozen=True)
class YearRange(FilterSpec):
    """Two years (None = all years). Studies whose year was not printed are kept by the range; the 'undated'
    toggle decides about them."""

    default: tuple[int, int] | None = None

    def parse(self, given, options, bounds):
        year = _parse_year(given, bounds)
        if year is None:
            if not given:
                return ParseResult(KEEP_DEFAULT)
            return ParseResult(
                KEEP_DEFAULT,
                (
                    f"{self.title}: '{shown_safely(' '.join(given))}' is not a range of two years within "
                    f"{bounds[0]}–{bounds[1]} and was ignored.",
                ),
            )
        return ParseResult(None if year == bounds else year)

    def to_params(self, value):
        return [str(value[0]), str(value[1])] if value else []

    def describe(self, value):
        return f"{self.title}: {value[0]}–{value[1]}" if value else None

    def to_state(self, value, bounds):
        return value or bounds

    def from_state(self, state, bounds):
        year = tuple(int(y) for y in (state or bounds))
        return None if year == tuple(bounds) else year

    def state_is_active(self, state, bounds):
        return state is not None and tuple(state) != tuple(bounds)

    def draw(self, st, options, labels, bounds):
        st.slider(self.title, min_value=bounds[0], max_value=bounds[1], step=1, key=self.param)

    def study_mask(self, studies, value, is_draft):
        if not value:
            return None
        years = studies[self.column]
        return years.between(value[0], value[1]).fillna(False).astype(bool) | years.isna()


@dataclass(frozen=True)
class Toggle(FilterSpec):
    """True or false. When the toggle is off, rows where `drop_when_off(studies)` is true are left out (drafts,
    studies whose year was not printed); caption is what describe says when it differs from the default."""

    default: bool = False
    drop_when_off: Callable[[pd.DataFrame], pd.Series] | None = None
    caption: str = ""

    def parse(self, given, options, bounds):
        if not given:
            return ParseResult(KEEP_DEFAULT)
        if given[-1].lower() in {"true", "false"}:
            return ParseResult(given[-1].lower() == "true")
        return ParseResult(
            KEEP_DEFAULT, (f"{self.title}: '{shown_safely(given[-1])}' is not true or false and was ignored.",)
        )

    def to_params(self, value):
        return [str(value).lower()]

    def describe(self, value):
        return self.caption if value != self.default else None

    def from_state(self, state, bounds):
        return bool(state)

    def state_is_active(self, state, bounds):
        return bool(state) != self.default

    def draw(self, st, options, labels, bounds):
        st.toggle(self.title, key=self.param)

    def study_mask(self, studies, value, is_draft):
        if value or self.drop_when_off is None:
            return None
        return ~self.drop_when_off(studies).fillna(False).astype(bool)


def _species_options(tables: Tables) -> list[str]:
    return sorted(set(KNOWN_SPECIES) | set(tables.studies["species"].dropna().astype(str)))


def _kit_options(tables: Tables) -> list[str]:
    kits = tables.assays.sort_values(["vendor", "kit_name", "assay_id"])["assay_id"].dropna().astype(str)
    return [*kits, "not_reported"]


def _is_draft(studies: pd.DataFrame) -> pd.Series:
    return studies["curation_status"] == "draft"


def _year_not_printed(studies: pd.DataFrame) -> pd.Series:
    return studies["year"].isna()


_RATIOS = ("rankl_opg_ratio", "opg_rankl_ratio")

#: The registry, in sidebar and caption order. A new filter on an existing column is one line here.
FILTER_SPECS: tuple[FilterSpec, ...] = (
    MultiChoice("disease", "Disease", "condition_group", "studies", vocabulary="condition_group", placeholder="All diseases"),
    YearRange("year", "Years", "year", "studies"),
    Toggle("undated", "Include studies whose year is not stated", "year", "studies", default=True,
           drop_when_off=_year_not_printed, caption="without studies whose year is not stated"),
    MultiChoice("source", "Source", "source_set", "studies", vocabulary="source_set", placeholder="Both sources"),
    MultiChoice("species", "Species", "species", "studies", default=("human",), options_from=_species_options,
                placeholder="All species"),
    MultiChoice("vendor", "Assay vendor", "assay_vendor", "rows", vocabulary="assay_vendor", section="Assay"),
    MultiChoice("kit", "Assay kit", "assay_id", "rows", options_from=_kit_options, section="Assay",
                null_code="not_reported"),
    MultiChoice("form", "Analyte form (free/total)", "analyte_form", "rows", vocabulary="analyte_form", section="Assay"),
    MultiChoice("family", "Comparison family", "comparison_family", "findings", vocabulary="comparison_family",
                section="Findings"),
    MultiChoice("analyte", "Analyte measured", "analytes_measured", "studies", vocabulary="measured_analyte",
                list_column=True, row_column="analyte",
                row_expand={"rankl": ("rankl", *_RATIOS), "opg": ("opg", *_RATIOS)}, more=True),
    MultiChoice("sex", "Sex", "sex", "studies", vocabulary="sex", more=True),
    MultiChoice("menopause", "Menopausal status", "menopausal_status", "studies", vocabulary="menopausal_status", more=True),
    MultiChoice("age", "Age group", "age_group", "studies", vocabulary="age_group", more=True),
    MultiChoice("specimen", "Specimen", "specimen", "rows", vocabulary="specimen", more=True),
    MultiChoice("kind", "Study kind", "study_kind", "studies", vocabulary="study_kind", more=True),
    MultiChoice("direction", "Direction of finding", "direction", "findings", vocabulary="direction", more=True),
    MultiChoice("related", "Finding relates to", "related_to", "findings", vocabulary="related_to", more=True),
    Toggle("drafts", "Include drafts", "curation_status", "studies", more=True, drop_when_off=_is_draft,
           caption="including drafts"),
)  # fmt: skip
SPECS: dict[str, FilterSpec] = {spec.param: spec for spec in FILTER_SPECS}

MAX_VALUES_PER_PARAM = 50
MAX_PARAMS = 40


class _FiltersMethods:
    """Methods of the generated Filters dataclass (one field per registered filter)."""

    def to_query_params(self) -> dict[str, list[str]]:
        """Every non-default filter as URL parameters (codes; 'all' for a cleared default such as species)."""
        return {
            spec.param: spec.to_params(getattr(self, spec.param))
            for spec in FILTER_SPECS
            if getattr(self, spec.param) != spec.default
        }

    def is_active(self, param: str) -> bool:
        """True when this filter differs from its default."""
        return getattr(self, param) != SPECS[param].default

    def describe(self) -> str:
        """One line naming every filter that narrows the data, in registry order, with display labels."""
        parts = [text for spec in FILTER_SPECS if (text := spec.describe(getattr(self, spec.param)))]
        return " · ".join(parts) if parts else "No filters (all studies)"

    def slug(self) -> str:
        """A short file-name-safe form of the filters, e.g. 'disease-rheumatoid_arthritis_year-2000-2010'."""
        params = self.to_query_params()
        if not params:
            return "all"
        text = "_".join(f"{key}-{'-'.join(values) or 'none'}" for key, values in params.items())
        return re.sub(r"[^A-Za-z0-9_.-]", "", text)[:120]


def make_filters_class(specs: Sequence[FilterSpec]) -> type:
    """The frozen Filters dataclass of a registry: one field per spec, in order, with the spec's default."""
    return make_dataclass(
        "Filters",
        [(spec.param, object, field(default=spec.default)) for spec in specs],
        bases=(_FiltersMethods,),
        frozen=True,
    )


#: The active filters; a field per registered filter, each at its default unless set.
Filters = make_filters_class(FILTER_SPECS)
Filters.__doc__ = "The active filters (fields = FILTER_SPECS params, defaults = each spec's default)."


def filter_options(tables: Tables) -> dict[str, list[str]]:
    """Allowed codes of every multi-value filter: vocabularies, or values found in the data."""
    return {spec.param: options for spec in FILTER_SPECS if (options := spec.options(tables)) is not None}


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
        result = spec.parse(given, options.get(key, ()), bounds)
        notices.extend(result.notices)
        if result.value is not KEEP_DEFAULT:
            values[key] = result.value
    return ParsedParams(Filters(**values), tuple(notices))


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


def _study_mask(studies: pd.DataFrame, f) -> pd.Series:
    is_draft = _is_draft(studies).fillna(False).astype(bool)
    mask = pd.Series(True, index=studies.index)
    for spec in FILTER_SPECS:
        kept = spec.study_mask(studies, getattr(f, spec.param), is_draft)
        if kept is not None:
            mask &= kept
    return mask


def _row_mask(frame: pd.DataFrame, f, levels: tuple[str, ...]) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for spec in FILTER_SPECS:
        kept = spec.row_mask(frame, getattr(f, spec.param), levels)
        if kept is not None:
            mask &= kept
    return mask


def apply_filters(tables: Tables, f) -> Tables:
    """The rows the filters keep, in every table (pure; inputs are not changed).

    Study filters select studies; row filters (assay vendor, kit, form, specimen) select their measurements and
    findings, and finding filters (direction, relates to) select findings. When a row or finding filter is
    active, only studies with a kept row remain, and a finding filter also limits measurements to studies with
    a kept finding. The analyte filter reads the study's list of analytes measured, and keeps the rows of
    that analyte (and ratio findings).
    """
    studies = _kept(tables.studies, _study_mask(tables.studies, f))
    ids = studies["study_id"]
    measurements = _kept(
        tables.measurements,
        _in_ids(tables.measurements["study_id"], ids) & _row_mask(tables.measurements, f, ("rows",)),
    )
    findings = _kept(
        tables.findings,
        _in_ids(tables.findings["study_id"], ids) & _row_mask(tables.findings, f, ("rows", "findings")),
    )
    finding_filter = any(f.is_active(s.param) for s in FILTER_SPECS if s.level == "findings")
    row_filter = any(f.is_active(s.param) for s in FILTER_SPECS if s.level == "rows")
    if finding_filter:
        measurements = _kept(measurements, _in_ids(measurements["study_id"], findings["study_id"]))
    if finding_filter or row_filter:
        with_rows = pd.concat([measurements["study_id"], findings["study_id"]])
        studies = _kept(studies, _in_ids(studies["study_id"], with_rows))
    return Tables(studies, measurements, findings, tables.assays, tables.meta_analyses)


def _kept(frame: pd.DataFrame, mask: pd.Series) -> pd.DataFrame:
    """The rows the mask keeps; the frame itself (not a copy) when it keeps all (frames are never modified)."""
    return frame if bool(mask.all()) else frame[mask]
