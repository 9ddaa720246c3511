"""The REST API on both databases: auth, envelope, CRUD, pagination, bad input."""

from datetime import datetime

import pytest

from tests.support.database import API_KEY

BOOK = {
    "title": "The Way of Kings",
    "authors": ["Brandon Sanderson"],
    "narrators": ["Michael Kramer", "Kate Reading"],
    "series": [{"name": "The Stormlight Archive", "position": "1"}],
    "year": 2010,
}


def assert_envelope(body: dict, success: bool) -> None:
    assert set(body) == {"success", "data", "error", "timestamp"}
    assert body["success"] is success
    datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00"))
    if success:
        assert body["error"] is None
    else:
        assert body["data"] is None and body["error"]


def test_health_needs_no_key(api):
    response = api.get("/health", headers={"X-Api-Key": ""})
    assert response.status_code == 200
    assert_envelope(response.json(), True)
    assert response.json()["data"]["database"] == "ok"


@pytest.mark.parametrize("path", ["/api/books", "/api/scheduler/jobs", "/api/system/status",
                                  "/api/wanted", "/api/downloads/failed"])
@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "wrong"},
                                     {"Authorization": "Bearer wrong"},
                                     {"Authorization": f"Basic {API_KEY}"}])
def test_every_api_route_needs_the_key(api, path, headers):
    api.headers.pop("X-Api-Key")
    response = api.get(path, headers=headers)
    assert response.status_code == 401
    assert_envelope(response.json(), False)
    assert "API key" in response.json()["error"]


def test_bearer_key_is_accepted(api):
    api.headers.pop("X-Api-Key")
    response = api.get("/api/books", headers={"Authorization": f"Bearer {API_KEY}"})
    assert response.status_code == 200


def test_book_crud_with_people_and_series(api):
    created = api.post("/api/books", json=BOOK)
    assert created.status_code == 201
    book = created.json()["data"]
    assert book["authors"] == ["Brandon Sanderson"]
    assert book["narrators"] == ["Michael Kramer", "Kate Reading"]
    assert book["series"] == [{"name": "The Stormlight Archive", "position": "1"}]

    changed = api.patch(f"/api/books/{book['id']}", json={"narrators": ["Kate Reading"],
                                                          "subtitle": "Book One"})
    assert changed.json()["data"]["narrators"] == ["Kate Reading"]
    assert changed.json()["data"]["authors"] == ["Brandon Sanderson"]  # untouched
    assert api.get(f"/api/books/{book['id']}").json()["data"]["subtitle"] == "Book One"

    authors = api.get("/api/authors").json()["data"]
    assert authors["total"] == 1 and authors["items"][0]["name"] == "Brandon Sanderson"
    completion = api.get("/api/series/completion").json()["data"]["items"]
    assert completion == [{"series_id": 1, "series_name": "The Stormlight Archive",
                           "followed": False, "books_owned": 1, "books_missing": 0,
                           "known_total": None}]

    assert api.delete(f"/api/books/{book['id']}").json()["data"] == {"deleted": book["id"]}
    gone = api.get(f"/api/books/{book['id']}")
    assert gone.status_code == 404
    assert_envelope(gone.json(), False)


def test_pagination_reports_total(api):
    for i in range(7):
        api.post("/api/authors", json={"name": f"Author {i}"})
    page = api.get("/api/authors", params={"limit": 3, "offset": 5}).json()["data"]
    assert page["total"] == 7 and page["limit"] == 3 and page["offset"] == 5
    assert [a["name"] for a in page["items"]] == ["Author 5", "Author 6"]


def test_series_and_author_follow_filters(api):
    api.post("/api/series", json={"name": "Followed", "followed": True})
    api.post("/api/series", json={"name": "Ignored"})
    followed = api.get("/api/series", params={"followed": True}).json()["data"]["items"]
    assert [s["name"] for s in followed] == ["Followed"]
    author = api.post("/api/authors", json={"name": "N. K. Jemisin"}).json()["data"]
    api.patch(f"/api/authors/{author['id']}", json={"followed": True})
    listed = api.get("/api/authors/completion", params={"followed_only": True}).json()
    assert [a["author_name"] for a in listed["data"]["items"]] == ["N. K. Jemisin"]


def test_duplicate_unique_name_is_a_conflict(api):
    assert api.post("/api/series", json={"name": "Discworld"}).status_code == 201
    again = api.post("/api/series", json={"name": "Discworld"})
    assert again.status_code == 409
    assert_envelope(again.json(), False)


def test_wanted_duplicates_merge(api):
    first = api.post("/api/wanted", json={"title": "The Way of Kings (Unabridged)",
                                          "author": "Brandon Sanderson"})
    assert first.status_code == 201
    merged = api.post("/api/wanted", json={"title": "the way of kings",
                                           "author": "Brandon  Sanderson",
                                           "narrator": "Michael Kramer", "priority": 5})
    assert merged.status_code == 200
    data = merged.json()["data"]
    assert data["id"] == first.json()["data"]["id"]
    assert data["narrator"] == "Michael Kramer" and data["priority"] == 5
    assert api.get("/api/wanted").json()["data"]["total"] == 1
    by_status = api.get("/api/wanted", params={"status": "wanted"}).json()["data"]["total"]
    assert by_status == 1


def test_downloads_list_and_failed_summary(api, runtime):
    from mamcrawler.store.db import session_scope
    from mamcrawler.store.models import Download

    with session_scope(runtime.sessions) as session:
        session.add(Download(title="Dune", edition="paid", state="failed", error="tracker 503"))
    failed = api.get("/api/downloads/failed").json()["data"]
    assert failed["total"] == 1 and failed["items"][0]["error"] == "tracker 503"
    only_failed = api.get("/api/downloads", params={"state": "failed"}).json()["data"]
    assert only_failed["total"] == 1
    download_id = only_failed["items"][0]["id"]
    assert api.get(f"/api/downloads/{download_id}").json()["data"]["edition"] == "paid"


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), [
    ("post", "/api/books", {"content": b"{not json",
                            "headers": {"content-type": "application/json"}}, 422),
    ("post", "/api/books", {"json": {"title": 12}}, 422),
    ("post", "/api/books", {"json": {"title": "x", "year": "soon"}}, 422),
    ("post", "/api/books", {"json": {"title": "x", "unknown_field": 1}}, 422),
    ("post", "/api/books", {"json": {"title": "nul\u0000byte"}}, 422),
    ("post", "/api/books", {"json": {"title": "   "}}, 422),
    ("post", "/api/wanted", {"content": b'{"title": "x", "expected_duration_seconds": Infinity}',
                             "headers": {"content-type": "application/json"}}, 422),
    ("post", "/api/wanted", {"json": {"title": "x", "source": "psychic"}}, 422),
    ("get", "/api/books/abc", {}, 422),
    ("get", "/api/books/99999999999999999999", {}, 422),
    ("get", "/api/books/424242", {}, 404),
    ("get", "/api/books", {"params": {"limit": 10**9}}, 422),
    ("get", "/api/books", {"params": {"limit": 0}}, 422),
    ("get", "/api/books", {"params": {"offset": -1}}, 422),
    ("get", "/api/no-such-thing", {}, 404),
    ("put", "/api/books", {}, 405),
    ("patch", "/api/downloads/1", {"json": {"state": "imported"}}, 405),
    ("post", "/api/downloads/abc/cancel", {}, 422),
    ("post", "/api/downloads/1/cancel", {"params": {"requeue": "perhaps"}}, 422),
    ("post", "/api/downloads/424242/retry", {}, 404),
    ("patch", "/api/wanted/1", {"json": {"title": None}}, 422),
    ("patch", "/api/books/1", {"json": {"authors": None}}, 422),
    ("patch", "/api/series/1", {"json": {"followed": None}}, 422),
])
def test_bad_input_gets_a_4xx_envelope(api, method, path, kwargs, status):
    response = getattr(api, method)(path, **kwargs)
    assert response.status_code == status
    assert_envelope(response.json(), False)
    assert "Traceback" not in response.text


def test_malformed_json_says_so(api):
    response = api.post("/api/wanted", content=b"{bad",
                        headers={"content-type": "application/json"})
    assert response.json()["error"].startswith("malformed JSON body")


def test_unexpected_errors_are_enveloped_without_internals(runtime):
    from fastapi.testclient import TestClient

    from mamcrawler.api.app import create_app

    app = create_app(runtime, start_scheduler=False)

    @app.get("/api/explode")
    def explode():
        raise RuntimeError("secret internals /etc/passwd")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/explode", headers={"X-Api-Key": API_KEY})
    assert response.status_code == 500
    assert_envelope(response.json(), False)
    assert "secret internals" not in response.text


def test_openapi_docs_are_served(api):
    assert api.get("/docs").status_code == 200
    spec = api.get("/openapi.json").json()
    assert "/api/books" in spec["paths"] and "/api/scheduler/jobs/{name}/run" in spec["paths"]
