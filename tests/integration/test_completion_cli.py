"""The `follow` and `completion` commands against a real database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from mamcrawler import cli_completion
from mamcrawler.cli import app
from mamcrawler.domain.completion import GapAction
from mamcrawler.services import completion_store
from mamcrawler.services.library import create_book
from mamcrawler.store.db import make_engine, make_session_factory, session_scope


@pytest.fixture
def cli(db_url, tmp_path, monkeypatch, root_logging):
    monkeypatch.setattr(cli_completion._console, "width", 200)  # tables unwrapped
    env = tmp_path / "test.env"
    env.write_text(f"DATABASE_URL={db_url}\nDEMO=false\nDATA_DIR={tmp_path / 'data'}\n")
    runner = CliRunner()

    def run(*args: str, extra: str = ""):
        if extra:
            env.write_text(env.read_text() + extra)
        result = runner.invoke(app, ["--env-file", str(env), *args])
        return result.exit_code, result.output

    return run


def test_follow_with_a_policy(cli):
    code, out = cli("follow", "author", "Klara Vogt", "--new-only", "--language", "german",
                    "--abridged-ok")
    assert code == 0 and "books released since" in out and "german" in out
    assert "abridged too" in out
    code, out = cli("follow", "series", "Neon Hex", "--any-edition")
    assert code == 0 and "every missing position; your language; unabridged only" in out


def test_completion_runs_for_one_series_with_a_progress_bar(cli, db_url, tracker_sim,
                                                             httpserver):
    httpserver.expect_request("/1.0/catalog/products").respond_with_json(
        {"products": [], "total_results": 0})
    extra = (f"MAM_ID={tracker_sim.mam_id}\nMAM_URL={tracker_sim.base_url}\n"
             f"MAM_MIN_INTERVAL_S=0.5\nAUDIBLE_CATALOG_URL={httpserver.url_for('/')}\n")
    engine = make_engine(db_url)
    with session_scope(make_session_factory(engine)) as session:
        create_book(session, {"title": "Neon Hex", "authors": ["Rook Alvarez"],
                              "narrators": [], "series": [{"name": "Neon Hex",
                                                           "position": "1"}]})
    engine.dispose()
    code, out = cli("completion", "--series", "Nowhere", extra=extra)
    assert code == 2
    code, out = cli("follow", "series", "Neon Hex")
    code, out = cli("completion", "--series", "neon hex")
    assert code == 0, out
    assert "completion: success" in out and "1 of 1 followed series and authors" in out
    assert "1 of 100 tracker requests" in out
    for line in ("Neon Hex", "have"), ("Neon Curse", "wanted (wanted)"), \
            ("Neon Requiem", "wanted (wanted)"):
        assert any(all(w in row for w in line) for row in out.splitlines()), line
    assert tracker_sim.control.state()["requests"]["/tor/js/loadSearchJSONbasic.php"] == 1


def test_follow_and_list(cli):
    assert cli("follow", "author", "Mara Quill") == (
        0, "following author #1 Mara Quill (added: not in the library yet)\n"
        "  every book; your language; audiobook editions only, unabridged only\n")
    assert cli("follow", "series", "Nope", "--stop")[0] == 2
    code, out = cli("follow", "category", "46")
    assert (code, out) == (0, "following category 46 Romance\n")
    cli("follow", "category", "46", "--stop")
    code, out = cli("follow", "list")
    assert code == 0 and "Mara Quill" in out and "person" in out and "never" in out
    assert "41 Fantasy" in out and "46 Romance" not in out


def test_missing_decline_and_want(cli, db_url):
    engine = make_engine(db_url)
    find = completion_store.Find(key="ash throne|mara quill", title="The Ash Throne",
                                 author="Mara Quill", action=GapAction.WANT, reason="a gap",
                                 found_in="series", sources=("tracker",), position="2")
    with session_scope(make_session_factory(engine)) as session:
        row_id = completion_store.record_find(session, find, datetime.now(UTC)).id
    engine.dispose()
    code, out = cli("completion", "missing")
    assert code == 0 and "The Ash Throne" in out and "a gap" in out
    code, out = cli("completion", "decline", str(row_id))
    assert code == 0 and out.startswith("declined 'The Ash Throne'")
    assert "The Ash Throne" in cli("completion", "missing", "--status", "declined")[1]
    code, out = cli("completion", "want", str(row_id))
    assert code == 0 and "merged into the wanted list" in out
    assert cli("completion", "want", "999")[0] == 2
