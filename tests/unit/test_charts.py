"""Chart builders: the figure shows exactly the data it claims, with fixed colours and study names."""

from __future__ import annotations

import re

import pandas as pd

from rankl_atlas import charts
from rankl_atlas.schema import COLOURS, DIRECTION_CLASS_COLOUR
from tests.unit.frames import finding, frame, sample_tables

TABLES = sample_tables()


def test_studies_per_year_counts_by_year_and_disease_area_on_an_integer_axis():
    table = charts.studies_per_year(TABLES.studies)
    assert table[["year", "disease_area", "studies"]].values.tolist() == [
        [2004, "joints", 1],
        [2007, "other", 1],
        [2008, "bone", 1],
    ]
    fig = charts.build_studies_per_year(TABLES.studies)
    assert fig.layout.barmode == "stack"
    assert fig.layout.xaxis.dtick == 1 and fig.layout.xaxis.tickformat == "d"
    joints = next(t for t in fig.data if t.name == "Joints & rheumatic")
    assert list(joints.x) == [2004] and list(joints.y) == [1]
    assert joints.marker.color == COLOURS["disease_area"]["joints"]
    # a count axis of at most 10 steps by whole numbers, so no label repeats (0, 0, 0, 1, 1, 1)
    assert fig.layout.yaxis.dtick == 1 and fig.layout.yaxis.tickformat == "d"
    # bars one year wide, legend short enough to sit under the plot
    assert all(t.width == 0.8 for t in fig.data)
    assert len(fig.data) <= 8


def test_evidence_matrix_counts_studies_not_findings_and_marks_cells_without_findings():
    matrix = charts.evidence_matrix(TABLES.findings, TABLES.studies, "condition_group")
    cell = matrix[(matrix["row"] == "rheumatoid_arthritis") & (matrix["analyte"] == "rankl")].iloc[0]
    # alpha2004 has one 'higher' and one 'negative association' finding: one study in each class
    assert (cell["studies_up"], cell["studies_down"], cell["n_findings"], cell["n_studies"]) == (1, 1, 2, 1)
    assert cell["summary_class"] == "mixed"
    empty = matrix[(matrix["row"] == "rheumatoid_arthritis") & (matrix["analyte"] == "opg")].iloc[0]
    assert empty["n_findings"] == 0 and empty["cell_text"] == "–"


def test_one_study_with_many_findings_counts_once_in_its_square():
    tables = sample_tables()
    many = frame("findings", [finding(f"alpha2004-f{k}", direction="higher") for k in range(3, 12)])
    findings = pd.concat([tables.findings, many], ignore_index=True)
    matrix = charts.evidence_matrix(findings, tables.studies, "condition_group")
    cell = matrix[(matrix["row"] == "rheumatoid_arthritis") & (matrix["analyte"] == "rankl")].iloc[0]
    assert cell["studies_up"] == 1 and cell["findings_up"] == 10  # 1 + 9 'higher' findings of one study
    fig = charts.build_evidence_map(matrix)
    up = next(t for t in fig.data if t.name == "Higher / increase / positive" and t.customdata is not None)
    assert list(up.text) == ["1"]
    assert list(up.customdata[0][-2:]) == [1, 10]  # studies, findings (the hover names both)
    assert re.search(r"(?<!%)\{[a-z_]+\}", up.hovertemplate) is None  # every {column} resolved to customdata


def test_disease_rows_use_the_study_condition_not_the_group_condition():
    """Schett 2004's findings are in a healthy population, but the study is a fracture study."""
    tables = sample_tables()
    findings = tables.findings.copy()
    findings.loc[findings["finding_id"] == "alpha2004-f1", "condition_group"] = "healthy_population"
    matrix = charts.evidence_matrix(findings, tables.studies, "condition_group")
    assert "healthy_population" not in set(matrix["row"])
    assert "rheumatoid_arthritis" in set(matrix["row"])


def test_ratio_findings_share_one_column_with_opg_rankl_flipped():
    tables = sample_tables()
    ratios = frame(
        "findings",
        [
            finding("alpha2004-f8", analyte="rankl_opg_ratio", analyte_form="unspecified", direction="higher"),
            finding("alpha2004-f9", analyte="opg_rankl_ratio", analyte_form="unspecified", direction="lower"),
        ],
    )
    rows = charts.oriented_findings(ratios, tables.studies)
    assert list(rows["map_analyte"]) == ["ratio", "ratio"]
    # OPG/RANKL lower = RANKL:OPG higher; the paper's own direction stays in 'direction'
    assert list(rows["map_direction"]) == ["higher", "higher"]
    assert list(rows["direction"]) == ["higher", "lower"]
    assert "OPG/RANKL lower" in rows["orientation"].iloc[1]
    matrix = charts.evidence_matrix(ratios, tables.studies)
    cell = matrix[matrix["analyte"] == "ratio"].iloc[0]
    assert (cell["studies_up"], cell["findings_up"]) == (1, 2)


def test_evidence_map_puts_ids_in_customdata_and_draws_empty_cells_differently():
    matrix = charts.evidence_matrix(TABLES.findings, TABLES.studies, "related_to")
    fig = charts.build_evidence_map(matrix, "related_to")
    names = {t.name: t for t in fig.data if t.customdata is not None}
    assert "No findings" in names
    assert names["No findings"].marker.color == charts.EMPTY_CELL_COLOUR
    null = names["No difference / no association"]
    assert null.marker.color == DIRECTION_CLASS_COLOUR["null"]
    assert [list(c[:3]) for c in null.customdata] == [["bmd", "opg", "null"]]
    assert list(null.text) == ["1"]
    down = names["Lower / decrease / negative"]
    assert [list(c[:2]) for c in down.customdata] == [["bmd", "rankl"], ["treatment", "rankl"]]


def test_direction_classes_never_share_a_slot_in_a_cell():
    offsets = list(charts.CLASS_OFFSET.values())
    assert len(set(offsets)) == len(offsets) == 5
    assert all(abs(o) < charts.CELL_WIDTH / 2 for o in offsets)


def test_harvest_marks_one_per_study_and_direction():
    tables = sample_tables()
    many = frame("findings", [finding(f"alpha2004-f{k}", direction="higher") for k in range(3, 6)])
    rows = charts.harvest_rows(pd.concat([tables.findings, many], ignore_index=True), tables.studies)
    alpha_up = rows[(rows["study_id"] == "alpha2004") & (rows["direction_class"] == "up")]
    assert len(alpha_up) == 1 and alpha_up["n_findings"].iloc[0] == 4


def test_log_ticks_always_label_at_least_two_values_covering_the_data():
    # Naylor 2003: 0.42 ng/mL alone on its axis; Chen 2010: 3.7-5.2 pmol/L within one decade
    for low, high in ((0.39, 0.45), (3.70, 5.18), (0.1, 37.4), (2.0, 584.0)):
        ticks = charts.log_ticks(low, high)
        assert len(ticks) >= 2
        assert ticks[0] <= low and ticks[-1] >= high
    assert charts.log_ticks(3.70, 5.18) == [2.0, 5.0, 10.0]


def test_forest_rows_lay_out_strata_comparisons_and_pools_top_down():
    effects = pd.DataFrame(
        [
            dict(analyte="rankl", analyte_form="free", assay_vendor="biomedica", unit="pmol_l", study="A 2001",
                 case_group="RA", control_group="controls", g=0.5),
            dict(analyte="rankl", analyte_form="free", assay_vendor="biomedica", unit="pmol_l", study="B 2002",
                 case_group="RA", control_group="controls", g=0.7),
        ]
    )  # fmt: skip
    pooled = pd.DataFrame(
        [dict(analyte="rankl", analyte_form="free", assay_vendor="biomedica", unit="pmol_l", stratum="S",
              poolable=True, method="DerSimonian-Laird", k_studies=2)]
    )  # fmt: skip
    lines = charts.forest_rows(effects, pooled)
    assert [(line.y, line.kind) for line in lines] == [
        (0, "stratum"),
        (1, "comparison"),
        (2, "comparison"),
        (3, "pooled"),
    ]
    assert lines[1].text == "A 2001: RA vs controls"


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


def test_evidence_map_squares_stay_inside_their_cells_at_any_width():
    """Squares are shapes in data units (not pixel-sized markers), within their class slot and row."""
    tables = sample_tables()
    many = frame("findings", [finding(f"alpha2004-f{k}", direction="higher") for k in range(3, 40)])
    matrix = charts.evidence_matrix(pd.concat([tables.findings, many], ignore_index=True), tables.studies)
    fig = charts.build_evidence_map(matrix)
    squares = [s for s in fig.layout.shapes if s.type == "rect"]
    assert squares
    half_slot = 0.45  # class slots are 0.9 apart
    centres = {
        charts.Grid([], "condition_group").x_of(a) + o
        for a in charts.MAP_ANALYTES
        for o in charts.CLASS_OFFSET.values()
    }
    for square in squares:
        centre = (square.x0 + square.x1) / 2
        assert min(abs(centre - c) for c in centres) < 1e-9
        assert square.x1 - square.x0 <= 2 * half_slot
        assert square.y1 - square.y0 < 1  # within one row


def test_the_forest_plot_writes_a_papers_p_once_with_one_equals_sign():
    """Papers print 'p = 0.004', '=0.001' or '<0.001'; the label reads as a reader would write it."""
    assert charts._paper_p_text({"paper_p_text": "=0.001"}) == "p = 0.001"
    assert charts._paper_p_text({"paper_p_text": "0.004"}) == "p = 0.004"
    assert charts._paper_p_text({"paper_p_text": "<0.001"}) == "p <0.001"
    assert charts._paper_p_text({"paper_p_text": None}) == "p not given"


def test_the_pooled_answers_chart_draws_each_pooled_question_once_the_most_studies_first_with_its_intervals():
    # Three questions, written out by hand: one not pooled (k = 1), one pooled from 2 studies (no prediction
    # interval), one from 4 studies (with one). The chart shows the two pooled, k = 4 at the top.
    table = pd.DataFrame(
        {
            "question": [
                "Diabetes · OPG · cases vs controls",
                "Fracture · OPG · cases vs controls",
                "CVD · RANKL · cases vs controls",
            ],
            "k": [4, 1, 2],
            "n_total": [400, 50, 90],
            "estimate": [0.51, float("nan"), -0.46],
            "ci_low": [0.27, float("nan"), -0.77],
            "ci_high": [0.75, float("nan"), -0.14],
            "pi_low": [-0.38, float("nan"), float("nan")],
            "pi_high": [1.39, float("nan"), float("nan")],
            "i2_percent": [60.0, float("nan"), 0.0],
            "reason": ["", "fewer than two studies", ""],
        }
    )
    fig = charts.build_pooled_answers(table)
    assert list(fig.layout.yaxis.ticktext) == ["Diabetes · OPG (k=4)", "CVD · RANKL (k=2)"]
    diamonds = next(t for t in fig.data if t.name.startswith("Pooled g"))
    assert list(diamonds.x) == [0.51, -0.46] and list(diamonds.y) == [0, 1]
    # the error bars reach the CI ends: 0.75 - 0.51 = 0.24 above, 0.51 - 0.27 = 0.24 below; -0.14 + 0.46 = 0.32,
    # -0.46 + 0.77 = 0.31
    assert [round(v, 2) for v in diamonds.error_x.array] == [0.24, 0.32]
    assert [round(v, 2) for v in diamonds.error_x.arrayminus] == [0.24, 0.31]
    # The axis fits the CIs and 0, with 10 % room: from -0.77 to 0.75 is 1.52 wide, so -0.77 - 0.152 = -0.922 to
    # 0.75 + 0.152 = 0.902. Only the k = 4 question has a prediction interval (-0.38 to 1.39): it is drawn to the
    # axis's right end, with an arrow there, and its whole span is in the hover.
    assert [round(v, 3) for v in fig.layout.xaxis.range] == [-0.922, 0.902]
    interval = next(t for t in fig.data if t.mode == "lines")
    assert [None if v is None else round(v, 3) for v in interval.x] == [-0.38, 0.902, None]
    assert list(interval.y) == [0, 0, None]
    arrow = next(t for t in fig.data if t.name == "prediction interval runs past the axis")
    assert list(arrow.marker.symbol) == ["triangle-right"] and list(arrow.y) == [0]
    assert [row[3] for row in diamonds.customdata] == ["-0.38 to 1.39", "none (k < 3)"]


def test_the_pooled_answers_chart_keeps_the_25_questions_with_the_most_studies_and_says_so():
    # 30 pooled questions with k = 2 … 31: the chart draws k = 31 down to 7 (25 rows) and says the table has all.
    ks = list(range(2, 32))
    table = pd.DataFrame(
        {
            "question": [f"Condition {k} · OPG · cases vs controls" for k in ks],
            "k": ks,
            "n_total": [10 * k for k in ks],
            "estimate": [0.1] * 30,
            "ci_low": [-0.2] * 30,
            "ci_high": [0.4] * 30,
            "pi_low": [float("nan")] * 30,
            "pi_high": [float("nan")] * 30,
            "i2_percent": [0.0] * 30,
            "reason": [""] * 30,
        }
    )
    fig = charts.build_pooled_answers(table)
    labels = list(fig.layout.yaxis.ticktext)
    assert len(labels) == 25 and labels[0] == "Condition 31 · OPG (k=31)" and labels[-1] == "Condition 7 · OPG (k=7)"
    assert "Showing the 25 of 30 pooled questions with the most studies" in fig.layout.title.text
