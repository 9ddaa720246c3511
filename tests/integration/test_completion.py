"""The completion run end to end: the tracker simulator and a loopback Audible catalog over
real HTTP, on SQLite and PostgreSQL. Tracker requests are counted by the simulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from werkzeug import Request, Response

from mamcrawler.adapters.metadata import HttpOptions
from mamcrawler.adapters.metadata.catalog import AudibleCatalog
from mamcrawler.domain.bibliography import SubjectKind
from mamcrawler.domain.completion import CompletionPolicy
from mamcrawler.services import completion, completion_commands, follows
from mamcrawler.services.library import create_book
from mamcrawler.services.wanted import rekey
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Author, BookSeries, MissingBook, Series, WantedBook

SEARCH = "/tor/js/loadSearchJSONbasic.php"
NOW = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)
EMBER = "The Ember Crown Cycle"


def product(asin, title, position, *, language="English", fmt="unabridged",
            series=EMBER, author="Mara Quill"):
    return {"asin": asin, "title": title, "authors": [{"asin": "A1", "name": author}],
            "narrators": [{"name": "Tom O'Hanlon"}], "language": language,
            "format_type": fmt, "runtime_length_min": 600, "release_date": "2024-05-01",
            "series": [{"asin": "S1", "title": series, "sequence": position}]}


CATALOG = {
    EMBER: [product("B001", "The Ember Crown", "1"), product("B002", "The Ash Throne", "2"),
            product("B005", "The Glass Crown", "5"),
            product("B006", "Die Glutkrone", "1", language="German"),
            product("B007", "The Ember Crown Cycle: Books 1-3", "1-3")],
}


@pytest.fixture
def catalog(httpserver):
    asked: list[dict] = []

    def answer(request: Request) -> Response:
        asked.append(dict(request.args))
        products = CATALOG.get(request.args.get("keywords", ""), [])
        return Response(json.dumps({"products": products, "total_results": len(products)}),
                        content_type="application/json")

    httpserver.expect_request("/1.0/catalog/products").respond_with_handler(answer)
    source = AudibleCatalog(httpserver.url_for("").rstrip("/"),
                            options=HttpOptions(min_interval_s=0.0, max_attempts=1))
    source.asked = asked
    yield source
    source.close()






def own(sessions, title, author, series=None, position=None):
    with session_scope(sessions) as session:
        create_book(session, {"title": title, "authors": [author], "narrators": [],
                              "series": [{"name": series, "position": position}]
                              if series else []})


def searches(tracker_sim) -> int:
    return tracker_sim.control.state()["requests"].get(SEARCH, 0)


def wanted(sessions) -> dict[str, tuple]:
    with session_scope(sessions) as session:
        return {w.title: (w.status, w.source, w.position) for w in
                session.scalars(select(WantedBook))}


def missing(sessions) -> dict[str, tuple]:
    with session_scope(sessions) as session:
        return {m.title: (m.status, m.found_via, m.wanted_id is not None) for m in
                session.scalars(select(MissingBook))}


def test_gaps_on_the_tracker_become_wanted_and_audible_only_ones_are_recorded(
        tracker_sim, mam, catalog, sessions):
    own(sessions, "The Ember Crown", "Mara Quill", EMBER, "1")
    ports = completion.CompletionPorts(mam, catalog)
    report = completion.run(ports, sessions, CompletionPolicy(), NOW)

    # The series and its author; the author for new books only, so nothing of hers yet.
    assert report.follows_changed == 2
    assert (report.checked, report.tracker_requests, searches(tracker_sim)) == (2, 1, 1)
    source = f"series:{EMBER}"
    assert wanted(sessions) == {"The Ash Throne": ("wanted", source, "2"),
                                "The Cinder Court": ("wanted", source, "3"),
                                "The Smoke Kingdom": ("wanted", source, "4")}
    gaps = missing(sessions)
    assert gaps["The Ash Throne"] == ("missing", "tracker+audible", True)
    assert gaps["The Glass Crown"] == ("missing", "audible", False)
    assert "Die Glutkrone" not in gaps and "The Ember Crown" not in gaps
    with session_scope(sessions) as session:
        series = session.scalar(select(Series).where(Series.name == EMBER))
        assert (series.followed, series.follow_set_by, series.known_total) == \
            (True, "default", 5)
        assert series.completion_checked_at == NOW
        assert "5 books (1 owned, 3 want, 1 record, 0 declined)" in series.completion_note
    by_series = next(a for a in catalog.asked if "keywords" in a)
    assert by_series["keywords"] == EMBER and by_series["author"] == "Mara Quill"
    assert "response_groups" in by_series
    with session_scope(sessions) as session:
        quill = session.scalar(select(Author).where(Author.name == "Mara Quill"))
        assert (quill.followed, quill.follow_scope, quill.followed_at) == (True, "new", NOW)
        assert "4 listings left out" in quill.completion_note  # all before the follow
    assert "3 want" in report.summary() and "1 of 100 tracker requests" in report.summary()


def test_a_declined_gap_stays_declined_and_an_owned_one_is_filled(tracker_sim, mam, catalog,
                                                                   sessions):
    own(sessions, "The Ember Crown", "Mara Quill", EMBER, "1")
    ports = completion.CompletionPorts(mam, catalog)
    completion.run(ports, sessions, CompletionPolicy(), NOW)
    with session_scope(sessions) as session:
        cinder = session.scalar(select(MissingBook).where(MissingBook.title ==
                                                          "The Cinder Court"))
        result = completion_commands.decline(session, cinder.id)
        assert result.wanted_status == "cancelled"
    own(sessions, "The Ash Throne", "Mara Quill", EMBER, "2")

    completion.run(ports, sessions, CompletionPolicy(), NOW + timedelta(days=7))
    assert wanted(sessions)["The Cinder Court"][0] == "cancelled"
    gaps = missing(sessions)
    assert gaps["The Cinder Court"][0] == "declined"
    assert gaps["The Ash Throne"][0] == "filled"
    with session_scope(sessions) as session:
        cinder = session.scalar(select(MissingBook).where(MissingBook.title ==
                                                          "The Cinder Court"))
        completion_commands.want(session, cinder.id)  # the person changes their mind
    assert wanted(sessions)["The Cinder Court"][0] == "wanted"
    assert missing(sessions)["The Cinder Court"][0] == "missing"


def test_the_request_budget_defers_the_rest_least_recently_checked_first(
        tracker_sim, mam, sessions):
    own(sessions, "The Ember Crown", "Mara Quill", EMBER, "1")
    own(sessions, "Death at the Vicarage Fête", "Harriet Lyle", "A Maud Pennyworth Mystery",
        "1")
    with session_scope(sessions) as session:
        follows.set_follow(session, SubjectKind.AUTHOR, True, name="harriet lyle")
        follows.set_follow(session, SubjectKind.AUTHOR, True, name="Priya Venkataraman")
    ports = completion.CompletionPorts(mam, None)
    policy = CompletionPolicy(tracker_requests_per_weekly_run=2, follow_library_by_default="series")

    first = completion.run(ports, sessions, policy, NOW)
    # Authors first: Harriet Lyle, Priya Venkataraman; her series reuses her search.
    assert (first.due, first.checked, first.tracker_requests) == (4, 3, 2)
    assert first.waiting == 1 and "TRACKER_REQUESTS_PER_WEEKLY_RUN" in first.summary()
    assert searches(tracker_sim) == 2
    sources = {t: source for t, (_, source, _) in wanted(sessions).items()}
    assert sources == {  # found by her author first, then in the series: the series names it
        "The Lighthouse Murders": "series:A Maud Pennyworth Mystery",
        "Poison & Pudding": "series:A Maud Pennyworth Mystery",
        "Deep Lattice": "author:Priya Venkataraman",
        "Lattice Drift": "author:Priya Venkataraman",
        "Lattice Fall": "author:Priya Venkataraman"}

    second = completion.run(ports, sessions, policy, NOW + timedelta(days=7))
    assert second.checked >= 1 and searches(tracker_sim) == 4
    with session_scope(sessions) as session:
        ember = session.scalar(select(Series).where(Series.name == EMBER))
        assert ember.completion_checked_at == NOW + timedelta(days=7)
        priya = session.scalar(select(Author).where(Author.name == "Priya Venkataraman"))
        assert priya.follow_set_by == "person"


def test_a_failing_tracker_ends_the_run_without_judging_anything(tracker_sim, mam, sessions):
    own(sessions, "The Ember Crown", "Mara Quill", EMBER, "1")
    tracker_sim.control.fail(500, count=5, path=SEARCH)
    report = completion.run(completion.CompletionPorts(mam, None), sessions,
                            CompletionPolicy(), NOW)
    assert report.checked == 0 and report.waiting == 2 and "tracker:" in report.stopped
    assert missing(sessions) == {} and wanted(sessions) == {}


def test_a_renamed_wanted_entry_is_kept_and_a_deleted_one_is_not_wanted_again(
        tracker_sim, mam, sessions):
    own(sessions, "The Ember Crown", "Mara Quill", EMBER, "1")
    ports = completion.CompletionPorts(mam, None)
    completion.run(ports, sessions, CompletionPolicy(), NOW)
    with session_scope(sessions) as session:
        ash = session.scalar(select(WantedBook).where(WantedBook.title == "The Ash Throne"))
        ash.title = "Ash Throne (renamed by the person)"
        rekey(ash)
        session.delete(session.scalar(select(WantedBook).where(
            WantedBook.title == "The Cinder Court")))
    completion.run(ports, sessions, CompletionPolicy(), NOW + timedelta(days=7))
    titles = set(wanted(sessions))
    assert titles == {"Ash Throne (renamed by the person)", "The Smoke Kingdom"}
    gaps = missing(sessions)
    assert gaps["The Cinder Court"][0] == "declined"
    with session_scope(sessions) as session:
        cinder = session.scalar(select(MissingBook).where(MissingBook.title ==
                                                          "The Cinder Court"))
        assert cinder.reason.endswith("you removed it from the wanted list; want it by hand "
                                      "to change that")


def test_a_follow_in_another_language_searches_and_keeps_that_language(tracker_sim, mam,
                                                                      sessions):
    with session_scope(sessions) as session:
        follows.set_follow(session, SubjectKind.AUTHOR, True, name="Klara Vogt",
                           choice=follows.FollowChoice(language="german"))
    report = completion.run(completion.CompletionPorts(mam, None), sessions,
                            CompletionPolicy(), NOW)
    assert report.tracker_requests == 1
    assert wanted(sessions) == {"Der gläserne Turm": ("wanted", "author:Klara Vogt", None)}


def test_a_position_sorts_by_its_first_number_however_it_is_written(sessions):
    for title, position in [("Half", "Book 1,5"), ("Box", "1 – 3"), ("Aside", "Prequel")]:
        own(sessions, title, "Mara Quill", EMBER, position)
    with session_scope(sessions) as session:
        sorts = {link.position: link.position_sort
                 for link in session.scalars(select(BookSeries))}
    assert sorts == {"Book 1,5": 1.5, "1 – 3": 1.0, "Prequel": None}
