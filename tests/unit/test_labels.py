"""Study labels: computed once per studies frame, never stale for another frame."""

from __future__ import annotations

from rankl_atlas.labels import study_label_map
from tests.unit.frames import frame, study


def test_labels_are_reused_for_the_same_frame_and_fresh_for_another():
    first = frame("studies", [study("alpha2004")])
    assert study_label_map(first) is study_label_map(first)
    assert study_label_map(first).to_dict() == {"alpha2004": "Alpha 2004"}
    for surname in ("Beta", "Gamma"):  # new frames, possibly at a freed frame's address
        other = frame("studies", [study("alpha2004", first_author=surname)])
        assert study_label_map(other).to_dict() == {"alpha2004": f"{surname} 2004"}
