"""Tables shaped for display: the studies table, one study's detail, links (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote_plus

import pandas as pd

from rankl_atlas.data import Tables
from rankl_atlas.schema import ANALYTE, label


def study_links(study: pd.Series) -> dict[str, str]:
    """PubMed and DOI links when known; otherwise a PubMed search for the title."""
    links = {}
    if isinstance(study.get("pmid"), str) and study["pmid"]:
        links["PubMed"] = f"https://pubmed.ncbi.nlm.nih.gov/{study['pmid']}/"
    if isinstance(study.get("doi"), str) and study["doi"]:
        links["DOI"] = f"https://doi.org/{study['doi']}"
    if not links:
        links["Search PubMed by title"] = "https://pubmed.ncbi.nlm.nih.gov/?term=" + quote_plus(str(study["title"]))
    return links


def link_column(studies: pd.DataFrame) -> pd.Series:
    """One link per study (vectorised study_links): PubMed if a PMID is known, else DOI, else a title search."""
    search = "https://pubmed.ncbi.nlm.nih.gov/?term=" + studies["title"].astype(str).map(quote_plus)
    doi = "https://doi.org/" + studies["doi"]
    pubmed = "https://pubmed.ncbi.nlm.nih.gov/" + studies["pmid"] + "/"
    return pubmed.fillna(doi).fillna(search)


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
    for row in studies.itertuples(index=False):
        ref = f" (ref {row.ref_no})" if pd.notna(row.ref_no) else ""
        title = str(row.title)
        out[row.study_id] = f"{row.first_author} {row.year} — {title[:70]}{'…' if len(title) > 70 else ''}{ref}"
    return out


def _joined(values: pd.Series, vocabulary: str) -> str:
    codes = [v for v in dict.fromkeys(values.dropna()) if v != "not_reported"]
    return ", ".join(label(vocabulary, v) for v in codes)


def studies_table(studies: pd.DataFrame, measurements: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """One row per study: ref no., first author, year, disease, kind, analytes, assay, n, evidence, link."""
    rows = pd.concat(
        [measurements[["study_id", "analyte", "assay_vendor"]], findings[["study_id", "analyte", "assay_vendor"]]]
    )
    shown = pd.Index(studies["study_id"])
    rows = rows[shown.get_indexer(rows["study_id"]) >= 0]  # only the studies in this table
    by_study = rows.groupby("study_id")
    analytes = by_study["analyte"].agg(lambda s: ", ".join(ANALYTE[a] for a in ANALYTE if a in set(s)))
    assays = by_study["assay_vendor"].agg(lambda s: _joined(s, "assay_vendor"))
    table = pd.DataFrame(
        {
            "ref_no": studies["ref_no"].to_numpy(),
            "first_author": studies["first_author"].to_numpy(),
            "year": studies["year"].to_numpy(),
            "disease": studies["condition_group"].map(lambda c: label("condition_group", c)).to_numpy(),
            "kind": studies["study_kind"].map(lambda c: label("study_kind", c)).to_numpy(),
            "analytes": studies["study_id"].map(analytes).fillna("").to_numpy(),
            "assay": studies["study_id"].map(assays).fillna("").to_numpy(),
            "n": studies["n_participants"].to_numpy(),
            "evidence": studies["evidence_level"].map(lambda c: label("evidence_level", c)).to_numpy(),
            "link": link_column(studies).to_numpy(),
            "title": studies["title"].to_numpy(),
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
    ("source_url", "Source read", None),
    ("curation_notes", "Curator's notes", None),
]


def study_detail(tables: Tables, study_id: str) -> StudyDetail:
    """One study's facts and all its measurement and finding rows."""
    study = tables.studies.set_index("study_id").loc[study_id]
    study = pd.concat([pd.Series({"study_id": study_id}), study])
    facts = pd.DataFrame(
        [
            (title, label(vocab, study[name]) if vocab else ("—" if pd.isna(study[name]) else str(study[name])))
            for name, title, vocab in FACT_FIELDS
        ],
        columns=["field", "value"],
    )
    citation = (
        f"{study['authors']} ({study['year']}) {study['title']}. {study['journal']}"
        f"{' ' + str(study['volume']) if pd.notna(study['volume']) else ''}"
        f"{':' + str(study['pages']) if pd.notna(study['pages']) else ''}"
    )
    return StudyDetail(
        study=study,
        label=f"{study['first_author']} {study['year']}",
        citation=citation,
        facts=facts,
        measurements=tables.measurements[tables.measurements["study_id"] == study_id].drop(columns=["study_id"]),
        findings=tables.findings[tables.findings["study_id"] == study_id].drop(columns=["study_id"]),
    )
