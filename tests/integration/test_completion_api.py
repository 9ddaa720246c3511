"""The completion endpoints and the completion job, wired as the service runs them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from mamcrawler.domain.completion import GapAction
from mamcrawler.jobs.context import JobContext
from mamcrawler.jobs.runner import run_job
from mamcrawler.services import completion_store
from mamcrawler.services.library import create_book
from mamcrawler.services.tracker import TrackerEndpoint
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Series, TaskRun, WantedBook

NOW = datetime(2026, 3, 1, tzinfo=UTC)
SEARCH = "/tor/js/loadSearchJSONbasic.php"


def gap(sessions, title, action=GapAction.WANT):
    find = completion_store.Find(key=f"{title.lower()}|mara quill", title=title,
                                 author="Mara Quill", action=action, reason="test gap",
                                 found_in="author", sources=("tracker",))
    with session_scope(sessions) as session:
        return completion_store.record_find(session, find, NOW).id


def test_follows_set_through_the_api_are_the_persons(api):
    series = api.post("/api/series", json={"name": "Deep Lattice", "followed": True})
    assert series.json()["data"]["follow_set_by"] == "person"
    author = api.post("/api/authors", json={"name": "Owen Marsh"}).json()["data"]
    assert author["follow_set_by"] is None
    patched = api.patch(f"/api/authors/{author['id']}", json={"followed": False})
    assert patched.json()["data"]["follow_set_by"] == "person"
    body = {"kind": "author", "name": "Mara Quill"}
    followed = api.post("/api/completion/follow", json=body).json()["data"]
    assert followed | {"id": 0, "followed_at": None} == {
        "kind": "author", "id": 0, "name": "Mara Quill", "followed": True, "created": True,
        "scope": "all", "followed_at": None, "language": None, "audiobook_only": True,
        "unabridged_only": True}
    again = api.post("/api/completion/follow", json=body | {"name": "mara quill"})
    assert again.json()["data"]["created"] is False
    unknown = api.post("/api/completion/follow",
                       json={"kind": "series", "name": "Nope", "followed": False})
    assert unknown.status_code == 404 and unknown.json()["success"] is False


def test_missing_books_are_listed_in_reading_order(api, runtime):
    for title, position in (("Ten", "10"), ("Two", "2"), ("Unnumbered", None),
                            ("One and a half", "1.5")):
        find = completion_store.Find(key=f"{title}|mara quill", title=title, position=position,
                                     author="Mara Quill", action=GapAction.WANT,
                                     reason="test gap", found_in="author", sources=("tracker",))
        with session_scope(runtime.sessions) as session:
            completion_store.record_find(session, find, NOW)
    listed = api.get("/api/completion/missing").json()["data"]["items"]
    assert [m["title"] for m in listed] == ["One and a half", "Two", "Ten", "Unnumbered"]


def test_missing_books_can_be_listed_declined_and_wanted(api, runtime):
    ash, cinder = gap(runtime.sessions, "The Ash Throne"), gap(runtime.sessions,
                                                                "The Cinder Court")
    listed = api.get("/api/completion/missing", params={"status": "missing"}).json()["data"]
    assert listed["total"] == 2 and {m["title"] for m in listed["items"]} == {
        "The Ash Throne", "The Cinder Court"}

    declined = api.post(f"/api/completion/missing/{ash}/decline").json()["data"]
    assert declined["missing"]["status"] == "declined"
    assert declined["wanted_status"] == "cancelled"
    with session_scope(runtime.sessions) as session:
        entry = session.scalar(select(WantedBook).where(WantedBook.title == "The Cinder Court"))
        entry.status = "downloading"
    refused = api.post(f"/api/completion/missing/{cinder}/decline")
    assert refused.status_code == 409 and "cancel the download" in refused.json()["error"]

    wanted = api.post(f"/api/completion/missing/{ash}/want").json()["data"]
    assert (wanted["missing"]["status"], wanted["wanted_status"]) == ("missing", "wanted")
    assert api.post("/api/completion/missing/999/want").status_code == 404
    assert api.get("/api/completion/missing",
                   params={"found_in": "category"}).json()["data"]["total"] == 0


def test_wanting_a_declined_gap_reopens_its_entry_even_after_a_rename(api, runtime):
    ash = gap(runtime.sessions, "The Ash Throne")
    api.post(f"/api/completion/missing/{ash}/decline")
    with session_scope(runtime.sessions) as session:
        [entry] = session.scalars(select(WantedBook)).all()
        entry_id = entry.id
    renamed = api.patch(f"/api/wanted/{entry_id}", json={"title": "Ash Throne (Book 2)"})
    assert renamed.status_code == 200, renamed.text
    wanted = api.post(f"/api/completion/missing/{ash}/want").json()["data"]
    assert (wanted["wanted_id"], wanted["wanted_status"]) == (entry_id, "wanted")
    with session_scope(runtime.sessions) as session:
        assert [(w.id, w.title) for w in session.scalars(select(WantedBook))] == [
            (entry_id, "Ash Throne (Book 2)")]


def test_categories_can_be_followed_one_by_one(api):
    followed = api.get("/api/categories", params={"followed": True}).json()["data"]
    assert {c["category_id"] for c in followed["items"]} == {40, 41, 47, 87}
    try:
        romance = api.patch("/api/categories/46", json={"followed": True}).json()["data"]
        assert romance["name"] == "Romance" and romance["followed"] is True
    finally:  # the categories table outlives a test on PostgreSQL
        api.patch("/api/categories/46", json={"followed": False})
    assert api.patch("/api/categories/9999", json={"followed": True}).status_code == 404


def test_the_completion_job_runs_against_the_tracker(make_settings, db_url, tracker_sim,
                                                     httpserver):
    from mamcrawler.runtime import Runtime

    # Audible answers 404 (no retries): the run goes on with the tracker alone, saying so.
    httpserver.expect_request("/1.0/catalog/products").respond_with_data("gone", status=404)
    settings = make_settings(database_url=db_url, audible_catalog_url=httpserver.url_for("/"),
                             tracker_requests_per_weekly_run=5)
    rt = Runtime.build(settings, upgrade_db=False)
    try:
        with session_scope(rt.sessions) as session:
            create_book(session, {"title": "Starwake", "authors": ["J. R. Okafor"],
                                  "narrators": [], "series": [{"name": "Starwake",
                                                               "position": "1"}]})
        ctx = JobContext(settings=rt.settings, sessions=rt.sessions, clock=lambda: NOW,
                         tracker=TrackerEndpoint(tracker_sim.base_url, tracker_sim.mam_id, 0.5))
        result = run_job(ctx, "completion", trigger="manual")
        assert result.outcome == "success", result.error
        # J. R. Okafor (new books only: none) and his series, from one search
        assert result.summary.startswith("2 of 2 followed series and authors checked "
                                         "(1 owned, 1 want, 0 record, 0 declined); 1 of 5 "
                                         "tracker requests")
        assert "audible:" in result.summary
        assert tracker_sim.control.state()["requests"][SEARCH] == 1
        sync = run_job(ctx, "category_sync", trigger="manual")
        assert sync.outcome == "success" and "1 of 5 tracker requests" in sync.summary
        with session_scope(rt.sessions) as session:
            assert session.scalar(select(Series.followed)) is True
            assert {w.title for w in session.scalars(select(WantedBook).where(
                WantedBook.source == "series:Starwake"))} == {"Starwake: Meridian"}
            assert session.scalar(select(TaskRun.outcome).where(
                TaskRun.job_name == "completion")) == "success"
        ctx.clients.close()
    finally:
        rt.close()


def test_a_follow_carries_its_policy_and_a_series_shows_its_completion(api, runtime):
    body = {"kind": "author", "name": "Klara Vogt", "scope": "new", "language": "german",
            "unabridged_only": False}
    followed = api.post("/api/completion/follow", json=body).json()["data"]
    assert (followed["scope"], followed["language"], followed["audiobook_only"],
            followed["unabridged_only"]) == ("new", "german", True, False)
    assert followed["followed_at"] is not None
    refused = api.post("/api/completion/follow", json={"kind": "series", "name": "Neon Hex",
                                                       "scope": "new"})
    assert refused.status_code == 422 and "every missing position" in refused.json()["error"]

    with session_scope(runtime.sessions) as session:
        create_book(session, {"title": "The Ember Crown", "authors": ["Mara Quill"],
                              "narrators": [], "series": [{"name": "The Ember Crown Cycle",
                                                           "position": "1"}]})
        series_id = session.scalar(select(Series.id))
    for title, position, action in (("The Ash Throne", "2", GapAction.WANT),
                                    ("The Cinder Court", "3", GapAction.RECORD),
                                    ("The Smoke Kingdom", "4", GapAction.DECLINED)):
        find = completion_store.Find(
            key=f"{title.lower()[4:]}|mara quill", title=title, author="Mara Quill",
            action=action, reason=f"{action} gap", found_in="series", sources=("tracker",),
            position=position, series_id=series_id, found_name="The Ember Crown Cycle")
        with session_scope(runtime.sessions) as session:
            completion_store.record_find(session, find, NOW)
    view = api.get(f"/api/completion/series/{series_id}").json()["data"]
    assert [(e["title"], e["position"]) for e in view["have"]] == [("The Ember Crown", "1")]
    assert [e["title"] for e in view["wanted"]] == ["The Ash Throne"]
    assert view["wanted"][0]["wanted_status"] == "wanted"
    assert [e["title"] for e in view["missing"]] == ["The Cinder Court"]
    assert [e["title"] for e in view["declined"]] == ["The Smoke Kingdom"]
    assert view["follow"]["name"] == "The Ember Crown Cycle"
    assert api.get("/api/completion/authors/9999").status_code == 404
    by_kind = api.get("/api/wanted", params={"source": "series"}).json()["data"]
    assert [w["source"] for w in by_kind["items"]] == ["series:The Ember Crown Cycle"]
    assert by_kind["items"][0]["priority"] == -102
