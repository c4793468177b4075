"""No table a reader sees shows a column code or a vocabulary code (issue: 'k_studies', 'pmol_l', 'finding_id')."""

from __future__ import annotations

import json
import re

import pytest

from rankl_atlas.schema import VOCABULARIES
from tests.app.conftest import PAGES, run_app

SNAKE = re.compile(r"^[a-z]+(?:_[a-z0-9]+)+$")
#: Codes that a reader could meet in a cell; ids (study, finding, kit) are not codes and stay.
CODES = {code for vocabulary in VOCABULARIES.values() for code in vocabulary if "_" in code}
ID_HEADERS = {"Kit", "Study id", "Permalink id", "Finding", "Measurement", "Comparison", "Kit id"}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_table_shows_reader_labels_not_codes(page):
    at = run_app(page, {"study": "schett2004"} if page == "studies" else None, open_sections=True)
    assert not at.exception
    for element in at.dataframe:
        config = json.loads(element.proto.columns or "{}")
        frame = element.value
        for column in frame.columns:
            header = config.get(str(column), {}).get("label") or str(column)
            assert not SNAKE.match(header), f"{page}: header {header!r}"
            if header in ID_HEADERS or frame[column].dtype.kind in "fiub":
                continue
            values = {str(v) for v in frame[column].dropna().unique()}
            assert not (values & CODES), f"{page}: column {header!r} shows codes {sorted(values & CODES)[:3]}"
