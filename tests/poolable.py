"""A synthetic data folder with several poolable strata (for synthesis tests; not curated data)."""

from __future__ import annotations

import shutil
from pathlib import Path

from rankl_atlas.build import TABLES, parquet_bytes, write_atomic
from rankl_atlas.validation import validate_tables
from tests.conftest import DATA, record_hashes
from tests.unit.frames import frame, measurement, study


def write_poolable_dataset(folder: Path) -> Path:
    """Six synthetic studies: free RANKL by Biomedica (k=3), total RANKL by Immundiagnostik (k=2), OPG by R&D (k=1)."""
    specs = [
        ("poola2001", "free", "biomedica", "rankl", 1.2), ("poolb2003", "free", "biomedica", "rankl", 0.8),
        ("poolc2005", "free", "biomedica", "rankl", 1.5), ("poold2006", "total", "immundiagnostik", "rankl", 0.4),
        ("poole2008", "total", "immundiagnostik", "rankl", 0.9), ("poolf2009", "unspecified", "rnd_systems", "opg", -0.5),
    ]  # fmt: skip
    studies, measurements, findings = [], [], []
    for sid, form, vendor, analyte, shift in specs:
        studies.append(study(sid, title=f"Synthetic poolable study {sid}", first_author=sid[:5].capitalize()))
        common = dict(analyte=analyte, analyte_form=form, assay_vendor=vendor, unit="pmol_l")
        measurements.append(measurement(f"{sid}-m1", value=2.0 + shift, sd=1.0, n=30, **common))
        measurements.append(
            measurement(
                f"{sid}-m2",
                group_role="control",
                condition_group="healthy_population",
                value=2.0,
                sd=1.0,
                n=30,
                **common,
            )
        )
    tables = {
        "studies": frame("studies", studies),
        "measurements": frame("measurements", measurements),
        "findings": frame("findings", findings),
        "assays": frame("assays", []),
        "meta_analyses": frame("meta_analyses", []),
    }
    issues = validate_tables(tables, {t: t for t in TABLES})
    assert not issues, [str(i) for i in issues]
    folder.mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        write_atomic(folder / f"{table}.parquet", parquet_bytes(tables[table], table))
    shutil.copy(DATA / "datapackage.json", folder / "datapackage.json")
    record_hashes(folder)  # the package describes these files, not the bundled ones
    return folder
