"""Figure downloads: the title, the filter caption and the source line sit inside the image at a journal column width."""

from __future__ import annotations

import json
import re

import plotly.graph_objects as go
import plotly.io as pio
import pytest

from rankl_atlas import charts, figures
from rankl_atlas.data import load_tables
from rankl_atlas.filters import Filters, apply_filters
from tests.conftest import DATA

SOURCE = "Source: RANKL Atlas dataset v1.2.0, http://localhost:8501/?year=2005&year=2015"


@pytest.mark.parametrize("column", ["single", "double"])
def test_title_caption_and_source_are_inside_the_image_and_the_year_axis_follows_the_filter(column):
    studies = apply_filters(load_tables(DATA), Filters(year=(2005, 2015))).studies
    fig = charts.build_studies_per_year(studies)
    svg = figures.figure_bytes(
        fig, "Studies per year, stacked by disease area", "Filters: Years: 2005–2015 · Species: human.", SOURCE,
        "svg", column,
    ).decode()  # fmt: skip
    width = float(re.search(r'<svg[^>]*width="([\d.]+)"', svg).group(1))
    assert width == pytest.approx(figures.COLUMN_MM[column] / 25.4 * figures.PX_PER_INCH, abs=1)
    title = re.search(r'<text class="gtitle"[^>]*x="([\d.]+)"', svg)
    assert title and float(title.group(1)) >= 8  # not touching the left edge
    lines = re.findall(r'class="line"[^>]*>([^<]*)</tspan>', svg)
    text = " ".join(lines)
    assert "Source: RANKL Atlas dataset v1.2.0" in text and "Years: 2005–2015" in text
    assert all(len(line) * 5.5 <= width for line in lines)  # wrapped to the column: no line runs off the right
    ticks = re.findall(r'<g class="xtick"><text[^>]*>(\d{4})</text>', svg)
    assert ticks and min(map(int, ticks)) >= 2005 and max(map(int, ticks)) <= 2015


def test_a_frozen_figure_sends_what_was_built_and_computes_its_plain_form_once():
    fig = go.Figure(go.Bar(x=["RA", "OP"], y=[3, 5]), layout={"title": {"text": "Studies"}})
    expected = json.loads(pio.to_json(go.Figure(fig), validate=False))  # from an independent copy
    frozen = figures.frozen(fig)
    assert json.loads(pio.to_json(frozen.to_dict(), validate=False)) == expected
    assert frozen.to_dict() is frozen.to_dict()  # computed once, not on every rerun
    copy = go.Figure(frozen)  # the downloads copy it before adding their title lines
    copy.update_layout(title_text="Changed")
    assert frozen.to_dict()["layout"]["title"]["text"] == "Studies"
