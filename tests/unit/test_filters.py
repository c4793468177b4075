"""Filters: URL parsing (including hostile input), URL round trip, and which rows they keep."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from rankl_atlas.filters import (
    MAX_VALUES_PER_PARAM,
    Filters,
    apply_filters,
    filter_options,
    parse_query_params,
    year_bounds,
)
from tests.unit.frames import finding, frame, sample_tables

TABLES = sample_tables()
OPTIONS = filter_options(TABLES)
BOUNDS = year_bounds(TABLES.studies)


def parse(params):
    return parse_query_params(params, OPTIONS, BOUNDS)


def ids(frame, column):
    return sorted(frame[column])


def test_defaults_show_human_studies_only():
    kept = apply_filters(TABLES, Filters())
    assert ids(kept.studies, "study_id") == ["alpha2004", "beta2008"]
    assert "gamma2007-m1" not in set(kept.measurements["measurement_id"])


def test_clearing_species_shows_animals_too():
    kept = apply_filters(TABLES, Filters(species=()))
    assert ids(kept.studies, "study_id") == ["alpha2004", "beta2008", "gamma2007"]


def test_disease_filter_keeps_the_study_with_its_controls():
    kept = apply_filters(TABLES, Filters(disease=("rheumatoid_arthritis",)))
    assert ids(kept.studies, "study_id") == ["alpha2004"]
    assert ids(kept.measurements, "measurement_id") == ["alpha2004-m1", "alpha2004-m2"]


def test_year_range_is_inclusive():
    assert ids(apply_filters(TABLES, Filters(year=(2004, 2004))).studies, "study_id") == ["alpha2004"]
    assert ids(apply_filters(TABLES, Filters(year=(2005, 2007))).studies, "study_id") == []


def test_assay_filter_keeps_only_studies_with_rows_from_that_vendor():
    kept = apply_filters(TABLES, Filters(vendor=("rnd_systems",)))
    assert ids(kept.studies, "study_id") == ["beta2008"]
    assert ids(kept.findings, "finding_id") == ["beta2008-f1"]


def test_direction_filter_also_limits_measurements_to_studies_with_such_findings():
    kept = apply_filters(TABLES, Filters(direction=("no_association",)))
    assert ids(kept.findings, "finding_id") == ["beta2008-f1"]
    assert ids(kept.measurements, "measurement_id") == ["beta2008-m1"]
    assert ids(kept.studies, "study_id") == ["beta2008"]


def test_drafts_are_hidden_unless_asked_for():
    tables = sample_tables()
    tables.studies.loc[0, "curation_status"] = "draft"
    assert "alpha2004" not in set(apply_filters(tables, Filters()).studies["study_id"])
    assert "alpha2004" in set(apply_filters(tables, Filters(drafts=True)).studies["study_id"])


def test_apply_filters_does_not_change_its_input():
    before = TABLES.studies.copy()
    apply_filters(TABLES, Filters(disease=("osteoporosis",), year=(2008, 2008)))
    assert TABLES.studies.equals(before)


def test_valid_url_parameters_become_filters():
    parsed = parse({"disease": ["rheumatoid_arthritis", "osteoporosis"], "year": ["2004", "2007"], "drafts": "true"})
    assert parsed.notices == ()
    assert parsed.filters == Filters(disease=("rheumatoid_arthritis", "osteoporosis"), year=(2004, 2007), drafts=True)


def test_malformed_and_unknown_parameters_are_dropped_with_a_notice():
    parsed = parse({"disease": ["<script>alert(1)</script>", "osteoporosis"], "year": "abc", "foo": "1"})
    assert parsed.filters == Filters(disease=("osteoporosis",))
    text = " ".join(parsed.notices)
    assert "is not a known value" in text and "Unknown parameter 'foo'" in text and "Years" in text
    assert "<" not in text and ">" not in text


def test_reversed_or_out_of_range_years_are_rejected():
    for years in (["2008", "2004"], ["1900", "2004"], ["2004"], ["2004", "2005", "2006"]):
        parsed = parse({"year": years})
        assert parsed.filters.year is None and parsed.notices


def test_url_round_trip_restores_the_same_filters():
    original = Filters(disease=("osteoporosis",), year=(2004, 2007), vendor=("biomedica",), species=(), drafts=True)
    assert parse(original.to_query_params()).filters == original


def test_empty_species_parameter_means_all_species():
    assert parse({"species": [""]}).filters.species == ()


def test_huge_parameter_lists_are_capped():
    parsed = parse({"disease": ["osteoporosis"] * (MAX_VALUES_PER_PARAM + 500)})
    assert parsed.filters.disease == ("osteoporosis",)
    assert any("only the first" in n for n in parsed.notices)
    many = {f"p{i}": "x" for i in range(500)}
    assert len(parse(many).notices) <= 41


def test_describe_names_active_filters_with_labels():
    text = Filters(disease=("rheumatoid_arthritis",), year=(2000, 2010)).describe()
    assert "Disease: Rheumatoid arthritis" in text and "Years: 2000–2010" in text


def test_slug_is_file_name_safe():
    slug = Filters(disease=("rheumatoid_arthritis",), year=(2000, 2010)).slug()
    assert slug == "disease-rheumatoid_arthritis_year-2000-2010"
    assert Filters().slug() == "all"


text_values = st.one_of(st.text(max_size=60), st.sampled_from(["", "2004", "osteoporosis", "true", "human"]))


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.one_of(st.text(max_size=20), st.sampled_from(["disease", "year", "vendor", "species", "drafts", "study"])),
        st.one_of(text_values, st.lists(text_values, max_size=80)),
        max_size=60,
    )
)
def test_any_text_in_any_parameter_gives_valid_filters(params):
    parsed = parse(params)
    f = parsed.filters
    for name in ("disease", "vendor", "form", "analyte", "specimen", "species", "kind", "direction", "related"):
        assert set(getattr(f, name)) <= set(OPTIONS[name])
    assert f.year is None or BOUNDS[0] <= f.year[0] <= f.year[1] <= BOUNDS[1]
    assert isinstance(f.drafts, bool)
    apply_filters(TABLES, f)  # never raises


# --- The registry: one spec line per filter ---------------------------------------------------------------


def test_filters_fields_are_exactly_the_registered_specs_in_order():
    from dataclasses import fields

    from rankl_atlas.filters import FILTER_SPECS

    assert [f.name for f in fields(Filters)] == [spec.param for spec in FILTER_SPECS]


def test_adding_a_filter_takes_one_spec_line(monkeypatch):
    """A test-only 'design' filter: one MultiChoice line in the registry; Filters, URL, describe and apply follow."""
    from rankl_atlas import filters as module

    specs = (*module.FILTER_SPECS, module.MultiChoice("design", "Design", "design", "studies", vocabulary="design"))
    monkeypatch.setattr(module, "FILTER_SPECS", specs)
    monkeypatch.setattr(module, "SPECS", {s.param: s for s in specs})
    monkeypatch.setattr(module, "Filters", module.make_filters_class(specs))
    tables = sample_tables()
    tables.studies.loc[1, "design"] = "cross_sectional"
    chosen = module.Filters(design=("cross_sectional",))
    assert chosen.to_query_params() == {"design": ["cross_sectional"]}
    assert "Design: Cross-sectional" in chosen.describe()
    assert ids(module.apply_filters(tables, chosen).studies, "study_id") == ["beta2008"]
    options = module.filter_options(tables)
    assert "cross_sectional" in options["design"]
    assert module.parse_query_params({"design": ["cross_sectional"]}, options, BOUNDS).filters == chosen


def test_a_filter_kind_owns_its_behaviour_and_a_misspelt_kind_cannot_exist():
    """Behaviour lives on the class: there is no 'kind' string that a typo could silently disable."""
    from rankl_atlas.filters import FILTER_SPECS, MultiChoice, Toggle, YearRange

    assert {type(spec) for spec in FILTER_SPECS} == {MultiChoice, YearRange, Toggle}
    assert not any(hasattr(spec, "kind") for spec in FILTER_SPECS)


def test_describe_follows_the_registry_order_whatever_is_active():
    text = Filters(related=("bmd",), disease=("osteoporosis",), year=(2004, 2008), vendor=("biomedica",)).describe()
    assert text.index("Disease") < text.index("Years") < text.index("Assay vendor") < text.index("Finding relates")


# --- Counts and filters that agree ------------------------------------------------------------------------


def test_analyte_filter_reads_the_studies_list_of_analytes_measured():
    """A study that measured RANKL and OPG but reports only a ratio (Geusens 2006) is a RANKL study."""
    tables = sample_tables()
    tables.studies.loc[tables.studies["study_id"] == "beta2008", "analytes_measured"] = "rankl;opg"
    ratio = frame(
        "findings",
        [finding("beta2008-f2", analyte="opg_rankl_ratio", analyte_form="unspecified", assay_vendor="rnd_systems",
                 condition_group="osteoporosis", direction="lower")],
    )  # fmt: skip
    tables = type(tables)(tables.studies, tables.measurements, pd.concat([tables.findings, ratio], ignore_index=True))
    kept = apply_filters(tables, Filters(analyte=("rankl",)))
    assert ids(kept.studies, "study_id") == ["alpha2004", "beta2008"]
    assert "beta2008-f2" in set(kept.findings["finding_id"])  # the ratio finding stays
    assert "beta2008-f1" not in set(kept.findings["finding_id"])  # the OPG-only finding does not
    assert ids(apply_filters(tables, Filters(analyte=("opg",))).studies, "study_id") == ["beta2008"]


def test_clearing_the_default_species_is_written_to_the_url_and_read_back():
    every_species = Filters(species=())
    assert every_species.to_query_params() == {"species": ["all"]}
    assert parse(every_species.to_query_params()).filters == every_species
    assert parse({"species": ["all"]}).notices == ()


def test_a_species_link_with_only_unknown_values_keeps_the_default_and_says_so():
    parsed = parse({"species": ["martian"]})
    assert parsed.filters.species == ("human",) and parsed.notices


def test_kit_filter_offers_not_reported_for_rows_without_a_named_kit():
    tables = sample_tables()
    tables.measurements.loc[0, "assay_id"] = "biomedica_kit"
    kept = apply_filters(tables, Filters(kit=("not_reported",)))
    assert "alpha2004-m1" not in set(kept.measurements["measurement_id"])
    assert "alpha2004-m2" in set(kept.measurements["measurement_id"])
    kept = apply_filters(tables, Filters(kit=("biomedica_kit",)))
    assert ids(kept.measurements, "measurement_id") == ["alpha2004-m1"]


multi_values = {
    "disease": ["osteoporosis", "rheumatoid_arthritis", "fracture"],
    "source": ["review_2011", "search_2026"],
    "species": ["human", "mouse", "rat"],
    "vendor": ["biomedica", "rnd_systems", "not_reported"],
    "form": ["free", "total"],
    "analyte": ["rankl", "opg"],
    "specimen": ["serum"],
    "kind": ["human_circulating", "animal"],
    "direction": ["higher", "lower"],
    "related": ["bmd", "condition"],
}
filter_states = st.builds(
    Filters,
    **{k: st.lists(st.sampled_from(v), unique=True, max_size=3).map(tuple) for k, v in multi_values.items()},
    year=st.one_of(st.none(), st.tuples(st.integers(2004, 2006), st.integers(2006, 2008))),
    drafts=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(filter_states)
def test_url_to_state_to_url_is_the_identity_for_any_filter_state(filters):
    if filters.year == BOUNDS:
        filters = Filters(**{**filters.__dict__, "year": None})
    params = filters.to_query_params()
    parsed = parse(params)
    assert parsed.notices == ()
    assert parsed.filters == filters
    assert parsed.filters.to_query_params() == params


# --- This round's filters: year not stated, who was measured, comparison family ---------------------------------


def test_studies_whose_year_is_not_stated_are_kept_by_default_and_by_a_year_range_until_switched_off():
    tables = sample_tables()
    tables.studies.loc[tables.studies["study_id"] == "beta2008", "year"] = pd.NA
    assert "beta2008" in ids(apply_filters(tables, Filters()).studies, "study_id")
    ranged = Filters(year=(2003, 2005))
    assert ids(apply_filters(tables, ranged).studies, "study_id") == ["alpha2004", "beta2008"]
    dropped = Filters(year=(2003, 2005), undated=False)
    assert ids(apply_filters(tables, dropped).studies, "study_id") == ["alpha2004"]
    assert dropped.to_query_params()["undated"] == ["false"]
    assert parse({"undated": ["false"]}).filters.undated is False
    assert "without studies whose year is not stated" in dropped.describe()


def test_who_was_measured_filters_select_studies_by_what_the_abstract_states():
    tables = sample_tables()
    studies = tables.studies
    studies.loc[studies["study_id"] == "alpha2004", ["sex", "menopausal_status", "age_group"]] = [
        "female",
        "post",
        "adults",
    ]
    studies.loc[studies["study_id"] == "beta2008", ["sex", "age_group"]] = ["male", "older_adults"]
    assert ids(apply_filters(tables, Filters(sex=("female",))).studies, "study_id") == ["alpha2004"]
    assert ids(apply_filters(tables, Filters(menopause=("post",))).studies, "study_id") == ["alpha2004"]
    assert ids(apply_filters(tables, Filters(age=("older_adults",))).studies, "study_id") == ["beta2008"]
    assert "Menopausal status: Postmenopausal" in Filters(menopause=("post",)).describe()


def test_the_family_filter_keeps_findings_of_that_family_and_their_studies():
    tables = sample_tables()
    tables.findings["comparison_family"] = ["cases_vs_controls", "association", "association", "between_subgroups"]
    kept = apply_filters(tables, Filters(family=("association",), species=()))
    assert ids(kept.findings, "finding_id") == ["alpha2004-f2", "beta2008-f1"]
    assert ids(kept.studies, "study_id") == ["alpha2004", "beta2008"]
    assert parse({"family": ["association", "nonsense"]}).filters.family == ("association",)
