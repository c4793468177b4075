"""Every element a page shares across sessions (ui.shared) has a key of its own: two call sites with one key would
hand one page's object to another (an Evidence map once received the Synthesis page's list of families)."""

from __future__ import annotations

import ast
from collections import Counter

from tests.conftest import ROOT


def shared_keys() -> list[tuple[str, str]]:
    """(key, place) of every ui.shared(ctx, "key", ...) call with a literal key in app_pages/ and src/."""
    found = []
    for path in [*(ROOT / "app_pages").glob("*.py"), *(ROOT / "src").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "shared"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
            ):
                found.append((node.args[1].value, f"{path.name}:{node.lineno}"))
    return found


def test_every_shared_element_has_its_own_key():
    keys = shared_keys()
    assert len(keys) >= 10  # the scan finds the pages' calls
    repeated = {key for key, n in Counter(k for k, _ in keys).items() if n > 1}
    assert not repeated, [(k, place) for k, place in keys if k in repeated]
