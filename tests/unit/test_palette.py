"""Colours: every chart's categories stay distinguishable for colour-blind readers (simulated with colorspacious)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from colorspacious import cspace_convert, deltaE

from rankl_atlas.schema import COLOURS, DIRECTION_CLASS_COLOUR

#: CIECAM02-UCS ΔE below ~10 reads as "the same colour" in a small legend swatch.
MIN_DELTA_E = 10.0
VISION = [None, "deuteranomaly", "protanomaly", "tritanomaly"]


def rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255


def seen_by(colour: np.ndarray, cvd: str | None) -> np.ndarray:
    if cvd is None:
        return colour
    simulated = cspace_convert(colour, {"name": "sRGB1+CVD", "cvd_type": cvd, "severity": 100}, "sRGB1")
    return np.clip(simulated, 0, 1)


@pytest.mark.parametrize("cvd", VISION)
@pytest.mark.parametrize(
    "palette", [COLOURS["disease_area"], DIRECTION_CLASS_COLOUR], ids=["disease areas", "direction classes"]
)
def test_no_two_categories_look_alike_under_colour_blindness(palette, cvd):
    seen = {code: seen_by(rgb(colour), cvd) for code, colour in palette.items()}
    for a, b in itertools.combinations(seen, 2):
        distance = float(deltaE(seen[a], seen[b], input_space="sRGB1"))
        assert distance >= MIN_DELTA_E, f"{a} and {b} are {distance:.1f} apart for {cvd or 'normal vision'}"


def test_the_disease_legend_has_at_most_eight_entries():
    assert len(COLOURS["disease_area"]) <= 8
