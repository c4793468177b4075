"""Issue 19, item 6 in the app: after an upload the footer's dataset line stays true, with the visitor's rows
beside it, and a visitor's own study offers no *Report a problem* link."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from rankl_atlas import upload
from rankl_atlas.data import load_metadata, load_tables
from rankl_atlas.ui import StateKey
from tests.app.conftest import APP, switch_to
from tests.conftest import DATA

ATLAS = load_tables(DATA)


def with_template_uploaded(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.session_state[StateKey.VISITOR_RESULT] = upload.validate_upload(
        upload.read_upload("t.csv", upload.template_csv()), ATLAS
    )
    at.run()
    return at


def link_labels(at: AppTest) -> list[str]:
    return [element.proto.label for element in at.get("link_button")]


def test_footer_after_an_upload_counts_the_dataset_alone_and_your_rows_beside_it():
    at = with_template_uploaded()
    assert not at.exception
    counts = f"{len(ATLAS.studies)} studies, {len(ATLAS.measurements)} measurements, {len(ATLAS.findings)} findings"
    footer = next(c.value for c in at.caption if c.value.startswith("RANKL Atlas dataset v"))
    assert footer.startswith(
        f"RANKL Atlas dataset v{load_metadata(DATA)['version']} ({counts}) + 4 of your rows (this session only, not part of the dataset). "
    )


def test_a_visitors_own_study_offers_no_report_a_problem_link():
    at = with_template_uploaded({"study": "example2020"})
    switch_to(at, "studies").run()
    assert not at.exception
    assert any("Replace with the study's title" in s.value for s in at.subheader)  # the visitor's study is open
    assert "Report a problem with this study" not in link_labels(at)
    at = with_template_uploaded({"study": "schett2004"})
    switch_to(at, "studies").run()
    assert "Report a problem with this study" in link_labels(at)
