"""ng/L and pg/mL are the same unit: their values share one axis, unconverted (1 ng/L = 1 pg/mL)."""

from __future__ import annotations

from rankl_atlas import charts
from tests.unit.frames import frame, measurement, study


def test_ng_per_l_values_are_drawn_on_the_pg_per_ml_axis_with_their_own_unit_on_hover():
    studies = frame("studies", [study("alpha2004"), study("beta2008")])
    rows = charts.concentration_rows(
        frame(
            "measurements",
            [
                measurement("alpha2004-m1", analyte="opg", unit="pg_ml", value=120.0),
                measurement("beta2008-m1", analyte="opg", unit="ng_l", value=95.0),
            ],
        ),
        studies,
    )
    assert set(rows["axis_unit"]) == {"pg_ml"}
    fig = charts.build_concentration_chart(rows, "opg", "pg_ml")
    ys = sorted(float(y) for trace in fig.data for y in trace.y)
    assert ys == [95.0, 120.0]  # the ng/L value as published: 95 ng/L is 95 pg/mL, no factor applied
    hovers = [str(row) for trace in fig.data for row in trace.customdata]
    assert any("ng/L" in h for h in hovers) and any("pg/mL" in h for h in hovers)
