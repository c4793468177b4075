"""About the data: the biology in brief, data dictionary, provenance, licence, citation, changelog."""

import streamlit as st

from rankl_atlas import charts, search_log, ui
from rankl_atlas.schema import data_dictionary
from rankl_atlas.ui import Context


def render(ctx: Context) -> None:
    """Draw the About the data page for the context's filters (layout only)."""
    meta = ctx.metadata
    st.title("About the data")

    st.header("RANKL and OPG in brief")
    st.markdown(
        "- **RANKL** (receptor activator of NF-κB ligand) drives the formation and activity of bone-resorbing "
        "osteoclasts. It is made as a membrane protein by osteoblast-lineage cells, osteocytes and activated immune "
        "cells; proteases can shed it into a **soluble form (sRANKL)**, and some cells secrete it.\n"
        "- **Osteoprotegerin (OPG)** is a soluble decoy receptor: it binds RANKL and blocks it. In blood, sRANKL "
        "therefore exists **free** and **bound to OPG**.\n"
        "- **Free versus total assays**: some ELISA kits detect only free sRANKL, others total sRANKL (free plus "
        "OPG-bound). Their values differ by orders of magnitude and are not interchangeable.\n"
        "- **Detection**: circulating sRANKL is often near or below the detection limit of a kit, so studies may report "
        "a share of undetectable samples rather than a level.\n"
        "- **Blood is not bone**: serum RANKL reflects production and clearance in many tissues; whether it mirrors RANKL "
        "in bone is exactly the review's question (see the Evidence map, rows *relates to*)."
    )

    st.header("Provenance")
    st.markdown(
        "The corpus is the reference list of Findlay DM, Atkins GJ. *Relationship between serum RANKL and RANKL in bone.* "
        "Osteoporos Int 2011;22:2597–2602. Each study was curated from the PubMed abstract or open full text we could "
        "read; the page read is recorded in `source_url`, and `evidence_level` says whether it was the abstract, the "
        "full text, or nothing (`citation_only`). PMIDs and DOIs are recorded only where we saw them. Values are stored "
        "exactly as published (value, spread, unit, assay); unknown is empty, never guessed. Summaries are our own words."
    )
    st.header("Assays")
    st.markdown(
        "The **kit catalogue** (`assays.parquet`, *Assays* page, tab *Kit catalogue*) lists each assay with what its source says it detects, "
        "its method, limit of detection, range and unit; every fact comes from a page we read (a kit insert, a vendor "
        "page, or a paper that names its kit), and the rest is blank. Measurements and findings point to a kit with "
        "`assay_id` when the paper names it (`assay_attribution = stated`) or when we can infer it (`inferred`, with the "
        "reason in the notes). Most abstracts name no kit: those rows say *not reported*, and the kit filter offers that "
        "as a choice of its own."
    )

    st.header("What 'disease' means here")
    st.markdown(
        "The **Disease** filter and every chart row use the **study's condition group**: a fracture cohort's findings "
        "count under *Fracture* even when the group measured was healthy at baseline. Each measurement and finding "
        "keeps its own group's condition (e.g. the controls' *Healthy population*) in its `condition_group` column, "
        "shown in the tables and downloads."
    )

    st.header("Coverage of the literature")
    st.markdown(
        "Beyond the review's 59 references, the atlas holds the human studies of circulating RANKL/OPG found by a "
        "systematic search (**Source** filter: *the review's references* / *later literature*).\n\n"
        "**What was searched, in plain words.** This workplace cannot query PubMed or Embase. The search ran over a "
        "large stored collection of public web pages: PubMed abstract pages, PubMed Central full texts, publisher pages "
        "and mirrors of them, searched by meaning with short keyword queries. For each page found, the beginning of the "
        "page could be read, which is usually the title, the citation line and the abstract; tables deep in a full text "
        "mostly could not. **What that means for completeness**: a study whose pages are not in that collection cannot "
        "be in the atlas, so coverage is good where many pages exist and thin elsewhere; results appear as the abstracts "
        "print them. Every query, every record screened and every decision is logged, so the gaps can be checked."
    )
    if ctx.metadata.get("repository"):
        st.markdown(
            f"[Read the search protocol]({ctx.metadata['repository'].rstrip('/')}/blob/main/data/search/protocol.md)"
        )
    logs = ui.search_logs(ctx)
    if logs is None:
        st.caption("This data folder has no search logs.")
    else:
        with st.container():
            ui.chart(
                lambda: charts.build_prisma_flow(search_log.prisma_counts(logs)),
                ctx,
                key="prisma",
                alt="PRISMA 2020-style flow of the literature search, from the screening log.",
                data=lambda: search_log.exclusion_table(logs),
                follows_filters=False,
            )
        with st.container():
            curve = ui.shared(ctx, "saturation_curve", lambda: search_log.saturation_curve(logs))
            ui.chart(
                lambda: charts.build_saturation_curve(curve),
                ctx,
                key="saturation",
                alt="Cumulative included studies and candidate records by query: a flattening curve means new queries "
                "stopped finding new studies.",
                data=curve,
                follows_filters=False,
            )
        c1, c2, c3 = st.columns(3)
        with c1:
            ui.search_file_download(ctx, "protocol.md", "Protocol (Markdown)", "text/markdown")
        with c2:
            ui.search_file_download(ctx, "queries.csv", "Query log (CSV)", "text/csv")
        with c3:
            ui.search_file_download(ctx, "screening.csv", "Screening log (CSV)", "text/csv")

    st.header("Licence and how to cite")
    st.markdown(
        f"The extracted facts are published under **CC BY 4.0**. Cite as: *RANKL Atlas dataset, version "
        f"{meta.get('version', '?')}*, and cite the original studies for their results (RIS and BibTeX of the filtered studies under *Download "
        "exactly these rows* on the Studies, Evidence map and Concentrations pages)."
    )
    st.header("Data dictionary")
    st.caption("Generated from the schema that validates the dataset at build time and when the app loads it.")
    ui.table(data_dictionary, ctx, key="data_dictionary")
    st.header("Changelog")
    st.markdown(ui.changelog_text(ctx))
