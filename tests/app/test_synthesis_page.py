"""The Synthesis page: answers pooled across kits on the bundled data, the settings in the URL, poolable synthetic
data, the strict per-kit view and empty filters."""

from __future__ import annotations

from rankl_atlas.data import DATA_ENV
from tests.app.conftest import open_tab, run_app
from tests.poolable import write_poolable_dataset


def texts(elements) -> str:
    return " ".join(e.value for e in elements)


def frame_with(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_the_bundled_data_pool_case_control_questions_across_kits_at_the_default_filters():
    at = run_app("synthesis")
    assert not at.exception
    answers = frame_with(at, "Pooled g")
    pooled = answers[answers["Not pooled because"] == ""]
    assert len(pooled) >= 1 and (pooled["Studies (k)"] >= 2).all()
    assert pooled["95% CI"].str.contains(" to ").all()
    assert not at.code  # the command line waits until its section is opened (no syntax highlighter before charts)
    forest = at.get("plotly_chart")[0].proto.spec  # the first chart: every pooled question at a glance
    for question in pooled["Question"]:
        assert question.split(" · ")[0] in forest
    at.session_state["open_pool_command"] = True
    at.run()
    assert any("python -m rankl_atlas pool" in c.value for c in at.code)
    assert not any("Pooled r" in d.value.columns for d in at.dataframe)  # other sections wait for their tab
    open_tab(at, "Serum vs bone")
    mirror = frame_with(at, "Pooled r")
    assert mirror["Question"].str.contains("Bone mineral density").any()
    assert not any("Pooled g" in d.value.columns for d in at.dataframe)
    open_tab(at, "Published meta-analyses")
    published = frame_with(at, "Published 95% CI")
    assert len(published) >= 1 and published["Agreement"].str.len().gt(0).all()
    assert at.query_params["tab"] in ("published", ["published"])


def test_a_link_opens_its_section_and_an_unknown_section_says_so():
    at = run_app("synthesis", {"tab": ["harvest"]})
    assert not at.exception
    assert at.session_state["tab"] == "Harvest plot"
    assert any(h.value.startswith("Harvest plot") for h in at.header)
    wrong = run_app("synthesis", {"tab": ["nonsense"]})
    assert "'tab': 'nonsense' is not known and was ignored." in texts(wrong.warning)
    assert wrong.session_state["tab"] == "Cases vs controls"
    assert "tab" not in wrong.query_params


def test_settings_live_in_the_url_and_the_spread_reading_changes_what_is_pooled():
    at = run_app("synthesis")
    before = frame_with(at, "Pooled g")
    at.segmented_control(key="spread").set_value("sd").run()
    assert not at.exception
    assert at.query_params["spread"] in ("sd", ["sd"])
    after = frame_with(at, "Pooled g")
    assert after["Studies (k)"].sum() > before["Studies (k)"].sum()  # unresolved '±' now enter, read as SD


def test_synthesis_with_a_filter_that_leaves_no_case_control_pair():
    at = run_app("synthesis", {"disease": ["paget_disease"]})
    assert not at.exception
    assert "No case–control" in texts(at.info)


def test_synthesis_with_filters_that_keep_nothing_offers_a_reset():
    at = run_app("synthesis", {"disease": ["paget_disease"], "vendor": ["biovendor"]})
    assert not at.exception
    assert any("match the current filters" in i.value for i in at.info)


def test_poolable_data_pool_across_kits_with_a_kit_subgroup_test_and_strictly_per_kit(tmp_path, monkeypatch):
    """Five RANKL studies (3 Biomedica free, 2 Immundiagnostik total) pool to one answer with k = 5 and a kit
    subgroup test; the strict view still pools each named kit on its own."""
    monkeypatch.setenv(DATA_ENV, str(write_poolable_dataset(tmp_path)))
    at = run_app("synthesis")
    assert not at.exception
    answers = frame_with(at, "Pooled g").set_index("Question")
    ra = answers.loc["Rheumatoid arthritis · RANKL"]
    assert ra["Studies (k)"] == 5 and ra["Kit subgroups differ? (p)"] == ra["Kit subgroups differ? (p)"]
    assert "Subgroups by the kit" in texts(at.markdown)
    open_tab(at, "Within one kit")
    at.session_state["open_strict_strata"] = True
    at.run()
    strata = frame_with(at, "poolable").set_index("assay_vendor")
    assert strata.loc["Biomedica", "poolable"] and strata.loc["Biomedica", "k_studies"] == 3
    assert strata.loc["Immundiagnostik", "poolable"] and strata.loc["Immundiagnostik", "k_studies"] == 2
    at.segmented_control(key="method").set_value("pm").run()
    strata_pm = frame_with(at, "poolable")
    assert set(strata_pm.loc[strata_pm["poolable"], "method"]) == {"Paule-Mandel"}
