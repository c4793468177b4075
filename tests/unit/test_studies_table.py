"""The Studies page's table: one row per study, each study's named assay vendors joined in order of first mention."""

from __future__ import annotations

import pyarrow as pa

from rankl_atlas import tables
from tests.unit.frames import finding, frame, measurement, study


def test_each_study_lists_its_named_vendors_once_in_order_and_none_for_not_reported():
    studies = frame("studies", [study("a2004"), study("b2010"), study("c2012")])
    measurements = frame(
        "measurements",
        [
            measurement("m1", study_id="a2004", assay_vendor="rnd_systems"),
            measurement("m2", study_id="a2004", assay_vendor="biomedica"),
            measurement("m3", study_id="a2004", assay_vendor="rnd_systems"),
            measurement("m4", study_id="b2010", assay_vendor="not_reported"),
        ],
    )
    findings = frame("findings", [finding("f1", study_id="c2012", assay_vendor="biomedica")])
    table = tables.studies_table(studies, measurements, findings).set_index("study_id")
    # labels as the vocabulary prints them; b2010 names no vendor
    assert table.loc["a2004", "assay"] == "R&D Systems, Biomedica"
    assert table.loc["b2010", "assay"] == ""
    assert table.loc["c2012", "assay"] == "Biomedica"


def test_a_table_where_no_study_names_a_vendor_still_converts_for_display():
    studies = frame("studies", [study("a2004"), study("b2010")])
    measurements = frame("measurements", [measurement("m1", study_id="a2004", assay_vendor="not_reported")])
    table = tables.studies_table(studies, measurements, frame("findings", []))
    assert table["assay"].tolist() == ["", ""]
    pa.Table.from_pandas(table)  # what st.dataframe does; a float column of '' failed here once
