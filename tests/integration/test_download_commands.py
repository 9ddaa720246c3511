"""Downloads are read-only over the API; cancel and retry are commands (issue 9, case 12)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from mamcrawler.services import download_watch
from mamcrawler.services.acquisition import due_wanted
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Download, JobLock, TrackedTorrent, WantedBook

NOW = datetime.now(UTC)


def add_download(runtime, state: str = "downloading", wanted_status: str = "downloading",
                 **fields) -> tuple[int, int]:
    """A wanted book with one download of it; returns (download id, wanted id)."""
    with session_scope(runtime.sessions) as session:
        wanted = WantedBook(title="Dune", author="Frank Herbert", status=wanted_status,
                            dedupe_key=f"dune-{uuid.uuid4().hex}")
        session.add(wanted)
        session.flush()
        download = Download(wanted_id=wanted.id, title="Dune", author="Frank Herbert",
                            release_id="4242", info_hash="ab" * 20, state=state, **fields)
        session.add(download)
        session.flush()
        return download.id, wanted.id


def stored(runtime, model, row_id: int):
    with session_scope(runtime.sessions) as session:
        row = session.get(model, row_id)
        session.expunge(row)
        return row


def test_a_download_cannot_be_patched_to_imported(api, runtime):
    download_id, _ = add_download(runtime)
    response = api.patch(f"/api/downloads/{download_id}", json={"state": "imported"})
    assert response.status_code == 405
    assert response.json()["success"] is False and response.json()["error"]
    assert stored(runtime, Download, download_id).state == "downloading"


@pytest.mark.parametrize(("method", "path"), [
    ("put", "/api/downloads/{id}"), ("delete", "/api/downloads/{id}"),
    ("post", "/api/downloads"), ("patch", "/api/downloads/{id}")])
def test_downloads_are_read_only(api, runtime, method, path):
    download_id, _ = add_download(runtime)
    kwargs = {} if method == "delete" else {"json": {"title": "x", "state": "imported"}}
    response = api.request(method.upper(), path.format(id=download_id), **kwargs)
    assert response.status_code == 405
    body = response.json()
    assert body["success"] is False and body["data"] is None and "Method Not Allowed" in \
        body["error"]
    assert stored(runtime, Download, download_id).state == "downloading"
    assert api.get(f"/api/downloads/{download_id}").json()["data"]["state"] == "downloading"


def cancel(api, download_id: int, **params):
    return api.post(f"/api/downloads/{download_id}/cancel", params=params)


def retry(api, download_id: int):
    return api.post(f"/api/downloads/{download_id}/retry")


def test_cancel_declines_the_wanted_book_and_leaves_the_torrent_seeding(api, runtime):
    download_id, wanted_id = add_download(runtime)
    with session_scope(runtime.sessions) as session:
        session.add(TrackedTorrent(info_hash="ab" * 20, name="Dune", state="downloading",
                                   download_id=download_id))
    response = cancel(api, download_id)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["download"]["state"] == "cancelled"
    assert data["wanted_id"] == wanted_id and data["wanted_status"] == "cancelled"
    assert "will not be imported" in data["message"] and "keeps seeding" in data["message"]
    assert stored(runtime, WantedBook, wanted_id).status == "cancelled"
    torrent = stored(runtime, TrackedTorrent, "ab" * 20)
    assert (torrent.state, torrent.download_id) == ("downloading", download_id)
    assert "cancelled" not in download_watch.WATCHED  # the import never picks it up


def test_cancel_with_requeue_searches_the_book_again(api, runtime):
    download_id, wanted_id = add_download(runtime, "verifying")
    with session_scope(runtime.sessions) as session:
        session.get(WantedBook, wanted_id).last_searched_at = NOW - timedelta(hours=1)
    data = cancel(api, download_id, requeue="true").json()["data"]
    assert data["download"]["state"] == "cancelled" and data["wanted_status"] == "wanted"
    assert wanted_id in due(runtime)


@pytest.mark.parametrize(("state", "why"), [
    ("importing", "being filed into the library right now"),
    ("imported", "already imported"),
    ("removed", "nothing left to import"),
    ("cancelled", "already cancelled")])
def test_only_a_download_not_yet_imported_can_be_cancelled(api, runtime, state, why):
    download_id, wanted_id = add_download(runtime, state, "done")
    response = cancel(api, download_id, requeue="true")
    assert response.status_code == 409
    assert response.json()["success"] is False and why in response.json()["error"]
    assert stored(runtime, Download, download_id).state == state
    assert stored(runtime, WantedBook, wanted_id).status == "done"


def test_cancelling_an_old_download_leaves_the_one_in_flight_alone(api, runtime):
    old_id, wanted_id = add_download(runtime, "failed", "downloading")
    with session_scope(runtime.sessions) as session:
        session.add(Download(wanted_id=wanted_id, title="Dune", state="downloading"))
    data = cancel(api, old_id, requeue="true").json()["data"]
    assert data["download"]["state"] == "cancelled" and data["wanted_status"] == "downloading"
    assert "is getting it" in data["message"]


@pytest.mark.parametrize("state", ["failed", "abandoned"])
def test_retry_searches_the_book_at_the_next_run(api, runtime, state):
    download_id, wanted_id = add_download(
        runtime, state, "wanted" if state == "failed" else "abandoned",
        next_retry_at=NOW + timedelta(days=3), error="tracker 503")
    with session_scope(runtime.sessions) as session:
        session.get(WantedBook, wanted_id).last_searched_at = NOW - timedelta(hours=1)
    assert wanted_id not in due(runtime)
    response = retry(api, download_id)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["download"]["state"] == state and data["wanted_status"] == "wanted"
    assert data["download"]["next_retry_at"] is None
    assert wanted_id in due(runtime)


@pytest.mark.parametrize("state", ["queued", "grabbing", "downloading", "verifying",
                                   "importing", "imported", "removed", "cancelled"])
def test_only_a_failed_or_abandoned_download_can_be_retried(api, runtime, state):
    download_id, wanted_id = add_download(runtime, state, "downloading")
    response = retry(api, download_id)
    assert response.status_code == 409
    assert "only a failed or abandoned download can be retried" in response.json()["error"]
    assert stored(runtime, WantedBook, wanted_id).status == "downloading"


def test_retry_refuses_a_book_already_done_or_being_downloaded(api, runtime):
    done_id, _ = add_download(runtime, "failed", "done")
    assert "is done" in retry(api, done_id).json()["error"]
    busy_id, wanted_id = add_download(runtime, "failed", "downloading")
    with session_scope(runtime.sessions) as session:
        session.add(Download(wanted_id=wanted_id, title="Dune", state="downloading"))
    response = retry(api, busy_id)
    assert response.status_code == 409 and "already being downloaded" in \
        response.json()["error"]


def test_commands_wait_for_a_running_job_and_free_the_locks(api, runtime):
    download_id, _ = add_download(runtime)
    with session_scope(runtime.sessions) as session:
        session.add(JobLock(job_name="download_watch", holder="host:1:run",
                            acquired_at=NOW, expires_at=NOW + timedelta(minutes=30)))
    response = cancel(api, download_id)
    assert response.status_code == 409
    assert "download_watch job is running right now (host:1:run)" in response.json()["error"]
    assert stored(runtime, Download, download_id).state == "downloading"
    with session_scope(runtime.sessions) as session:
        assert [lock.holder for lock in session.scalars(select(JobLock))] == ["host:1:run"]
        session.execute(delete(JobLock))
    assert cancel(api, download_id).status_code == 200
    with session_scope(runtime.sessions) as session:
        assert session.scalars(select(JobLock)).all() == []


def test_commands_on_an_unknown_download(api):
    for response in (cancel(api, 424242), retry(api, 424242)):
        assert response.status_code == 404
        assert response.json()["error"] == "download 424242 not found"


def due(runtime) -> list[int]:
    with session_scope(runtime.sessions) as session:
        return due_wanted(session, datetime.now(UTC), 100)
