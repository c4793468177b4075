"""Server-run times of pages on a data folder with AppTest, for a before/after comparison of two checkouts.

Run: .venv/bin/python benchmarks/warm_miss.py CHECKOUT DATA PAGE... (e.g. `. /tmp/data100 synthesis concentrations`;
make DATA with `python -m rankl_atlas.synthetic DATA --scale 100`; CHECKOUT may be `git archive` of an older commit;
a PAGE may name one of its tabs, e.g. `"synthesis#Harvest plot"`, opened as a reader clicks it).
Prints, per page and filter state (default, ?disease=rheumatoid_arthritis), the median of 3 of: *miss*, the first run
of a filter state nobody has seen (the shared-element and filtered-rows caches cleared; the dataset stays loaded),
and *warm*, the next rerun of that state (what every later viewer of a shared link gets).
"""

from __future__ import annotations

import importlib
import os
import statistics
import sys
import time
from pathlib import Path

STATES = ({}, {"disease": "rheumatoid_arthritis"})


def timed_run(at) -> float:
    start = time.perf_counter()
    at.run()
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__)
        return 2
    checkout, data, pages = Path(argv[0]).resolve(), argv[1], argv[2:]
    sys.path[:0] = [str(checkout), str(checkout / "src")]  # the checkout's code, not this one's
    os.environ["RANKL_ATLAS_DATA"] = data
    st = importlib.import_module("streamlit")
    app_test = importlib.import_module("streamlit.testing.v1").AppTest
    switch_to = importlib.import_module("tests.app.conftest").switch_to
    loading = importlib.import_module("rankl_atlas.ui.loading")
    widgets = importlib.import_module("rankl_atlas.ui.widgets")
    st.logger.set_log_level("error")
    for page_and_query in pages:
        page, _, tab = page_and_query.partition("#")
        for query in STATES:
            miss, warm = [], []
            for _ in range(3):
                st.cache_resource.clear()
                at = app_test.from_file(str(checkout / "app.py"), default_timeout=600)
                for key, value in query.items():
                    at.query_params[key] = value
                at.run()
                widgets._shared.clear()  # a filter state nobody has seen; the data stay loaded
                loading._filtered_by_state.clear()
                switch_to(at, page)
                if tab:
                    at.session_state["tab"] = tab  # ui.url_tabs' key: the tab a reader clicked
                miss.append(timed_run(at))
                warm.append(timed_run(at))
                assert not at.exception, at.exception
            print(
                f"{checkout.name} {page_and_query} {query or 'default'}: miss {1000 * statistics.median(miss):.0f} ms, "
                f"warm {1000 * statistics.median(warm):.0f} ms",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
