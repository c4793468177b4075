"""Studies: the filterable table with links, and a detail view per study with a permalink."""

import streamlit as st

from rankl_atlas import export, ui, upload
from rankl_atlas import tables as atlas_tables
from rankl_atlas.ui import Context


def render(ctx: Context) -> None:
    """Draw the Studies page for the context's filters (layout only)."""
    st.title("Studies")
    ui.count_line(ctx)

    studies = ctx.filtered.studies
    ui.init_from_url("study", list(ctx.tables.studies["study_id"]) if "study" not in st.session_state else [])
    options = atlas_tables.picker_options(studies, st.session_state.get("study"))
    labels = atlas_tables.study_choice_labels(atlas_tables.studies_among(ctx.tables.studies, options))
    chosen = st.selectbox(
        "Open one study (its address is a permalink)",
        options,
        format_func=labels.get,
        key="study",
        placeholder="Choose a study…",
    )
    if len(studies) > atlas_tables.MAX_PICKER_OPTIONS:
        st.caption(
            f"The picker lists the first {atlas_tables.MAX_PICKER_OPTIONS} studies kept by the filters; narrow them, or open any study with `?study=<id>`."
        )
    ui.keep_in_url("study", chosen)

    if chosen:
        detail = atlas_tables.study_detail(ctx.tables, chosen)
        st.subheader(ui.heading_text(f"{detail.label}: {detail.study['title']}"), anchor=False)
        if detail.study["curation_status"] == "draft":
            st.warning(
                "Draft: an imported record not yet curated. Drafts are hidden from counts and charts unless "
                "*Include drafts* is on.",
                icon=":material/edit_note:",
            )
        st.text(detail.citation)
        st.caption(f"Permalink: ?study={chosen}")
        links = {
            **atlas_tables.study_links(detail.study),
            **{f"Source: {n}": u for n, u in atlas_tables.source_links(detail.study).items()},
        }
        link_columns = st.columns(3)
        for i, (name, url) in enumerate(links.items()):
            link_columns[i % 3].link_button(name, url, width="stretch")
        repository = str(ctx.metadata.get("repository", ""))
        sources = atlas_tables.source_url_map(ctx.tables.studies)
        st.text(str(detail.study["summary"]))
        if repository and not upload.is_visitors(detail.study):  # a visitor's own study is not ours to correct
            st.link_button(
                "Report a problem with this study",
                export.report_problem_url(
                    repository,
                    "studies",
                    chosen,
                    source_link=atlas_tables.text_or_blank(detail.study.get("source_url")),
                ),
                icon=":material/flag:",
            )
        ui.table(
            detail.facts,
            height=38 + 35 * len(detail.facts),
            column_config={"field": st.column_config.TextColumn("Field", width="small"), "value": "Value"},
        )
        if isinstance(detail.study.get("curation_notes"), str):
            st.markdown("**Curator's notes**")
            st.text(detail.study["curation_notes"])
        st.markdown(f"**Measurements** ({len(detail.measurements)})")
        if detail.measurements.empty:
            st.caption("No circulating concentrations recorded for this study.")
        else:
            ui.table(
                atlas_tables.with_report_links(
                    atlas_tables.labelled(detail.measurements, "measurements"), "measurements", repository, sources
                ),
                column_config=ui.REPORT_COLUMN_CONFIG,
            )
        st.markdown(f"**Findings** ({len(detail.findings)})")
        if detail.findings.empty:
            st.caption("No comparisons or associations recorded for this study.")
        else:
            ui.table(
                atlas_tables.with_report_links(
                    atlas_tables.labelled(detail.findings, "findings"), "findings", repository, sources
                ),
                column_config={**ui.FINDING_COLUMN_CONFIG, **ui.REPORT_COLUMN_CONFIG},
            )
        st.divider()

    st.subheader("All studies kept by the filters")
    if not ui.nothing_left(ctx, studies):
        st.caption(  # also keeps the table's toolbar clear of the heading on a phone
            "One row per study: open a study's page by its link, or pick it above; scroll sideways for journal, "
            "PMID, year, kind, source and evidence."
        )
        if len(studies) > ui.MAX_TABLE_ROWS:
            st.caption(f"Showing the first {ui.MAX_TABLE_ROWS} of {len(studies)} studies; the downloads hold them all.")
        shown = atlas_tables.first_rows(studies, ui.MAX_TABLE_ROWS)
        table = ui.shared(
            ctx,
            "studies_table",
            lambda: atlas_tables.studies_table(shown, ctx.filtered.measurements, ctx.filtered.findings),
        )
        ui.table(
            table,
            column_config=ui.STUDIES_COLUMN_CONFIG,
            height=min(38 + 35 * len(shown), 640),
            key="studies_table",
        )
        ui.downloads(
            ctx,
            {"studies": studies, "measurements": ctx.filtered.measurements, "findings": ctx.filtered.findings},
            key="studies",
        )
