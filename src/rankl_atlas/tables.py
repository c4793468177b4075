"""Tables shaped for display: the studies table, one study's detail, links (pure)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote, quote_plus, urlparse

import numpy as np
import pandas as pd

from rankl_atlas.data import Tables
from rankl_atlas.export import kits_by_study, report_problem_url
from rankl_atlas.labels import study_label_map, year_text
from rankl_atlas.schema import ANALYTE, ORIGIN_VISITOR, TABLE_FIELDS, TABLE_KEYS, VOCABULARIES, label

PUBMED = "https://pubmed.ncbi.nlm.nih.gov/"
DOI_RESOLVER = "https://doi.org/"


def pubmed_url(pmid: str) -> str:
    """The PubMed page of a PMID (URL-encoded)."""
    return PUBMED + quote(str(pmid), safe="") + "/"


def doi_url(doi: str) -> str:
    """The doi.org link of a DOI (URL-encoded; '/' kept)."""
    return DOI_RESOLVER + quote(str(doi), safe="/")


def title_search_url(title: str) -> str:
    """A PubMed search for a title."""
    return PUBMED + "?term=" + quote_plus(str(title))


def study_links(study: pd.Series) -> dict[str, str]:
    """PubMed and DOI links when known; otherwise a PubMed search for the title (every identifier URL-encoded)."""
    links = {}
    if isinstance(study.get("pmid"), str) and study["pmid"]:
        links["PubMed"] = pubmed_url(study["pmid"])
    if isinstance(study.get("doi"), str) and study["doi"]:
        links["DOI"] = doi_url(study["doi"])
    if "PubMed" not in links:  # a study without PMID (with or without a DOI) can still be found on PubMed
        links["Search PubMed by title"] = title_search_url(study["title"])
    return links


def link_column(studies: pd.DataFrame) -> pd.Series:
    """One link per study (the study_links rule): PubMed if a PMID is known, else DOI, else a title search."""
    links = [
        pubmed_url(pmid)
        if isinstance(pmid, str) and pmid
        else doi_url(doi)
        if isinstance(doi, str) and doi
        else title_search_url(title)
        for pmid, doi, title in zip(
            studies["pmid"].astype(object), studies["doi"].astype(object), studies["title"], strict=True
        )
    ]
    return pd.Series(links, index=studies.index, dtype=object)


def source_links(study: pd.Series) -> dict[str, str]:
    """The page(s) the curation read, each named by its site (host without 'www.'); raw IP hosts say so."""
    raw = study.get("source_url")
    if not isinstance(raw, str) or not raw.strip():
        return {}
    links = {}
    for url in (u.strip() for u in raw.split("|")):
        if not url.startswith(("http://", "https://")):
            continue
        host = urlparse(url).hostname or url
        name = "PubMed mirror (IP address)" if re.fullmatch(r"[0-9.]+", host) else host.removeprefix("www.")
        links[f"{name}" if name not in links else f"{name} ({len(links) + 1})"] = url
    return links


MAX_PICKER_OPTIONS = 1000


def picker_options(studies: pd.DataFrame, chosen: str | None) -> list[str]:
    """Study ids for the picker: the filtered studies (at most MAX_PICKER_OPTIONS), plus the chosen one."""
    ids = list(studies["study_id"].head(MAX_PICKER_OPTIONS))
    if chosen and chosen not in ids:
        ids.insert(0, chosen)
    return ids


def study_choice_labels(studies: pd.DataFrame) -> dict[str, str]:
    """study_id -> 'Surname Year — title (ref N)' for pickers."""
    out = {}
    names = study_label_map(studies)
    for row in studies.itertuples(index=False):
        ref = f" (ref {row.ref_no})" if pd.notna(row.ref_no) else ""
        title = str(row.title)
        out[row.study_id] = f"{names[row.study_id]} — {title[:70]}{'…' if len(title) > 70 else ''}{ref}"
    return out


def studies_table(studies: pd.DataFrame, measurements: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """One row per study, reading columns first: study (author year), title, disease, analytes, n, assay, link;
    then journal, PMID, year, kind, source, evidence, reference number and the permalink id."""
    rows = pd.concat([measurements[["study_id", "assay_vendor"]], findings[["study_id", "assay_vendor"]]])
    shown = pd.Index(studies["study_id"])
    rows = rows[shown.get_indexer(rows["study_id"]) >= 0]  # only the studies in this table
    measured = studies["analytes_measured"].fillna("").str.split(";")
    vendors: dict[str, dict] = {}  # study -> its named vendors in order; one pass (a function per study was slow)
    for study_id, vendor in zip(rows["study_id"].tolist(), rows["assay_vendor"].tolist(), strict=True):
        if not pd.isna(vendor) and vendor != "not_reported":
            vendors.setdefault(study_id, {}).setdefault(vendor)
    assays = {study_id: ", ".join(label("assay_vendor", v) for v in seen) for study_id, seen in vendors.items()}
    table = pd.DataFrame(
        {
            "study": study_label_map(studies).to_numpy(),
            "title": studies["title"].to_numpy(),
            "disease": studies["condition_group"].map(lambda c: label("condition_group", c)).to_numpy(),
            "analytes": measured.map(lambda codes: " + ".join(ANALYTE[a] for a in ANALYTE if a in codes)).to_numpy(),
            "n": studies["n_participants"].to_numpy(),
            "assay": np.array([assays.get(study_id, "") for study_id in studies["study_id"].tolist()], dtype=object),
            "link": link_column(studies).to_numpy(),
            "journal": studies["journal"].to_numpy(),
            "pmid": studies["pmid"].to_numpy(),
            "year": studies["year"].to_numpy(),
            "kind": studies["study_kind"].map(lambda c: label("study_kind", c)).to_numpy(),
            "source": studies["source_set"].map(lambda c: label("source_set", c)).to_numpy(),
            "evidence": studies["evidence_level"].map(lambda c: label("evidence_level", c)).to_numpy(),
            "ref_no": studies["ref_no"].to_numpy(),
            "study_id": studies["study_id"].to_numpy(),
        }
    )
    if "origin" in studies:
        table.insert(0, "origin", studies["origin"].to_numpy())
    return table


@dataclass(frozen=True)
class StudyDetail:
    """Everything the detail view shows for one study."""

    study: pd.Series
    label: str
    citation: str
    facts: pd.DataFrame
    measurements: pd.DataFrame
    findings: pd.DataFrame


FACT_FIELDS = [
    ("ref_no", "Reference no. in the review", None),
    ("study_kind", "Kind", "study_kind"),
    ("design", "Design", "design"),
    ("species", "Species", None),
    ("condition", "Condition (as named)", None),
    ("condition_group", "Disease group", "condition_group"),
    ("n_participants", "Participants", None),
    ("circulating_measured", "Circulating RANKL/OPG measured", None),
    ("evidence_level", "What we read", "evidence_level"),
    ("curation_status", "Curation", "curation_status"),
    ("pmid", "PMID", None),
    ("doi", "DOI", None),
    ("source_set", "Source", "source_set"),
    ("analytes_measured", "Analytes measured in blood", None),
]


def _fact(study: pd.Series, name: str, vocabulary: str | None) -> str:
    value = study[name]
    if vocabulary:
        return label(vocabulary, value)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if name == "analytes_measured":
        return ", ".join(ANALYTE[code] for code in str(value).split(";") if code in ANALYTE)
    return str(value)


#: Detail tables lead with what a reader checks first, so it fits at 1280 px.
MEASUREMENT_LEAD = [
    "measurement_id",
    "group_label",
    "analyte",
    "statistic",
    "value",
    "sd",
    "se",
    "q1",
    "q3",
    "min",
    "max",
    "unit",
    "n",
]
FINDING_LEAD = [
    "finding_id",
    "comparison",
    "direction",
    "p_text",
    "effect_measure",
    "effect_value",
    "ci_low",
    "ci_high",
    "n",
    "analyte",
]


def lead_with(frame: pd.DataFrame, lead: list[str]) -> pd.DataFrame:
    """The same columns with the lead ones first (those present)."""
    first = [c for c in lead if c in frame.columns]
    return frame[first + [c for c in frame.columns if c not in first]]


def text_or_blank(value: object) -> str:
    """A text cell as text, '' when empty (NA, None, NaN)."""
    return value if isinstance(value, str) else ""


def citation_text(study: pd.Series) -> str:
    """'Authors (Year) Title. Journal Volume:Pages', with what no page printed said in words, never '<NA>'."""
    authors = study["authors"] if isinstance(study["authors"], str) else "[authors not printed on the pages read]"
    year = year_text(study["year"]) or "year not stated"
    journal = study["journal"] if isinstance(study["journal"], str) else "[journal not printed]"
    volume = f" {study['volume']}" if isinstance(study["volume"], str) and study["volume"] else ""
    pages = f":{study['pages']}" if isinstance(study["pages"], str) and study["pages"] else ""
    return f"{authors} ({year}) {study['title']}. {journal}{volume}{pages}"


def study_detail(tables: Tables, study_id: str) -> StudyDetail:
    """One study's facts and all its measurement and finding rows."""
    study = tables.studies.set_index("study_id").loc[study_id]
    study = pd.concat([pd.Series({"study_id": study_id}), study])
    facts = pd.DataFrame(
        [(title, _fact(study, name, vocab)) for name, title, vocab in FACT_FIELDS], columns=["field", "value"]
    )
    citation = citation_text(study)
    kits = kits_by_study(
        tables.measurements[tables.measurements["study_id"] == study_id],
        tables.findings[tables.findings["study_id"] == study_id],
    ).get(study_id, "not reported")
    facts = pd.concat([facts, pd.DataFrame([("Assay kit(s) (attribution)", kits)], columns=["field", "value"])])
    return StudyDetail(
        study=study,
        label=str(study_label_map(tables.studies[tables.studies["study_id"] == study_id]).iloc[0]),
        citation=citation,
        facts=facts,
        measurements=lead_with(
            tables.measurements[tables.measurements["study_id"] == study_id].drop(columns=["study_id"]),
            MEASUREMENT_LEAD,
        ),
        findings=lead_with(
            tables.findings[tables.findings["study_id"] == study_id].drop(columns=["study_id"]), FINDING_LEAD
        ),
    )


def kit_option_labels(tables: Tables) -> dict[str, str]:
    """assay_id -> 'Vendor · kit name (k rows)' for the kit filter; 'not_reported' -> rows without a named kit."""
    rows = pd.concat([tables.measurements["assay_id"], tables.findings["assay_id"]])
    counts = rows.value_counts()
    out = {}
    for kit in tables.assays.itertuples(index=False):
        out[kit.assay_id] = (
            f"{label('assay_vendor', kit.vendor)} · {kit.kit_name} ({int(counts.get(kit.assay_id, 0))} rows)"
        )
    out["not_reported"] = f"No kit named ({int(rows.isna().sum())} rows)"
    return out


def labelled(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """A table for display: vocabulary codes shown as labels, empty text cells blank (numbers stay numbers; pages show
    their empty cells blank with st.dataframe's placeholder)."""
    vocabularies = {f.name: f.vocabulary for f in TABLE_FIELDS[table] if f.vocabulary}
    out = frame.copy()
    for column in out.columns:
        if column in vocabularies:
            codes = out[column].astype(object)
            out[column] = codes.map(VOCABULARIES[vocabularies[column]]).fillna(codes).fillna("")  # vectorised
        elif out[column].dtype == object or str(out[column].dtype) == "string":
            out[column] = out[column].astype(object).where(out[column].notna(), "")
    return out


def undetectable_groups(measurements: pd.DataFrame, studies: pd.DataFrame) -> pd.DataFrame:
    """Groups reported only as a share below detection (no value), with their study labels."""
    rows = measurements[measurements["value"].isna()]
    label_of = study_label_map(studies)
    return pd.DataFrame(
        {
            "study": rows["study_id"].map(label_of).to_numpy(),
            "group_label": rows["group_label"].to_numpy(),
            "analyte": rows["analyte"].map(ANALYTE).to_numpy(),
            "n": rows["n"].to_numpy(),
            "pct_undetectable": rows["pct_undetectable"].to_numpy(),
            "assay_vendor": rows["assay_vendor"].map(lambda c: label("assay_vendor", c)).to_numpy(),
            "locator": rows["locator"].fillna("").to_numpy(),
        }
    )


CONCENTRATION_COLUMNS = [
    "study", "group_label", "group_role", "n", "statistic", "value", "sd", "se", "q1", "q3", "min", "max", "unit",
    "spread_kind", "assay_vendor", "assay_id", "assay_attribution", "analyte_form", "specimen", "pct_undetectable",
    "locator",
]  # fmt: skip


@dataclass(frozen=True)
class Headline:
    """The Overview's numbers: what the filters keep, beside the atlas totals."""

    studies: int
    circulating: int
    with_values: int
    measurements: int
    findings: int
    total_studies: int
    total_circulating: int
    by_source: dict[str, int]


def headline_counts(filtered: Tables, atlas: Tables) -> Headline:
    """Counts of the filtered rows and of the whole atlas (circulating = studies measuring blood levels)."""

    def circulating(studies: pd.DataFrame) -> int:
        return int(studies["circulating_measured"].fillna(False).astype(bool).sum())

    return Headline(
        studies=len(filtered.studies),
        circulating=circulating(filtered.studies),
        with_values=int(filtered.measurements.loc[filtered.measurements["value"].notna(), "study_id"].nunique()),
        measurements=len(filtered.measurements),
        findings=len(filtered.findings),
        total_studies=len(atlas.studies),
        total_circulating=circulating(atlas.studies),
        by_source={k: int(v) for k, v in filtered.studies["source_set"].value_counts().items()},
    )


CELL_COLUMNS = [
    "study", "comparison", "direction", "orientation", "effect_measure", "effect_value", "p_text", "n",
    "assay_vendor", "analyte_form", "locator",
]  # fmt: skip


def assay_catalogue(assays: pd.DataFrame) -> pd.DataFrame:
    """The kit catalogue for display: what each kit detects, LOD, range and the source read."""
    unit = assays["unit"].map(lambda c: "" if pd.isna(c) else label("unit", c))

    def number(series: pd.Series) -> pd.Series:
        return series.map(lambda v: "" if pd.isna(v) else f"{float(v):g}")

    return pd.DataFrame(
        {
            "kit": (assays["vendor"].map(lambda c: label("assay_vendor", c)) + " · " + assays["kit_name"]).to_numpy(),
            "analyte": assays["analyte"].map(ANALYTE).to_numpy(),
            "detects": assays["form_detected"].map(lambda c: label("analyte_form", c)).to_numpy(),
            "form_note": assays["form_note"].fillna("").to_numpy(),
            "lod": (number(assays["lod"]) + " " + unit).str.strip().to_numpy(),
            "range": np.where(
                assays["range_low"].notna() & assays["range_high"].notna(),
                number(assays["range_low"]) + "–" + number(assays["range_high"]) + " " + unit,
                "",
            ),
            "method": assays["method"].map(lambda c: label("kit_method", c)).to_numpy(),
            "catalogue": assays["catalogue_numbers"].fillna("").to_numpy(),
            "samples": assays["sample_types"].fillna("").to_numpy(),
            "source": assays["source_url"].str.split(" | ", regex=False).str[0].to_numpy(),
            "source_note": assays["source_note"].to_numpy(),
            "assay_id": assays["assay_id"].to_numpy(),
        }
    )


def undetectable_by_kit(measurements: pd.DataFrame, assays: pd.DataFrame) -> pd.DataFrame:
    """Per kit: groups reported, groups with a share below detection, and the mean share among those."""
    names = assays["vendor"].map(lambda c: label("assay_vendor", c)) + " · " + assays["kit_name"].astype(str)
    by_id = pd.Series(names.to_numpy(), index=assays["assay_id"].to_numpy())
    unnamed = measurements["assay_vendor"].map(lambda c: label("assay_vendor", c) + ", kit not named")
    every = measurements.assign(kit=measurements["assay_id"].map(by_id).fillna(unnamed))
    grouped = every.groupby("kit")
    table = pd.DataFrame(
        {
            "groups": grouped.size(),
            "groups_with_share_undetectable": grouped["pct_undetectable"].count(),
            "mean_pct_undetectable": grouped["pct_undetectable"].mean().round(1),
        }
    ).reset_index()
    return table.sort_values("groups", ascending=False).reset_index(drop=True)


def kit_comparisons(findings: pd.DataFrame, studies: pd.DataFrame) -> pd.DataFrame:
    """Findings that compare two kits on the same samples (comparison_type kit_vs_kit)."""
    rows = findings[findings["comparison_type"] == "kit_vs_kit"]
    label_of = study_label_map(studies)
    return pd.DataFrame(
        {
            "study": rows["study_id"].map(label_of).to_numpy(),
            "kit": rows["assay_id"].to_numpy(),
            "other_kit": rows["assay_id_other"].to_numpy(),
            "analyte": rows["analyte"].map(lambda c: label("analyte", c)).to_numpy(),
            "comparison": rows["comparison"].to_numpy(),
            "effect": rows["effect_measure"].fillna("").to_numpy(),
            "value": rows["effect_value"].to_numpy(),
            "notes": rows["notes"].fillna("").to_numpy(),
        }
    )


def fold(text: object) -> str:
    """Lowercase text without accents or hyphens ('Mezquita-Raya' -> 'mezquita raya'), for loose matching."""
    plain = unicodedata.normalize("NFKD", "" if text is None or text != text else str(text))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).lower()
    return re.sub(r"[-‐‑–—_/.,;:()\[\]]+", " ", plain)


def find_studies(studies: pd.DataFrame, query: str, limit: int = 8) -> pd.DataFrame:
    """Studies whose authors, title, year, PMID or DOI contain every word of the query (accents ignored)."""
    words = fold(query).split()
    if not words:
        return studies.iloc[0:0][["study_id"]].assign(label="")
    haystack = (
        studies["first_author"].fillna("").astype(str)
        + " "
        + studies["authors"].fillna("").astype(str)
        + " "
        + studies["title"].astype(str)
        + " "
        + studies["year"].astype(str)
        + " "
        + studies["pmid"].fillna("").astype(str)
        + " "
        + studies["doi"].fillna("").astype(str)
    ).map(fold)
    doi_query = query.strip().lower()
    mask = pd.Series(True, index=studies.index)
    for word in words:
        mask &= haystack.str.contains(word, regex=False)
    mask |= studies["doi"].fillna("").str.lower().eq(doi_query) | studies["pmid"].fillna("").eq(query.strip())
    found = studies[mask].sort_values(["year", "study_id"], ascending=[False, True]).head(limit)
    return pd.DataFrame(
        {"study_id": found["study_id"].to_numpy(), "label": [study_choice_labels(found)[s] for s in found["study_id"]]}
    )


def with_report_links(
    frame: pd.DataFrame, table: str, repository: str, source_urls: pd.Series | None = None
) -> pd.DataFrame:
    """The rows with a 'report' column first (visible without scrolling): a prefilled new-issue link for each row
    id that names the study's source link; a visitor's own uploaded rows get none (not the atlas's to correct)."""
    key = TABLE_KEYS[table]
    sources = frame["study_id"].map(source_urls) if source_urls is not None and "study_id" in frame else None
    links = [
        report_problem_url(repository, table, str(row_id), source_link="" if src is None or pd.isna(src) else str(src))
        for row_id, src in zip(frame[key], sources if sources is not None else [None] * len(frame), strict=True)
    ]
    links = pd.Series(links, index=frame.index, dtype=object)
    if "origin" in frame:
        links = links.where(frame["origin"] != ORIGIN_VISITOR, None)
    return frame.assign(report=links.to_numpy())[["report", *frame.columns]]


# --- Synthesis tables: labels first, reading columns first -------------------------------------------------


def _ci(low: pd.Series, high: pd.Series, digits: int = 2) -> pd.Series:
    fmt = f"{{:.{digits}f}} to {{:.{digits}f}}"
    return pd.Series(
        [fmt.format(a, b) if pd.notna(a) and pd.notna(b) else "" for a, b in zip(low, high, strict=True)],
        index=low.index,
    )


def labelled_answers(table: pd.DataFrame) -> pd.DataFrame:
    """The pooled case-control answers as a reader's table: the answer first (g, CI, k), then its spread."""
    return pd.DataFrame(
        {
            "Question": table["question"].str.replace(" · cases vs controls", "", regex=False),
            "Pooled g": table["estimate"].round(2),
            "95% CI": _ci(table["ci_low"], table["ci_high"]),
            "Studies (k)": table["k"],
            "Participants": table["n_total"],
            "95% prediction interval": _ci(table["pi_low"], table["pi_high"]),
            "I² (%)": table["i2_percent"].round(0),
            "τ²": table["tau2"].round(3),
            "Kit subgroups differ? (p)": table["kit_subgroup_p"].round(3),
            "Form subgroups differ? (p)": table["form_subgroup_p"].round(3),
            "Not pooled because": table["reason"],
            "Studies": table["studies"],
        }
    )


def labelled_sensitivity(frame: pd.DataFrame) -> pd.DataFrame:
    """Sensitivity or leave-one-out rows for display."""
    first = "analysis" if "analysis" in frame else "left_out"
    return pd.DataFrame(
        {
            "Analysis" if first == "analysis" else "Study left out": frame[first],
            "k": frame["k"],
            "Pooled": frame["estimate"].round(2),
            "95% CI": _ci(frame["ci_low"], frame["ci_high"]),
            "I² (%)": frame["i2_percent"].round(0),
        }
    )


def subgroup_sentence(answer) -> str:
    """One sentence per subgroup test: does the kit (or the form) explain the heterogeneity?"""
    parts = []
    names = {"kit": "the kit", "form": "the analyte form (free / total / not named)"}
    for name, test in answer.subgroup_tests.items():
        verdict = "differ" if test.p < 0.05 else "do not differ detectably"
        parts.append(
            f"Subgroups by {names[name]} {verdict} (Q between = {test.q_between:.2f}, df {test.df}, p = {test.p:.3f})."
        )
    if not parts:
        return "All studies of this question share one kit label and one form: no subgroup test."
    return " ".join(parts)


def labelled_set_aside(frame: pd.DataFrame) -> pd.DataFrame:
    """Comparisons left out of pooling with the reason."""
    return pd.DataFrame(
        {
            "Study": frame["study"],
            "Condition": frame["condition_group"].map(lambda c: label("condition_group", c)),
            "Analyte": frame["analyte"].map(lambda c: label("analyte", c)),
            "Left out because": frame["reason"],
            "Comparison": frame["comparison_id"],
        }
    )


def labelled_correlations(frame: pd.DataFrame) -> pd.DataFrame:
    """Pooled correlations for display: the answer first (r, CI, k), then its spread."""
    return pd.DataFrame(
        {
            "Question": frame["question"],
            "Pooled r": frame["pooled_r"].round(2),
            "95% CI": _ci(frame["ci_low"], frame["ci_high"]),
            "Studies (k)": frame["k"],
            "Participants": frame["n_total"],
            "95% prediction interval": _ci(frame["pi_low"], frame["pi_high"]),
            "I² (%)": frame["i2_percent"].round(0),
            "Conditions differ? (p)": frame["condition_subgroup_p"].round(3),
            "Forms differ? (p)": frame["form_subgroup_p"].round(3),
            "ρ converted to r": frame["rho_converted"],
            "n taken from study size": frame["n_from_study_size"],
            "Not pooled because": frame["reason"],
            "Studies": frame["studies"],
        }
    )


def labelled_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """Pooled ratios for display."""
    return pd.DataFrame(
        {
            "Question": frame["question"],
            "Measure": frame["measure"],
            "Contrast": frame["contrast_text"],
            "Studies (k)": frame["k"],
            "Pooled": frame["pooled"].round(2),
            "95% CI": _ci(frame["ci_low"], frame["ci_high"]),
            "I² (%)": frame["i2_percent"].round(0),
            "Not pooled because": frame["reason"],
            "Studies": frame["studies"],
        }
    )


def labelled_unpooled_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """Ratio findings that are not pooled, with the reason."""
    return pd.DataFrame(
        {
            "Study": frame["study"],
            "Analyte": frame["analyte"].map(lambda c: label("analyte", c)),
            "Measure": frame["effect_measure"].map(lambda c: label("effect_measure", c)),
            "Value": frame["effect_value"],
            "Comparison": frame["comparison"],
            "Not pooled because": frame["reason"],
        }
    )


def labelled_published(frame: pd.DataFrame) -> pd.DataFrame:
    """Published pooled results beside the atlas's own."""
    return pd.DataFrame(
        {
            "Review": frame["review"],
            "Condition (as the review names it)": frame["condition"].fillna(""),
            "Condition group": frame["condition_group"].map(lambda c: label("condition_group", c)),
            "Analyte": frame["analyte"].map(lambda c: label("analyte", c)),
            "Measure": frame["measure"].map(lambda c: label("measure", c)),
            "Published": frame["published"].round(2),
            "Published 95% CI": _ci(frame["published_ci_low"], frame["published_ci_high"]),
            "Published k": frame["published_k"],
            "Atlas": frame["atlas"].astype(float).round(2),
            "Atlas 95% CI": _ci(frame["atlas_ci_low"].astype(float), frame["atlas_ci_high"].astype(float)),
            "Atlas k": frame["atlas_k"],
            "Agreement": frame["agreement"],
            "Source": frame["source_url"].astype(str).str.split(" | ").str[0],
        }
    )


def published_sentence(row: dict) -> str:
    """'Wang 2017 (k = 11): g 1.02 (0.20 to 1.84); atlas (k = 3): … — Agrees: …'."""
    published = (
        f"{row['published']:.2f} ({row['published_ci_low']:.2f} to {row['published_ci_high']:.2f})"
        if pd.notna(row["published"])
        else "no number printed"
    )
    k = "?" if pd.isna(row["published_k"]) else int(row["published_k"])
    return f"- **{row['review']}** (k = {k}): {label('measure', row['measure'])} {published}. {row['agreement']}"


def pool_command(key: dict, settings, filter_params: dict[str, list[str]]) -> str:
    """The command line that prints this view's pooled result (the same function as the page)."""
    parts = [
        "python -m rankl_atlas pool",
        f"--condition {key['condition_group']}",
        f"--analyte {key['analyte']}",
        f"--family {key['family']}",
        "--kit-subgroups",
    ]
    if settings.method != "dl":
        parts.append(f"--method {settings.method}")
    if settings.hartung_knapp:
        parts.append("--hartung-knapp")
    if settings.spread != "exclude":
        parts.append(f"--spread {settings.spread}")
    query = "&".join(f"{k}={quote_plus(v)}" for k, values in filter_params.items() for v in values)
    if query:
        parts.append(f"--filters '{query}'")
    return " ".join(parts)


def bone_tissue_findings(findings: pd.DataFrame, studies: pd.DataFrame) -> pd.DataFrame:
    """Findings that relate circulating levels to RANKL/OPG measured in bone tissue."""
    rows = findings[findings["related_to"] == "bone_tissue_expression"]
    labels = study_label_map(studies)
    return pd.DataFrame(
        {
            "Study": rows["study_id"].map(labels),
            "Analyte": rows["analyte"].map(lambda c: label("analyte", c)),
            "Comparison": rows["comparison"],
            "Direction": rows["direction"].map(lambda c: label("direction", c)),
            "Effect": rows["effect_value"],
        }
    )


# --- Every table a reader sees: labels, never codes ---------------------------------------------------------

#: Column headers for raw names that would otherwise reach a reader (the rest: '_' → space, first letter capital).
READER_LABELS = {
    "study_id": "Study id", "finding_id": "Finding", "measurement_id": "Measurement", "k_studies": "Studies (k)",
    "n": "n", "n_case": "n cases", "n_control": "n controls", "pct_undetectable": "Undetectable (%)",
    "groups_with_share_undetectable": "Groups with a share undetectable", "i2_percent": "I² (%)", "tau2": "τ²",
    "pooled_g": "Pooled g", "g": "Hedges' g", "var_g": "Variance of g", "se": "SE", "sd": "SD", "q1": "Q1",
    "q3": "Q3", "ci_low": "95% CI low", "ci_high": "95% CI high", "p_text": "p (as printed)", "p_value": "p",
    "q": "Q", "assay_vendor": "Kit vendor", "assay_id": "Kit", "analyte_form": "Form (free/total)",
    "group_label": "Group", "group_role": "Role", "effect_measure": "Measure", "effect_value": "Effect",
    "condition_group": "Condition", "related_to": "Relates to", "comparison_family": "Comparison family",
    "spread_basis": "What '±' is", "value_pmol_l": "Value (pmol/L)", "weight_used": "Weight used",
    "paper_p": "Paper's p", "paper_p_text": "Paper's p (as printed)", "lod": "LOD", "url": "URL", "doi": "DOI",
    "pmid": "PMID", "ref_no": "Ref.",
}  # fmt: skip
#: Columns whose cells are vocabulary codes wherever they appear (names are the same in every table).
CODE_COLUMNS = {
    field.name: field.vocabulary for fields in TABLE_FIELDS.values() for field in fields if field.vocabulary
}


def column_label(name: str) -> str:
    """A reader's header for a column name."""
    if name in READER_LABELS:
        return READER_LABELS[name]
    if not re.fullmatch(r"[a-z][a-z0-9_]*", str(name)):
        return str(name)  # already written for a reader
    text = str(name).replace("_", " ")
    return text[:1].upper() + text[1:]


def for_reader(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells holding vocabulary codes shown as their labels (unknown values stay as they are)."""
    out = frame
    for column in frame.columns:
        vocabulary = CODE_COLUMNS.get(column)
        if vocabulary is None or frame[column].dtype.kind in "fiub":
            continue
        if out is frame:
            out = frame.copy()
        codes = out[column].astype(object)
        out[column] = codes.map(VOCABULARIES[vocabulary]).where(codes.isin(list(VOCABULARIES[vocabulary])), codes)
    return out


def labelled_not_drawn(frame: pd.DataFrame) -> pd.DataFrame:
    """Case-control pairs not drawn, for display (the reason first)."""
    return pd.DataFrame(
        {
            "Study": frame["study"],
            "Analyte": frame["analyte"].map(lambda c: label("analyte", c)),
            "Not drawn because": frame["reason"],
            "Cases": frame["case_group"],
            "Controls": frame["control_group"],
        }
    )


def undated_count(studies: pd.DataFrame) -> int:
    """How many studies have no printed year."""
    return int(studies["year"].isna().sum())


def source_url_map(studies: pd.DataFrame) -> pd.Series:
    """study_id -> the page(s) the curation read."""
    return studies.set_index("study_id")["source_url"]


def weights_used(rows: pd.DataFrame) -> tuple[int, int]:
    """How many talk-figure values were converted with a kit's calibrator weight, and how many with the generic."""
    used = rows["weight_used"]
    return int((used == "kit calibrator weight").sum()), int((used == "generic weight (flagged)").sum())


def studies_among(studies: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    """The studies whose id is among ids."""
    return studies[studies["study_id"].isin(ids)]


def first_rows(frame: pd.DataFrame, limit: int) -> pd.DataFrame:
    """At most the first limit rows (a table a browser can draw)."""
    return frame.head(limit)
