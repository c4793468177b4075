"""Issue 19, item 6: a visitor's rows stay theirs: exports label them as theirs, the footer's dataset line stays
true, no *Report a problem* link for them, and an uploaded assay_id is checked against the catalogue."""

from __future__ import annotations

import io

import pandas as pd

from rankl_atlas import export, upload
from rankl_atlas import tables as atlas_tables
from rankl_atlas.data import load_tables
from tests.conftest import DATA

ATLAS = load_tables(DATA)


def template_frame() -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(upload.template_csv()), dtype=str, keep_default_na=False)


def joined_with_template():
    result = upload.validate_upload(upload.read_upload("t.csv", upload.template_csv()), ATLAS)
    assert result.issues == []
    return upload.join_visitor_rows(ATLAS, result.tables)


def test_exports_of_a_visitors_own_rows_label_the_summary_as_the_visitors():
    joined = joined_with_template()
    studies = joined.studies[joined.studies["study_id"].isin(["example2020", "schett2004"])]
    ris = export.ris_of_filtered(studies, joined.measurements, joined.findings).decode("utf-8")
    bibtex = export.bibtex_of_filtered(studies, joined.measurements, joined.findings).decode("utf-8")
    yours_ris = next(r for r in ris.split("ER  -") if "ID  - example2020" in r)
    ours_ris = next(r for r in ris.split("ER  -") if "ID  - schett2004" in r)
    assert (
        "N1  - Your own summary (from your upload, not RANKL Atlas, not the abstract): Your one-sentence summary."
        in yours_ris
    )
    assert "N1  - Assay kit(s) from your upload: Biomedica (stated)" in yours_ris
    assert "curators'" not in yours_ris and "RANKL Atlas assay kit" not in yours_ris
    assert "RANKL Atlas curators' summary (ours, not the abstract)" in ours_ris
    yours_bib = bibtex[bibtex.index("{example2020,") :].split("@article")[0]
    assert "Your own summary (from your upload, not RANKL Atlas): Your one-sentence summary." in yours_bib
    assert "curators'" not in yours_bib


def test_footer_after_an_upload_keeps_the_dataset_line_true_and_says_your_rows_beside_it():
    counts = f"{len(ATLAS.studies)} studies, {len(ATLAS.measurements)} measurements, {len(ATLAS.findings)} findings"
    assert upload.dataset_line(ATLAS, "1.1.0") == f"RANKL Atlas dataset v1.1.0 ({counts})"
    # The template holds 1 study, 2 measurements and 1 finding: 4 rows.
    assert upload.dataset_line(joined_with_template(), "1.1.0") == (
        f"RANKL Atlas dataset v1.1.0 ({counts}) + 4 of your rows (this session only, not part of the dataset)"
    )


def test_report_a_problem_is_not_offered_for_a_visitors_own_rows():
    joined = joined_with_template()
    linked = atlas_tables.with_report_links(joined.measurements, "measurements", "https://github.com/o/r")
    yours = linked[linked["origin"] == "yours"]
    ours = linked[linked["origin"] == "atlas"]
    assert len(yours) == 2 and yours["report"].isna().all()
    assert ours["report"].str.startswith("https://github.com/o/r/issues/new?").all()
    assert upload.is_visitors(joined.studies[joined.studies["study_id"] == "example2020"].iloc[0])
    assert not upload.is_visitors(joined.studies.iloc[0])


def test_uploaded_assay_id_is_checked_against_the_catalogue_like_a_curated_one():
    frame = template_frame()
    frame.loc[1, "assay_id"] = "acme_kit_rankl"  # no such kit
    frame.loc[2, "assay_id"] = "elabscience_opg_opg"  # a kit of another vendor and analyte
    data = frame.to_csv(index=False).encode("utf-8")
    result = upload.validate_upload(upload.read_upload("kits.csv", data), ATLAS, file="kits.csv")
    found = {(i.row, i.column, i.value, i.rule) for i in result.issues}
    assert (2, "assay_id", "acme_kit_rankl", "assay_id does not exist in assays") in found
    assert (3, "assay_vendor", "biomedica", "must be 'elabscience', the vendor of elabscience_opg_opg") in found
    assert (3, "analyte", "rankl", "must be 'opg', the analyte of elabscience_opg_opg") in found
    assert result.tables.measurements.empty
