"""The one package that imports streamlit: state, loading, sidebar, widgets, visitor rows, footer.

Pages and app.py import from here; everything else in rankl_atlas is pure.
"""

from rankl_atlas.ui.footer import changelog_text, finish_run, footer, search_file_download, search_logs, view_url
from rankl_atlas.ui.loading import GC_FREEZE, load_dataset
from rankl_atlas.ui.sidebar import sidebar_filters
from rankl_atlas.ui.state import (
    Context,
    StateKey,
    current_filters,
    init_from_url,
    keep_in_url,
    page_param,
    write_url,
)
from rankl_atlas.ui.visitor import (
    VisitorState,
    accept_upload,
    clear_upload,
    upload_generation,
    uploaded_file_id,
    visitor_state,
)
from rankl_atlas.ui.widgets import (
    ANSWER_COLUMN_CONFIG,
    CATALOGUE_COLUMN_CONFIG,
    FINDING_COLUMN_CONFIG,
    MAX_TABLE_ROWS,
    PLOTLY_CONFIG,
    REPORT_COLUMN_CONFIG,
    STUDIES_COLUMN_CONFIG,
    chart,
    count_line,
    csv_bytes,
    downloads,
    export_context,
    fragment,
    heading_text,
    issues_table,
    nothing_left,
    table,
    url_choice,
)

__all__ = [
    "StateKey",
    "Context",
    "page_param",
    "init_from_url",
    "keep_in_url",
    "write_url",
    "current_filters",
    "GC_FREEZE",
    "load_dataset",
    "sidebar_filters",
    "STUDIES_COLUMN_CONFIG",
    "FINDING_COLUMN_CONFIG",
    "REPORT_COLUMN_CONFIG",
    "CATALOGUE_COLUMN_CONFIG",
    "ANSWER_COLUMN_CONFIG",
    "MAX_TABLE_ROWS",
    "PLOTLY_CONFIG",
    "fragment",
    "url_choice",
    "table",
    "heading_text",
    "count_line",
    "nothing_left",
    "chart",
    "export_context",
    "downloads",
    "issues_table",
    "csv_bytes",
    "VisitorState",
    "visitor_state",
    "accept_upload",
    "uploaded_file_id",
    "upload_generation",
    "clear_upload",
    "finish_run",
    "view_url",
    "footer",
    "search_logs",
    "search_file_download",
    "changelog_text",
]
