"""Category sync and top-10 discovery against the tracker simulator over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from mamcrawler.domain.bibliography import SubjectKind
from mamcrawler.domain.completion import CompletionPolicy
from mamcrawler.services import discovery, follows
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import AppState, MissingBook, WantedBook

SEARCH = "/tor/js/loadSearchJSONbasic.php"






@pytest.fixture
def uploads(tracker_sim):
    """Fresh uploads: one by a followed author, one by a stranger, one in a category not
    followed, one in German."""
    post = tracker_sim.control.post
    post("catalogue", title="The Fifth Ember", authors=["Mara Quill"], category=41)
    post("catalogue", title="Stranger Tides", authors=["Nobody Known"], category=41)
    post("catalogue", title="Quill in Love", authors=["Mara Quill"], category=46)
    post("catalogue", title="Die fünfte Glut", authors=["Mara Quill"], category=41, language=36)


def wanted(sessions):
    with session_scope(sessions) as session:
        return {w.title: (w.source, w.status) for w in session.scalars(select(WantedBook))}


def test_new_releases_of_followed_authors_and_the_top10_are_wanted(tracker_sim, mam, sessions,
                                                                    uploads):
    post = tracker_sim.control.post
    for n in range(12):  # new Science Fiction, snatched 0, 10, ... 110 times
        post("catalogue", title=f"Nova {n}", authors=[f"Writer {n}"], category=47,
             times_completed=n * 10)
    with session_scope(sessions) as session:
        follows.set_follow(session, SubjectKind.AUTHOR, True, name="Mara Quill")
    now = datetime.now(UTC) + timedelta(minutes=1)
    report = discovery.run(mam, sessions, CompletionPolicy(), now)

    requests = tracker_sim.control.state()["requests"][SEARCH]
    assert report.tracker_requests == requests == 1  # one walk over the window
    assert report.new_releases == 14 and report.top10 == 2 + 10
    found = wanted(sessions)
    assert found["The Fifth Ember"] == ("category:Fantasy", "wanted")
    assert found["Stranger Tides"] == ("top10:Fantasy", "wanted")  # new, the top of few
    assert "Quill in Love" not in found  # Romance is not followed
    novas = {t for t, (source, _) in found.items() if source == "top10:Science Fiction"}
    assert novas == {f"Nova {n}" for n in range(2, 12)}  # the ten most snatched
    assert "Der gläserne Turm" not in found and "Die fünfte Glut" not in found  # German
    with session_scope(sessions) as session:
        fifth = session.scalar(select(MissingBook).where(MissingBook.title == "The Fifth Ember"))
        assert (fifth.found_in, fifth.category_id, fifth.reason) == (
            "category", 41, "new by followed author Mara Quill")
        top = session.scalar(select(WantedBook).where(WantedBook.title == "Nova 11"))
        assert top.priority == -400 and top.note.startswith("top-10 new release of")

    again = discovery.run(mam, sessions, CompletionPolicy(), now + timedelta(days=7))
    assert again.new_releases == 0 and again.top10 == 0 and again.tracker_requests == 1
    assert wanted(sessions) == found  # nothing new, nothing twice


def test_record_policy_and_top10_switch(tracker_sim, mam, sessions, uploads, request):
    def follow_fantasy_again():  # the categories table outlives a test on PostgreSQL
        with session_scope(sessions) as session:
            follows.set_category_follow(session, 41, True)

    request.addfinalizer(follow_fantasy_again)
    with session_scope(sessions) as session:
        follows.set_follow(session, SubjectKind.AUTHOR, True, name="Mara Quill")
        follows.set_category_follow(session, 41, False)
    policy = CompletionPolicy(discovery_policy="record", top10_discovery=False)
    report = discovery.run(mam, sessions, policy, datetime.now(UTC) + timedelta(minutes=1))
    assert report.tracker_requests == 1 and report.new_releases == 0  # 41 not followed now
    assert report.top10 == 0
    assert wanted(sessions) == {}

    with session_scope(sessions) as session:
        follows.set_category_follow(session, 41, True)
        session.execute(delete(AppState))  # forget the mark: the uploads are new again
    discovery.run(mam, sessions, policy, datetime.now(UTC) + timedelta(minutes=1))
    assert wanted(sessions) == {}
    with session_scope(sessions) as session:
        rows = {m.title: m.status for m in session.scalars(select(MissingBook))}
    assert rows == {"The Fifth Ember": "missing"}


def test_a_walk_cut_short_by_the_budget_says_what_it_skipped(tracker_sim, mam, sessions,
                                                              monkeypatch):
    monkeypatch.setattr(discovery, "PER_PAGE", 5)  # the smallest page the tracker serves
    for n in range(12):
        tracker_sim.control.post("catalogue", title=f"Nova {n}", authors=[f"Writer {n}"],
                                 category=47)
    now = datetime.now(UTC) + timedelta(minutes=1)
    report = discovery.run(mam, sessions, CompletionPolicy(tracker_requests_per_weekly_run=2),
                           now)
    assert report.tracker_requests == 2
    assert "the request budget was spent before the walk reached" in report.stopped
    assert "TRACKER_REQUESTS_PER_WEEKLY_RUN" in report.summary()
    full = discovery.run(mam, sessions, CompletionPolicy(), now + timedelta(days=7))
    assert full.stopped == ""
