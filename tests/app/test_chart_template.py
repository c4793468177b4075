"""Every chart keeps the atlas's look (plotly_white for bar and scatter traces) with a template cut to what it draws."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import plotly.io as pio
import pytest

from rankl_atlas import charts
from tests.app.conftest import PAGES, open_tab, run_app


def test_the_cut_template_keeps_plotly_whites_look_for_what_the_atlas_draws():
    fig = charts._layout(go.Figure([go.Bar(x=[1], y=[2]), go.Scatter(x=[1], y=[2])]))
    spec = fig.to_dict()["layout"]["template"]
    # plotly_white's values (plotly/package_data/templates/plotly_white.json), written out
    assert spec["layout"]["plot_bgcolor"] == "white" and spec["layout"]["paper_bgcolor"] == "white"
    assert spec["layout"]["xaxis"]["gridcolor"] == "#EBF0F8" and spec["layout"]["yaxis"]["zerolinecolor"] == "#EBF0F8"
    assert spec["layout"]["font"] == {"color": "#2a3f5f"}
    assert spec["data"]["bar"][0]["marker"]["line"] == {"color": "white", "width": 0.5}
    assert spec["data"]["bar"][0]["error_y"] == {"color": "#2a3f5f"}
    # and nothing for the trace types and axes the atlas never draws
    assert set(spec["data"]) == {"bar", "scatter", "scattergl"}
    assert not {"scene", "polar", "geo", "ternary", "colorscale"} & set(spec["layout"])
    whole = pio.templates["plotly_white"].to_plotly_json()
    assert len(json.dumps(spec)) < len(json.dumps(whole)) / 3


def _charts_on(page: str) -> list[dict]:
    at = run_app(page)
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    for tab in [t.label for t in at.tabs][1:]:  # every other tab of a tabbed page (only the open one is drawn)
        specs += [json.loads(c.proto.spec) for c in open_tab(at, tab).get("plotly_chart")]
    return specs


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_chart_uses_the_atlas_template_for_trace_types_it_styles(page):
    specs = _charts_on(page)
    for spec in specs:
        template = spec["layout"]["template"]
        assert template["layout"]["plot_bgcolor"] == "white", spec["layout"].get("title")
        types = {trace.get("type", "scatter") for trace in spec["data"]}
        assert types <= set(template["data"]), f"{page}: {types - set(template['data'])} drawn without its styling"
