"""Drafts added with `add-studies` survive the build and show in the app only on request."""

from __future__ import annotations

from rankl_atlas.build import build
from rankl_atlas.data import DATA_ENV, load_tables
from rankl_atlas.importers import add_studies
from tests.app.conftest import count_caption, run_app
from tests.conftest import DATA, ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "imports"


def test_imported_drafts_are_hidden_by_default_and_shown_on_request(built_copy, monkeypatch):
    plan = add_studies([FIXTURES / "pubmed.nbib"], built_copy / "source")
    assert plan.added, "the fixture should add at least one new study"
    build(built_copy / "source", built_copy)
    monkeypatch.setenv(DATA_ENV, str(built_copy))
    total = len(load_tables(DATA).studies) + len(plan.added)

    at = run_app("studies")
    assert not at.exception
    assert f"of {total} studies" in count_caption(at)
    default_kept = int(count_caption(at).split("**")[1].split(" of ")[0])

    with_drafts = run_app("studies", {"drafts": "true"})
    kept = int(count_caption(with_drafts).split("**")[1].split(" of ")[0])
    assert kept >= default_kept + len(plan.added)
    table = with_drafts.dataframe[0].value
    assert {a.study_id for a in plan.added} <= set(table["study_id"])
