"""The dashboard over HTTP (R21): sign-in with the API key, the session cookie, CSRF on
every form, every page, and no secret on any page."""

import re
import shutil

import pytest
from fastapi.testclient import TestClient

from tests.support.database import API_KEY

MARKERS = {"mam_id": "MARKER-MAMID-7f3a91", "qb_password": "MARKER-QBPASS-55c2",
           "abs_token": "MARKER-ABSTOKEN-0b8e", "prowlarr_api_key": "MARKER-PROWLARR-d41",
           "hardcover_token": "MARKER-HARDCOVER-9e", "google_books_api_key": "MARKER-GBOOKS-31",
           "notify_urls": "json://127.0.0.1:9/MARKER-NOTIFY-aa"}
PAGES = ["/", "/queue", "/library", "/history", "/jobs", "/settings"]


@pytest.fixture
def dash_rt(make_settings, sqlite_template, tmp_path):
    from mamcrawler.runtime import Runtime

    path = tmp_path / "dash.db"
    shutil.copy(sqlite_template, path)
    settings = make_settings(database_url=f"sqlite:///{path}", qb_host="127.0.0.1",
                             qb_port=9, **MARKERS)
    rt = Runtime.build(settings, upgrade_db=False)
    yield rt
    rt.close()


@pytest.fixture
def browser(dash_rt):
    from mamcrawler.api.app import create_app

    with TestClient(create_app(dash_rt, start_scheduler=False), base_url="http://testserver",
                    follow_redirects=False) as client:
        yield client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)


def sign_in(client) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    answer = client.post("/login", data={"api_key": API_KEY, "csrf": csrf_of(page.text),
                                         "next": "/queue"})
    assert answer.status_code == 303 and answer.headers["location"] == "/queue"


def test_pages_need_sign_in_and_redirect_to_login(browser):
    for path in PAGES:
        answer = browser.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=")


def test_sign_in_sets_an_httponly_strict_signed_cookie(browser):
    sign_in(browser)
    cookie = [v for k, v in browser.cookies.items() if k == "mamcrawler_session"]
    assert cookie and API_KEY not in cookie[0]
    page = browser.get("/login")
    assert page.status_code == 303  # already signed in


def test_cookie_flags(browser):
    page = browser.get("/login")
    header = page.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=strict" in header and "path=/" in header


def test_wrong_key_is_refused(browser):
    page = browser.get("/login")
    answer = browser.post("/login", data={"api_key": "nope", "csrf": csrf_of(page.text)})
    assert answer.status_code == 401 and "not the API key" in answer.text
    assert browser.get("/").status_code == 303


def test_a_forged_cookie_is_not_signed_in(browser):
    forged = "eyJzaWQiOiJ4IiwiaW4iOnRydWUsImV4cCI6OTk5OTk5OTk5OX0.AAAA"  # signed in, no MAC
    browser.cookies.set("mamcrawler_session", forged)
    assert browser.get("/").status_code == 303


def test_login_and_forms_need_the_csrf_token(browser):
    browser.get("/login")
    answer = browser.post("/login", data={"api_key": API_KEY, "csrf": "0" * 64})
    assert answer.status_code == 403
    sign_in(browser)
    refused = browser.post("/queue/wanted", data={"title": "Forged", "csrf": "bad"})
    assert refused.status_code == 403 and "security token" in refused.text
    queue = browser.get("/queue")
    assert "Forged" not in queue.text


def test_forms_from_another_origin_are_refused(browser):
    sign_in(browser)
    token = csrf_of(browser.get("/queue").text)
    answer = browser.post("/queue/wanted", data={"title": "Cross", "csrf": token},
                          headers={"Origin": "http://evil.example"})
    assert answer.status_code == 403 and "another site" in answer.text


def test_add_and_remove_a_wanted_book(browser):
    sign_in(browser)
    token = csrf_of(browser.get("/queue").text)
    added = browser.post("/queue/wanted", data={"title": "The Glass Orchard",
                                                "author": "Ada Quill", "csrf": token})
    assert added.status_code == 303
    page = browser.get(added.headers["location"])
    assert "The Glass Orchard" in page.text and "added to the wanted list" in page.text
    wanted_id = re.search(r'/queue/wanted/(\d+)/decline', page.text).group(1)
    removed = browser.post(f"/queue/wanted/{wanted_id}/decline", data={"csrf": token})
    page = browser.get(removed.headers["location"])
    assert "removed (declined)" in page.text


def test_jobs_pause_resume_and_the_autonomous_switch(browser):
    sign_in(browser)
    token = csrf_of(browser.get("/jobs").text)
    browser.post("/jobs/acquisition/pause", data={"csrf": token})
    assert "paused" in browser.get("/jobs").text
    browser.post("/autonomous", data={"on": "false", "csrf": token})
    assert "every job paused" in browser.get("/jobs").text
    browser.post("/autonomous", data={"on": "true", "csrf": token})
    assert "Autonomous mode: on" in browser.get("/jobs").text


def test_sign_out_ends_the_session(browser):
    sign_in(browser)
    token = csrf_of(browser.get("/").text)
    assert browser.post("/logout", data={"csrf": token}).status_code == 303
    assert browser.get("/").status_code == 303


def test_every_page_renders_without_a_secret(browser, dash_rt):
    sign_in(browser)
    token = csrf_of(browser.get("/settings").text)
    pages = [browser.get(path) for path in PAGES]
    pages.append(browser.post("/settings/check", data={"csrf": token}))
    for page in pages:
        assert page.status_code == 200, page.text
        assert "text/html" in page.headers["content-type"]
        for secret in [*MARKERS.values(), API_KEY]:
            assert secret not in page.text
        assert "MARKER" not in page.text


def test_next_never_leaves_the_site(browser):
    page = browser.get("/login?next=//evil.example/x")
    assert 'value="/"' in page.text


def test_a_book_whose_files_are_gone_shows_on_the_library_page(browser, dash_rt):
    from datetime import UTC, datetime

    from mamcrawler.services.library import create_book
    from mamcrawler.store.db import session_scope

    with session_scope(dash_rt.sessions) as session:
        book = create_book(session, {"title": "Gone Book", "library_path": "/lib/A/Gone",
                                     "missing_since": datetime(2026, 5, 1, 8, 30, tzinfo=UTC)})
        session.flush()
        book_id = book.id
    sign_in(browser)
    page = browser.get("/library").text
    assert "every file gone from /lib/A/Gone since 2026-05-01 08:30 UTC" in page
    page = browser.get(f"/library?book={book_id}").text
    assert "files missing" in page and "gone from its folder since 2026-05-01 08:30" in page
