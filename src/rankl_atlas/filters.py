"""Filters shared by every page: a frozen dataclass, its URL form, and apply_filters (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace

import pandas as pd

from rankl_atlas.data import Tables
from rankl_atlas.schema import (
    ANALYTE,
    ANALYTE_FORM,
    ASSAY_VENDOR,
    CONDITION_GROUP,
    DIRECTION,
    RELATED_TO,
    SPECIMEN,
    STUDY_KIND,
    label,
)

#: URL parameter -> vocabulary name, for the multi-value filters (in sidebar order).
MULTI_FILTERS: dict[str, str] = {
    "disease": "condition_group",
    "vendor": "assay_vendor",
    "form": "analyte_form",
    "analyte": "analyte",
    "specimen": "specimen",
    "species": "species",
    "kind": "study_kind",
    "direction": "direction",
    "related": "related_to",
}
FILTER_TITLES: dict[str, str] = {
    "disease": "Disease",
    "year": "Years",
    "vendor": "Assay vendor",
    "form": "Analyte form (free/total)",
    "analyte": "Analyte",
    "specimen": "Specimen",
    "species": "Species",
    "kind": "Study kind",
    "direction": "Direction of finding",
    "related": "Finding relates to",
    "drafts": "Include draft studies",
}
FIXED_OPTIONS: dict[str, list[str]] = {
    "disease": list(CONDITION_GROUP),
    "vendor": list(ASSAY_VENDOR),
    "form": list(ANALYTE_FORM),
    "analyte": list(ANALYTE),
    "specimen": list(SPECIMEN),
    "kind": list(STUDY_KIND),
    "direction": list(DIRECTION),
    "related": list(RELATED_TO),
}
KNOWN_SPECIES = ["human", "mouse", "rat"]
DEFAULT_SPECIES = ("human",)
#: Parameters owned by single pages (not filters) that the URL may carry.
PAGE_PARAMS = {"study", "view", "method", "derived"}
MAX_VALUES_PER_PARAM = 50
MAX_PARAMS = 40


@dataclass(frozen=True)
class Filters:
    """The active filters; empty tuples mean 'all'. year None means all years."""

    disease: tuple[str, ...] = ()
    year: tuple[int, int] | None = None
    vendor: tuple[str, ...] = ()
    form: tuple[str, ...] = ()
    analyte: tuple[str, ...] = ()
    specimen: tuple[str, ...] = ()
    species: tuple[str, ...] = DEFAULT_SPECIES
    kind: tuple[str, ...] = ()
    direction: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    drafts: bool = False

    def is_default(self) -> bool:
        """True when no filter narrows the data beyond the defaults."""
        return self == Filters()

    def to_query_params(self) -> dict[str, list[str]]:
        """The non-default filters as URL parameters (repeated values for multi-selects)."""
        params: dict[str, list[str]] = {}
        default = Filters()
        for f in fields(self):
            value = getattr(self, f.name)
            if value == getattr(default, f.name):
                continue
            if f.name == "year":
                params["year"] = [str(value[0]), str(value[1])] if value else []
            elif f.name == "drafts":
                params["drafts"] = [str(value).lower()]
            else:
                params[f.name] = list(value)
        return params

    def describe(self) -> str:
        """One line naming every active filter with display labels, for chart captions and exports."""
        parts = []
        for name, vocabulary in MULTI_FILTERS.items():
            values = getattr(self, name)
            if values:
                shown = ", ".join(values if vocabulary == "species" else (label(vocabulary, v) for v in values))
                parts.append(f"{FILTER_TITLES[name]}: {shown}")
            elif name == "species":
                parts.append("Species: all")
        if self.year:
            parts.insert(1, f"Years: {self.year[0]}–{self.year[1]}")
        if self.drafts:
            parts.append("including drafts")
        return " · ".join(parts) if parts else "No filters (all studies)"

    def slug(self) -> str:
        """A short file-name-safe form of the filters, e.g. 'disease-rheumatoid_arthritis_year-2000-2010'."""
        params = self.to_query_params()
        if not params:
            return "all"
        text = "_".join(f"{key}-{'-'.join(values) or 'none'}" for key, values in params.items())
        return re.sub(r"[^A-Za-z0-9_.-]", "", text)[:120]


def filter_options(studies: pd.DataFrame) -> dict[str, list[str]]:
    """Allowed values of every multi-value filter (vocabularies; species also from the data)."""
    species = sorted(set(KNOWN_SPECIES) | set(studies["species"].dropna().astype(str)))
    return {**FIXED_OPTIONS, "species": species}


def year_bounds(studies: pd.DataFrame) -> tuple[int, int]:
    """Smallest and largest publication year in the studies (a fallback range when empty)."""
    years = studies["year"].dropna()
    return (int(years.min()), int(years.max())) if len(years) else (1990, 2011)


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
        if key in MULTI_FILTERS:
            allowed = set(options.get(key, ()))
            kept = tuple(dict.fromkeys(v for v in given if v in allowed))
            for bad in [v for v in given if v not in allowed]:
                notices.append(f"{FILTER_TITLES[key]}: '{shown_safely(bad)}' is not a known value and was ignored.")
            values[key] = kept
        elif key == "year":
            year = _parse_year(given, bounds)
            if year is None and given:
                notices.append(
                    f"Years: '{shown_safely(' '.join(given))}' is not a range of two years within "
                    f"{bounds[0]}–{bounds[1]} and was ignored."
                )
            elif year is not None:
                values["year"] = None if year == bounds else year
        elif key == "drafts":
            if given and given[-1].lower() in {"true", "false"}:
                values["drafts"] = given[-1].lower() == "true"
            elif given:
                notices.append(f"Include drafts: '{shown_safely(given[-1])}' is not true or false and was ignored.")
        elif key not in PAGE_PARAMS and not key.startswith("embed"):
            notices.append(f"Unknown parameter '{shown_safely(key)}' was ignored.")
    return ParsedParams(replace(Filters(), **values), tuple(notices))


def _parse_year(given: list[str], bounds: tuple[int, int]) -> tuple[int, int] | None:
    if len(given) != 2 or not all(re.fullmatch(r"\d{4}", v) for v in given):
        return None
    low, high = int(given[0]), int(given[1])
    if not bounds[0] <= low <= high <= bounds[1]:
        return None
    return (low, high)


def _keep(series: pd.Series, allowed: tuple[str, ...]) -> pd.Series:
    """Boolean mask: all True when nothing is selected, else membership."""
    if not allowed:
        return pd.Series(True, index=series.index)
    return series.isin(allowed).fillna(False).astype(bool)


def _in_ids(series: pd.Series, ids: pd.Series) -> pd.Series:
    """Boolean mask: series value is one of ids (hash lookup; ~8x faster than Series.isin on Arrow strings)."""
    index = pd.Index(pd.unique(ids.dropna()))
    return pd.Series(index.get_indexer(series) >= 0, index=series.index)


def apply_filters(tables: Tables, f: Filters) -> Tables:
    """The rows the filters keep, in every table (pure; inputs are not changed).

    Study filters (disease, year, species, kind, drafts) select studies; row filters (vendor, form,
    analyte, specimen; direction and relates-to for findings) select measurements and findings of those
    studies. When a row filter is active, only studies with a kept row remain, and a finding-only filter
    also limits measurements to studies with a kept finding.
    """
    s = tables.studies
    is_draft = (s["curation_status"] == "draft").fillna(False).astype(bool)
    species_ok = _keep(s["species"], f.species) | (is_draft & s["species"].isna())  # drafts: species not yet curated
    mask = _keep(s["condition_group"], f.disease) & species_ok & _keep(s["study_kind"], f.kind)
    if f.year:
        mask &= s["year"].between(f.year[0], f.year[1]).fillna(False).astype(bool)
    if not f.drafts:
        mask &= ~is_draft
    studies = s[mask]
    ids = studies["study_id"]

    def rows(frame: pd.DataFrame, extra: pd.Series | None = None) -> pd.DataFrame:
        keep = _in_ids(frame["study_id"], ids)
        for column, allowed in (
            ("assay_vendor", f.vendor),
            ("analyte_form", f.form),
            ("analyte", f.analyte),
            ("specimen", f.specimen),
        ):
            keep &= _keep(frame[column], allowed)
        if extra is not None:
            keep &= extra
        return frame[keep]

    findings = rows(
        tables.findings,
        _keep(tables.findings["direction"], f.direction) & _keep(tables.findings["related_to"], f.related),
    )
    measurements = rows(tables.measurements)
    if f.direction or f.related:
        measurements = measurements[_in_ids(measurements["study_id"], findings["study_id"])]
    if any((f.vendor, f.form, f.analyte, f.specimen, f.direction, f.related)):
        with_rows = pd.concat([measurements["study_id"], findings["study_id"]])
        studies = studies[_in_ids(studies["study_id"], with_rows)]
    return Tables(studies=studies, measurements=measurements, findings=findings)


def counts(tables: Tables) -> dict[str, int]:
    """Row counts of each table."""
    return {name: len(frame) for name, frame in tables.as_dict().items()}
