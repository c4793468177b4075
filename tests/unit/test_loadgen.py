"""benchmarks/loadgen.py: helpers with hand-computed values, the viewer's protocol state, and one real small run."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import random
import shutil
import sys
import threading
from pathlib import Path

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("loadgen", ROOT / "benchmarks" / "loadgen.py")
lg = importlib.util.module_from_spec(_spec)
sys.modules["loadgen"] = lg
_spec.loader.exec_module(lg)


# ------------------------------------------------------------------------------------------------ helpers


def run_async(coroutine):
    """asyncio.run in a thread of its own: the browser tests' Playwright keeps an event loop in the main thread."""
    result = {}

    def target():
        try:
            result["value"] = asyncio.run(coroutine)
        except BaseException as err:  # noqa: BLE001 - re-raised in the test's thread
            result["error"] = err

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def test_percentile_interpolates_between_ranks():
    assert lg.percentile([4, 1, 3, 2], 50) == 2.5  # sorted 1 2 3 4: halfway between 2 and 3
    assert lg.percentile([10, 20, 30, 40, 50], 95) == pytest.approx(48.0)  # rank 3.8: 40 + 0.8 * 10
    assert lg.percentile([10, 20, 30, 40, 50], 0) == 10
    assert lg.percentile([10, 20, 30, 40, 50], 100) == 50
    assert lg.percentile([7.0], 95) == 7.0
    assert lg.percentile([], 50) is None


def test_parse_viewers_env_and_page():
    assert lg.parse_viewers("1,10, 25,") == [1, 10, 25]
    for bad in ("", "0,5", "-1", "a"):
        with pytest.raises(ValueError):
            lg.parse_viewers(bad)
    assert lg.parse_env(["A=1", "B=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}
    with pytest.raises(ValueError):
        lg.parse_env(["NOEQUALS"])
    assert lg.split_page("/") == ("", "")
    assert lg.split_page("/evidence-map") == ("evidence-map", "")
    assert lg.split_page("/evidence-map?disease=a&year=2000") == ("evidence-map", "disease=a&year=2000")


def test_toggle_values_adds_one_option_then_returns():
    assert lg.toggle_values([], ["a", "b"]) == (["a"], [])
    assert lg.toggle_values(["a"], ["a", "b", "c"]) == (["a", "b"], ["a"])
    assert lg.toggle_values(["a"], ["a", "b", "c"], "c") == (["a", "c"], ["a"])
    for opening, option in ((["a", "b"], None), (["a"], "zzz"), (["a"], "a")):
        with pytest.raises(ValueError):
            lg.toggle_values(opening, ["a", "b"], option)


def test_other_cores_subtracts_server_and_client():
    # (wall, server, client, machine) CPU seconds; 10 s wall, machine 12 s busy of which 5 + 1 are ours
    assert lg.other_cores((0, 0, 0, 0), (10, 5, 1, 12)) == pytest.approx(0.6)
    assert lg.other_cores((0, 0, 0, 0), (10, 5, 1, 5)) == 0.0


def test_replace_block_appends_then_replaces_only_its_own_block():
    text = lg.replace_block("# Load\n\nintro\n", "floor", "table 1")
    assert text == "# Load\n\nintro\n\n<!-- loadgen:floor -->\ntable 1\n<!-- /loadgen:floor -->\n"
    text = lg.replace_block(text, "map", "table 2")
    text = lg.replace_block(text, "floor", "table 3")
    assert "table 1" not in text and text.index("table 3") < text.index("table 2")
    assert text.count("<!-- loadgen:floor -->") == 1
    assert lg.replace_block("", "x", "t") == "<!-- loadgen:x -->\nt\n<!-- /loadgen:x -->\n"


def test_summary_cpu_per_rerun_and_percentiles():
    level = lg.Level(2, rerun_ms=[100, 200, 300, 400], open_ms=[50, 70], errors=["e"], server_cpu_s=0.6, wall_s=2)
    s = level.summary()
    assert (s["reruns"], s["errors"], s["p50_ms"], s["max_ms"], s["open_max_ms"]) == (4, 1, 250, 400, 70)
    assert s["cpu_ms_per_rerun"] == pytest.approx(150)  # 0.6 s / 4 reruns
    assert s["server_cores"] == pytest.approx(0.3)
    assert "| 2 | 4 | 1 | 250 |" in lg.markdown_table([s])
    assert "| 100 | skipped: time budget spent |" in lg.markdown_table([{"viewers": 100, "skipped": True}])


# ------------------------------------------------------------------------------------------------ protocol state


def _msg(**fields) -> ForwardMsg:
    msg = ForwardMsg()
    for path, value in fields.items():
        target = msg
        *parents, leaf = path.split("__")
        for part in parents:
            target = getattr(target, part)
        if isinstance(value, list):
            getattr(target, leaf).extend(value)
        else:
            setattr(target, leaf, value)
    return msg


def _multiselect(wid: str, options: list[str], default: list[int], raw: list[str] | None = None) -> ForwardMsg:
    msg = ForwardMsg(hash=f"h-{wid}-{raw}")
    msg.metadata.cacheable = True
    ms = msg.delta.new_element.multiselect
    ms.id, ms.label = wid, "Disease"
    ms.options.extend(options)
    ms.default.extend(default)
    if raw is not None:
        ms.raw_values.extend(raw)
        ms.set_value = True
    return msg


def test_viewer_keeps_widget_values_page_and_query_like_a_browser():
    v = lg.Viewer(1, "/evidence-map?disease=x", timeout=1)
    assert (v.page_name, v.query) == ("evidence-map", "disease=x")
    v.handle(_msg(new_session__page_script_hash="main", new_session__config__max_cached_message_age=2), 0)
    v.handle(_msg(navigation__page_script_hash="page"), 0)
    v.handle(_multiselect("$$ID-1-disease", ["A", "B", "C"], [1]), 0)
    slider = _msg(delta__new_element__slider__id="$$ID-2-year")
    slider.delta.new_element.slider.default.extend([2000, 2010])
    v.handle(slider, 0)
    v.handle(_msg(delta__new_element__checkbox__id="$$ID-3-drafts", delta__new_element__checkbox__default=True), 0)
    v.handle(_msg(page_info_changed__query_string="disease=b"), 0)
    v.handle(_msg(script_finished=ForwardMsg.FINISHED_SUCCESSFULLY), 0)

    assert (v.page_hash, v.query, v.runs) == ("page", "disease=b", 1)
    wid = v.widget_id("disease")
    assert wid == "$$ID-1-disease" and v.multiselects[wid] == ["A", "B", "C"]
    assert list(v.widgets[wid].string_array_value.data) == ["B"]  # from the default indices
    assert list(v.widgets["$$ID-2-year"].double_array_value.data) == [2000, 2010]
    assert v.widgets["$$ID-3-drafts"].bool_value is True
    with pytest.raises(lg.ViewerError):
        v.widget_id("nope")

    # Next run: the server sets the multiselect, draws no slider or checkbox, draws an exception, refers to a
    # message the viewer has and to one it does not have.
    cached = next(iter(v.cache))
    v.handle(_msg(new_session__page_script_hash="main"), 0)
    v.handle(_multiselect(wid, ["A", "B", "C"], [1], raw=["A", "C"]), 0)
    v.handle(_msg(delta__new_element__exception__type="ValueError", delta__new_element__exception__message="bad"), 0)
    v.handle(_msg(ref_hash=cached), 0)
    v.handle(_msg(ref_hash="unknown"), 0)
    v.handle(_msg(script_finished=ForwardMsg.FINISHED_SUCCESSFULLY), 0)

    assert list(v.widgets) == [wid]  # widgets not drawn are forgotten, as in the browser
    assert list(v.widgets[wid].string_array_value.data) == ["A", "C"]  # a value set by the server wins
    assert v.page_hash == "page"  # the navigation hash is kept
    assert len(v.problems) == 2 and "exception drawn: ValueError" in v.problems[0] and "cache miss" in v.problems[1]

    for _ in range(3):  # cache entries unused for more than max_cached_message_age runs are dropped
        v.handle(_msg(script_finished=ForwardMsg.FINISHED_SUCCESSFULLY), 0)
    assert v.cache == {}


def test_unsuccessful_run_fails_the_pending_change():
    async def scenario():
        v = lg.Viewer(1, "/", timeout=1)
        v._done = asyncio.get_running_loop().create_future()
        v.handle(_msg(script_finished=ForwardMsg.FINISHED_EARLY_FOR_RERUN), 0)
        assert not v._done.done()  # a rerun follows; still pending
        v.handle(_msg(script_finished=ForwardMsg.FINISHED_WITH_COMPILE_ERROR), 0)
        with pytest.raises(lg.ViewerError) as err:
            await v._done
        return err.value.kind

    assert run_async(scenario()) == "unsuccessful"


# ------------------------------------------------------------------------------------------------ a real run


@pytest.mark.timeout(90)
def test_small_real_run_against_the_floor_app():
    """2 viewers x 2 changes (think 0) on a real server: 4 timed reruns, no errors, server CPU measured."""
    floor = str(ROOT / "benchmarks" / "floor_app.py")
    args = lg.parse_args(["--app", floor, "--viewers", "2", "--reruns", "2", "--think", "0", "--quiet-wait", "0"])

    async def scenario():
        server = lg.Server(Path(floor), [], {})
        try:
            await server.wait_ready()
            await lg.warm_up(server.port, args)
            good = await lg.measure(server.port, server.pid, 2, args)
            args.widget = "no_such_widget"
            bad = await lg.measure(server.port, server.pid, 2, args)
            return good, bad, server
        finally:
            server.stop()

    good, bad, server = run_async(scenario())
    s = good.summary()
    assert good.errors == [] and s["errors"] == 0
    assert s["reruns"] == 4 and len(good.open_ms) == 2
    assert all(ms > 0 for ms in good.rerun_ms)
    assert s["cpu_ms_per_rerun"] > 0 and s["rss_peak_mb"] > 20
    assert bad.summary()["reruns"] == 0 and len(bad.errors) == 2 and bad.errors[0].startswith("setup")
    assert server.proc.poll() is not None  # the server is stopped


def test_spent_budget_skips_levels_and_writes_markdown_and_json(tmp_path):
    md, js = tmp_path / "load.md", tmp_path / "load.json"
    md.write_text("# Load\n")
    argv = ["--app", "nowhere.py", "--viewers", "1,5", "--budget", "1", "--label", "quick floor"]
    assert run_async(lg.main(lg.parse_args([*argv, "--markdown", str(md), "--json", str(js)]))) == 0
    text = md.read_text()
    assert text.startswith("# Load\n\n<!-- loadgen:quick floor -->\n**quick floor**")
    assert text.count("skipped: time budget spent") == 2
    assert [row["viewers"] for row in json.loads(js.read_text())["levels"]] == [1, 5]


def test_gc_threshold_env_puts_a_sitecustomize_first_on_pythonpath():
    env = lg.gc_threshold_env("50000,20,20", "/some/src")
    folder, rest = env["PYTHONPATH"].split(":", 1)
    assert rest == "/some/src"
    assert (Path(folder) / "sitecustomize.py").read_text() == "import gc\n\ngc.set_threshold(*[50000, 20, 20])\n"
    shutil.rmtree(folder)


def test_jittered_think_times_stay_within_the_band_and_average_the_think_time():
    """--jitter 0.5 with a 5 s think time: every wait in [2.5, 7.5] s, the mean of many ≈ 5 s (uniform), and no
    two viewers with different seeds wait alike (they drift apart instead of into lockstep); 0 keeps 5 s."""
    waits = [lg.think_time(5.0, 0.5, rng) for rng in [random.Random(7)] for _ in range(4000)]
    assert min(waits) >= 2.5 and max(waits) <= 7.5
    assert min(waits) < 2.6 and max(waits) > 7.4  # the whole band is used
    assert abs(sum(waits) / len(waits) - 5.0) < 0.1  # SE of the mean: 1.44 / √4000 ≈ 0.023 s
    first = [lg.think_time(5.0, 0.5, random.Random(i)) for i in range(50)]
    assert len(set(first)) == 50
    assert lg.think_time(5.0, 0.0, random.Random(1)) == 5.0
