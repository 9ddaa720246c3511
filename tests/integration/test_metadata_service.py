"""Metadata enrichment against loopback sources, on SQLite and PostgreSQL (R13, R15-R17).

Sources answer in their recorded shapes (tests/fixtures/metadata) from a threaded
pytest-httpserver on 127.0.0.1; Audiobookshelf is the contract fake. Source caching is
off and rate limits are zero, so nothing waits.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from mamcrawler.adapters.audiobookshelf import AbsClient
from mamcrawler.adapters.mam.ratelimit import MinIntervalLimiter
from mamcrawler.adapters.metadata import (
    AudnexusSource,
    GoogleBooksSource,
    HttpOptions,
    OpenLibrarySource,
)
from mamcrawler.domain.scan_plan import UNREADABLE_MARK
from mamcrawler.services import library, metadata_jobs
from mamcrawler.services.metadata import enrich_book, open_tools
from mamcrawler.store.db import make_engine, make_session_factory, session_scope
from mamcrawler.store.models import Book, Download, FieldSource, MetadataCorrection
from tests.support.abs_fake import ABS_TOKEN

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "metadata"
ASIN = "B017V4IM1G"
STONE = "Harry Potter and the Sorcerer's Stone"


def load(source: str, name: str) -> Any:
    return json.loads((FIXTURES / source / f"{name}.json").read_text("utf-8"))


def audnexus_book(**changes: Any) -> dict[str, Any]:
    """The recorded Audnexus book with `changes` applied (None removes a key)."""
    book = copy.deepcopy(load("audnexus", f"book_{ASIN}"))
    for key, value in changes.items():
        if value is None:
            book.pop(key, None)
        else:
            book[key] = value
    return book


# Each source under its own path: base URLs differ, so each has its own rate limiter.
PREFIX = {"audnexus": "/audnexus", "catalog": "/catalog", "googlebooks": "/google/books/v1",
          "openlibrary": "/openlibrary", "itunes": "/itunes"}


def serve_audnexus(server: HTTPServer, book: dict[str, Any] | None = None) -> None:
    """The Audible catalog finds one ASIN; Audnexus answers with `book` for it."""
    server.expect_request(f"{PREFIX['catalog']}/1.0/catalog/products").respond_with_json(
        {"products": [{"asin": ASIN}], "total_results": 1})
    server.expect_request(f"{PREFIX['audnexus']}/books/{ASIN}").respond_with_json(
        book or audnexus_book())


def serve_google(server: HTTPServer, data: Any = None, status: int = 200) -> None:
    server.expect_request(f"{PREFIX['googlebooks']}/volumes").respond_with_json(
        load("googlebooks", "volumes") if data is None else data, status=status)


def serve_openlibrary(server: HTTPServer, data: Any = None, status: int = 200) -> None:
    server.expect_request(f"{PREFIX['openlibrary']}/search.json").respond_with_json(
        load("openlibrary", "search") if data is None else data, status=status)


def fast_sources(server: HTTPServer) -> list:
    """Audnexus, Google Books and Open Library on the test server; no waits, one try."""
    options = HttpOptions(timeout_s=5.0, min_interval_s=0.0, max_attempts=1,
                          limiter=MinIntervalLimiter(0.0))
    url = source_settings(server)
    return [AudnexusSource(url["audnexus_url"], url["audible_catalog_url"], options=options),
            GoogleBooksSource(url["google_books_url"], options=options),
            OpenLibrarySource(url["openlibrary_url"], enrich=0, options=options)]


def source_settings(server: HTTPServer) -> dict[str, Any]:
    """Settings pointing every metadata source at the test server."""
    url = server.url_for("/").rstrip("/")
    return {"audnexus_url": url + PREFIX["audnexus"],
            "audible_catalog_url": url + PREFIX["catalog"],
            "openlibrary_url": url + PREFIX["openlibrary"],
            "google_books_url": url + PREFIX["googlebooks"], "itunes_url": url + PREFIX["itunes"],
            "metadata_cache_ttl_s": 0, "metadata_timeout_s": 10,
            "narrator_speech_engine": "off"}


def add_book(sessions, fields: dict[str, Any], sources: dict[str, str] | None = None,
             protected: dict[str, str] | None = None, **columns: Any) -> int:
    """A book as the library scan leaves it: fields with their sources; `protected`
    fields are the person's."""
    with session_scope(sessions) as session:
        book = library.create_book(session, {**fields, **columns})
        session.flush()
        for name, source in (sources or {}).items():
            session.add(FieldSource(book_id=book.id, field=name, source=source))
        for name, source in (protected or {}).items():
            session.add(FieldSource(book_id=book.id, field=name, source=source,
                                    protected=True))
        return book.id


def book_view(sessions, book_id: int) -> dict[str, Any]:
    with session_scope(sessions) as session:
        return library.book_view(session.get(Book, book_id))


def field_sources(sessions, book_id: int) -> dict[str, FieldSource]:
    with session_scope(sessions) as session:
        return {r.field: r for r in session.scalars(
            select(FieldSource).where(FieldSource.book_id == book_id))}


def corrections(sessions, book_id: int) -> list[MetadataCorrection]:
    with session_scope(sessions) as session:
        return list(session.scalars(select(MetadataCorrection).where(
            MetadataCorrection.book_id == book_id).order_by(MetadataCorrection.id)))


@pytest.fixture(scope="module")
def _server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def server(_server):
    _server.clear()
    yield _server
    _server.clear()


@pytest.fixture
def env(make_settings, db_url, server, tmp_path):
    """(settings, sessions) on this test's database, sources on the test server."""
    settings = make_settings(database_url=db_url, library_dir=tmp_path / "library",
                             **source_settings(server))
    engine = make_engine(db_url)
    yield settings, make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def tools(env, server):
    settings, _ = env
    with open_tools(settings, sources=fast_sources(server), listen=False) as built:
        yield built


def scanned_stone(sessions, **extra: Any) -> int:
    """Harry Potter as a scan of a book with sparse tags registers it."""
    fields = {"title": STONE, "authors": ["J.K. Rowling"], "duration_seconds": 498 * 60.0}
    return add_book(sessions, {**fields, **extra},
                    {"title": "tags", "authors": "tags", "duration_seconds": "tags"})


def test_a_strong_match_writes_fields_with_corrections_and_sources(env, tools, server):
    _, sessions = env
    serve_audnexus(server)
    serve_google(server)
    serve_openlibrary(server)
    book_id = scanned_stone(sessions)
    outcome = enrich_book(sessions, tools, book_id)
    assert not outcome.flagged and outcome.source_errors == {}
    view = book_view(sessions, book_id)
    assert view["narrators"] == ["Jim Dale"]
    assert view["series"] == [{"name": "Harry Potter", "position": "1"}]
    assert (view["year"], view["asin"], view["isbn"]) == (2015, ASIN, "9781781102633")
    assert view["description"].startswith("Turning the envelope over")
    assert view["title"] == STONE and view["duration_seconds"] == 498 * 60.0
    made = {c.field: c for c in corrections(sessions, book_id)}
    assert made["narrators"].old_value is None and made["narrators"].new_value == "Jim Dale"
    assert made["narrators"].source == "audnexus"
    assert {c["field"] for c in outcome.changes} == set(made)
    assert "title" not in made and "duration_seconds" not in made
    sources = field_sources(sessions, book_id)
    assert sources["narrators"].source == "audnexus"
    assert "strong match" in sources["narrators"].evidence
    assert sources["narrators"].confidence is None  # detection did not weigh them
    assert sources["series"].confidence > 0.85
    assert sources["duration_seconds"].source == "tags"
    assert sources["title"].source == "audnexus"  # it agrees, and it ranks first

    again = enrich_book(sessions, tools, book_id)
    assert again.changes == [] and len(corrections(sessions, book_id)) == len(made)


def test_a_weak_match_flags_the_book_and_writes_nothing(env, tools, server):
    _, sessions = env
    serve_audnexus(server, audnexus_book(
        title="Harry Potter and the Philosopher's Stone", runtimeLengthMin=650,
        narrators=[{"name": "Stephen Fry"}]))
    serve_google(server, load("googlebooks", "volumes_empty"))
    serve_openlibrary(server, load("openlibrary", "search_empty"))
    book_id = scanned_stone(sessions, narrators=["Jim Dale"])
    before = book_view(sessions, book_id)
    outcome = enrich_book(sessions, tools, book_id)
    assert outcome.flagged and outcome.changes == []
    after = book_view(sessions, book_id)
    assert after["needs_review"] is True
    assert after["review_reason"].startswith("metadata: no source matched well enough")
    assert "weak match" in after["review_reason"]
    assert "narrator 1.00 (wanted Jim Dale; release has Stephen Fry)" in after["review_reason"]
    for key in ("title", "narrators", "series", "year", "description", "asin"):
        assert after[key] == before[key]
    assert corrections(sessions, book_id) == []
    assert set(field_sources(sessions, book_id)) == {"title", "authors", "duration_seconds"}

    server.clear()
    serve_audnexus(server)
    serve_google(server, load("googlebooks", "volumes_empty"))
    serve_openlibrary(server, load("openlibrary", "search_empty"))
    fixed = enrich_book(sessions, tools, book_id)
    assert not fixed.flagged and fixed.changes
    assert book_view(sessions, book_id)["needs_review"] is False


def test_another_parts_review_reason_is_kept(env, tools, server):
    _, sessions = env
    weak = audnexus_book(title="Harry Potter and the Philosopher's Stone",
                         runtimeLengthMin=650, narrators=[{"name": "Stephen Fry"}])
    serve_audnexus(server, weak)
    serve_google(server, load("googlebooks", "volumes_empty"))
    serve_openlibrary(server, load("openlibrary", "search_empty"))
    scan_reason = UNREADABLE_MARK + "Stone.mp3 (empty file (0 bytes))"
    book_id = scanned_stone(sessions, narrators=["Jim Dale"], needs_review=True,
                            review_reason=scan_reason)
    enrich_book(sessions, tools, book_id)
    enrich_book(sessions, tools, book_id)  # flagged twice: the reason is not repeated
    reason = book_view(sessions, book_id)["review_reason"]
    assert reason.startswith(scan_reason + " | metadata: no source matched")
    assert reason.count("metadata:") == 1
    server.clear()
    serve_audnexus(server)
    serve_google(server, load("googlebooks", "volumes_empty"))
    serve_openlibrary(server, load("openlibrary", "search_empty"))
    enrich_book(sessions, tools, book_id)
    view = book_view(sessions, book_id)
    assert (view["needs_review"], view["review_reason"]) == (True, scan_reason)


def test_a_protected_field_survives_a_drift_run_where_every_source_disagrees(env, tools,
                                                                            server):
    _, sessions = env
    serve_audnexus(server)
    serve_google(server)
    serve_openlibrary(server)
    mine = {"narrators": ["Stephen Fry"], "year": 1997, "description": "My own words."}
    book_id = scanned_stone(sessions, **mine, series=[{"name": "Hogwarts", "position": "7"}])
    with session_scope(sessions) as session:
        for name in ("narrators", "year", "description", "series", "series_position"):
            session.add(FieldSource(book_id=book_id, field=name, source="user",
                                    protected=True))
    other = scanned_stone(sessions)
    report = metadata_jobs.drift(sessions, tools)
    assert report.checked == 2 and report.failed == []
    view = book_view(sessions, book_id)
    assert view["narrators"] == ["Stephen Fry"] and view["year"] == 1997
    assert view["description"] == "My own words."
    assert view["series"] == [{"name": "Hogwarts", "position": "7"}]
    assert view["asin"] == ASIN  # unprotected fields were still corrected
    protected = {f for f, row in field_sources(sessions, book_id).items() if row.protected}
    assert protected == {"narrators", "year", "description", "series", "series_position"}
    assert not {c.field for c in corrections(sessions, book_id)} & protected
    assert book_view(sessions, other)["narrators"] == ["Jim Dale"]
    assert "2 books checked" in report.summary()


def test_an_unavailable_source_does_not_stop_the_others(env, tools, server):
    _, sessions = env
    serve_audnexus(server)
    serve_google(server, {"error": {"code": 503, "message": "Backend Error"}}, status=503)
    serve_openlibrary(server, "down", status=500)
    book_id = scanned_stone(sessions)
    outcome = enrich_book(sessions, tools, book_id)
    assert set(outcome.source_errors) == {"googlebooks", "openlibrary"}
    assert book_view(sessions, book_id)["narrators"] == ["Jim Dale"]
    report = metadata_jobs.enrich_many(sessions, tools, [book_id], listen=False)
    assert report.source_errors == {"googlebooks": 1, "openlibrary": 1}
    assert "2 source errors (googlebooks 1, openlibrary 1)" in report.summary()


def test_the_tracker_release_counts_and_outranks_audnexus_for_narrators(env, tools, server):
    _, sessions = env
    serve_audnexus(server)
    serve_google(server, load("googlebooks", "volumes_empty"))
    serve_openlibrary(server, load("openlibrary", "search_empty"))
    book_id = add_book(sessions, {"title": STONE, "authors": ["J.K. Rowling"],
                                  "narrators": ["Jim Dale"]})
    with session_scope(sessions) as session:
        session.add(Download(book_id=book_id, title=STONE, release_id="12345",
                             release_title=f"{STONE} [Unabridged]", state="imported",
                             release_info={"authors": ["J.K. Rowling"],
                                           "narrators": ["Jim Dale", "Other Reader"],
                                           "series": [{"name": "Harry Potter",
                                                       "position": "1"}]}))
    outcome = enrich_book(sessions, tools, book_id)
    assert book_view(sessions, book_id)["narrators"] == ["Jim Dale", "Other Reader"]
    change = next(c for c in outcome.changes if c["field"] == "narrators")
    assert change["source"] == "tracker" and "tracker outranks" in change["reason"]
    row = field_sources(sessions, book_id)["narrators"]
    assert row.evidence == "tracker release 12345"
    assert field_sources(sessions, book_id)["abridged"].source == "audnexus"


def test_corrected_metadata_is_pushed_to_audiobookshelf(env, server, abs_fake):
    settings, sessions = env
    serve_audnexus(server)
    serve_google(server, load("googlebooks", "volumes_empty"))
    serve_openlibrary(server, load("openlibrary", "search_empty"))
    folder = abs_fake.folder / "J.K. Rowling" / STONE
    item_id = abs_fake.add_item(f"J.K. Rowling/{STONE}")
    book_id = scanned_stone(sessions, library_path=str(folder))
    settings = settings.model_copy(update={"library_dir": abs_fake.folder})
    with AbsClient(abs_fake.base_url, ABS_TOKEN, min_interval_s=0) as client, open_tools(
            settings, sources=fast_sources(server), abs_client=client, listen=False) as tools:
        outcome = enrich_book(sessions, tools, book_id)
        assert outcome.abs_pushed, outcome.notes
        assert book_view(sessions, book_id)["abs_item_id"] == item_id
        (patched, body), = abs_fake.patches
        assert patched == item_id
        meta = body["metadata"]
        assert meta["narrators"] == ["Jim Dale"] and meta["publishedYear"] == "2015"
        assert meta["series"] == [{"name": "Harry Potter", "sequence": "1"}]
        assert meta["title"] == STONE and meta["authors"] == [{"name": "J.K. Rowling"}]
        assert abs_fake.items()[0]["media"]["metadata"]["narrators"] == ["Jim Dale"]

        assert enrich_book(sessions, tools, book_id).abs_pushed is False  # nothing new

        with session_scope(sessions) as session:
            session.get(Book, book_id).description = "stale"
        abs_fake.fail(500, count=5, path=f"/api/items/{item_id}")
        failed = enrich_book(sessions, tools, book_id)
    assert not failed.abs_pushed
    assert any(n.startswith("Audiobookshelf not updated") for n in failed.notes)
    assert book_view(sessions, book_id)["description"].startswith("Turning the envelope")


def test_maintenance_checks_only_books_added_recently(env, tools, server):
    _, sessions = env
    serve_audnexus(server)
    serve_google(server, load("googlebooks", "volumes_empty"))
    serve_openlibrary(server, load("openlibrary", "search_empty"))
    now = datetime.now(UTC)
    old = scanned_stone(sessions, added_at=now - timedelta(days=20))
    new = scanned_stone(sessions, added_at=now - timedelta(days=2))
    progress = []
    report = metadata_jobs.maintenance(sessions, tools, now,
                                       lambda done, total, text: progress.append((done, total)))
    assert report.checked == 1 and progress == [(1, 1)]
    assert book_view(sessions, new)["narrators"] == ["Jim Dale"]
    assert book_view(sessions, old)["narrators"] == []


@pytest.fixture
def fresh_server():
    """A server of its own: a new port, so the process-wide rate limiters of the default
    sources have never seen it and nothing waits."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def test_full_scan_on_import_never_fails_the_import(env, fresh_server, monkeypatch):
    server = fresh_server
    settings, sessions = env
    settings = settings.model_copy(update={**source_settings(server),
                                           "metadata_on_import": True})
    serve_audnexus(server)
    serve_google(server, load("googlebooks", "volumes_empty"))
    serve_openlibrary(server, load("openlibrary", "search_empty"))
    server.expect_request(f"{PREFIX['itunes']}/search").respond_with_json(
        load("itunes", "search_empty"))
    book_id = scanned_stone(sessions)
    notes = metadata_jobs.full_scan_on_import(sessions, settings, book_id)
    assert notes == [f"book {book_id}: 10 metadata fields corrected"]
    assert book_view(sessions, book_id)["narrators"] == ["Jim Dale"]
    assert metadata_jobs.full_scan_on_import(sessions, settings, 999999)[0].startswith(
        "book 999999: metadata scan failed (BookNotFound")
    off = settings.model_copy(update={"metadata_on_import": False})
    assert metadata_jobs.full_scan_on_import(sessions, off, book_id) == []

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(metadata_jobs, "enrich_book", broken)
    assert metadata_jobs.full_scan_on_import(sessions, settings, book_id) == [
        f"book {book_id}: metadata scan failed (RuntimeError: database went away); "
        "metadata_maintenance will try again"]


def test_a_missing_book_is_counted_not_fatal(env, tools, server):
    _, sessions = env
    report = metadata_jobs.enrich_many(sessions, tools, [424242], listen=None)
    assert report.checked == 0 and report.failed == []


@pytest.mark.slow
@pytest.mark.usefixtures("speech_tools")
def test_narrator_detection_stores_its_confidence_and_evidence(env, server, tmp_path):
    from tests.support.speech import make_silence, spoken_intro

    settings, sessions = env
    settings = settings.model_copy(update={"narrator_speech_engine": "pocketsphinx",
                                           "narrator_window_s": 30})
    kings = audnexus_book(title="The Way of Kings", authors=[{"name": "Brandon Sanderson"}],
                          narrators=[{"name": "Michael Kramer"}], runtimeLengthMin=2742,
                          seriesPrimary={"name": "The Stormlight Archive", "position": "1"})
    serve_audnexus(server, kings)
    serve_google(server, load("googlebooks", "volumes_empty"))
    serve_openlibrary(server, load("openlibrary", "search_empty"))
    spoken = tmp_path / "library" / "Brandon Sanderson" / "The Way of Kings"
    spoken_intro(spoken / "01 - Prelude.mp3", "Narrated by Michael Kramer.", then_tone_s=3)
    silent = tmp_path / "library" / "Brandon Sanderson" / "Silent Book"
    make_silence(silent / "01.mp3", 6)
    fields = {"title": "The Way of Kings", "authors": ["Brandon Sanderson"],
              "duration_seconds": 2742 * 60.0}
    heard = add_book(sessions, {**fields, "narrators": ["Kate Reading"]},
                     {"title": "tags", "authors": "tags", "narrators": "tags"},
                     library_path=str(spoken))
    quiet = add_book(sessions, fields, {"title": "tags", "authors": "tags"},
                     library_path=str(silent))
    with open_tools(settings, sources=fast_sources(server)) as tools:
        outcome = enrich_book(sessions, tools, heard)
        assert outcome.narrator["name"] == "Michael Kramer", outcome.narrator
        assert outcome.narrator["heard"] == ["Michael Kramer"], outcome.narrator
        assert book_view(sessions, heard)["narrators"] == ["Michael Kramer"]
        row = field_sources(sessions, heard)["narrators"]
        assert row.source == "speech"
        assert row.confidence == pytest.approx(0.9 * (1 - 0.5 * 0.5))
        assert "speech: heard 'michael kramer' ~ Michael Kramer 100%" in row.evidence
        change = next(c for c in outcome.changes if c["field"] == "narrators")
        assert (change["old"], change["new"], change["source"]) == (
            "Kate Reading", "Michael Kramer", "speech")

        again = enrich_book(sessions, tools, heard)  # assessed: not listened to again
        assert again.narrator is None and again.changes == []
        assert field_sources(sessions, heard)["narrators"].source == "speech"

        silence = enrich_book(sessions, tools, quiet)
    assert "no speech in the window" in silence.narrator["evidence"]
    row = field_sources(sessions, quiet)["narrators"]
    assert (row.source, row.confidence) == ("audnexus", 0.5)  # the one source, no speech
    assert "no speech in the window" in row.evidence


def test_a_scanned_book_is_enriched_with_its_tags_as_a_source(env, tools, server, tmp_path,
                                                              audio_tools):
    from mamcrawler.services.library_scan import scan_library
    from tests.support.audio import make_audio

    _, sessions = env
    serve_audnexus(server, audnexus_book(runtimeLengthMin=None))
    serve_google(server, load("googlebooks", "volumes_empty"))
    serve_openlibrary(server, load("openlibrary", "search_empty"))
    root = tmp_path / "library"
    make_audio(root / "J.K. Rowling" / STONE / "01.mp3", 2, tags={
        "album": STONE, "artist": "J.K. Rowling", "composer": "Tag Reader"})
    assert scan_library(root, sessions).new == 1
    with session_scope(sessions) as session:
        book_id = session.scalars(select(Book.id)).one()
    outcome = enrich_book(sessions, tools, book_id)
    assert not outcome.flagged, outcome.matches
    view = book_view(sessions, book_id)
    assert view["narrators"] == ["Tag Reader"]  # tags outrank Audnexus for narrators
    assert view["series"] == [{"name": "Harry Potter", "position": "1"}]
    sources = field_sources(sessions, book_id)
    assert (sources["narrators"].source, sources["series"].source) == ("tags", "audnexus")
    assert sources["narrators"].evidence == "read from the audio files"
    assert sources["duration_seconds"].source == "tags"
    assert enrich_book(sessions, tools, book_id).changes == []
    assert scan_library(root, sessions).unchanged == 1  # the scan leaves the merge alone
    assert book_view(sessions, book_id)["series"] == view["series"]
