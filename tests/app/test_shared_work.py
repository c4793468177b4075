"""Work done once per filter state, not once per viewer: figures and tables a page shows are built by the first
session that shows a filter state and reused by every other; what sits in a closed section is not built at all."""

from __future__ import annotations

import streamlit as st

from rankl_atlas import charts, figures
from rankl_atlas import tables as atlas_tables
from tests.app.conftest import count_caption, open_tab, run_app


def counting(monkeypatch, module, name: str) -> list[int]:
    """Replace module.name by a wrapper that counts its calls; returns the one-element counter."""
    calls = [0]
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


def test_a_second_viewer_of_the_same_filters_reuses_the_figure_and_a_new_filter_state_builds_one(monkeypatch):
    st.cache_resource.clear()
    builds = counting(monkeypatch, charts, "build_studies_per_year")
    first = run_app("overview", {"disease": ["rheumatoid_arthritis"]})
    assert builds[0] == 1
    second = run_app("overview", {"disease": ["rheumatoid_arthritis"]})  # another session, same view
    assert builds[0] == 1
    assert first.get("plotly_chart")[0].proto.spec == second.get("plotly_chart")[0].proto.spec
    run_app("overview", {"disease": ["osteoporosis"]})
    assert builds[0] == 2


def test_a_second_viewer_of_the_synthesis_page_reuses_its_answer_table(monkeypatch):
    st.cache_resource.clear()
    builds = counting(monkeypatch, atlas_tables, "labelled_answers")
    first = run_app("synthesis", {"disease": ["diabetes"]})
    second = run_app("synthesis", {"disease": ["diabetes"]})
    assert builds[0] == 1
    answers = [next(d.value for d in at.dataframe if "Pooled g" in d.value.columns) for at in (first, second)]
    assert answers[0].equals(answers[1]) and len(answers[0]) >= 1


def test_a_closed_section_builds_nothing_and_opening_it_shows_its_table(monkeypatch):
    builds = counting(monkeypatch, atlas_tables, "labelled_not_drawn")
    closed = run_app("synthesis", {"disease": ["multiple_myeloma"], "tab": ["strict"]})
    assert builds[0] == 0
    assert not any("Not drawn because" in d.value.columns for d in closed.dataframe)
    assert any(e.label == "Case–control pairs not drawn, and why" for e in closed.expander)
    opened = run_app(
        "synthesis", {"disease": ["multiple_myeloma"], "tab": ["strict"]}, open_sections=("open_not_drawn",)
    )
    assert any("Not drawn because" in d.value.columns for d in opened.dataframe)


def test_every_chart_offers_its_figure_downloads_at_once_and_makes_no_file_until_one_is_clicked(monkeypatch):
    exports = counting(monkeypatch, figures, "figure_bytes")
    at = run_app("overview")
    labels = [b.label for b in at.get("download_button")]
    # the Overview's two charts, each with its menu of three formats, drawn without the reader opening anything
    assert labels.count("SVG (vector)") == 2
    assert (
        labels.count("PNG 300 dpi, single column (85 mm)") == labels.count("PNG 300 dpi, double column (180 mm)") == 2
    )
    assert exports[0] == 0  # no image rendered by the page's run: each file is made when its button is clicked


def test_a_filter_under_more_filters_keeps_applying_while_the_section_is_closed():
    at = run_app("overview", open_sections=("open_more_filters",))
    everything = count_caption(at)
    at.multiselect(key="kind").set_value(["clinical_trial"]).run()
    narrowed = count_caption(at)
    assert narrowed != everything and "Study kind" in narrowed
    at.session_state["open_more_filters"] = False
    at.run()
    assert not any(m.key == "kind" for m in at.multiselect)  # not drawn while closed
    assert count_caption(at) == narrowed and at.query_params["kind"] in ("clinical_trial", ["clinical_trial"])
    at.session_state["open_more_filters"] = True
    at.run()
    assert at.multiselect(key="kind").value == ["clinical_trial"]


def test_a_link_with_a_more_filter_opens_the_section_showing_it():
    at = run_app("overview", {"kind": ["clinical_trial"]})
    assert at.multiselect(key="kind").value == ["clinical_trial"]


def test_reset_all_filters_also_resets_a_filter_in_the_closed_section():
    at = run_app("overview", {"kind": ["clinical_trial"]})
    at.session_state["open_more_filters"] = False
    at.run()
    assert "Study kind" in count_caption(at)
    at.button(key="reset_filters").click().run()
    assert "Study kind" not in count_caption(at) and "kind" not in at.query_params


def test_concentrations_draw_one_analyte_at_a_time_and_a_link_opens_the_analyte_it_names(monkeypatch):
    st.cache_resource.clear()
    analytes = []
    original = charts.build_concentration_chart

    def recording(part, analyte, unit):
        analytes.append(analyte)
        return original(part, analyte, unit)

    monkeypatch.setattr(charts, "build_concentration_chart", recording)
    at = run_app("concentrations", {"disease": ["rheumatoid_arthritis"]})
    assert [t.label for t in at.tabs][:2] == ["RANKL", "OPG"]  # the first tab (RANKL) is open
    assert set(analytes) == {"rankl"} and len(at.get("plotly_chart")) == len(analytes)
    linked = run_app("concentrations", {"disease": ["rheumatoid_arthritis"], "tab": ["opg"]})
    assert set(analytes) == {"rankl", "opg"}
    assert linked.session_state["tab"] == "OPG" and linked.query_params["tab"] in ("opg", ["opg"])
    chart_headings = [s.value for s in linked.subheader if s.value.startswith(("RANKL", "OPG"))]
    assert chart_headings and all(h.startswith("OPG in ") for h in chart_headings)


def test_the_concentrations_tables_wait_for_their_own_tabs_and_a_link_can_open_one():
    at = run_app("concentrations", {"species": ["all"]})
    assert [t.label for t in at.tabs] == ["RANKL", "OPG", "Other units", "Only 'undetectable'"]
    assert not at.dataframe  # the first tab holds charts only: no table (nor its browser bundle) on opening
    other = run_app("concentrations", {"species": ["all"], "tab": ["other_units"]})
    assert [s.value for s in other.subheader] == ["Values not on a concentration axis"]
    assert not other.get("plotly_chart")
    relative = other.dataframe[0].value
    assert len(relative) >= 1 and set(relative["Unit"]) >= {"not printed / ratio"}
    open_tab(other, "Only 'undetectable'")
    assert other.dataframe[0].value["pct_undetectable"].between(0, 100).all()
    assert other.query_params["tab"] in ("undetectable", ["undetectable"])


def test_a_filter_that_removes_the_open_tab_falls_back_to_the_first_tab_without_an_error():
    at = run_app("concentrations", {"tab": ["opg"]}, open_sections=("open_more_filters",))
    assert at.session_state["tab"] == "OPG"
    at.multiselect(key="analyte").set_value(["rankl"]).run()
    assert not at.exception and not at.warning
    assert "OPG" not in [t.label for t in at.tabs] and at.session_state["tab"] == "RANKL"
    assert "tab" not in at.query_params
    assert all(s.value.startswith("RANKL in ") for s in at.subheader)


def test_a_synthesis_tab_pools_only_what_it_shows(monkeypatch):
    from rankl_atlas import answers, synthesis

    st.cache_resource.clear()
    correlations = counting(monkeypatch, answers, "correlation_answers")
    case_control = counting(monkeypatch, synthesis, "case_control_comparisons")
    at = run_app("synthesis", {"disease": ["diabetes"]})  # the first tab: cases vs controls
    assert case_control[0] == 1 and correlations[0] == 0
    harvest = run_app("synthesis", {"disease": ["osteoporosis"], "tab": ["harvest"]})
    assert case_control[0] == 1 and correlations[0] == 0  # the harvest plot pools nothing
    assert harvest.get("plotly_chart")
    open_tab(at, "Serum vs bone")
    assert correlations[0] >= 1 and case_control[0] == 1
    assert any("Pooled r" in d.value.columns for d in at.dataframe)
