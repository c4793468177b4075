"""Charts too dense to read draw a seeded sample and say so; the bundled size is drawn in full, with no note."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rankl_atlas import charts, decimate
from rankl_atlas.data import load_tables
from tests.conftest import ROOT
from tests.unit.frames import frame, measurement, study

NOTE_3000 = "Showing 1,000 of 3,000 points, a seeded random sample; the data table and CSV hold all."


def test_quotas_are_proportional_with_one_each_and_add_up_to_the_limit():
    # 100 of 900 + 100: one each, then 98 shared as 899·98/998 = 88.28 and 99·98/998 = 9.72; the larger
    # remainder (0.72) gets the last point: 1 + 88 = 89 and 1 + 9 + 1 = 11.
    assert list(decimate.quotas([900, 100], 100)) == [89, 11]
    assert list(decimate.quotas([3, 4], 10)) == [3, 4]  # everything fits
    assert list(decimate.quotas([5, 5, 5], 2)) == [1, 1, 0]  # more groups than points
    assert list(decimate.quotas([1, 999], 10)) == [1, 9]  # a group of one keeps its point


def test_a_big_frame_is_sampled_to_the_limit_in_order_and_the_same_rows_every_time():
    rows = pd.DataFrame({"id": np.arange(10_000)})
    shown = decimate.seeded_sample(rows)
    expected = np.sort(np.random.default_rng(24).choice(10_000, size=1000, replace=False))
    assert list(shown["id"]) == list(expected)  # numpy's default_rng with the documented seed 24
    assert decimate.SAMPLE_SEED == 24


def test_the_sample_keeps_every_group_in_proportion():
    rows = pd.DataFrame({"kit": ["a"] * 900 + ["b"] * 100, "id": range(1000)})
    shown = decimate.seeded_sample(rows, 100, by=["kit"])
    assert shown["kit"].value_counts().to_dict() == {"a": 89, "b": 11}
    assert shown["id"].is_monotonic_increasing and shown["id"].is_unique


def test_the_bundled_size_is_not_reduced_and_has_no_note():
    rows = pd.DataFrame({"id": range(212)})  # the bundled dataset's largest chart
    assert decimate.seeded_sample(rows) is rows
    assert decimate.sample_note(212) == ""
    assert decimate.sample_note(1000) == ""


def test_the_note_says_how_many_of_how_many():
    assert decimate.sample_note(3000) == NOTE_3000
    assert decimate.sample_note(21_758, what="group values").startswith("Showing 1,000 of 21,758 group values")


def test_a_long_table_shows_its_first_rows_and_says_so():
    table = pd.DataFrame({"id": range(1500)})
    shown, note = decimate.first_rows(table)
    assert list(shown["id"]) == list(range(1000))
    assert note == "Showing the first 1,000 of 1,500 rows; the page's downloads hold all."
    assert decimate.first_rows(table.head(300))[1] == ""


def _big_measurements(n: int, assay_id: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    studies = frame("studies", [study("alpha2004")])
    rows = [
        measurement(f"alpha2004-m{i}", value=1.0 + i % 50, group_role="case" if i % 3 else "control", assay_id=assay_id)
        for i in range(n)
    ]
    return frame("measurements", rows), studies


def _points(fig) -> int:
    return sum(len(trace.y) for trace in fig.data)


def test_a_concentration_chart_of_3000_values_draws_1000_and_says_so_on_the_chart():
    measurements, studies = _big_measurements(3000)
    rows = charts.concentration_rows(measurements, studies)
    fig = charts.build_concentration_chart(rows, "rankl", "pmol_l")
    assert _points(fig) == 1000
    assert fig.layout.title.text == NOTE_3000
    # cases (2000 of 3000) and controls (1000) keep their shares: one each, then 998 shared as
    # 1999·998/2998 = 665.4 and 999·998/2998 = 332.6, the larger remainder to controls: 666 and 334
    assert {t.name: len(t.y) for t in fig.data} == {"Cases": 666, "Controls": 334}


def test_a_concentration_chart_at_the_bundled_size_draws_every_value_without_a_note():
    measurements, studies = _big_measurements(212)
    fig = charts.build_concentration_chart(charts.concentration_rows(measurements, studies), "rankl", "pmol_l")
    assert _points(fig) == 212
    assert fig.layout.title.text is None


def test_the_talk_figure_of_3000_values_draws_1000_and_says_so():
    assays = load_tables(ROOT / "data").assays
    measurements, studies = _big_measurements(3000, assays[assays["analyte"] == "rankl"]["assay_id"].iloc[0])
    fig = charts.build_talk_figure(charts.kit_rows(measurements, studies, assays), "rankl", assays)
    assert _points(fig) == 1000
    assert fig.layout.title.text == NOTE_3000


def test_largest_keeps_the_biggest_rows_in_their_order():
    frame_ = pd.DataFrame({"name": list("abcde"), "k": [3, 9, 1, 9, 5]})
    assert list(decimate.largest(frame_, "k", 3)["name"]) == ["b", "d", "e"]  # 9, 9, 5 in listed order
    assert decimate.largest(frame_, "k", 5) is frame_
    assert decimate.largest_note(5, 5, "strata", "comparisons") == ""
    assert (
        decimate.largest_note(431, 60, "strata", "comparisons")
        == "Showing the 60 of 431 strata with the most comparisons; the table below and CSV hold all."
    )


def _strata(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "stratum": [f"s{i}" for i in range(n)],
            "analyte": "rankl",
            "analyte_form": "free",
            "assay_vendor": [f"v{i}" for i in range(n)],
            "unit": "pmol_l",
            "comparisons": [1 + i % 7 for i in range(n)],
            "k_studies": 1,
            "poolable": False,
        }
    )


def test_a_forest_of_431_strata_draws_the_60_largest_and_says_so():
    fig = charts.build_forest_plot(pd.DataFrame(columns=["analyte"]), _strata(431))
    headings = [t for t in fig.layout.yaxis.ticktext if t.startswith("<b>")]
    # comparisons cycle 1..7: 61 strata have 7 (i % 7 == 6, i < 431); the first 60 of them are drawn
    assert headings == [f"<b>s{i}</b>" for i in range(6, 431, 7)][:60]
    assert fig.layout.title.text == (
        "Showing the 60 of 431 strata with the most comparisons; the table below and CSV hold all."
    )
    small = charts.build_forest_plot(pd.DataFrame(columns=["analyte"]), _strata(10))
    assert len(small.layout.yaxis.ticktext) == 10 and small.layout.title.text is None


def test_a_funnel_of_1282_studies_draws_1000_and_says_so():
    rows = pd.DataFrame({"study": [f"s{i}" for i in range(1282)], "y": 0.1, "v": [0.01 + i / 1e4 for i in range(1282)]})
    pooled = type("Pooled", (), {"estimate": 0.1})
    fig = charts.build_funnel_plot(rows, pooled)
    assert len(fig.data[-1].x) == 1000
    assert fig.layout.title.text.startswith("Showing 1,000 of 1,282 points")
    assert len(charts.build_funnel_plot(rows.head(40), pooled).data[-1].x) == 40
