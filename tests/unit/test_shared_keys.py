"""Every element a page shares across sessions has a key of its own: ui.shared(ctx, "key", ...), the charts
(ui.chart(..., ctx, key=...), cached under the chart's key) and the tables built per filter state
(ui.table(builder, ctx, key=...), cached under "table:" + key), also when a page's helper passes its own `key`
argument on to one of them. Two call sites with one key would hand one page's object to another (an Evidence map
once received the Synthesis page's list of families)."""

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


SHARING = {"shared": "", "chart": "", "table": "table:"}


def cache_key(call: ast.Call, sharing: dict[str, str] = SHARING) -> str | None:
    """The shared-cache key a sharing call uses (ui.shared / ui.chart / ui.table, or a helper in `sharing` that
    passes its key on), or None when it shares nothing."""
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
    if name not in sharing or (name in SHARING and not isinstance(call.func, ast.Attribute)):
        return None
    if name == "shared":
        return literal(call.args[1]) if len(call.args) >= 2 else None
    if len(call.args) < 2:  # a table or chart given no context is built in the session, not shared
        return None
    key = next((literal(k.value) for k in call.keywords if k.arg == "key"), None)
    return None if key is None else sharing[name] + key


def key_forwarders(tree: ast.Module) -> dict[str, str]:
    """Functions of a module that hand their own `key` argument to a sharing call, with the key's prefix there."""
    found = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        params = {a.arg for a in [*node.args.args, *node.args.kwonlyargs]}
        if "key" not in params or node.name in SHARING:
            continue
        for call in ast.walk(node):
            name = call.func.attr if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) else None
            forwards = any(
                k.arg == "key" and isinstance(k.value, ast.Name) and k.value.id == "key"
                for k in getattr(call, "keywords", [])
            )
            if name in ("chart", "table") and forwards and len(call.args) >= 2:
                found[node.name] = SHARING[name]
    return found


def shared_keys() -> list[tuple[str, str]]:
    """(key, place) of every sharing call with a literal key in app_pages/ and src/."""
    found = []
    for path in [*(ROOT / "app_pages").glob("*.py"), *(ROOT / "src").rglob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        sharing = {**SHARING, **key_forwarders(tree)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (key := cache_key(node, sharing)) is not None:
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


def test_the_scan_follows_a_helper_that_passes_its_key_to_a_shared_table():
    """Hand-made: two helper calls with one key (the helper hands it to ui.table) are two tables under one key."""
    source = (
        "def first_rows(ctx, frame, *, key):\n    ui.table(lambda: frame, ctx, key=key)\n"
        "first_rows(ctx, a, key='rows')\nfirst_rows(ctx, b, key='rows')\nother(ctx, c, key='rows')\n"
    )
    tree = ast.parse(source)
    sharing = {**SHARING, **key_forwarders(tree)}
    assert key_forwarders(tree) == {"first_rows": "table:"}
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert sorted(k for c in calls if (k := cache_key(c, sharing))) == ["table:rows", "table:rows"]


def test_the_synthesis_pages_first_rows_tables_are_counted():
    """Its ratio table is shared through the page's _first_rows helper (written out: key "ratios")."""
    assert "table:ratios" in {key for key, place in shared_keys() if place.startswith("synthesis.py")}
