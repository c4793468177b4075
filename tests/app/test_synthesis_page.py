"""The Synthesis page under the bundled data, narrow filters, no poolable stratum, and poolable synthetic data."""

from __future__ import annotations

from rankl_atlas.data import DATA_ENV
from tests.app.conftest import run_app
from tests.poolable import write_poolable_dataset


def texts(elements) -> str:
    return " ".join(e.value for e in elements)


def test_synthesis_runs_on_the_bundled_data_without_poolable_strata():
    at = run_app("synthesis")
    assert not at.exception
    assert "No stratum is poolable" in texts(at.warning)
    strata = [d.value for d in at.dataframe if "poolable" in d.value.columns][0]
    assert not strata["poolable"].any()


def test_synthesis_with_a_filter_that_leaves_no_case_control_pair():
    at = run_app("synthesis", {"disease": ["rheumatoid_arthritis"]})
    assert not at.exception
    assert "nothing to put on a forest plot" in texts(at.info)


def test_synthesis_with_filters_that_keep_nothing_offers_a_reset():
    at = run_app("synthesis", {"disease": ["paget_disease"], "vendor": ["biovendor"]})
    assert not at.exception
    assert any("match the current filters" in i.value for i in at.info)


def test_poolable_strata_are_pooled_per_kit_and_form(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(write_poolable_dataset(tmp_path)))
    at = run_app("synthesis")
    assert not at.exception
    strata = [d.value for d in at.dataframe if "poolable" in d.value.columns][0].set_index("assay_vendor")
    assert strata.loc["Biomedica", "poolable"] and strata.loc["Biomedica", "k_studies"] == 3
    assert strata.loc["Immundiagnostik", "poolable"] and strata.loc["Immundiagnostik", "k_studies"] == 2
    assert not strata.loc["R&D Systems", "poolable"]
    assert "free" in strata.loc["Biomedica", "stratum"] and "total" in strata.loc["Immundiagnostik", "stratum"]
    assert "never pooled" in texts(at.caption)
    at.segmented_control(key="method").set_value("pm").run()
    strata_pm = [d.value for d in at.dataframe if "poolable" in d.value.columns][0]
    assert set(strata_pm.loc[strata_pm["poolable"], "method"]) == {"Paule-Mandel"}
