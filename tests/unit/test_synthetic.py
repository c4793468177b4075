"""Synthetic benchmark data: valid under the contract, deterministic for a seed, and scaling the row counts."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from rankl_atlas.data import load_tables
from rankl_atlas.synthetic import synthetic_tables, write_synthetic
from rankl_atlas.validation import validate_tables
from tests.conftest import DATA

BUNDLED = load_tables(DATA)


@pytest.mark.parametrize("scale", [1, 3])
def test_synthetic_tables_pass_the_contract_and_scale_every_table(scale):
    tables = synthetic_tables(scale)
    assert validate_tables(tables.as_dict(), {t: t for t in tables.as_dict()}) == []
    for name, frame in tables.as_dict().items():
        bundled = getattr(BUNDLED, name)
        assert len(frame) == scale * len(bundled), name
        assert list(frame.columns) == list(bundled.columns) and list(frame.dtypes) == list(bundled.dtypes), name
    circulating = set(tables.studies.loc[tables.studies["circulating_measured"].fillna(False), "study_id"])
    assert set(tables.measurements["study_id"]) <= circulating and set(tables.findings["study_id"]) <= circulating


def test_synthetic_tables_are_deterministic_for_a_seed():
    first, again, other = synthetic_tables(2, seed=7), synthetic_tables(2, seed=7), synthetic_tables(2, seed=8)
    for name in ("studies", "measurements", "findings"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(again, name))
    assert not first.measurements["value"].equals(other.measurements["value"])


def test_write_synthetic_writes_a_loadable_data_folder(tmp_path):
    write_synthetic(tmp_path, 2)
    tables = load_tables(tmp_path)
    assert len(tables.findings) == 2 * len(BUNDLED.findings)
    package = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    assert {r["name"]: r["rows"] for r in package["resources"]}["studies"] == 2 * len(BUNDLED.studies)
    assert "SYNTHETIC" in (tmp_path / "CHANGELOG.md").read_text(encoding="utf-8")
