"""Downloads are read-only over the API; cancel and retry are commands (issue 9, case 12)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Download, WantedBook


def add_download(runtime, state: str = "downloading", wanted_status: str = "downloading",
                 **fields) -> tuple[int, int]:
    """A wanted book with one download of it; returns (download id, wanted id)."""
    with session_scope(runtime.sessions) as session:
        wanted = WantedBook(title="Dune", author="Frank Herbert", status=wanted_status,
                            dedupe_key=f"dune-{datetime.now(UTC).timestamp()}")
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

