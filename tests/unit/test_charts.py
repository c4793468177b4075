"""Chart builders: the figure shows exactly the data it claims, with fixed colours and study names."""

from __future__ import annotations

from rankl_atlas import charts
from rankl_atlas.schema import COLOURS, DIRECTION_CLASS_COLOUR
from tests.unit.frames import sample_tables

TABLES = sample_tables()


def test_studies_per_year_counts_by_year_and_disease_on_an_integer_axis():
    table = charts.studies_per_year(TABLES.studies)
    assert table[["year", "condition_group", "studies"]].values.tolist() == [
        [2004, "rheumatoid_arthritis", 1],
        [2007, "none", 1],
        [2008, "osteoporosis", 1],
    ]
    fig = charts.build_studies_per_year(TABLES.studies)
    assert fig.layout.barmode == "stack"
    assert fig.layout.xaxis.dtick == 1 and fig.layout.xaxis.tickformat == "d"
    ra = next(t for t in fig.data if t.name == "Rheumatoid arthritis")
    assert list(ra.x) == [2004] and list(ra.y) == [1]
    assert ra.marker.color == COLOURS["condition_group"]["rheumatoid_arthritis"]


def test_evidence_matrix_counts_directions_and_marks_cells_without_findings():
    matrix = charts.evidence_matrix(TABLES.findings, "condition_group")
    cell = matrix[(matrix["row"] == "rheumatoid_arthritis") & (matrix["analyte"] == "rankl")].iloc[0]
    assert (cell["up"], cell["down"], cell["n_findings"], cell["n_studies"]) == (1, 1, 2, 1)
    assert cell["summary_class"] == "mixed"
    empty = matrix[(matrix["row"] == "rheumatoid_arthritis") & (matrix["analyte"] == "opg")].iloc[0]
    assert empty["n_findings"] == 0 and empty["cell_text"] == "–"


def test_evidence_map_puts_ids_in_customdata_and_draws_empty_cells_differently():
    matrix = charts.evidence_matrix(TABLES.findings, "related_to")
    fig = charts.build_evidence_map(matrix, "related_to")
    names = {t.name: t for t in fig.data}
    assert "No findings" in names
    assert names["No findings"].marker.color == charts.EMPTY_CELL_COLOUR
    null = names["No difference / no association"]
    assert null.marker.color == DIRECTION_CLASS_COLOUR["null"]
    assert [list(c[:3]) for c in null.customdata] == [["bmd", "opg", "null"]]
    assert list(null.text) == ["1"]
    down = names["Lower / decrease / negative"]
    assert [list(c[:2]) for c in down.customdata] == [["bmd", "rankl"], ["treatment", "rankl"]]


def test_concentration_rows_take_error_bars_from_the_published_spread():
    rows = charts.concentration_rows(TABLES.measurements, TABLES.studies).set_index("measurement_id")
    assert (rows.loc["alpha2004-m1", "err_minus"], rows.loc["alpha2004-m1", "err_plus"]) == (0.5, 0.5)
    assert rows.loc["alpha2004-m1", "spread_kind"] == "± SD"
    assert (rows.loc["beta2008-m1", "err_minus"], rows.loc["beta2008-m1", "err_plus"]) == (200.0, 200.0)
    assert rows.loc["beta2008-m1", "spread_kind"] == "IQR"
    assert rows.loc["alpha2004-m1", "study"] == "Alpha 2004"


def test_concentration_chart_is_log_scaled_per_unit_with_cases_and_controls_apart():
    rows = charts.concentration_rows(TABLES.measurements, TABLES.studies)
    fig = charts.build_concentration_chart(rows, "rankl", "pmol_l")
    assert fig.layout.yaxis.type == "log"
    assert "pmol/L" in fig.layout.yaxis.title.text
    by_name = {t.name: t for t in fig.data}
    assert set(by_name) == {"Cases", "Controls"}
    assert list(by_name["Cases"].y) == [2.0] and list(by_name["Controls"].y) == [1.0]
    assert by_name["Cases"].customdata[0][1] == "Alpha 2004"
    # the pg/mL mouse value never shares this axis
    assert all(50.0 not in list(t.y) for t in fig.data)
