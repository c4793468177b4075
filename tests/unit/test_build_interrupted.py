"""Issue 19, item 3: the build is atomic as a set. A build killed (SIGKILL) at any step leaves either the old
set, which loads, or a set that is refused as a whole with the command that rebuilds it; never half of each."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rankl_atlas.build import TABLES
from rankl_atlas.data import DataLoadError, load_tables
from tests.conftest import edit_csv

#: Run the build in a fresh interpreter that kills itself with SIGKILL just before its file replacement
#: number argv[3] (0-based): the build writes the four Parquet files, then datapackage.json.
KILLED_BUILD = """
import os, signal, sys
from pathlib import Path
from rankl_atlas import build
kill_before = int(sys.argv[3])
replaced = []
real_replace = os.replace

def replace(src, dst):
    if len(replaced) == kill_before:
        os.kill(os.getpid(), signal.SIGKILL)
    real_replace(src, dst)
    replaced.append(dst)

os.replace = replace
build.build(Path(sys.argv[1]), Path(sys.argv[2]))
print("BUILT")
"""
STEPS = [*(f"{t}.parquet" for t in TABLES), "datapackage.json"]
EDITED_TITLE = "A title edited before the rebuild (test fixture)"


@pytest.mark.parametrize("step", range(len(STEPS) + 1), ids=[f"killed before {s}" for s in STEPS] + ["not killed"])
def test_build_killed_at_each_step_leaves_a_set_that_loads_whole_or_is_refused_whole(built_copy, step):
    old_title = load_tables(built_copy).studies.loc[0, "title"]
    edit_csv(built_copy / "source" / "studies.csv", 0, "title", EDITED_TITLE)
    done = subprocess.run(
        [sys.executable, "-c", KILLED_BUILD, str(built_copy / "source"), str(built_copy), str(step)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if step < len(STEPS):
        assert done.returncode == -9, done.stderr[-2000:]
    else:
        assert done.stdout.strip() == "BUILT", done.stderr[-2000:]
    if step == 0:  # killed before any file was replaced: the old set, whole
        assert load_tables(built_copy).studies.loc[0, "title"] == old_title
    elif step < len(STEPS):  # some files new, datapackage.json old: refused, naming the first new file
        with pytest.raises(DataLoadError) as refused:
            load_tables(built_copy)
        assert refused.value.file.name == "studies.parquet"
        assert str(refused.value) == (
            f"{built_copy / 'studies.parquet'}: does not match datapackage.json (its content hash differs): the "
            "dataset is being rebuilt, or a rebuild was interrupted and left files of two builds. Rebuild the "
            "dataset with `make data`."
        )
    else:  # datapackage.json written last: the new set, whole
        assert load_tables(built_copy).studies.loc[0, "title"] == EDITED_TITLE
