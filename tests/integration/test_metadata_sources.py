"""Contract tests: every metadata source against recorded-shape answers over real HTTP.

The answers are the shapes documented in reference/metadata-apis.md (tests/fixtures/
metadata/<source>/), served on loopback by a threaded pytest-httpserver. Time is a fake
clock: retries, Retry-After and rate-limit spacing are checked without real waiting.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from mamcrawler import USER_AGENT
from mamcrawler.adapters.mam.ratelimit import MinIntervalLimiter
from mamcrawler.adapters.metadata import (
    AudnexusSource,
    CachedSource,
    GoogleBooksSource,
    HardcoverSource,
    HttpOptions,
    ITunesSource,
    MetadataAuthError,
    MetadataBadResponse,
    MetadataRateLimited,
    MetadataUnavailable,
    OpenLibrarySource,
    TrackerReleaseSource,
    TTLCache,
    build_sources,
    close_all,
    query_all,
)
from mamcrawler.config import load_settings
from mamcrawler.domain.metadata import BookQuery
from mamcrawler.domain.records import Release, SeriesRef

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "metadata"
HP = BookQuery(title="Harry Potter and the Sorcerer's Stone", authors=("J.K. Rowling",))
GOOGLE_KEY = "AIzaSy-test-key-never-logged-123"
TOKEN = "hc-token-secret-456"


def load(source: str, name: str) -> Any:
    return json.loads((FIXTURES / source / f"{name}.json").read_text("utf-8"))


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now_s = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self.now_s

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(round(seconds, 3))
            self.now_s += seconds


@pytest.fixture(scope="module")
def _server():
    # Threaded, so one request held on a gate never blocks the other sources.
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
def gate(server):
    """An event that hanging handlers wait on; released at teardown, before the server
    is cleared, so no handler thread outlives the test."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def clock():
    return FakeClock()


def options(clock: FakeClock, **overrides: Any) -> HttpOptions:
    settings: dict[str, Any] = dict(
        timeout_s=5.0, min_interval_s=0.0, max_attempts=3, backoff_base_s=1.0,
        limiter=MinIntervalLimiter(0.0, clock=clock.now, sleep=clock.sleep),
        sleep=clock.sleep, clock=clock.now)
    settings.update(overrides)
    return HttpOptions(**settings)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None):
    return Response(json.dumps(data), status=status, headers=headers,
                    content_type="application/json")


def hardcover_handler(search: str = "search", books: str = "books") -> Callable:
    """Answers a search query with one fixture and a books_by_pk batch with another."""
    def handle(request: Request) -> Response:
        query = request.get_json()["query"]
        return json_response(load("hardcover", search if "search(" in query else books))
    return handle


def hang(gate: threading.Event) -> Callable[[Request], Response]:
    """A handler that answers only once `gate` is set (at the latest after 30 s)."""
    def handle(request: Request) -> Response:
        gate.wait(30)
        return json_response({})
    return handle


def client_log(caplog: pytest.LogCaptureFixture) -> str:
    """Everything our process logged, without the stand-in server's access log (a real
    Google server keeps its own logs; what matters is that we never write the key)."""
    return "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))


def requests_to(server: HTTPServer, path: str) -> list[Request]:
    return [request for request, _ in server.log if request.path == path]


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        time.sleep(0.01)


@dataclass(frozen=True)
class Spec:
    """How to build one source against the test server, and its lookup request."""

    name: str
    setting: str  # the base-URL setting error messages name
    path: str
    method: str
    query: BookQuery
    build: Callable[[HTTPServer, HttpOptions], Any]
    empty: tuple[int, Any]  # an answer meaning "nothing found"
    normal: Callable[[], Any]  # a handler or JSON body with at least one record

    def source(self, server: HTTPServer, opts: HttpOptions) -> Any:
        return self.build(server, opts)

    def expect(self, server: HTTPServer, **kwargs: Any):
        return server.expect_request(self.path, method=self.method, **kwargs)

    def respond_normally(self, server: HTTPServer) -> None:
        answer = self.normal()
        if callable(answer):
            self.expect(server).respond_with_handler(answer)
        else:
            self.expect(server).respond_with_json(answer)


SPECS = [
    Spec("audnexus", "AUDNEXUS_URL", "/books/B017V4IM1G", "GET", BookQuery(asin="B017V4IM1G"),
         lambda s, o: AudnexusSource(s.url_for("/"), s.url_for("/"), options=o),
         (404, load("audnexus", "error_not_found")),
         lambda: load("audnexus", "book_B017V4IM1G")),
    Spec("openlibrary", "OPENLIBRARY_URL", "/search.json", "GET", HP,
         lambda s, o: OpenLibrarySource(s.url_for("/"), enrich=0, options=o),
         (200, load("openlibrary", "search_empty")), lambda: load("openlibrary", "search")),
    Spec("googlebooks", "GOOGLE_BOOKS_URL", "/books/v1/volumes", "GET", HP,
         lambda s, o: GoogleBooksSource(s.url_for("/books/v1"), api_key=GOOGLE_KEY, options=o),
         (200, load("googlebooks", "volumes_empty")), lambda: load("googlebooks", "volumes")),
    Spec("hardcover", "HARDCOVER_URL", "/v1/graphql", "POST", HP,
         lambda s, o: HardcoverSource(TOKEN, s.url_for("/v1/graphql"), options=o),
         (200, load("hardcover", "search_empty")), hardcover_handler),
    Spec("itunes", "ITUNES_URL", "/search", "GET", HP,
         lambda s, o: ITunesSource(s.url_for("/"), options=o),
         (200, load("itunes", "search_empty")), lambda: load("itunes", "search")),
]
BY_NAME = {spec.name: spec for spec in SPECS}
each_source = pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])


@each_source
def test_nothing_found_is_an_empty_list_and_the_user_agent_is_honest(spec, server, clock):
    status, body = spec.empty
    spec.expect(server, headers={"User-Agent": USER_AGENT}).respond_with_json(body, status)
    source = spec.source(server, options(clock))
    try:
        assert source.lookup(spec.query) == []
    finally:
        source.close()
    assert len(server.log) == 1


@each_source
def test_429_waits_for_retry_after_then_succeeds(spec, server, clock):
    server.expect_oneshot_request(spec.path, method=spec.method).respond_with_json(
        {"message": "Too Many Requests"}, status=429, headers={"Retry-After": "7"})
    spec.respond_normally(server)
    source = spec.source(server, options(clock))
    try:
        records = source.lookup(spec.query)
    finally:
        source.close()
    assert records and all(r.source == spec.name for r in records)
    assert clock.sleeps == [7.0], "waited once, as asked; the limiter did not add a wait"


@each_source
def test_429_until_attempts_run_out_is_rate_limited_with_retry_after(spec, server, clock):
    spec.expect(server).respond_with_json({"message": "Too Many Requests"}, status=429,
                                          headers={"Retry-After": "2"})
    source = spec.source(server, options(clock))
    with pytest.raises(MetadataRateLimited) as caught:
        source.lookup(spec.query)
    source.close()
    assert caught.value.source == spec.name and caught.value.retry_after == 2.0
    assert clock.sleeps == [2.0, 2.0] and len(server.log) == 3


@each_source
def test_a_retry_after_beyond_the_cap_is_not_waited_out_and_cools_the_source_down(
        spec, server, clock):
    spec.expect(server).respond_with_json({}, status=429, headers={"Retry-After": "3600"})
    source = spec.source(server, options(clock, retry_after_cap_s=60))
    try:
        with pytest.raises(MetadataRateLimited) as first:
            source.lookup(spec.query)
        with pytest.raises(MetadataRateLimited) as second:
            source.lookup(spec.query)
    finally:
        source.close()
    assert first.value.retry_after == 3600 and clock.sleeps == []
    assert len(server.log) == 1, "during the cool-down nothing is sent"
    assert second.value.retry_after == pytest.approx(3600)


@each_source
def test_5xx_is_retried_with_backoff_then_unavailable(spec, server, clock):
    spec.expect(server).respond_with_data("<html>Bad Gateway</html>", status=502)
    source = spec.source(server, options(clock))
    with pytest.raises(MetadataUnavailable) as caught:
        source.lookup(spec.query)
    source.close()
    assert len(server.log) == 3 and clock.sleeps == [1.0, 2.0]
    message = str(caught.value)
    assert "HTTP 502" in message and f"check {spec.setting}" in message
    assert caught.value.source == spec.name and caught.value.status == 502


@each_source
def test_a_source_that_does_not_answer_times_out(spec, server, clock, gate):
    spec.expect(server).respond_with_handler(hang(gate))
    source = spec.source(server, options(clock, timeout_s=0.2, max_attempts=2))
    started = time.monotonic()
    with pytest.raises(MetadataUnavailable, match="timed out"):
        source.lookup(spec.query)
    assert time.monotonic() - started < 5
    assert clock.sleeps == [1.0]
    source.close()


def test_audnexus_title_lookup_goes_through_the_catalog_field_by_field(server, clock):
    server.expect_request("/1.0/catalog/products", query_string={
        "num_results": "10", "products_sort_by": "Relevance", "title": HP.title,
        "author": "J.K. Rowling"}).respond_with_json(load("audnexus", "catalog_products"))
    for asin in ("B017V4IM1G", "B0MULTI001"):
        server.expect_request(f"/books/{asin}", query_string={"region": "us"}).respond_with_json(
            load("audnexus", f"book_{asin}"))
    source = AudnexusSource(server.url_for("/"), server.url_for("/"), options=options(clock))
    hp, omens = source.lookup(HP)
    source.close()
    assert hp.source == "audnexus" and hp.source_id == hp.asin == "B017V4IM1G"
    assert hp.title == "Harry Potter and the Sorcerer's Stone, Book 1" and hp.subtitle is None
    assert hp.authors == ("J.K. Rowling",) and hp.narrators == ("Jim Dale",)
    assert hp.series == (SeriesRef("Harry Potter", "1"),
                         SeriesRef("Wizarding World Collection", "1"))
    assert hp.duration_s == 498 * 60 and hp.isbn == "9781781102633"
    assert hp.language == "english" and hp.publisher == "Pottermore Publishing"
    assert hp.year == 2015 and hp.abridged is False
    assert hp.cover_url == "https://m.media-amazon.com/images/I/91eopoUCjLL.jpg"
    assert hp.genres == ("Science Fiction & Fantasy", "Fantasy")
    assert hp.description.startswith("Turning the envelope over, his hand trembling")
    assert '"H".' in hp.description and "<" not in hp.description
    assert "Hogwarts & then" in hp.description and "\n\n" in hp.description
    assert hp.url.endswith("/books/B017V4IM1G?region=us")
    assert omens.authors == ("Terry Pratchett", "Neil Gaiman")
    assert omens.narrators == ("Martin Jarvis", "Full Cast")
    assert omens.subtitle.startswith("The Nice and Accurate") and omens.abridged is True
    assert omens.series == (SeriesRef("Omens", "1.5"),) and omens.duration_s == 752.5 * 60
    assert omens.description == "Armageddon is coming.\n\nFriday, in fact." and omens.isbn is None


def test_audnexus_asin_lookup_asks_the_configured_region(server, clock):
    server.expect_request("/books/B017V4IM1G", query_string={"region": "uk"}).respond_with_json(
        load("audnexus", "book_B017V4IM1G"))
    source = AudnexusSource(server.url_for("/"), server.url_for("/"), region="UK",
                            options=options(clock))
    [record] = source.lookup(BookQuery(asin="B017V4IM1G"))
    source.close()
    assert record.asin == "B017V4IM1G" and not requests_to(server, "/1.0/catalog/products")


@pytest.mark.parametrize(("fixture", "status"), [
    ("error_not_found", 404), ("error_not_found_legacy", 404),
    ("error_region_unavailable", 400)])
def test_audnexus_not_found_in_both_error_formats_is_none(fixture, status, server, clock):
    server.expect_request("/books/B0NOTHERE1").respond_with_json(load("audnexus", fixture),
                                                                 status)
    source = AudnexusSource(server.url_for("/"), server.url_for("/"), options=options(clock))
    assert source.by_id("B0NOTHERE1") is None
    source.close()


@pytest.mark.parametrize("fixture", ["error_rate_limit", "error_rate_limit_legacy"])
def test_audnexus_rate_limit_bodies_in_both_formats(fixture, server, clock):
    server.expect_request("/books/B017V4IM1G").respond_with_json(
        load("audnexus", fixture), 429, headers={"Retry-After": "60"})
    source = AudnexusSource(server.url_for("/"), server.url_for("/"),
                            options=options(clock, max_attempts=1))
    with pytest.raises(MetadataRateLimited) as caught:
        source.by_id("B017V4IM1G")
    source.close()
    assert caught.value.retry_after == 60
    assert "Rate limit exceeded, retry in 1 minute" in str(caught.value)


def test_audnexus_legacy_server_error_body_is_named(server, clock):
    server.expect_request("/books/B017V4IM1G").respond_with_json(
        load("audnexus", "error_server_legacy"), 500)
    source = AudnexusSource(server.url_for("/"), server.url_for("/"),
                            options=options(clock, max_attempts=1))
    with pytest.raises(MetadataUnavailable, match="An internal server error occurred"):
        source.by_id("B017V4IM1G")
    source.close()


def test_audnexus_keeps_the_books_it_could_read_when_one_fails(server, clock):
    server.expect_request("/1.0/catalog/products").respond_with_json(
        load("audnexus", "catalog_products"))
    server.expect_request("/books/B017V4IM1G").respond_with_data("oops", status=500)
    server.expect_request("/books/B0MULTI001").respond_with_json(
        load("audnexus", "book_B0MULTI001"))
    source = AudnexusSource(server.url_for("/"), server.url_for("/"),
                            options=options(clock, max_attempts=1))
    [record] = source.lookup(HP)
    source.close()
    assert record.asin == "B0MULTI001"


def test_audnexus_empty_catalog_fetches_no_books(server, clock):
    server.expect_request("/1.0/catalog/products").respond_with_json(
        load("audnexus", "catalog_empty"))
    source = AudnexusSource(server.url_for("/"), server.url_for("/"), options=options(clock))
    assert source.lookup(HP) == []
    source.close()
    assert len(server.log) == 1


def test_audnexus_requests_are_spaced_by_its_own_rate_limit(server, clock):
    server.expect_request("/1.0/catalog/products").respond_with_json(
        load("audnexus", "catalog_products"))
    for asin in ("B017V4IM1G", "B0MULTI001"):
        server.expect_request(f"/books/{asin}").respond_with_json(
            load("audnexus", f"book_{asin}"))
    source = AudnexusSource(server.url_for("/"), server.url_for("/"),
                            options=options(clock, min_interval_s=None))
    assert len(source.lookup(HP)) == 2
    source.close()
    assert clock.sleeps == [0.65, 0.65]  # ~100 requests/min allowed by Audnexus


def test_openlibrary_search_parsed_field_by_field_and_the_top_work_completed(server, clock):
    server.expect_request("/search.json", query_string={
        "title": HP.title, "author": "J.K. Rowling", "limit": "5",
        "fields": "key,title,subtitle,author_name,first_publish_year,isbn,cover_i,language,"
                  "edition_count,publisher"}).respond_with_json(load("openlibrary", "search"))
    server.expect_request("/works/OL82563W.json").respond_with_json(
        load("openlibrary", "work_OL82563W"))
    source = OpenLibrarySource(server.url_for("/"), covers_url="https://covers.example",
                               options=options(clock))
    stone, omens, sparse = source.lookup(
        BookQuery(title=HP.title, authors=HP.authors, isbn="978-1-78110-263-3"))
    source.close()
    assert stone.source == "openlibrary" and stone.source_id == "OL82563W"
    assert stone.url == server.url_for("/works/OL82563W")
    assert stone.title == "Harry Potter and the Philosopher's Stone"
    assert stone.authors == ("J. K. Rowling",) and stone.year == 1997
    assert stone.isbn == "9781781102633", "the ISBN asked for is among the work's"
    assert stone.language == "eng" and stone.publisher == "Bloomsbury"
    assert stone.cover_url == "https://covers.example/b/id/10521270-L.jpg"
    assert stone.description == ("Harry Potter thinks he is an ordinary boy.\n\n"
                                 "Then the owls arrive.")
    assert stone.genres == ("Wizards", "Magic", "Schools")
    assert stone.narrators == () and stone.duration_s is None
    assert omens.authors == ("Terry Pratchett", "Neil Gaiman") and omens.cover_url is None
    assert omens.description is None and omens.isbn is None, "only the top work is completed"
    assert sparse.title == "Sparse Work" and sparse.authors == () and sparse.year is None
    assert len(requests_to(server, "/works/OL82563W.json")) == 1


def test_openlibrary_isbn_lookup_follows_the_redirect_to_the_edition(server, clock):
    server.expect_request("/isbn/9781781102633.json").respond_with_data(
        "", status=302, headers={"Location": server.url_for("/books/OL26331930M.json")})
    server.expect_request("/books/OL26331930M.json").respond_with_json(
        load("openlibrary", "edition"))
    source = OpenLibrarySource(server.url_for("/"), options=options(clock))
    [edition] = source.lookup(BookQuery(isbn="9781781102633"))
    source.close()
    assert edition.source_id == "OL26331930M" and edition.title.endswith("Sorcerer's Stone")
    assert edition.isbn == "9781781102633" and edition.publisher == "Pottermore Publishing"
    assert edition.year == 2015 and edition.language == "eng"
    assert edition.series == (SeriesRef("Harry Potter (1)", None),)
    assert edition.cover_url == "https://covers.openlibrary.org/b/id/8231856-L.jpg"


def test_openlibrary_work_by_id_with_a_plain_description_and_a_missing_one(server, clock):
    server.expect_request("/works/OL2W.json").respond_with_json(
        load("openlibrary", "work_string_description"))
    server.expect_request("/works/OL0W.json").respond_with_json(
        load("openlibrary", "error_not_found"), 404)
    source = OpenLibrarySource(server.url_for("/"), options=options(clock))
    work = source.by_id("/works/OL2W")
    assert work.description == "The world will end on Saturday." and work.cover_url is None
    assert source.by_id("OL0W") is None
    source.close()


def test_openlibrary_keeps_the_search_result_when_its_work_fails(server, clock):
    server.expect_request("/search.json").respond_with_json(load("openlibrary", "search"))
    server.expect_request("/works/OL82563W.json").respond_with_data("down", status=503)
    source = OpenLibrarySource(server.url_for("/"), options=options(clock, max_attempts=1))
    records = source.lookup(HP)
    source.close()
    assert len(records) == 3 and records[0].description is None


def test_googlebooks_search_parsed_field_by_field_and_the_key_never_logged(server, clock,
                                                                           caplog):
    caplog.set_level(logging.DEBUG)
    server.expect_request("/books/v1/volumes", query_string={
        "q": f"intitle:{HP.title} inauthor:J.K. Rowling", "maxResults": "10",
        "key": GOOGLE_KEY}).respond_with_json(load("googlebooks", "volumes"))
    source = GoogleBooksSource(server.url_for("/books/v1"), api_key=GOOGLE_KEY,
                               options=options(clock))
    stone, old = source.lookup(HP)
    source.close()
    assert stone.source == "googlebooks" and stone.source_id == "wrOQLV6xB-wC"
    assert stone.title == "Harry Potter and the Sorcerer's Stone"
    assert stone.subtitle == "Illustrated Edition"
    assert stone.authors == ("J.K. Rowling", "Mary GrandPré")
    assert stone.publisher == "Pottermore Publishing" and stone.year == 2015
    assert stone.isbn == "9781781100486" and stone.language == "en"
    assert stone.description == ("Turning the envelope over, Harry saw a purple wax seal…"
                                 "\n\nSecond paragraph.")
    assert stone.genres == ("Juvenile Fiction",)
    assert stone.cover_url.endswith("zoom=1") and stone.url.endswith("id=wrOQLV6xB-wC")
    assert old.isbn == "0439064872" and old.year == 1998 and old.authors == ()
    assert GOOGLE_KEY not in client_log(caplog)
    assert any("key=***" in r.getMessage() for r in caplog.records), "the URL was logged masked"


def test_googlebooks_isbn_query_and_keyless_calls(server, clock):
    server.expect_request("/books/v1/volumes", query_string={
        "q": "isbn:9781781102633", "maxResults": "10"}).respond_with_json(
        load("googlebooks", "volumes_empty"))
    source = GoogleBooksSource(server.url_for("/books/v1"), options=options(clock))
    assert source.lookup(BookQuery(title="Anything", isbn="978-1781102633")) == []
    source.close()


def test_googlebooks_volume_by_id_and_a_missing_volume(server, clock):
    server.expect_request("/books/v1/volumes/wrOQLV6xB-wC").respond_with_json(
        load("googlebooks", "volume"))
    server.expect_request("/books/v1/volumes/nope").respond_with_json(
        load("googlebooks", "error_not_found"), 404)
    source = GoogleBooksSource(server.url_for("/books/v1"), options=options(clock))
    assert source.by_id("wrOQLV6xB-wC").year == 2015
    assert source.by_id("nope") is None
    source.close()


@pytest.mark.parametrize("status", [429, 403])
def test_googlebooks_quota_errors_are_rate_limits(status, server, clock):
    server.expect_request("/books/v1/volumes").respond_with_json(
        load("googlebooks", "error_rate_limited"), status)
    source = GoogleBooksSource(server.url_for("/books/v1"), api_key=GOOGLE_KEY,
                               options=options(clock, max_attempts=1))
    with pytest.raises(MetadataRateLimited, match="Quota exceeded") as caught:
        source.lookup(HP)
    source.close()
    assert caught.value.status == status and GOOGLE_KEY not in str(caught.value)


def test_googlebooks_rejected_key_names_the_setting_not_the_key(server, clock, caplog):
    caplog.set_level(logging.DEBUG)
    server.expect_request("/books/v1/volumes").respond_with_json(
        load("googlebooks", "error_bad_key"), 400)
    source = GoogleBooksSource(server.url_for("/books/v1"), api_key=GOOGLE_KEY,
                               options=options(clock))
    with pytest.raises(MetadataAuthError, match="GOOGLE_BOOKS_API_KEY") as caught:
        source.lookup(HP)
    source.close()
    assert "API key not valid" in str(caught.value) and len(server.log) == 1
    assert GOOGLE_KEY not in str(caught.value) and GOOGLE_KEY not in client_log(caplog)


@pytest.mark.parametrize("token", [None, "", "   ", "Bearer "])
def test_hardcover_refuses_to_run_without_a_token(token):
    with pytest.raises(MetadataAuthError, match="HARDCOVER_TOKEN") as caught:
        HardcoverSource(token, "http://127.0.0.1:9/v1/graphql")
    assert caught.value.source == "hardcover"


@pytest.mark.parametrize("search", ["search", "search_string_results"])
def test_hardcover_search_completed_with_book_details(search, server, clock):
    server.expect_request("/v1/graphql", method="POST", headers={
        "Authorization": f"Bearer {TOKEN}"}).respond_with_handler(hardcover_handler(search))
    source = HardcoverSource(f"Bearer {TOKEN}", server.url_for("/v1/graphql"),
                             options=options(clock))
    stone, omens = source.lookup(HP)
    source.close()
    search_query, books_query = (r.get_json()["query"] for r, _ in server.log)
    assert f'search(query: "{HP.title} J.K. Rowling", query_type: "Book"' in search_query
    assert "b0: books_by_pk(id: 328491)" in books_query and "b1: books_by_pk(id: 17)" in books_query
    assert stone.source == "hardcover" and stone.source_id == "328491"
    assert stone.title == "Harry Potter and the Sorcerer's Stone" and stone.subtitle is None
    assert stone.authors == ("J.K. Rowling",) and stone.narrators == ("Jim Dale",)
    assert stone.series == (SeriesRef("Harry Potter", "1"), SeriesRef("Wizarding World", None))
    assert stone.duration_s == 29880 and stone.asin == "B017V4IM1G"
    assert stone.isbn == "9781781102633" and stone.year == 1997
    assert omens.source_id == "17" and omens.authors == ("Terry Pratchett", "Neil Gaiman")
    assert omens.series == (SeriesRef("Omens", None),) and omens.narrators == ()
    assert omens.year is None and omens.duration_s is None and omens.isbn is None


def test_hardcover_empty_search_sends_no_detail_request(server, clock):
    server.expect_request("/v1/graphql").respond_with_json(load("hardcover", "search_empty"))
    source = HardcoverSource(TOKEN, server.url_for("/v1/graphql"), options=options(clock))
    assert source.lookup(HP) == []
    source.close()
    assert len(server.log) == 1


@pytest.mark.parametrize(("status", "body"), [
    (200, load("hardcover", "error_invalid_jwt")), (401, {"message": "Unauthorized"})])
def test_hardcover_refused_token_is_an_auth_error_naming_the_setting(status, body, server,
                                                                     clock):
    server.expect_request("/v1/graphql").respond_with_json(body, status)
    source = HardcoverSource(TOKEN, server.url_for("/v1/graphql"), options=options(clock))
    with pytest.raises(MetadataAuthError, match="HARDCOVER_TOKEN") as caught:
        source.lookup(HP)
    source.close()
    assert TOKEN not in str(caught.value) and len(server.log) == 1


def test_hardcover_graphql_errors_are_bad_responses_with_the_message(server, clock):
    server.expect_request("/v1/graphql").respond_with_json(load("hardcover", "error_validation"))
    source = HardcoverSource(TOKEN, server.url_for("/v1/graphql"), options=options(clock))
    with pytest.raises(MetadataBadResponse, match="field 'serch' not found"):
        source.lookup(HP)
    source.close()


def test_hardcover_keeps_search_hits_when_the_details_fail(server, clock):
    server.expect_request("/v1/graphql").respond_with_handler(
        hardcover_handler(books="error_validation"))
    source = HardcoverSource(TOKEN, server.url_for("/v1/graphql"), options=options(clock))
    stone, omens = source.lookup(HP)
    source.close()
    assert stone.series == (SeriesRef("Harry Potter", "1"),) and stone.narrators == ()
    assert stone.isbn == "9780590353403" and stone.duration_s == 29880


def test_hardcover_throttle_body_with_retry_after(server, clock):
    server.expect_request("/v1/graphql").respond_with_json(
        load("hardcover", "error_throttled"), 429, headers={"Retry-After": "30"})
    source = HardcoverSource(TOKEN, server.url_for("/v1/graphql"),
                             options=options(clock, max_attempts=1))
    with pytest.raises(MetadataRateLimited, match="exceeded the rate limit") as caught:
        source.lookup(HP)
    source.close()
    assert caught.value.retry_after == 30


def test_itunes_search_parsed_field_by_field(server, clock):
    server.expect_request("/search", query_string={
        "term": f"{HP.title} J.K. Rowling", "media": "audiobook", "entity": "audiobook",
        "limit": "10"}).respond_with_json(load("itunes", "search"))
    source = ITunesSource(server.url_for("/"), options=options(clock))
    stone, omens, plain = source.lookup(HP)
    source.close()
    assert stone.source == "itunes" and stone.source_id == "1037462181"
    assert stone.title == "Harry Potter and the Sorcerer's Stone" and stone.abridged is False
    assert stone.authors == ("J.K. Rowling",) and stone.year == 2015
    assert stone.genres == ("Kids & Young Adults",)
    assert stone.cover_url.endswith("100x100bb.jpg")
    assert stone.url == "https://books.apple.com/us/audiobook/id1037462181"
    assert stone.description == ("Turning the envelope over, his hand trembling, Harry saw a "
                                 "purple wax seal.\n\nNarrated by Jim Dale & friends.")
    assert stone.narrators == () and stone.series == () and stone.duration_s is None
    assert omens.title == "Good Omens" and omens.abridged is True
    assert omens.authors == ("Terry Pratchett", "Neil Gaiman") and omens.year == 2006
    assert plain.authors == ("Rowling, J.K.",) and plain.abridged is None


def test_itunes_error_message_body_is_a_bad_response(server, clock):
    server.expect_request("/search").respond_with_json(load("itunes", "error"), 400)
    source = ITunesSource(server.url_for("/"), options=options(clock))
    with pytest.raises(MetadataBadResponse, match=r"Invalid value\(s\) for key\(s\)"):
        source.lookup(HP)
    source.close()


def test_a_cache_hit_avoids_the_second_request_until_it_expires(server, clock):
    server.expect_request("/search").respond_with_json(load("itunes", "search"))
    cache = TTLCache(max_entries=10, clock=clock.now)
    source = CachedSource(ITunesSource(server.url_for("/"), options=options(clock)), cache,
                          ttl_s=600)
    first = source.lookup(HP)
    assert source.lookup(HP) == first and len(server.log) == 1
    source.lookup(BookQuery(title="Another Book"))
    assert len(server.log) == 2, "another query is another key"
    clock.sleep(601)
    assert source.lookup(HP) == first and len(server.log) == 3
    source.close()


def test_failures_are_not_cached(server, clock):
    server.expect_oneshot_request("/search").respond_with_data("down", status=503)
    server.expect_request("/search").respond_with_json(load("itunes", "search_empty"))
    source = CachedSource(ITunesSource(server.url_for("/"), options=options(
        clock, max_attempts=1)), TTLCache(clock=clock.now), ttl_s=600)
    with pytest.raises(MetadataUnavailable):
        source.lookup(HP)
    assert source.lookup(HP) == [] and source.lookup(HP) == []
    source.close()
    assert len(server.log) == 2


class _Exploding:
    name = "exploding"

    def lookup(self, query: BookQuery) -> list:
        raise RuntimeError("a bug, not a source failure")


def test_query_all_returns_the_fine_sources_promptly_and_names_the_failures(server, clock,
                                                                            gate):
    server.expect_request("/books/B017V4IM1G").respond_with_json(
        load("audnexus", "book_B017V4IM1G"))
    server.expect_request("/search").respond_with_json(load("itunes", "search"))
    server.expect_request("/search.json").respond_with_data("down", status=500)
    server.expect_request("/books/v1/volumes").respond_with_handler(hang(gate))
    fast = options(clock, max_attempts=1)
    sources = [
        AudnexusSource(server.url_for("/"), server.url_for("/"), options=fast),
        OpenLibrarySource(server.url_for("/"), options=fast),
        GoogleBooksSource(server.url_for("/books/v1"), options=options(clock, timeout_s=20)),
        ITunesSource(server.url_for("/"), options=fast),
        TrackerReleaseSource([Release(id="77", title="Harry Potter 1 (Unabridged)",
                                      narrators=("Jim Dale",))]),
        _Exploding(),
    ]
    query = BookQuery(title=HP.title, authors=HP.authors, asin="B017V4IM1G")
    started = time.monotonic()
    outcome = query_all(sources, query, timeout_s=1.0)
    took = time.monotonic() - started
    assert 0.9 <= took < 3.0 and outcome.elapsed == pytest.approx(took, abs=0.5)
    assert list(outcome.records) == ["audnexus", "itunes", "tracker"]
    assert outcome.records["audnexus"][0].narrators == ("Jim Dale",)
    assert len(outcome.records["itunes"]) == 3
    assert outcome.records["tracker"][0].abridged is False
    assert set(outcome.errors) == {"openlibrary", "googlebooks", "exploding"}
    assert "HTTP 500" in outcome.errors["openlibrary"]
    assert "no answer within 1 s" in outcome.errors["googlebooks"]
    assert "unexpected RuntimeError" in outcome.errors["exploding"]
    assert len(outcome.all_records) == 5
    gate.set()
    wait_until(lambda: any(r.path == "/books/v1/volumes" for r, _ in server.log))
    close_all(sources)


def test_query_all_does_not_wait_for_the_timeout_when_all_answer(server, clock):
    server.expect_request("/search").respond_with_json(load("itunes", "search_empty"))
    source = ITunesSource(server.url_for("/"), options=options(clock))
    outcome = query_all([source], HP, timeout_s=30)
    source.close()
    assert outcome.records == {"itunes": []} and outcome.errors == {}
    assert outcome.elapsed < 5


def test_query_all_refuses_two_sources_of_one_name():
    with pytest.raises(ValueError, match="unique"):
        query_all([TrackerReleaseSource(), TrackerReleaseSource()], HP, timeout_s=1)


def test_build_sources_from_settings_leaves_hardcover_out_without_a_token(tmp_path):
    settings = load_settings(None, data_dir=tmp_path, metadata_cache_ttl_s=60)
    sources = build_sources(settings, cache=TTLCache())
    assert [s.name for s in sources] == ["audnexus", "openlibrary", "googlebooks", "itunes"]
    assert all(isinstance(s, CachedSource) and s.ttl_s == 60 for s in sources)
    close_all(sources)
    settings = load_settings(None, data_dir=tmp_path, hardcover_token=TOKEN,
                             audible_region="de")
    sources = build_sources(settings, cache=TTLCache(), ttl_s={"itunes": 5})
    assert [s.name for s in sources] == ["audnexus", "openlibrary", "googlebooks",
                                         "hardcover", "itunes"]
    assert sources[0].source.region == "de" and sources[-1].ttl_s == 5
    close_all(sources)
