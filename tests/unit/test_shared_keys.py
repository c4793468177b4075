"""Every element a page shares across sessions has a key of its own: ui.shared(ctx, "key", ...), the charts
(ui.chart(..., ctx, key=...), cached under the chart's key) and the tables built per filter state
(ui.table(builder, ctx, key=...), cached under "table:" + key). Two call sites with one key would hand one page's
object to another (an Evidence map once received the Synthesis page's list of families)."""

from __future__ import annotations

import ast
from collections import Counter

from tests.conftest import ROOT


def literal(node: ast.expr) -> str | None:
    """A key as written: a string, or an f-string with each placeholder as {} (None for anything else)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
    return None


def cache_key(call: ast.Call) -> str | None:
    """The shared-cache key a ui.shared / ui.chart / ui.table call uses, or None when it shares nothing."""
    if not isinstance(call.func, ast.Attribute) or call.func.attr not in ("shared", "chart", "table"):
        return None
    if call.func.attr == "shared":
        return literal(call.args[1]) if len(call.args) >= 2 else None
    if len(call.args) < 2:  # a table or chart given no context is built in the session, not shared
        return None
    key = next((literal(k.value) for k in call.keywords if k.arg == "key"), None)
    if key is None:
        return None
    return f"table:{key}" if call.func.attr == "table" else key


def shared_keys() -> list[tuple[str, str]]:
    """(key, place) of every sharing call with a literal key in app_pages/ and src/."""
    found = []
    for path in [*(ROOT / "app_pages").glob("*.py"), *(ROOT / "src").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and (key := cache_key(node)) is not None:
                found.append((key, f"{path.name}:{node.lineno}"))
    return found


def test_every_shared_element_has_its_own_key():
    keys = shared_keys()
    kinds = Counter("table" if k.startswith("table:") else "other" for k, _ in keys)
    assert kinds["table"] >= 5 and kinds["other"] >= 30  # the scan finds the pages' tables, charts and elements
    assert ("conc_{}_{}", "concentrations.py") in {(k, place.split(":")[0]) for k, place in keys}
    repeated = {key for key, n in Counter(k for k, _ in keys).items() if n > 1}
    assert not repeated, [(k, place) for k, place in keys if k in repeated]


def test_the_scan_would_catch_a_chart_that_reuses_another_pages_key():
    """Hand-made: a chart keyed like a shared element elsewhere is reported as repeated."""
    source = 'ui.shared(ctx, "families", f)\nui.chart(build, ctx, key="families")\nui.table(frame, key="families")'
    calls = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)]
    assert [cache_key(c) for c in calls] == ["families", "families", None]
