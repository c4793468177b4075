"""Numbers that never mislead, checked on the pages as drawn (AppTest reads each chart's Plotly spec)."""

from __future__ import annotations

import base64
import json

import numpy as np

from rankl_atlas.data import load_tables
from rankl_atlas.filters import Filters, apply_filters
from tests.app.conftest import open_tab, run_app
from tests.conftest import DATA

TABLES = load_tables(DATA)


def specs(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def values(array) -> list[float]:
    """A Plotly data array as numbers (specs carry large arrays as base64 'bdata' with a numpy dtype)."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return [float(v) for v in array]


def test_evidence_map_squares_count_studies_not_findings():
    at = run_app("evidence_map", {"disease": ["ankylosing_spondylitis"]})
    figure = specs(at)[0]
    kept = apply_filters(TABLES, Filters(disease=("ankylosing_spondylitis",))).findings
    rankl = kept[kept["analyte"] == "rankl"]
    # counted by hand from the rows: studies with at least one 'higher'/'increase'/'positive' RANKL finding
    up_studies = rankl[rankl["direction"].isin(["higher", "increase", "positive_association", "predicts_when_high"])]
    up = next(t for t in figure["data"] if t["name"] == "Higher / increase / positive" and t.get("customdata"))
    cells = {(c[0], c[1]): int(text) for c, text in zip(up["customdata"], up["text"], strict=True)}
    assert cells[("ankylosing_spondylitis", "rankl")] == up_studies["study_id"].nunique()
    assert len(up_studies) >= up_studies["study_id"].nunique()


def test_the_disease_filter_and_the_map_rows_mean_the_same_thing():
    """Schett 2004's findings are in a healthy population; with Disease = Fracture the only row is Fracture."""
    at = run_app("evidence_map", {"disease": ["fracture"]})
    figure = specs(at)[0]
    assert figure["layout"]["yaxis"]["ticktext"] == ["Fracture"]


def test_ratio_findings_of_both_orientations_share_one_column_with_opg_rankl_flipped():
    """A study reporting RANKL/OPG higher and one reporting OPG/RANKL lower say the same thing: both count as
    'higher' in the one RANKL:OPG column of the drawn map."""
    from rankl_atlas import charts
    from tests.unit.frames import finding, frame, study

    studies = frame("studies", [study("ratioa2010"), study("ratiob2011")])
    findings = frame(
        "findings",
        [
            finding("ratioa2010-f1", analyte="rankl_opg_ratio", direction="higher", comparison_family="cases_vs_controls"),
            finding("ratiob2011-f1", analyte="opg_rankl_ratio", direction="lower", comparison_family="cases_vs_controls"),
        ],
    )  # fmt: skip
    matrix = charts.evidence_matrix(findings, studies)
    cell = matrix[(matrix["row"] == "rheumatoid_arthritis") & (matrix["analyte"] == "ratio")].iloc[0]
    assert cell["studies_up"] == 2 and cell["studies_down"] == 0
    assert set(matrix["analyte"]) == {"rankl", "opg", "ratio"}
    at = run_app("evidence_map", {"disease": ["rheumatoid_arthritis"]})
    assert specs(at)[0]["layout"]["xaxis"]["ticktext"][-1] == charts.MAP_ANALYTES["ratio"]


def test_every_log_axis_has_at_least_two_labelled_ticks_around_its_values():
    at = run_app("concentrations", {"species": ["all"]})
    assert not at.exception
    figures = []
    for label in [t.label for t in at.tabs]:  # one analyte's charts per tab
        figures += specs(open_tab(at, label))
    assert len(figures) >= 3
    for figure in figures:
        axis = figure["layout"]["yaxis"]
        assert axis["type"] == "log" and len(axis["tickvals"]) >= 2
        ys = [float(v) for trace in figure["data"] for v in values(trace["y"])]
        assert min(axis["tickvals"]) <= min(ys) and max(axis["tickvals"]) >= max(ys)


def test_error_bars_say_what_they_are_and_every_point_names_its_study_on_hover_not_in_overlapping_labels():
    at = run_app("concentrations", {"disease": ["ankylosing_spondylitis"]})
    figures = [figure for label in [t.label for t in at.tabs] for figure in specs(open_tab(at, label))]
    assert figures
    for figure in figures:
        for trace in figure["data"]:
            assert "error bar:" in trace["hovertemplate"] and "<b>%{customdata[1]}</b>" in trace["hovertemplate"]
            assert trace["mode"] == "markers" and "text" not in trace  # no labels to overlap or run off the edge
            assert len(trace["customdata"]) == len(values(trace["y"]))


def test_count_axes_step_by_whole_numbers_and_year_bars_are_a_year_wide():
    at = run_app("overview", {"disease": ["juvenile_idiopathic_arthritis"]})
    per_year = specs(at)[0]
    assert per_year["layout"]["yaxis"]["dtick"] == 1 and per_year["layout"]["yaxis"]["tickformat"] == "d"
    assert all(trace["width"] == 0.8 for trace in per_year["data"])
    assert per_year["layout"]["xaxis"]["tickformat"] == "d"
