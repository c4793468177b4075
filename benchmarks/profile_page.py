"""Profile one page's warm server-side run with pyinstrument (AppTest, synthetic data at a scale).

Run: .venv/bin/python benchmarks/profile_page.py PAGE [--scale 1000] [--disease CODE] [--tab LABEL] [--miss] [--html F]
--miss profiles the first run of a filter state nobody has seen (shared elements and filtered rows cleared, the
dataset still loaded) instead of a warm rerun.
PAGE is a page key of rankl_atlas.navigation (overview, evidence_map, ...). Needs `pip install pyinstrument`.
The profiler runs inside the script thread, so it sees app.py, the page and every library call it makes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import streamlit as st  # noqa: E402
from pyinstrument import Profiler  # noqa: E402
from run import registered_pages  # noqa: E402
from streamlit.runtime.scriptrunner import script_runner  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from rankl_atlas.data import DATA_ENV  # noqa: E402
from rankl_atlas.synthetic import write_synthetic  # noqa: E402
from tests.app.conftest import switch_to  # noqa: E402

PROFILES: list[Profiler] = []
_original_run_script = script_runner.ScriptRunner._run_script


def _profiled_run_script(self, rerun_data):
    if not PROFILES or PROFILES[-1].is_running:
        return _original_run_script(self, rerun_data)
    profiler = PROFILES[-1]
    profiler.start()
    try:
        return _original_run_script(self, rerun_data)
    finally:
        profiler.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", help="page key, e.g. evidence_map")
    parser.add_argument("--scale", type=int, default=1000)
    parser.add_argument("--disease", help="narrow filter: ?disease=CODE")
    parser.add_argument("--data", type=Path, help="an existing data folder (skips generating one)")
    parser.add_argument("--tab", help="open this tab of the page first (its label), as a reader clicks it")
    parser.add_argument("--miss", action="store_true", help="profile a never-seen filter state, not a warm rerun")
    parser.add_argument("--html", type=Path, help="also write pyinstrument's HTML report here")
    args = parser.parse_args(argv)
    st.logger.set_log_level("error")
    page = next(p for p in registered_pages() if p.name == args.page)
    folder = args.data
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="rankl-profile-")) / f"data-{args.scale}x"
        write_synthetic(folder, args.scale)
    os.environ[DATA_ENV] = str(folder)
    st.cache_data.clear()
    script_runner.ScriptRunner._run_script = _profiled_run_script
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    if args.disease:
        at.query_params["disease"] = args.disease
    at.run()
    switch_to(at, page.key)
    if args.tab:
        at.session_state["tab"] = args.tab  # ui.url_tabs' key
    at.run()
    if args.miss:
        from rankl_atlas.ui import loading, widgets

        widgets._shared.clear()
        loading._filtered_by_state.clear()
    PROFILES.append(Profiler(interval=0.001))
    at.run()
    print(PROFILES[-1].output_text(unicode=True, color=False, show_all=bool(os.environ.get("PROFILE_ALL"))))
    if args.html:
        args.html.write_text(PROFILES[-1].output_html(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
