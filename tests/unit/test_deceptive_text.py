"""Issue 19, item 4: text that deceives the eye. Bidirectional override/isolate controls are refused in uploads
and curated sources and stripped on import; a title with no visible character is refused everywhere."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from rankl_atlas import upload
from rankl_atlas.build import build
from rankl_atlas.data import load_tables
from rankl_atlas.importers import ImportFailed, add_studies, read_export
from rankl_atlas.validation import ValidationFailed
from tests.conftest import DATA, copy_sources, edit_csv

ATLAS = load_tables(DATA)

#: Every bidirectional override and isolate control the issue names: LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI.
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
BIDI_RULE = (
    "must not hold bidirectional control characters (U+202A-U+202E, U+2066-U+2069): they make text display "
    "differently from what is stored"
)
INVISIBLE_TITLES = ["\u200b\u200b\u200b", "\u200c\u200d\u2060\ufeff", " \u200b \u3164 "]


def template_with_title(title: str) -> bytes:
    frame = pd.read_csv(io.BytesIO(upload.template_csv()), dtype=str, keep_default_na=False)
    frame.loc[0, "title"] = title
    return frame.to_csv(index=False).encode("utf-8")


@pytest.mark.parametrize("control", BIDI, ids=[f"U+{ord(c):04X}" for c in BIDI])
def test_bidi_controls_in_an_uploaded_title_are_refused_and_shown_as_code_points(control):
    title = f"Serum RANKL {control}lanimret{control} in RA"
    result = upload.validate_upload(upload.read_upload("m.csv", template_with_title(title)), ATLAS, file="m.csv")
    shown = f"Serum RANKL <U+{ord(control):04X}>lanimret<U+{ord(control):04X}> in RA"
    assert (1, "title", shown, BIDI_RULE) in {(i.row, i.column, i.value, i.rule) for i in result.issues}
    assert result.tables.studies.empty


@pytest.mark.parametrize("title", INVISIBLE_TITLES, ids=["zero-width-spaces", "joiners-and-bom", "hangul-filler"])
def test_uploaded_title_made_only_of_invisible_characters_is_refused(title):
    result = upload.validate_upload(upload.read_upload("m.csv", template_with_title(title)), ATLAS, file="m.csv")
    rules = {(i.row, i.column, i.rule) for i in result.issues}
    assert (1, "title", "must not be blank (it holds no visible character)") in rules
    assert result.tables.studies.empty


def test_bidi_controls_in_a_curated_source_are_refused_by_make_data(built_copy):
    edit_csv(built_copy / "source" / "studies.csv", 0, "title", "A \u202etitle\u202c (test fixture)")
    with pytest.raises(ValidationFailed) as failed:
        build(built_copy / "source", built_copy)
    assert [(i.file, i.row, i.column, i.value, i.rule) for i in failed.value.issues] == [
        ("studies.csv", 1, "title", "A <U+202E>title<U+202C> (test fixture)", BIDI_RULE)
    ]


def test_title_made_only_of_zero_width_characters_is_refused_by_make_data(built_copy):
    edit_csv(built_copy / "source" / "studies.csv", 0, "title", "\u200b\u200b")
    with pytest.raises(ValidationFailed) as failed:
        build(built_copy / "source", built_copy)
    assert [(i.row, i.column, i.value, i.rule) for i in failed.value.issues] == [
        (1, "title", "<U+200B><U+200B>", "must not be blank (it holds no visible character)")
    ]


def medline(tmp_path, title: str):
    path = tmp_path / "record.nbib"
    path.write_text(f"PMID- 99000601\nDP  - 2020\nTI  - {title}\nAU  - Celik Z\nTA  - J Test\n", encoding="utf-8")
    return path


def test_bidi_controls_are_stripped_on_import(tmp_path):
    [citation] = read_export(medline(tmp_path, "Serum \u202eRANKL\u202c and \u2067OPG\u2069 (test fixture)."))
    assert citation.title == "Serum RANKL and OPG (test fixture)"


def test_imported_title_made_only_of_zero_width_characters_is_refused(tmp_path):
    source = copy_sources(tmp_path)
    with pytest.raises(ImportFailed) as failed:
        add_studies([medline(tmp_path, "\u200b\u200b\u2060")], source)
    assert [str(p) for p in failed.value.problems] == [
        "record.nbib, record 1 (PMID 99000601): title has no visible character ('<U+200B><U+200B><U+2060>')"
    ]
