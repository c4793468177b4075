"""Your data: download the template, upload your own extraction, see it beside the atlas (this session only).

Everything the visitor wrote (file name, cells, messages quoting them) is shown with text elements (st.text,
st.dataframe), never as Markdown, so links, emphasis or HTML in it stay plain text.
"""

import streamlit as st

from rankl_atlas import ui, upload
from rankl_atlas.labels import counted
from rankl_atlas.ui import Context


def render(ctx: Context) -> None:
    """Draw the Your data page for the context's filters (layout only)."""
    st.title("Your data")
    st.markdown(
        "Explore your own extraction beside ours. Download the template, fill one row per study, measurement and finding "
        "(the `table` column says which), and upload it as CSV or Parquet (up to "
        f"{upload.MAX_UPLOAD_MB} MB, {upload.MAX_ROWS} rows). Every cell is checked with the same schema as the atlas. "
        "Valid rows join **your view only**: they are kept in this browser session, never written on the server, and "
        "marked *yours* in tables and charts. Nobody else sees them."
    )
    st.download_button(
        "Download the CSV template",
        upload.template_csv(),
        file_name="rankl-atlas_template.csv",
        mime="text/csv",
        on_click="ignore",
        key="template_csv",
    )

    uploaded = st.file_uploader(
        "Upload your filled template",
        type=["csv", "parquet"],
        max_upload_size=upload.MAX_UPLOAD_MB,
        key=f"visitor_file_{ui.upload_generation()}",
    )
    if uploaded is not None and ui.uploaded_file_id() != uploaded.file_id:
        ui.accept_upload(uploaded.name, uploaded.getvalue(), uploaded.file_id, ctx.atlas)
        st.rerun()

    state = ui.visitor_state()
    if state.error:
        st.error("This file cannot be used; nothing from it was kept:", icon=":material/error:")
        st.text(state.error)
    if state.result is not None:
        kept = state.result.tables
        st.success(
            f"Your rows in this session: {counted(len(kept.studies), 'study', 'studies')}, "
            f"{counted(len(kept.measurements), 'measurement')}, {counted(len(kept.findings), 'finding')}.",
            icon=":material/check_circle:",
        )
        if state.result.issues:
            st.warning(
                f"{len(state.result.issues)} issue(s) found; the rows they name were left out:",
                icon=":material/warning:",
            )
            ui.table(
                ui.issues_table(state.result.issues),
            )
        with st.expander("Your rows, as they were read"):
            for name, frame in kept.as_dict().items():
                st.text(f"{name.capitalize()} ({len(frame)} rows)")
                if not frame.empty:
                    ui.table(frame, key=f"your_{name}")
        st.button("Remove my rows", on_click=ui.clear_upload, key="remove_visitor_rows")
