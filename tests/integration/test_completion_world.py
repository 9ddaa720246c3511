"""Completion over a generated world with known gaps (issue 11, "how it will be checked"):
the tracker simulator and loopback fakes of Audible's catalog and Hardcover serve one
series whose positions 1, 2, 4 and 5.5 are in the library; 3 and the prequel 0 are
missing; the sources also list an omnibus of 1-3, a UK edition of 3, a pre-order (6), an
abridged edition, dramatized editions and a book known in print only. The test checks the
exact missing set, the wanted entries and their order, that a second run changes nothing,
the tracker requests per run against the budget, and the pre-order wanted once released."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from werkzeug import Request, Response

from mamcrawler.adapters.mam import MamClient, MemorySessionStore
from mamcrawler.adapters.metadata import HttpOptions
from mamcrawler.adapters.metadata.catalog import AudibleCatalog
from mamcrawler.adapters.metadata.hardcover import HardcoverSource
from mamcrawler.adapters.metadata.hardcover_catalog import HardcoverCatalog
from mamcrawler.domain.completion import CompletionPolicy
from mamcrawler.services import completion
from mamcrawler.services.acquisition import due_wanted
from mamcrawler.services.library import create_book
from mamcrawler.store.db import make_engine, make_session_factory, session_scope
from mamcrawler.store.models import MissingBook, Series, WantedBook

SEARCH = "/tor/js/loadSearchJSONbasic.php"
SAGA, AUTHOR, NARRATOR = "The Lantern Saga", "Ione Farrow", "Wren Adeyemi"
NOW = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
PRE_ORDER = (NOW + timedelta(days=60)).date()
FAST = HttpOptions(min_interval_s=0.0, max_attempts=1)
BUDGET = 3

# (position, title) of the books; the library holds 1, 2, 4 and 5.5.
BOOKS = {"0": "The First Spark", "1": "The Lamp of Ashes", "2": "The Glass Wick",
         "3": "The Ember Clock", "4": "The Wax Crown", "5.5": "A Lantern Interlude",
         "6": "The Last Flame"}
HELD = ("1", "2", "4", "5.5")
# Tracker uploads: (title, position, tags); book 3 twice (m4b and mp3 editions).
UPLOADS = [(BOOKS[p], p, "") for p in ("0", "1", "2", "3", "3", "5.5")] + [
    ("The Ember Clock (Abridged)", "3", "abridged"),
    (f"{SAGA}: Books 1-3", "1-3", ""),
    ("The Wax Crown", "4", "Full Cast Dramatization"),
]


def product(asin, title, position, *, fmt="unabridged", released="2022-03-01", minutes=600):
    return {"asin": asin, "title": title, "authors": [{"name": AUTHOR}],
            "narrators": [{"name": NARRATOR}], "language": "English", "format_type": fmt,
            "runtime_length_min": minutes, "release_date": released,
            "series": [{"title": SAGA, "sequence": position}]}


PRODUCTS = [product(f"B0LS{p.replace('.', '')}", t, p) for p, t in BOOKS.items() if p != "6"]
PRODUCTS += [
    product("B0LS3UK", "The Ember Clock (UK Edition)", "3", released="2022-02-20"),
    product("B0LS6", "The Last Flame", "6", released=PRE_ORDER.isoformat()),
    product("B0LS2A", "The Glass Wick (Abridged)", "2", fmt="abridged"),
    product("B0LS4D", "The Wax Crown (Dramatized Adaptation)", "4"),
    product("B0LS13", f"{SAGA}: Books 1-3", "1-3"),
]
for item in PRODUCTS:
    if item["asin"] == "B0LS3":
        item["runtime_length_min"] = 612


def hardcover_book(title, position, *, audio=True, released="2022-03-01"):
    edition = {"asin": None, "release_date": released, "audio_seconds": 36000,
               "language": {"language": "English"}} if audio else None
    return {"position": position, "book": {
        "id": int(position * 10) + 1, "title": title, "release_date": released,
        "compilation": False, "contributions": [{"contribution": None,
                                                 "author": {"name": AUTHOR}}],
        "default_audio_edition": edition}}


HARDCOVER = [hardcover_book(t, float(p)) for p, t in BOOKS.items() if p != "6"] + [
    hardcover_book("The Last Flame", 6.0, released=PRE_ORDER.isoformat()),
    hardcover_book("The Unlit Road", 7.0, audio=False),
]


@pytest.fixture
def catalogs(httpserver):
    """Audible's catalog and Hardcover on one loopback server."""
    def audible(request: Request) -> Response:
        wanted = request.args.get("keywords") == SAGA or request.args.get("author") == AUTHOR
        products = PRODUCTS if wanted else []
        return Response(json.dumps({"products": products, "total_results": len(products)}),
                        content_type="application/json")

    def hardcover(request: Request) -> Response:
        query = request.get_json()["query"]
        if "book_series(where" in query:
            data = {"book_series": HARDCOVER if json.dumps(SAGA) in query else []}
        else:
            data = {"books": [dict(row["book"], book_series=[
                {"position": row["position"], "series": {"name": SAGA}}])
                for row in HARDCOVER] if json.dumps(AUTHOR) in query else []}
        return Response(json.dumps({"data": data}), content_type="application/json")

    httpserver.expect_request("/1.0/catalog/products").respond_with_handler(audible)
    httpserver.expect_request("/graphql", method="POST").respond_with_handler(hardcover)
    audible_source = AudibleCatalog(httpserver.url_for("").rstrip("/"), options=FAST)
    hardcover_source = HardcoverCatalog(HardcoverSource(
        "test-token", httpserver.url_for("/graphql"), options=FAST))
    yield audible_source, hardcover_source
    audible_source.close()
    hardcover_source.close()


@pytest.fixture
def world(tracker_sim, db_url, catalogs):
    for title, position, tags in UPLOADS:
        tracker_sim.control.post("catalogue", title=title, authors=[AUTHOR],
                                 narrators=[NARRATOR], series=[[SAGA, position]], tags=tags,
                                 category=41)
    engine = make_engine(db_url)
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        for position in HELD:
            create_book(session, {"title": BOOKS[position], "authors": [AUTHOR],
                                  "narrators": [NARRATOR], "asin": "B0LS1" if position == "1"
                                  else None, "series": [{"name": SAGA, "position": position}]})
    client = MamClient(tracker_sim.base_url, tracker_sim.mam_id, MemorySessionStore(),
                       min_interval_s=0.0, max_attempts=1)
    ports = completion.CompletionPorts(client, *catalogs)
    yield ports, sessions
    client.close()
    engine.dispose()


def searches(tracker_sim) -> int:
    return tracker_sim.control.state()["requests"].get(SEARCH, 0)


def snapshot(sessions) -> tuple:
    with session_scope(sessions) as session:
        wanted = sorted((w.id, w.title, w.position, w.source, w.priority, w.status, w.asin,
                         w.narrator, w.expected_duration_seconds, w.note)
                        for w in session.scalars(select(WantedBook)))
        missing = sorted((m.id, m.title, m.position, m.status, m.reason, m.wanted_id,
                          m.release_date, m.found_via)
                         for m in session.scalars(select(MissingBook)))
    return wanted, missing


def test_the_world_s_gaps_are_found_wanted_in_order_and_a_second_run_changes_nothing(
        world, tracker_sim):
    ports, sessions = world
    policy = CompletionPolicy(tracker_requests_per_weekly_run=BUDGET)
    first = completion.run(ports, sessions, policy, NOW)

    # One search for the author (followed by default, for new books), reused by the series.
    assert first.tracker_requests == searches(tracker_sim) == 1 <= BUDGET
    assert first.notes == [] and first.waiting == 0
    with session_scope(sessions) as session:
        gaps = {m.title: m for m in session.scalars(select(MissingBook))}
        assert {t: (g.position, g.status) for t, g in gaps.items()} == {
            "The First Spark": ("0", "missing"), "The Ember Clock": ("3", "missing"),
            "The Last Flame": ("6", "missing")}
        assert gaps["The Last Flame"].release_date == PRE_ORDER
        assert gaps["The Last Flame"].wanted_id is None
        assert gaps["The Last Flame"].reason.endswith(
            f"a pre-order, released on {PRE_ORDER}; wanted after release")
        assert gaps["The Ember Clock"].found_via == "tracker+audible+hardcover"
        saga = session.scalar(select(Series).where(Series.name == SAGA))
        assert saga.known_total == 7  # 0, 1, 2, 3, 4, 5.5, 6
        assert "7 books (4 owned, 2 want, 1 record, 0 declined)" in saga.completion_note
        order = [session.get(WantedBook, i) for i in due_wanted(session, NOW, 10)]
        assert [(w.title, w.position, w.source, w.priority) for w in order] == [
            ("The First Spark", "0", f"series:{SAGA}", -100),
            ("The Ember Clock", "3", f"series:{SAGA}", -103)]
        clock = order[1]
        assert (clock.asin, clock.narrator, clock.expected_duration_seconds) == (
            "B0LS3", NARRATOR, 612 * 60.0)
        assert clock.note == f"book 3 of {SAGA}: missing from the library, on the tracker " \
                             "(2 uploads)"
        assert saga.completion_note.endswith("7 listings left out (2 abridged, 2 dramatized, "
                                             "1 no audiobook, 2 omnibus)")

    before = snapshot(sessions)
    second = completion.run(ports, sessions, policy, NOW + timedelta(days=7))
    assert snapshot(sessions) == before
    assert second.tracker_requests == searches(tracker_sim) - 1 == 1

    # Released and uploaded: the pre-order is wanted now, after the gaps before it.
    tracker_sim.control.post("catalogue", title="The Last Flame", authors=[AUTHOR],
                             narrators=[NARRATOR], series=[[SAGA, "6"]], category=41)
    later = NOW + timedelta(days=61)
    completion.run(ports, sessions, policy, later)
    with session_scope(sessions) as session:
        order = [session.get(WantedBook, i).title for i in due_wanted(session, later, 10)]
    assert order == ["The First Spark", "The Ember Clock", "The Last Flame"]
