"""One source of truth: tables, columns, vocabularies, display labels, colours and pandera models."""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

# --- Vocabularies: code -> display label (order is the display order) -------------------------

STUDY_KIND = {
    "human_circulating": "Human, circulating levels",
    "human_tissue": "Human tissue",
    "animal": "Animal",
    "in_vitro": "In vitro",
    "review": "Review",
    "method": "Method / assay",
    "clinical_trial": "Clinical trial",
    "not_curated": "Not yet curated (draft)",
}

CONDITION_GROUP = {
    "healthy_population": "Healthy population",
    "osteoporosis": "Osteoporosis / low BMD",
    "fracture": "Fracture",
    "osteoarthritis": "Osteoarthritis",
    "rheumatoid_arthritis": "Rheumatoid arthritis",
    "juvenile_idiopathic_arthritis": "Juvenile idiopathic arthritis",
    "ankylosing_spondylitis": "Ankylosing spondylitis",
    "multiple_myeloma": "Multiple myeloma",
    "paget_disease": "Paget's disease of bone",
    "periprosthetic_osteolysis": "Periprosthetic osteolysis",
    "spinal_cord_injury": "Spinal cord injury",
    "pregnancy_lactation": "Pregnancy / lactation",
    "cancer_bone": "Cancer in bone",
    "periodontitis": "Periodontitis",
    "vitamin_d_deficiency": "Vitamin D deficiency",
    "cancer_other": "Cancer (no bone focus)",
    "chronic_kidney_disease": "Chronic kidney disease",
    "diabetes": "Diabetes",
    "obesity_metabolic": "Obesity / metabolic",
    "cardiovascular_disease": "Cardiovascular disease",
    "endocrine_disorder": "Endocrine disorder",
    "other_rheumatic": "Other rheumatic disease",
    "other": "Other",
    "none": "No condition",
}

#: Broad disease areas: the Overview's per-year chart stacks by area so its legend stays short and every colour
#: stays distinct for colour-blind readers (7 Okabe-Ito colours + grey).
DISEASE_AREA = {
    "healthy": "Healthy people",
    "bone": "Bone metabolism",
    "joints": "Joints & rheumatic",
    "cancer": "Cancer & myeloma",
    "kidney_endocrine": "Kidney & endocrine",
    "cardiometabolic": "Cardiometabolic",
    "pregnancy": "Pregnancy & lactation",
    "other": "Other / none",
}
DISEASE_AREA_OF = {
    "healthy_population": "healthy",
    "osteoporosis": "bone",
    "fracture": "bone",
    "vitamin_d_deficiency": "bone",
    "paget_disease": "bone",
    "spinal_cord_injury": "bone",
    "osteoarthritis": "joints",
    "rheumatoid_arthritis": "joints",
    "juvenile_idiopathic_arthritis": "joints",
    "ankylosing_spondylitis": "joints",
    "other_rheumatic": "joints",
    "periodontitis": "joints",
    "periprosthetic_osteolysis": "joints",
    "multiple_myeloma": "cancer",
    "cancer_bone": "cancer",
    "cancer_other": "cancer",
    "chronic_kidney_disease": "kidney_endocrine",
    "endocrine_disorder": "kidney_endocrine",
    "diabetes": "cardiometabolic",
    "obesity_metabolic": "cardiometabolic",
    "cardiovascular_disease": "cardiometabolic",
    "pregnancy_lactation": "pregnancy",
    "other": "other",
    "none": "other",
}

DESIGN = {
    "cross_sectional": "Cross-sectional",
    "case_control": "Case-control",
    "prospective_cohort": "Prospective cohort",
    "longitudinal": "Longitudinal",
    "intervention": "Intervention",
    "rct": "Randomised controlled trial",
    "experimental": "Experimental",
    "review": "Review",
    "method": "Method",
    "not_reported": "Not reported",
}

EVIDENCE_LEVEL = {
    "full_text": "Full text read",
    "abstract": "Abstract read",
    "citation_only": "Citation only (source not found)",
}

CURATION_STATUS = {"curated": "Curated", "draft": "Draft (awaiting curation)"}

GROUP_ROLE = {
    "case": "Cases",
    "control": "Controls",
    "whole_cohort": "Whole cohort",
    "subgroup": "Subgroup",
    "before_treatment": "Before treatment",
    "after_treatment": "After treatment",
}

MEASURED_ANALYTE = {"rankl": "RANKL", "opg": "OPG"}
ANALYTE = {
    **MEASURED_ANALYTE,
    "rankl_opg_ratio": "RANKL/OPG ratio",
    "opg_rankl_ratio": "OPG/RANKL ratio",
}

ANALYTE_FORM = {
    "free": "Free",
    "total": "Total",
    "dimer": "Dimer",
    "unspecified": "Unspecified",
}

SPECIMEN = {
    "serum": "Serum",
    "plasma_edta": "EDTA plasma",
    "plasma_heparin": "Heparin plasma",
    "plasma_citrate": "Citrate plasma",
    "plasma_unspecified": "Plasma",
    "blood_unspecified": "Serum or plasma (not stated)",
}

ASSAY_VENDOR = {
    "biomedica": "Biomedica",
    "immundiagnostik": "Immundiagnostik",
    "rnd_systems": "R&D Systems",
    "biovendor": "BioVendor",
    "apotech_alexis": "Apotech / Alexis / Enzo",
    "peprotech": "PeproTech",
    "millipore": "Millipore",
    "elabscience": "Elabscience",
    "cusabio": "Cusabio",
    "cloud_clone": "Cloud-Clone / USCN",
    "abcam": "Abcam",
    "thermo_fisher": "Thermo Fisher / Invitrogen",
    "bio_rad": "Bio-Rad",
    "meso_scale": "Meso Scale Discovery",
    "alpco": "ALPCO",
    "quidel": "Quidel",
    "in_house": "In-house assay",
    "other": "Other kit",
    "not_reported": "Not reported",
}

ASSAY_ATTRIBUTION = {
    "stated": "Stated in source",
    "inferred": "Inferred",
    "not_reported": "Not reported",
}

FORM_BASIS = {
    "stated": "Stated in source",
    "inferred_from_kit": "Inferred from the kit's catalogue entry",
    "not_reported": "Not reported",
}

SOURCE_SET = {
    "review_2011": "Findlay & Atkins 2011 references",
    "search_2026": "Later literature (systematic search 2026)",
    "curator_import": "Imported record (draft)",
    "visitor_upload": "Your upload (this session)",
}

KIT_METHOD = {
    "elisa": "ELISA",
    "amplified_elisa": "Amplified ELISA",
    "multiplex_bead": "Multiplex bead assay",
    "ecl": "Electrochemiluminescence",
    "immuno_pcr": "Immuno-PCR",
    "eia": "EIA",
    "in_house_elisa": "In-house ELISA",
    "other": "Other",
}

ASSAY_METHOD = {
    "elisa": "ELISA",
    "eia": "EIA",
    "multiplex": "Multiplex",
    "immuno_pcr": "Immuno-PCR",
    "other": "Other",
    "not_reported": "Not reported",
}

STATISTIC = {"mean": "Mean", "median": "Median", "geometric_mean": "Geometric mean"}

UNIT = {
    "pg_ml": "pg/mL",
    "ng_ml": "ng/mL",
    "ng_l": "ng/L",
    "pmol_l": "pmol/L",
    "nmol_l": "nmol/L",
    "npx": "NPX (Olink, relative log2)",
    "rfu": "RFU (SomaScan, relative)",
    "arbitrary_units": "Arbitrary units (relative)",
}


@dataclass(frozen=True)
class UnitInfo:
    """A unit: mass or molar (with its factor to pg/mL or pmol/L), or relative (no factor: never converted)."""

    kind: str
    factor: float


#: One units table beside UNIT: 1 ng/mL = 1000 pg/mL, 1 ng/L = 1 pg/mL, 1 nmol/L = 1000 pmol/L. Relative units
#: (Olink NPX, SomaScan RFU, arbitrary units) have no factor: they are never converted, never put on a
#: concentration axis and never pooled with concentrations.
UNITS = {
    "pg_ml": UnitInfo("mass", 1.0),
    "ng_ml": UnitInfo("mass", 1000.0),
    "ng_l": UnitInfo("mass", 1.0),
    "pmol_l": UnitInfo("molar", 1.0),
    "nmol_l": UnitInfo("molar", 1000.0),
    "npx": UnitInfo("relative", float("nan")),
    "rfu": UnitInfo("relative", float("nan")),
    "arbitrary_units": UnitInfo("relative", float("nan")),
}
CONCENTRATION_UNITS = tuple(code for code, info in UNITS.items() if info.kind != "relative")


@dataclass(frozen=True)
class MolecularWeight:
    """Molecular weight used to convert molar units, with where it comes from."""

    kda: float
    basis: str
    source: str
    url: str


#: Provisional: kits calibrate against different recombinant standards, so molar conversions are approximate.
#: 1 pmol/L of a protein of M kDa is M pg/mL.
MOLECULAR_WEIGHTS = {
    "rankl": MolecularWeight(
        20.0,
        "recombinant human soluble RANKL, TNF-homologous region (176 residues), monomer",
        "PeproTech product sheet 310-01, recombinant human sRANKL",
        "http://101.200.202.226/product.php?code=310-01-100ug&id=441623&mod=view",
    ),
    "opg": MolecularWeight(
        60.0,
        "OPG monomer (the disulfide-linked homodimer is 120 kDa)",
        "BioVendor RD194003200 Human Osteoprotegerin ELISA manual, Introduction",
        "https://www.scribd.com/document/804540724/PDS",
    ),
}

SOURCE_LOCATION = {"abstract": "Abstract", "full_text": "Full text"}

COMPARISON_TYPE = {
    "case_vs_control": "Cases vs controls",
    "between_groups": "Between groups",
    "correlation": "Correlation",
    "prediction": "Prediction",
    "treatment_change": "Change with treatment",
    "trend": "Trend",
    "kit_vs_kit": "Kit vs kit (same samples)",
}

RELATED_TO = {
    "condition": "Condition (cases vs controls)",
    "bone_tissue_expression": "Bone tissue expression",
    "bmd": "Bone mineral density",
    "bone_turnover_marker": "Bone turnover markers",
    "fracture": "Fracture",
    "radiographic_progression": "Radiographic progression",
    "disease_activity": "Disease activity",
    "survival": "Survival",
    "age": "Age",
    "sex": "Sex",
    "hormone": "Hormones",
    "inflammation_marker": "Inflammation markers",
    "treatment": "Treatment",
    "other": "Other",
}

DIRECTION = {
    "higher": "Higher",
    "lower": "Lower",
    "no_difference": "No difference",
    "positive_association": "Positive association",
    "negative_association": "Negative association",
    "no_association": "No association",
    "predicts_when_high": "Predicts when high",
    "predicts_when_low": "Predicts when low",
    "increase": "Increase",
    "decrease": "Decrease",
    "no_change": "No change",
    "mostly_undetectable": "Mostly undetectable",
    "not_stated": "Association, direction not stated",
}

EFFECT_MEASURE = {
    "r": "Pearson r",
    "rho": "Spearman rho",
    "or": "Odds ratio",
    "hr": "Hazard ratio",
    "rr": "Relative risk",
    "beta": "Regression beta",
    "percent_change": "Percent change",
    "other": "Other",
}

#: Comparison families: what kind of question a finding answers. Derived from comparison_type where that is
#: unambiguous (FAMILY_OF_TYPE); a trend is split by its direction; curators may set it otherwise.
COMPARISON_FAMILY = {
    "cases_vs_controls": "Cases vs controls",
    "between_subgroups": "Between patient subgroups",
    "treatment_change": "Change with treatment",
    "change_over_time": "Change over time (no treatment)",
    "association": "Association with a variable",
    "prediction": "Prediction of an outcome",
    "method_comparison": "Kit vs kit (same samples)",
}
FAMILY_OF_TYPE = {
    "case_vs_control": "cases_vs_controls",
    "between_groups": "between_subgroups",
    "correlation": "association",
    "prediction": "prediction",
    "treatment_change": "treatment_change",
    "kit_vs_kit": "method_comparison",
}
FAMILY_OF_TREND_DIRECTION = {
    "predicts_when_high": "prediction",
    "predicts_when_low": "prediction",
    "increase": "change_over_time",
    "decrease": "change_over_time",
    "no_change": "change_over_time",
}


def derive_family(comparison_type: str | None, direction: str | None) -> str:
    """The comparison family a comparison type implies ('' when the type is unknown); a trend by its direction."""
    if comparison_type == "trend":
        return FAMILY_OF_TREND_DIRECTION.get(str(direction), "association")
    return FAMILY_OF_TYPE.get(str(comparison_type), "")


#: What a hazard, odds or risk ratio contrasts; only like contrasts are pooled.
CONTRAST = {
    "per_sd": "Per SD",
    "per_unit": "Per unit (see detail)",
    "top_vs_bottom": "Top vs bottom fraction / above vs below a cut-off",
    "yes_vs_no": "Yes vs no",
    "not_stated": "Not stated",
}

SPREAD_BASIS = {
    "stated": "Stated by the paper (SD, SE, IQR or range)",
    "inferred_from_test": "Inferred from the paper's own test (SD or SE)",
    "unknown": "Not stated: '±' without SD or SE",
}

YEAR_BASIS = {
    "printed": "Printed on the page read",
    "printed_other_copy": "Printed on another copy of the article",
    "not_printed": "Not printed on any page read",
}

PMID_ATTRIBUTION = {
    "printed": "Printed on the page read",
    "from_source_url": "From the study's own PubMed address",
    "other_copy": "Printed on another copy",
}

SEX = {"female": "Women / girls", "male": "Men / boys", "both": "Both sexes"}
MENOPAUSAL_STATUS = {
    "pre": "Premenopausal",
    "post": "Postmenopausal",
    "mixed": "Pre- and postmenopausal",
    "not_applicable": "Not applicable (men, children)",
}
AGE_GROUP = {
    "children": "Children (< 18)",
    "adults": "Adults",
    "older_adults": "Older adults (≥ 60-65)",
    "mixed": "Children and adults",
}

MEASURE = {
    "smd": "Standardised mean difference",
    "wmd": "Mean difference",
    "r": "Correlation r",
    "z": "Fisher z",
    "or": "Odds ratio",
    "hr": "Hazard ratio",
    "rr": "Relative risk",
    "other": "Other",
}

#: Each direction belongs to one of four classes that the evidence map and harvest plot colour.
DIRECTION_CLASS = {
    "higher": "up",
    "increase": "up",
    "positive_association": "up",
    "predicts_when_high": "up",
    "lower": "down",
    "decrease": "down",
    "negative_association": "down",
    "predicts_when_low": "down",
    "no_difference": "null",
    "no_change": "null",
    "no_association": "null",
    "mostly_undetectable": "undetectable",
    "not_stated": "unstated",
}
DIRECTION_CLASS_LABEL = {
    "up": "Higher / increase / positive",
    "down": "Lower / decrease / negative",
    "null": "No difference / no association",
    "undetectable": "Mostly undetectable",
    "unstated": "Direction not stated",
    "mixed": "Mixed directions",
}

# --- Colours: one colour-blind-safe palette (Okabe-Ito, then Paul Tol's muted), fixed per code ---

OKABE_ITO = [
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#F0E442",  # yellow
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#000000",  # black
]
TOL_MUTED = [
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#DDCC77",
    "#CC6677",
    "#882255",
    "#AA4499",
    "#DDDDDD",
]
NEUTRAL_GREY = "#8C8C8C"

DIRECTION_CLASS_COLOUR = {
    "up": "#D55E00",
    "down": "#0072B2",
    "null": "#8C8C8C",
    "undetectable": "#882255",  # wine: pink was too close to grey for deuteranomaly
    "unstated": "#DDCC77",
    "mixed": "#E69F00",
}


def _palette_for(codes: list[str], reserve_grey: tuple[str, ...] = ()) -> dict[str, str]:
    """Assign fixed colours in vocabulary order (repeating past 18 codes); codes in reserve_grey get grey."""
    colours = itertools.cycle(OKABE_ITO + TOL_MUTED)
    return {code: NEUTRAL_GREY if code in reserve_grey else next(colours) for code in codes}


COLOURS: dict[str, dict[str, str]] = {
    "condition_group": _palette_for(list(CONDITION_GROUP), reserve_grey=("none",)),
    "disease_area": {
        "healthy": "#009E73",
        "bone": "#E69F00",
        "joints": "#0072B2",
        "cancer": "#D55E00",
        "kidney_endocrine": "#56B4E9",
        "cardiometabolic": "#CC79A7",
        "pregnancy": "#F0E442",
        "other": "#CCCCCC",  # light grey: the mid grey was too close to bluish green for deuteranomaly
    },
    "assay_vendor": _palette_for(list(ASSAY_VENDOR), reserve_grey=("not_reported",)),
    "source_set": _palette_for(list(SOURCE_SET)),
    "group_role": _palette_for(list(GROUP_ROLE)),
    "analyte": _palette_for(list(ANALYTE)),
    "analyte_form": _palette_for(list(ANALYTE_FORM), reserve_grey=("unspecified",)),
    "study_kind": _palette_for(list(STUDY_KIND)),
    "direction_class": DIRECTION_CLASS_COLOUR,
}

#: Whose a row is once a visitor's upload joins the dataset in a session (never stored in the dataset's files).
ORIGIN = {"atlas": "RANKL Atlas", "yours": "Yours (this session only)"}
ORIGIN_ATLAS, ORIGIN_VISITOR = "atlas", "yours"

#: Why a screened record was excluded from the search (data/search/screening.csv), first that applies.
EXCLUSION_REASON = {
    "not_found": "Not found / not readable",
    "duplicate_publication": "Duplicate publication",
    "review": "Review, editorial or meta-analysis",
    "animal_or_in_vitro": "Animal or in vitro only",
    "tissue_only": "Tissue or gene expression only",
    "other_fluid_only": "Other fluid only (saliva, GCF, synovial, urine)",
    "no_circulating_measure": "No serum/plasma RANKL or OPG",
    "no_result": "No result reported for it",
}

VOCABULARIES: dict[str, dict[str, str]] = {
    "study_kind": STUDY_KIND,
    "condition_group": CONDITION_GROUP,
    "design": DESIGN,
    "evidence_level": EVIDENCE_LEVEL,
    "curation_status": CURATION_STATUS,
    "group_role": GROUP_ROLE,
    "analyte": ANALYTE,
    "measured_analyte": MEASURED_ANALYTE,
    "analyte_form": ANALYTE_FORM,
    "specimen": SPECIMEN,
    "assay_vendor": ASSAY_VENDOR,
    "assay_attribution": ASSAY_ATTRIBUTION,
    "assay_method": ASSAY_METHOD,
    "statistic": STATISTIC,
    "unit": UNIT,
    "source_location": SOURCE_LOCATION,
    "comparison_type": COMPARISON_TYPE,
    "related_to": RELATED_TO,
    "direction": DIRECTION,
    "effect_measure": EFFECT_MEASURE,
    "form_basis": FORM_BASIS,
    "source_set": SOURCE_SET,
    "kit_method": KIT_METHOD,
    "disease_area": DISEASE_AREA,
    "comparison_family": COMPARISON_FAMILY,
    "contrast": CONTRAST,
    "spread_basis": SPREAD_BASIS,
    "year_basis": YEAR_BASIS,
    "pmid_attribution": PMID_ATTRIBUTION,
    "sex": SEX,
    "menopausal_status": MENOPAUSAL_STATUS,
    "age_group": AGE_GROUP,
    "measure": MEASURE,
    "exclusion_reason": EXCLUSION_REASON,
    "origin": ORIGIN,
}


def label(vocabulary: str, code: object) -> str:
    """Display label of a code; unknown or missing codes are shown as they are (or as an em dash)."""
    if code is None or code != code:  # None or NaN
        return "—"
    return VOCABULARIES[vocabulary].get(str(code), str(code))


# --- Columns: the public contract, with types and descriptions -------------------------------


@dataclass(frozen=True)
class Field:
    """One column of a table: name, storage type, nullability, vocabulary and description."""

    name: str
    dtype: str  # "string", "int", "float", "bool"
    description: str
    nullable: bool = False
    vocabulary: str | None = None


def _f(name, dtype, description, nullable=False, vocabulary=None) -> Field:
    return Field(name, dtype, description, nullable, vocabulary)


_WHO_FIELDS: tuple[Field, ...] = (
    _f("sex", "string", "Sex of the people measured, as the source states it.", True, "sex"),
    _f("menopausal_status", "string", "Menopausal status, as stated.", True, "menopausal_status"),
    _f("age_group", "string", "Age group (children, adults, older adults), as stated.", True, "age_group"),
)

STUDY_FIELDS: tuple[Field, ...] = (
    _f("study_id", "string", "Unique stable slug: first author surname + year (+ letter)."),
    _f("ref_no", "int", "Number in the reference list of Findlay & Atkins 2011 (1-59).", True),
    _f("pmid", "string", "PubMed identifier, only when seen in a source.", True),
    _f("doi", "string", "DOI (lowercase), only when seen in a source.", True),
    _f(
        "first_author",
        "string",
        "Surname of the first author as published (UTF-8); empty when the page read printed no authors.",
        True,
    ),
    _f("authors", "string", "Authors as 'Surname AB; Surname C; ...' (empty when not printed on the page read).", True),
    _f("year", "int", "Publication year (empty only when no page read printed it: year_basis not_printed).", True),
    _f("title", "string", "Title as published."),
    _f(
        "journal",
        "string",
        "Journal (abbreviated as in the reference list); empty when the page read did not print it.",
        True,
    ),
    _f("volume", "string", "Volume.", True),
    _f("pages", "string", "Pages.", True),
    _f("study_kind", "string", "What kind of study this is.", vocabulary="study_kind"),
    _f(
        "circulating_measured",
        "bool",
        "The study reports RANKL or OPG levels in blood (serum/plasma) of humans or animals "
        "(empty when the source could not be read and the title does not settle it).",
        True,
    ),
    _f("species", "string", "Species studied (human, mouse, rat, ...).", True),
    _f("condition", "string", "The condition as the paper names it.", True),
    _f("condition_group", "string", "Condition group (vocabulary).", vocabulary="condition_group"),
    _f("design", "string", "Study design.", vocabulary="design"),
    _f("n_participants", "int", "Subjects studied (people or animals) as stated.", True),
    _f("summary", "string", "What the study tells about circulating RANKL/OPG, in our words."),
    _f("evidence_level", "string", "What the curation read.", vocabulary="evidence_level"),
    _f("curation_status", "string", "Curated or draft.", vocabulary="curation_status"),
    _f("source_url", "string", "The page(s) the curation read, separated by ' | '.", True),
    _f("curation_notes", "string", "Curator's notes on uncertainty.", True),
    _f(
        "analytes_measured",
        "string",
        "Analytes measured in blood, ';'-separated codes (rankl;opg), also when only a ratio is reported.",
        True,
    ),
    _f("source_set", "string", "Which corpus brought the study in.", vocabulary="source_set"),
    _f("year_basis", "string", "Where the year comes from (printed, another copy, not printed).", True, "year_basis"),
    _f("pmid_attribution", "string", "How the PMID is known.", True, "pmid_attribution"),
    *_WHO_FIELDS,
)

_ASSAY_FIELDS: tuple[Field, ...] = (
    _f("analyte_form", "string", "Form measured: free or total sRANKL, ...", vocabulary="analyte_form"),
    _f("specimen", "string", "Serum or kind of plasma.", vocabulary="specimen"),
    _f("assay_vendor", "string", "Assay kit vendor.", vocabulary="assay_vendor"),
    _f(
        "assay_attribution",
        "string",
        "How we know the vendor: stated, inferred, not reported.",
        vocabulary="assay_attribution",
    ),
)

_SOURCE_FIELDS: tuple[Field, ...] = (
    _f("source_location", "string", "Where in the source.", vocabulary="source_location"),
    _f("locator", "string", "Locator in the source, e.g. 'Table 2'.", True),
    _f("notes", "string", "Notes needed to read the row right.", True),
)

_KIT_ID = _f("assay_id", "string", "The kit in the assay catalogue (assays.assay_id), when known.", True)
_FORM_BASIS = _f(
    "form_basis",
    "string",
    "How analyte_form is known: stated, or inferred from the kit's catalogue entry.",
    True,
    vocabulary="form_basis",
)

MEASUREMENT_FIELDS: tuple[Field, ...] = (
    _f("measurement_id", "string", "Unique id '<study_id>-m<k>'."),
    _f("study_id", "string", "Study this row belongs to."),
    _f("group_label", "string", "The group as the paper names it."),
    _f("group_role", "string", "Role of the group.", vocabulary="group_role"),
    _f("condition_group", "string", "Condition group of this group.", vocabulary="condition_group"),
    _f("n", "int", "Subjects measured in this group.", True),
    _f("analyte", "string", "RANKL or OPG (or a ratio, when the paper prints a group's ratio).", vocabulary="analyte"),
    _ASSAY_FIELDS[0],
    _ASSAY_FIELDS[1],
    _ASSAY_FIELDS[2],
    _ASSAY_FIELDS[3],
    _f("assay_method", "string", "Assay method.", vocabulary="assay_method"),
    _f(
        "statistic",
        "string",
        "Summary statistic reported (empty when the source does not name it).",
        True,
        vocabulary="statistic",
    ),
    _f("value", "float", "Reported value as published (null only when just the share undetectable is given).", True),
    _f("sd", "float", "Standard deviation as published.", True),
    _f("se", "float", "Standard error as published.", True),
    _f("q1", "float", "Lower quartile as published.", True),
    _f("q3", "float", "Upper quartile as published.", True),
    _f("min", "float", "Minimum as published.", True),
    _f("max", "float", "Maximum as published.", True),
    _f("ci_low", "float", "Lower 95% CI bound as published.", True),
    _f("ci_high", "float", "Upper 95% CI bound as published.", True),
    _f(
        "unit",
        "string",
        "Unit as published (empty when the source prints none, and for ratios).",
        True,
        vocabulary="unit",
    ),
    _f("pct_undetectable", "float", "Share of the group below detection (0-100).", True),
    _f("timepoint", "string", "Time point ('baseline', '12 months').", True),
    *_SOURCE_FIELDS,
    _f(
        "spread_basis",
        "string",
        "What the printed spread is and how we know: stated; inferred from the paper's own test (the reading, "
        "SD or SE, whose t-test reproduces the printed p; computation in notes); unknown ('±' unlabelled, kept in sd).",
        True,
        "spread_basis",
    ),
    _KIT_ID,
    _FORM_BASIS,
    *(
        Field(
            f.name,
            f.dtype,
            f.description.replace("people measured", "group") + " Group level, where it differs from the study.",
            True,
            f.vocabulary,
        )
        for f in _WHO_FIELDS
    ),
)

FINDING_FIELDS: tuple[Field, ...] = (
    _f("finding_id", "string", "Unique id '<study_id>-f<k>'."),
    _f("study_id", "string", "Study this row belongs to."),
    _f("analyte", "string", "RANKL, OPG or their ratio (paper's orientation).", vocabulary="analyte"),
    *_ASSAY_FIELDS,
    _f("comparison_type", "string", "Kind of comparison.", vocabulary="comparison_type"),
    _f("comparison", "string", "The comparison in our words."),
    _f("related_to", "string", "What the level is compared with or predicts.", vocabulary="related_to"),
    _f("condition_group", "string", "Condition group of the studied group.", vocabulary="condition_group"),
    _f("direction", "string", "Direction of the result.", vocabulary="direction"),
    _f("effect_measure", "string", "Effect measure.", True, vocabulary="effect_measure"),
    _f("effect_value", "float", "Effect value as published.", True),
    _f("ci_low", "float", "Lower 95% CI bound.", True),
    _f("ci_high", "float", "Upper 95% CI bound.", True),
    _f("p_value", "float", "P value when printed as a number.", True),
    _f("p_text", "string", "P value as printed ('<0.001').", True),
    _f("n", "int", "Persons in the analysis.", True),
    *_SOURCE_FIELDS,
    _KIT_ID,
    _f("assay_id_other", "string", "For kit_vs_kit comparisons: the second kit (assays.assay_id).", True),
    _FORM_BASIS,
    _f("comparison_family", "string", "What kind of question the finding answers.", vocabulary="comparison_family"),
    _f(
        "contrast",
        "string",
        "For HR/OR/RR: what the ratio contrasts (per SD, per unit, top vs bottom ...).",
        True,
        "contrast",
    ),
    _f("contrast_detail", "string", "The contrast as printed ('per 1 pmol/L', 'highest vs lowest quartile').", True),
)

ASSAY_FIELDS: tuple[Field, ...] = (
    _f("assay_id", "string", "Unique slug: vendor, catalogue number or kit name, analyte/form."),
    _f("vendor", "string", "Vendor of the kit (assay_vendor code).", vocabulary="assay_vendor"),
    _f("kit_name", "string", "Kit name as the source prints it."),
    _f("catalogue_numbers", "string", "Catalogue number(s), ';'-separated.", True),
    _f("analyte", "string", "RANKL or OPG.", vocabulary="analyte"),
    _f("form_detected", "string", "Form the kit detects (free/total sRANKL, OPG ...).", vocabulary="analyte_form"),
    _f("form_note", "string", "What the source says about the form detected, in our words.", True),
    _f("method", "string", "Assay method.", vocabulary="kit_method"),
    _f("capture_antibody", "string", "Capture antibody, when stated.", True),
    _f("detection_antibody", "string", "Detection antibody, when stated.", True),
    _f("calibrator", "string", "Calibrator (standard), when stated.", True),
    _f("calibrator_mw_kda", "float", "Molecular weight of the calibrator in kDa, when its source states it.", True),
    _f("calibrator_mw_source", "string", "Where the calibrator's molecular weight is stated.", True),
    _f("lod", "float", "Limit of detection in the kit's unit, when stated.", True),
    _f("range_low", "float", "Lowest standard / measuring range low end, in the kit's unit.", True),
    _f("range_high", "float", "Highest standard / measuring range high end, in the kit's unit.", True),
    _f("unit", "string", "Unit the kit reports in.", True, vocabulary="unit"),
    _f("sample_types", "string", "Sample types the source lists.", True),
    _f("years_on_market", "string", "Years on the market, when known.", True),
    _f("source_url", "string", "The page(s) read for this row, separated by ' | '."),
    _f("source_note", "string", "What the source is and which facts came from it."),
)

META_ANALYSIS_FIELDS: tuple[Field, ...] = (
    _f("ma_id", "string", "Unique id '<first author><year>-p<k>': one row per pooled result of a published review."),
    _f("first_author", "string", "First author's surname as printed.", True),
    _f("authors", "string", "Authors as printed.", True),
    _f("year", "int", "Publication year, when printed on a page read.", True),
    _f("title", "string", "Title of the systematic review / meta-analysis (empty when no copy printed it).", True),
    _f("journal", "string", "Journal, when printed.", True),
    _f("pmid", "string", "PubMed identifier, only when seen.", True),
    _f("doi", "string", "DOI (lowercase), only when seen.", True),
    _f("condition", "string", "The condition as the review names it.", True),
    _f("condition_group", "string", "Condition group (vocabulary).", vocabulary="condition_group"),
    _f("comparison", "string", "What was pooled, in our words."),
    _f("comparison_family", "string", "Comparison family.", vocabulary="comparison_family"),
    _f("analyte", "string", "RANKL, OPG or a ratio.", vocabulary="analyte"),
    _f("specimen", "string", "Serum, plasma, or not stated / mixed.", True, vocabulary="specimen"),
    _f("measure", "string", "Pooled measure.", vocabulary="measure"),
    _f("measure_unit", "string", "Unit of a pooled mean difference.", True, vocabulary="unit"),
    _f("estimate", "float", "Pooled estimate as printed.", True),
    _f("ci_low", "float", "Lower 95% CI bound as printed.", True),
    _f("ci_high", "float", "Upper 95% CI bound as printed.", True),
    _f("p_value", "float", "P value when printed as a number.", True),
    _f("p_text", "string", "P value as printed.", True),
    _f("k_studies", "int", "Number of studies pooled, as printed.", True),
    _f("n_participants", "int", "Participants pooled, as printed.", True),
    _f("i2", "float", "I² in percent, as printed.", True),
    _f("model", "string", "Random or fixed effects, as printed.", True),
    _f("source_url", "string", "The page(s) read for this row, separated by ' | '."),
    _f("notes", "string", "Notes needed to read the row right (subgroup, contrast, truncation).", True),
)

TABLE_FIELDS: dict[str, tuple[Field, ...]] = {
    "studies": STUDY_FIELDS,
    "measurements": MEASUREMENT_FIELDS,
    "findings": FINDING_FIELDS,
    "assays": ASSAY_FIELDS,
    "meta_analyses": META_ANALYSIS_FIELDS,
}
TABLE_KEYS = {
    "studies": "study_id",
    "measurements": "measurement_id",
    "findings": "finding_id",
    "assays": "assay_id",
    "meta_analyses": "ma_id",
}
TABLE_TITLES = {
    "studies": "Studies: one row per publication",
    "measurements": "Measurements: one row per reported concentration of one analyte in one group",
    "findings": "Findings: one row per reported comparison or association",
    "assays": "Assays: one row per assay kit (what it detects, LOD, range, source)",
    "meta_analyses": "Published meta-analyses: one row per pooled result of a systematic review",
}

#: The dataset's tables, in build order: the shared fact the build, the loader, the upload and the exports read.
TABLE_NAMES: tuple[str, ...] = tuple(TABLE_FIELDS)
#: The command that rebuilds the Parquet files from the curated sources (named in every load error).
REBUILD_COMMAND = "make data"


def content_hash(data: bytes) -> str:
    """A file's content hash as a Frictionless Data Package writes it ('sha256:<hex>')."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


PANDAS_DTYPE = {"string": "string", "int": "Int64", "float": "Float64", "bool": "boolean"}

YEAR_MIN, YEAR_MAX = 1950, 2100
#: surname + year (+ letter); a study whose year no page printed is surname + 'nd' (no date) (+ letter).
STUDY_ID_PATTERN = r"^[a-z]+(?:[0-9]{4}|nd)[a-z]{0,2}$"
PMID_PATTERN = r"^[0-9]{1,9}$"
#: No spaces, [ ] < > or unbalanced parentheses, so a DOI can never close or open a Markdown link or HTML tag.
#: Balanced groups such as Elsevier's SICI-style '10.1016/s8756-3282(03)00090-5' stay valid.
DOI_PATTERN = r"^10\.[0-9]{4,9}/(?:[^\s()\[\]<>]|\([^\s()\[\]<>]*\))+$"
ASSAY_ID_PATTERN = r"^[a-z0-9]+(_[a-z0-9]+)*$"


def _column(field: Field) -> pa.Column:
    checks: list[pa.Check] = []
    if field.vocabulary:
        allowed = list(VOCABULARIES[field.vocabulary])
        checks.append(pa.Check.isin(allowed, error=f"must be one of: {', '.join(allowed)}"))
    return pa.Column(PANDAS_DTYPE[field.dtype], checks=checks, nullable=field.nullable)


#: Bidirectional override and isolate controls: they make text display differently from what is stored
#: (a picker could show a title that is not the one kept), so no text column may hold them.
BIDI_CONTROLS = "[\u202a-\u202e\u2066-\u2069]"


def _invisible_characters() -> str:
    """A regex character class of characters that show nothing: spaces, controls, format characters
    (zero-width space/joiners, word joiner, BOM, bidi marks, tags) and blank letters (Hangul fillers, the
    blank Braille pattern)."""
    blank_letters = {0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800}
    invisible = [
        c
        for c in [*range(0x10000), *range(0xE0000, 0xE0080)]
        if unicodedata.category(chr(c)) in ("Cc", "Cf", "Zs", "Zl", "Zp") or c in blank_letters
    ]
    ranges, start = [], invisible[0]
    for previous, current in itertools.pairwise([*invisible, -1]):
        if current != previous + 1:
            ranges.append(re.escape(chr(start)) + ("-" + re.escape(chr(previous)) if previous > start else ""))
            start = current
    return "[" + "".join(ranges) + "]"


_INVISIBLE = _invisible_characters()
_invisible_characters_re = re.compile(_INVISIBLE)
#: A character that shows something: anything not in the invisible class.
VISIBLE_CHARACTER = "[^" + _INVISIBLE[1:]
NO_VISIBLE_CHARACTER = "must not be blank (it holds no visible character)"
BIDI_RULE = (
    "must not hold bidirectional control characters (U+202A-U+202E, U+2066-U+2069): they make text display "
    "differently from what is stored"
)


def has_visible_character(text: str) -> bool:
    """Whether text shows at least one character (not only spaces, zero-width or other invisible ones)."""
    return re.search(VISIBLE_CHARACTER, text) is not None


def show_invisible(text: str) -> str:
    """Text with each invisible character other than a plain space written as <U+XXXX>, for messages."""
    return re.sub(
        _invisible_characters_re, lambda m: m.group() if m.group() == " " else f"<U+{ord(m.group()):04X}>", text
    )


def _non_blank(series):
    return series.isna() | series.str.contains(VISIBLE_CHARACTER, regex=True)


def _no_bidi_controls(series):
    return series.isna() | ~series.str.contains(BIDI_CONTROLS, regex=True)


def _table_schema(table: str) -> pa.DataFrameSchema:
    columns = {f.name: _column(f) for f in TABLE_FIELDS[table]}
    key = TABLE_KEYS[table]
    columns[key] = pa.Column(
        "string",
        checks=[pa.Check(_non_blank, element_wise=False, error=NO_VISIBLE_CHARACTER)],
        unique=True,
        report_duplicates="all",
    )
    for name, field in ((f.name, f) for f in TABLE_FIELDS[table]):
        if field.dtype == "string" and not field.nullable and name != key:
            columns[name].checks.append(pa.Check(_non_blank, error=NO_VISIBLE_CHARACTER))
        if field.dtype == "string":
            columns[name].checks.append(pa.Check(_no_bidi_controls, error=BIDI_RULE))
    return pa.DataFrameSchema(columns, strict=True, ordered=True, coerce=False, name=table)


def _add_checks(schema: pa.DataFrameSchema, **checks: list[pa.Check]) -> pa.DataFrameSchema:
    for name, extra in checks.items():
        schema.columns[name].checks.extend(extra)
    return schema


#: Upper bound of every count (people, groups): larger than any cohort, small enough to be read as a count.
COUNT_MAX = 10_000_000
#: Upper bound of the magnitude of every concentration, spread, limit and effect value, in any unit.
MAGNITUDE_MAX = 1e9
_COUNT = (1, COUNT_MAX)
_NON_NEGATIVE = (0, MAGNITUDE_MAX)
_SIGNED = (-MAGNITUDE_MAX, MAGNITUDE_MAX)

#: Every numeric column's range, inclusive: a value must be a finite number inside it (build, load, upload,
#: import). ``test_every_numeric_column_has_a_stated_range`` checks that no numeric column is left out.
NUMERIC_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "studies": {"ref_no": (1, 59), "year": (YEAR_MIN, YEAR_MAX), "n_participants": _COUNT},
    "measurements": {
        "n": _COUNT,
        **dict.fromkeys(("value", "sd", "se", "q1", "q3", "min", "max"), _NON_NEGATIVE),
        "ci_low": _SIGNED,
        "ci_high": _SIGNED,
        "pct_undetectable": (0, 100),
    },
    "findings": {
        "n": _COUNT,
        "effect_value": _SIGNED,
        "ci_low": _SIGNED,
        "ci_high": _SIGNED,
        "p_value": (0, 1),
    },
    "assays": {
        "calibrator_mw_kda": (1, 1000),
        **dict.fromkeys(("lod", "range_low", "range_high"), _NON_NEGATIVE),
    },
    "meta_analyses": {
        "year": (YEAR_MIN, YEAR_MAX),
        "estimate": _SIGNED,
        "ci_low": _SIGNED,
        "ci_high": _SIGNED,
        "p_value": (0, 1),
        "k_studies": _COUNT,
        "n_participants": _COUNT,
        "i2": (0, 100),
    },
}


def _bound(number: float) -> str:
    """A bound as people write it: 1950, 100, 10,000,000, 0.5."""
    if not float(number).is_integer():
        return f"{number:g}"
    return f"{int(number):,}" if abs(number) >= 10_000 else str(int(number))


def range_rule(low: float, high: float) -> str:
    """The rule a value outside [low, high] breaks, in words that name the range."""
    if (low, high) == _COUNT:
        return f"must be a positive count (at most {_bound(high)})"
    if (low, high) == _NON_NEGATIVE:
        return f"must not be negative (and at most {_bound(high)})"
    return f"must be between {_bound(low)} and {_bound(high)}"


STUDIES_SCHEMA = _add_checks(
    _table_schema("studies"),
    study_id=[pa.Check.str_matches(STUDY_ID_PATTERN, error="must be surname+year slug, e.g. schett2004")],
    pmid=[pa.Check.str_matches(PMID_PATTERN, error="must be digits only")],
    doi=[
        pa.Check.str_matches(DOI_PATTERN, error="must start with '10.' and hold no spaces, [ ] < > or unbalanced ( )")
    ],
)
STUDIES_SCHEMA.columns["ref_no"].unique = True
STUDIES_SCHEMA.columns["doi"].checks.append(
    pa.Check(lambda s: s.isna() | (s == s.str.lower()), error="must be lowercase")
)

MEASUREMENTS_SCHEMA = _add_checks(
    _table_schema("measurements"),
    measurement_id=[
        pa.Check.str_matches(r"^[a-z]+(?:[0-9]{4}|nd)[a-z]{0,2}-m[0-9]+$", error="must be '<study_id>-m<k>'")
    ],
)
FINDINGS_SCHEMA = _add_checks(
    _table_schema("findings"),
    finding_id=[pa.Check.str_matches(r"^[a-z]+(?:[0-9]{4}|nd)[a-z]{0,2}-f[0-9]+$", error="must be '<study_id>-f<k>'")],
)

STUDIES_SCHEMA.columns["analytes_measured"].checks.append(
    pa.Check.str_matches(r"^(rankl|opg)(;(rankl|opg))?$", error="must be rankl, opg or rankl;opg")
)
META_ANALYSES_SCHEMA = _add_checks(
    _table_schema("meta_analyses"),
    ma_id=[
        pa.Check.str_matches(
            r"^[a-z]+(?:[0-9]{4}|nd)[a-z]?-p[0-9]+$", error="must be '<surname><year>-p<k>' (nd: no year printed)"
        )
    ],
    pmid=[pa.Check.str_matches(PMID_PATTERN, error="must be digits only")],
    doi=[
        pa.Check.str_matches(DOI_PATTERN, error="must start with '10.' and hold no spaces, [ ] < > or unbalanced ( )")
    ],
)
ASSAYS_SCHEMA = _add_checks(
    _table_schema("assays"),
    assay_id=[pa.Check.str_matches(ASSAY_ID_PATTERN, error="must be a lowercase slug (letters, digits, _)")],
    analyte=[pa.Check.isin(list(MEASURED_ANALYTE), error="must be rankl or opg")],
)

SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "studies": STUDIES_SCHEMA,
    "measurements": MEASUREMENTS_SCHEMA,
    "findings": FINDINGS_SCHEMA,
    "assays": ASSAYS_SCHEMA,
    "meta_analyses": META_ANALYSES_SCHEMA,
}
for _table, _ranges in NUMERIC_RANGES.items():
    for _name, (_low, _high) in _ranges.items():
        SCHEMAS[_table].columns[_name].checks.append(pa.Check.in_range(_low, _high, error=range_rule(_low, _high)))


def column_names(table: str) -> list[str]:
    """Contract column names of a table, in order."""
    return [f.name for f in TABLE_FIELDS[table]]


def data_dictionary() -> pd.DataFrame:
    """Every column of every table: type, whether required, allowed codes and description."""
    rows = []
    for table, table_fields in TABLE_FIELDS.items():
        for f in table_fields:
            codes = ", ".join(VOCABULARIES[f.vocabulary]) if f.vocabulary else ""
            if f.name in NUMERIC_RANGES[table]:
                codes = "{} to {}".format(*map(_bound, NUMERIC_RANGES[table][f.name]))
            rows.append((table, f.name, f.dtype, "no" if f.nullable else "yes", codes, f.description))
    return pd.DataFrame(rows, columns=["table", "column", "type", "required", "allowed values", "description"])
