"""Tiny synthetic tables that follow the contract, for unit tests."""

from __future__ import annotations

import pandas as pd

from rankl_atlas.data import Tables
from rankl_atlas.schema import PANDAS_DTYPE, TABLE_FIELDS


def frame(table: str, rows: list[dict]) -> pd.DataFrame:
    """A contract-typed frame; missing columns are null."""
    columns = {f.name: PANDAS_DTYPE[f.dtype] for f in TABLE_FIELDS[table]}
    data = pd.DataFrame(rows, columns=list(columns))
    return data.astype(columns)


def study(study_id: str, **kw) -> dict:
    base = dict(
        study_id=study_id, ref_no=None, first_author=study_id[:-4].capitalize(), authors="X A", year=int(study_id[-4:]),
        title=f"Title of {study_id}", journal="J", study_kind="human_circulating", circulating_measured=True,
        species="human", condition_group="rheumatoid_arthritis", design="case_control", summary="s",
        evidence_level="abstract", curation_status="curated", source_set="review_2011", analytes_measured="rankl",
    )  # fmt: skip
    return {**base, **kw}


def measurement(mid: str, **kw) -> dict:
    base = dict(
        measurement_id=mid, study_id=mid.split("-")[0], group_label="cases", group_role="case",
        condition_group="rheumatoid_arthritis", n=20, analyte="rankl", analyte_form="free", specimen="serum",
        assay_vendor="biomedica", assay_attribution="stated", assay_method="elisa", statistic="mean", value=1.0,
        unit="pmol_l", source_location="abstract",
    )  # fmt: skip
    return {**base, **kw}


def finding(fid: str, **kw) -> dict:
    base = dict(
        finding_id=fid, study_id=fid.split("-")[0], analyte="rankl", analyte_form="free", specimen="serum",
        assay_vendor="biomedica", assay_attribution="stated", comparison_type="case_vs_control",
        comparison="cases vs controls", related_to="condition", condition_group="rheumatoid_arthritis",
        direction="higher", source_location="abstract",
    )  # fmt: skip
    return {**base, **kw}


def sample_tables() -> Tables:
    """Three studies: an RA study (2004), an osteoporosis study (2008), a mouse study (2007)."""
    studies = frame(
        "studies",
        [
            study("alpha2004"),
            study("beta2008", condition_group="osteoporosis", first_author="Béta", analytes_measured="opg"),
            study("gamma2007", species="mouse", study_kind="animal", condition_group="none"),
        ],
    )
    measurements = frame(
        "measurements",
        [
            measurement("alpha2004-m1", value=2.0, sd=0.5),
            measurement("alpha2004-m2", group_role="control", condition_group="healthy_population", value=1.0, sd=0.4),
            measurement("beta2008-m1", analyte="opg", analyte_form="unspecified", assay_vendor="rnd_systems",
                        unit="pg_ml", statistic="median", value=900.0, q1=700.0, q3=1100.0,
                        condition_group="osteoporosis"),
            measurement("gamma2007-m1", value=50.0, condition_group="none", unit="pg_ml"),
        ],
    )  # fmt: skip
    findings = frame(
        "findings",
        [
            finding("alpha2004-f1"),
            finding("alpha2004-f2", comparison_type="correlation", related_to="bmd", direction="negative_association"),
            finding("beta2008-f1", analyte="opg", analyte_form="unspecified", assay_vendor="rnd_systems",
                    related_to="bmd", direction="no_association", condition_group="osteoporosis",
                    comparison_type="correlation"),
            finding("gamma2007-f1", condition_group="none", direction="lower", related_to="treatment"),
        ],
    )  # fmt: skip
    return Tables(studies=studies, measurements=measurements, findings=findings)
