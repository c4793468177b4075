"""Double-extraction agreement: Cohen's κ against a hand calculation, pairing and per-field counts."""

from __future__ import annotations

import pandas as pd
import pytest

from rankl_atlas.agreement import compare, kappa


def test_kappa_matches_a_hand_calculation():
    # 10 items, agreement table [[4, 1], [1, 4]]: p_o = 0.8, p_e = 0.5*0.5 + 0.5*0.5 = 0.5, kappa = 0.3/0.5 = 0.6
    first = ["up"] * 5 + ["down"] * 5
    second = ["up"] * 4 + ["down"] + ["up"] + ["down"] * 4
    assert kappa(first, second) == pytest.approx(0.6)
    assert kappa(["up", "up"], ["up", "up"]) == 1.0


def tables(studies, measurements, findings):
    return {
        "studies": pd.DataFrame(studies),
        "measurements": pd.DataFrame(measurements),
        "findings": pd.DataFrame(findings),
    }


def m(mid, value, unit="pg_ml", **kw):
    base = dict(measurement_id=mid, study_id="a2020", group_label="g", analyte="opg", value=value, unit=unit,
                sd="", se="", q1="", q3="", min="", max="", assay_vendor="not_reported")  # fmt: skip
    return {**base, **kw}


def f(fid, direction, **kw):
    base = dict(finding_id=fid, study_id="a2020", analyte="opg", related_to="condition", direction=direction,
                effect_value="", p_text="", comparison="x", assay_vendor="not_reported")  # fmt: skip
    return {**base, **kw}


def test_compare_pairs_rows_and_counts_what_agrees():
    study = dict(study_id="a2020", analytes_measured="opg", condition_group="diabetes", design="case_control",
                 n_participants="40", curation_notes="")  # fmt: skip
    first = tables([study], [m("a2020-m1", "5.0"), m("a2020-m2", "7.0")], [f("a2020-f1", "higher", p_text="0.01")])
    second = tables(
        [{**study, "design": "cross_sectional"}],
        [m("a2020-m9", "7.0"), m("a2020-m8", "5.0", unit="ng_ml")],  # same values, other order; one unit differs
        [f("a2020-f7", "no_difference", p_text="0.01"), f("a2020-f8", "lower", related_to="bmd")],
    )
    result = compare(first, second, ["a2020"])
    figures = result.figures.set_index("field")
    assert figures.loc["study design", "agreed"] == 0
    assert figures.loc["measurement value (exact, paired rows)", ["compared", "agreed"]].tolist() == [2, 2]
    assert figures.loc["measurement unit (exact, same value)", "agreed"] == 1
    assert figures.loc["finding direction (paired rows)", ["compared", "agreed"]].tolist() == [1, 0]
    fields = set(result.disagreements["field"])
    assert {"studies.design", "measurements.unit", "findings.direction", "findings.row_only_in_second"} <= fields
