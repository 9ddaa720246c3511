"""The metadata API (R15, R20) and the metadata jobs through the registry, on SQLite and
PostgreSQL, with the sources on a loopback server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from pytest_httpserver import HTTPServer

from mamcrawler.jobs.runner import run_job
from mamcrawler.services import metadata as metadata_service
from tests.integration.test_metadata_service import (
    ASIN,
    STONE,
    add_book,
    audnexus_book,
    book_view,
    fast_sources,
    load,
    scanned_stone,
    serve_audnexus,
    serve_google,
    serve_openlibrary,
    source_settings,
)


@pytest.fixture(scope="module")
def _server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def server(_server, monkeypatch):
    """The sources' server, answering like Audnexus for Harry Potter; the API's sources
    are built without rate-limit waits."""
    _server.clear()
    serve_audnexus(_server)
    serve_google(_server, load("googlebooks", "volumes_empty"))
    serve_openlibrary(_server, load("openlibrary", "search_empty"))
    monkeypatch.setattr(metadata_service, "build_sources", lambda settings: fast_sources(
        _server))
    yield _server
    _server.clear()


@pytest.fixture
def settings(make_settings, db_url, server, tmp_path):
    return make_settings(database_url=db_url, library_dir=tmp_path / "library",
                         **source_settings(server))


@pytest.fixture
def book(runtime) -> int:
    return scanned_stone(runtime.sessions)


def data(response, status: int = 200):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is (status < 400)
    return body["data"] if status < 400 else body["error"]


def fields(api: TestClient, book_id: int) -> dict[str, dict]:
    view = data(api.get(f"/api/metadata/books/{book_id}"))
    return {f["field"]: f for f in view["fields"]}


def test_refresh_then_every_field_shows_its_source(api, book):
    outcome = data(api.post(f"/api/metadata/books/{book}/refresh"))
    assert outcome["flagged"] is False and outcome["source_errors"] == {}
    changed = {c["field"]: c for c in outcome["changes"]}
    assert changed["narrators"]["new"] == "Jim Dale"
    assert changed["narrators"]["source"] == "audnexus"
    shown = fields(api, book)
    assert list(shown) == list(metadata_service.FIELDS)
    narrators = shown["narrators"]
    assert narrators["value"] == ["Jim Dale"] and narrators["source"] == "audnexus"
    assert narrators["protected"] is False and "strong match" in narrators["evidence"]
    assert narrators["confidence"] is None  # not weighed by narrator detection yet
    assert shown["series"]["confidence"] > 0.85
    # No folder to listen to: the narrator is left to be assessed when there is one.
    assert outcome["notes"] == ["narrator not detected: the book has no library folder"]
    assert shown["duration_seconds"]["source"] == "tags"
    assert shown["asin"]["value"] == ASIN
    assert shown["subtitle"] == {"field": "subtitle", "value": None, "source": None,
                                 "protected": False, "confidence": None, "evidence": None,
                                 "updated_at": None}


def test_a_field_set_by_hand_is_protected_until_unprotected(api, book):
    put = data(api.put(f"/api/metadata/books/{book}/fields/narrators",
                       json={"value": ["Stephen Fry"]}))
    assert (put["value"], put["source"], put["protected"]) == (["Stephen Fry"], "user", True)
    data(api.post(f"/api/metadata/books/{book}/refresh"))
    assert fields(api, book)["narrators"]["value"] == ["Stephen Fry"]
    history = data(api.get(f"/api/metadata/books/{book}/corrections"))["items"]
    assert {(c["field"], c["source"]) for c in history} >= {("narrators", "user")}
    assert not [c for c in history if c["field"] == "narrators" and c["source"] != "user"]

    freed = data(api.delete(f"/api/metadata/books/{book}/fields/narrators/protection"))
    assert freed["protected"] is False and freed["source"] == "user"
    data(api.post(f"/api/metadata/books/{book}/refresh"))
    assert fields(api, book)["narrators"]["value"] == ["Jim Dale"]


def test_verifying_a_value_protects_it_and_keeps_its_source(api, book):
    data(api.post(f"/api/metadata/books/{book}/refresh"))
    before = data(api.get(f"/api/metadata/books/{book}/corrections"))["total"]
    verified = data(api.put(f"/api/metadata/books/{book}/fields/year", json={"value": 2015}))
    assert (verified["value"], verified["source"], verified["protected"]) == (
        2015, "audnexus", True)
    assert verified["evidence"] == "verified by a person (found by audnexus)"
    assert data(api.get(f"/api/metadata/books/{book}/corrections"))["total"] == before
    unprotected = data(api.put(f"/api/metadata/books/{book}/fields/publisher",
                               json={"value": "My Press", "protect": False}))
    assert (unprotected["source"], unprotected["protected"]) == ("user", False)


def test_series_position_is_set_within_the_series(api, book):
    assert "no series" in data(api.put(f"/api/metadata/books/{book}/fields/series_position",
                                       json={"value": "2"}), 422)
    data(api.put(f"/api/metadata/books/{book}/fields/series", json={"value": "Hogwarts"}))
    data(api.put(f"/api/metadata/books/{book}/fields/series_position", json={"value": 3}))
    shown = fields(api, book)
    assert (shown["series"]["value"], shown["series_position"]["value"]) == ("Hogwarts", "3")


@pytest.mark.parametrize(("path", "body", "message"), [
    ("fields/narator", {"value": ["X"]}, "unknown metadata field 'narator'"),
    ("fields/year", {"value": "abc"}, "year: a whole number from 1000 to 2999"),
    ("fields/year", {"value": 12}, "year: a whole number"),
    ("fields/title", {"value": None}, "title: a book needs a title"),
    ("fields/title", {"value": 42}, "title: text of 1-500 characters"),
    ("fields/authors", {"value": "J.K. Rowling"}, "authors: a list of at most 50 names"),
    ("fields/isbn", {"value": "12-34"}, "isbn: 10 or 13 digits"),
    ("fields/abridged", {"value": "no"}, "abridged: true or false"),
    ("fields/title", {"value": "T", "extra": 1}, "extra: Extra inputs are not permitted"),
    ("fields/Title", {"value": "T"}, "invalid request"),
])
def test_bad_field_requests_are_422_and_say_why(api, book, path, body, message):
    assert message in data(api.put(f"/api/metadata/books/{book}/{path}", json=body), 422)


def test_unknown_books_and_fields_elsewhere(api, book):
    assert data(api.get("/api/metadata/books/999999"), 404) == "book 999999 not found"
    assert data(api.put("/api/metadata/books/999999/fields/title", json={"value": "T"}),
                404) == "book 999999 not found"
    assert data(api.post("/api/metadata/books/999999/refresh"), 404) == "book 999999 not found"
    assert "unknown metadata field" in data(
        api.delete(f"/api/metadata/books/{book}/fields/nope/protection"), 422)
    assert data(api.get("/api/metadata/books/999999/corrections"), 404)


def test_corrections_are_paginated_newest_first(api, book):
    for title in ("First", "Second", "Third"):
        data(api.put(f"/api/metadata/books/{book}/fields/title", json={"value": title}))
    page = data(api.get(f"/api/metadata/books/{book}/corrections?limit=2&offset=0"))
    assert page["total"] == 3 and page["limit"] == 2
    assert [c["new_value"] for c in page["items"]] == ["Third", "Second"]
    assert page["items"][0]["old_value"] == "Second"
    rest = data(api.get(f"/api/metadata/books/{book}/corrections?limit=2&offset=2"))
    assert [c["new_value"] for c in rest["items"]] == ["First"]
    assert rest["items"][0]["old_value"] == STONE


def test_review_lists_books_a_weak_match_flagged(api, runtime, server):
    server.clear()
    serve_audnexus(server, audnexus_book(title="Harry Potter and the Philosopher's Stone",
                                         runtimeLengthMin=650,
                                         narrators=[{"name": "Stephen Fry"}]))
    serve_google(server, load("googlebooks", "volumes_empty"))
    serve_openlibrary(server, load("openlibrary", "search_empty"))
    fine = add_book(runtime.sessions, {"title": "Fine Book"})
    doubtful = scanned_stone(runtime.sessions, narrators=["Jim Dale"])
    gone = add_book(runtime.sessions, {"title": "Gone Book", "library_path": "/lib/Gone"},
                    missing_since=datetime(2026, 5, 1, tzinfo=UTC))
    outcome = data(api.post(f"/api/metadata/books/{doubtful}/refresh"))
    assert outcome["flagged"] is True and outcome["changes"] == []
    review = data(api.get("/api/metadata/review"))
    assert review["total"] == 2
    item, missing = review["items"]
    assert item["book_id"] == doubtful and item["authors"] == ["J.K. Rowling"]
    assert "weak match" in item["review_reason"] and item["missing_since"] is None
    assert (missing["book_id"], missing["review_reason"]) == (gone, None)
    assert missing["missing_since"].startswith("2026-05-01")
    assert data(api.get(f"/api/books/{gone}"))["missing_since"].startswith("2026-05-01")
    assert [b["id"] for b in data(api.get("/api/books?missing=true"))["items"]] == [gone]
    assert fine != doubtful


def test_metadata_needs_the_api_key(runtime):
    from mamcrawler.api.app import create_app

    with TestClient(create_app(runtime, start_scheduler=False)) as anonymous:
        response = anonymous.get("/api/metadata/review")
    assert response.status_code == 401 and response.json()["success"] is False


def test_the_jobs_run_from_the_registry(runtime, book):
    ctx = runtime.scheduler.ctx
    drift = run_job(ctx, "metadata_drift", trigger="manual")
    assert drift.outcome == "success", drift.error
    assert drift.summary.startswith("1 books checked, 10 fields changed in 1 books, "
                                    "0 flagged for review, 0 source errors")
    assert book_view(runtime.sessions, book)["narrators"] == ["Jim Dale"]
    maintenance = run_job(ctx, "metadata_maintenance", trigger="manual")
    assert maintenance.outcome == "success", maintenance.error
    assert maintenance.summary.startswith("1 books checked, 0 fields changed")
