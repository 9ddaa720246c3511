"""Parsing of metadata-source answers: documented odd cases, and junk that must never
crash a parser (it yields records, or the family's MetadataBadResponse)."""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamcrawler.adapters.metadata import audnexus, googlebooks, hardcover, itunes, openlibrary
from mamcrawler.adapters.metadata.base import best_isbn, names, number, plain_text
from mamcrawler.adapters.metadata.cache import TTLCache
from mamcrawler.adapters.metadata.errors import (
    MetadataAuthError,
    MetadataBadResponse,
    MetadataRateLimited,
)
from mamcrawler.adapters.metadata.http import json_error_detail
from mamcrawler.adapters.metadata.tracker import TrackerReleaseSource, release_record
from mamcrawler.domain.metadata import BookQuery, SourceRecord, year_of
from mamcrawler.domain.records import Release, SeriesRef

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "metadata"


def load(source: str, name: str) -> Any:
    return json.loads((FIXTURES / source / f"{name}.json").read_text("utf-8"))


@pytest.mark.parametrize(("raw", "expected"), [
    ("2015-11-20T00:00:00.000Z", 2015), ("2015-12", 2015), ("1998", 1998), (1997, 1997),
    ("Nov 20, 2015", 2015), ("June 26, 1997", 1997), ("not a date", None), ("12345", None),
    (None, None), (True, None), (99, None), ("c. 850", None),
])
def test_year_of_reads_dates_and_free_text(raw, expected):
    assert year_of(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("<p>One &amp; two.</p><p>Three</p>", "One & two.\n\nThree"),
    ("Line<br/>break", "Line\n\nbreak"),
    ("<b>bold</b> and <i>italic</i>", "bold and italic"),
    ("<script>alert(1)</script>Safe", "Safe"),
    ("plain &quot;quoted&quot;", 'plain "quoted"'),
    ("a < b and c > d", "a < b and c > d"),
    ("  spaced\t\tout  ", "spaced out"),
    ("<p></p>", None), ("", None), (None, None), (42, "42"), ({"x": 1}, None),
    ("<![foo[bar]]>kept", "kept"),
])
def test_plain_text_strips_markup(raw, expected):
    assert plain_text(raw) == expected


def test_book_query_normalises_and_is_a_usable_cache_key():
    query = BookQuery(title="  Dune ", authors=["Frank Herbert", " ", ""], isbn="978-0-441-17271-9")
    assert query.title == "Dune" and query.authors == ("Frank Herbert",)
    assert query.isbn == "9780441172719" and query.author == "Frank Herbert"
    assert hash(query) == hash(BookQuery(title="Dune", authors=("Frank Herbert",),
                                         isbn="9780441172719"))
    with pytest.raises(ValueError, match="title, an ASIN or an ISBN"):
        BookQuery(authors=("Someone",))


def test_known_fields_are_the_stated_facts_only():
    record = SourceRecord(source="x", source_id="1", url="u", title="T", authors=("A",),
                          abridged=False, year=None, genres=())
    assert record.known_fields() == {"title": "T", "authors": ("A",), "abridged": False}


def test_audnexus_minimal_book_reads_as_missing_not_as_guesses():
    record = audnexus.parse_book(load("audnexus", "book_minimal"))
    assert record.title == "Untold" and record.subtitle is None
    assert record.authors == () and record.narrators == ()
    assert record.series == (SeriesRef("Some Saga", None),)
    assert record.year is None and record.language == "german" and record.abridged is None
    assert record.duration_s is None and record.description is None and record.genres == ()


def test_audnexus_catalog_answers():
    assert audnexus.parse_catalog(load("audnexus", "catalog_products")) == [
        "B017V4IM1G", "B0MULTI001"]
    assert audnexus.parse_catalog(load("audnexus", "catalog_empty")) == []
    assert audnexus.parse_catalog({"total_results": 0}) == []
    with pytest.raises(MetadataBadResponse, match="AUDIBLE_CATALOG_URL"):
        audnexus.parse_catalog({"message": "Forbidden"})


def test_audnexus_book_without_title_is_a_bad_response():
    with pytest.raises(MetadataBadResponse, match="without a title"):
        audnexus.parse_book({"asin": "B0X"})


def test_openlibrary_descriptions_covers_and_isbns():
    work = openlibrary.parse_work(load("openlibrary", "work_OL82563W"))
    assert work.description.endswith("Then the owls arrive.") and work.year == 1997
    assert openlibrary.parse_work({"title": "T", "description": {"type": "/type/text"}}
                                  ).description is None
    docs = openlibrary.parse_search(load("openlibrary", "search"))
    assert [d.title for d in docs] == ["Harry Potter and the Philosopher's Stone",
                                       "Good Omens", "Sparse Work"]
    assert docs[0].isbn is None, "no ISBN was asked for, so none is picked"
    assert docs[1].cover_url is None
    assert openlibrary.parse_search({"numFound": 0}) == []
    with pytest.raises(MetadataBadResponse):
        openlibrary.parse_search({"docs": "nope"})


def test_googlebooks_shapes():
    assert googlebooks.parse_volumes(load("googlebooks", "volumes_empty")) == []
    assert [v.source_id for v in googlebooks.parse_volumes(load("googlebooks", "volumes"))] == [
        "wrOQLV6xB-wC", "isbn10only"]
    with pytest.raises(MetadataBadResponse):
        googlebooks.parse_volumes({"items": {"not": "a list"}})
    with pytest.raises(MetadataBadResponse, match="GOOGLE_BOOKS_URL"):
        googlebooks.parse_volumes({"unrelated": True})
    query = BookQuery(title="Dune", authors=("Frank Herbert",))
    assert googlebooks.search_terms(query) == "intitle:Dune inauthor:Frank Herbert"
    assert googlebooks.search_terms(BookQuery(asin="B0X")) == ""


def test_hardcover_results_as_object_or_string_and_their_failures():
    as_object = hardcover.parse_search(load("hardcover", "search")["data"])
    as_string = hardcover.parse_search(load("hardcover", "search_string_results")["data"])
    assert as_object == as_string and [r.source_id for r in as_object] == ["328491", "17"]
    assert hardcover.parse_search({"search": {"results": None}}) == []
    with pytest.raises(MetadataBadResponse, match="neither JSON"):
        hardcover.parse_search({"search": {"results": "{not json"}})
    with pytest.raises(MetadataBadResponse):
        hardcover.parse_search({"search": {"results": "[1, 2]"}})


def test_hardcover_graphql_errors_map_to_the_family():
    with pytest.raises(MetadataAuthError, match="HARDCOVER_TOKEN"):
        hardcover.graphql_data(load("hardcover", "error_invalid_jwt"), "search")
    with pytest.raises(MetadataRateLimited):
        hardcover.graphql_data({"errors": [{"message": "Throttled: too many requests"}]}, "x")
    with pytest.raises(MetadataBadResponse, match="validation-failed"):
        hardcover.graphql_data(load("hardcover", "error_validation"), "search")
    with pytest.raises(MetadataBadResponse, match="without data"):
        hardcover.graphql_data({"data": None}, "search")


def test_hardcover_book_people_and_combination():
    book = load("hardcover", "books")["data"]["b0"]
    record = hardcover.parse_book(book, "328491")
    assert record.authors == ("J.K. Rowling",) and record.narrators == ("Jim Dale",)
    assert hardcover.parse_book(None, "1") is None
    only_audio = {"title": "T", "default_audio_edition": {"contributions": [
        {"contribution": "Author", "author": {"name": "A"}},
        {"contribution": "Narrator", "author": {"name": "N"}}]}}
    assert hardcover.parse_book(only_audio, "2").authors == ("A",)
    hit = SourceRecord(source="hardcover", title="T", isbn="111", year=2000)
    detail = SourceRecord(source="hardcover", title="T", year=2001, narrators=("N",))
    assert hardcover.combine(hit, detail) == SourceRecord(
        source="hardcover", title="T", isbn="111", year=2001, narrators=("N",))


@pytest.mark.parametrize(("artist", "expected"), [
    ("J.K. Rowling", ("J.K. Rowling",)),
    ("Terry Pratchett & Neil Gaiman", ("Terry Pratchett", "Neil Gaiman")),
    ("A. Author, B. Writer and C. Scribe", ("A. Author", "B. Writer", "C. Scribe")),
    ("Rowling, J.K.", ("Rowling, J.K.",)),
    ("Simon & Schuster", ("Simon & Schuster",)),
    (None, ()),
])
def test_itunes_artist_names_split_only_into_full_names(artist, expected):
    assert itunes.split_artists(artist) == expected


def test_itunes_edition_words_leave_the_title():
    record = itunes.parse_result({"collectionName": "Dune [Unabridged]", "collectionId": 5})
    assert record.title == "Dune" and record.abridged is False and record.source_id == "5"
    assert itunes.parse_result({"collectionName": "(Unabridged)"}).title == "(Unabridged)"
    assert itunes.parse_results({"resultCount": 0}) == []


def test_tracker_release_becomes_a_source_record():
    release = Release(id="123", title="The Way of Kings (Unabridged)",
                      authors=("Brandon Sanderson",),
                      narrators=("Michael Kramer", "Kate Reading"),
                      series=(SeriesRef("The Stormlight Archive", "01"), SeriesRef("", "2")),
                      language="ENG", category_name="Audiobooks - Fantasy",
                      download_url="https://indexer.example/dl?apikey=SECRET")
    record = release_record(release)
    assert record == SourceRecord(
        source="tracker", source_id="123", title="The Way of Kings",
        authors=("Brandon Sanderson",), narrators=("Michael Kramer", "Kate Reading"),
        series=(SeriesRef("The Stormlight Archive", "1"),), language="ENG",
        genres=("Audiobooks - Fantasy",), abridged=False)
    source = TrackerReleaseSource([release, Release(id="9", title="Abridged edition")])
    assert [r.abridged for r in source.lookup(BookQuery(title="x"))] == [False, True]
    assert source.by_id("9").title == "Abridged edition" and source.by_id("nope") is None


@pytest.mark.parametrize(("body", "expected"), [
    (load("audnexus", "error_not_found"), ("NOT_FOUND", "Item not available in region 'us' "
                                                        "for ASIN: B0NOTHERE1")),
    (load("audnexus", "error_not_found_legacy"), ("NOT_FOUND", "Book B0NOTHERE1 not found")),
    (load("googlebooks", "error_rate_limited"), ("RESOURCE_EXHAUSTED", "Quota exceeded for "
     "quota metric 'Queries' and limit 'Queries per day' of service 'books.googleapis.com'.")),
    ({"error": {"code": 429, "message": "m", "errors": [{"reason": "rateLimitExceeded"}]}},
     ("rateLimitExceeded", "m")),
    (load("googlebooks", "error_bad_key"), ("INVALID_ARGUMENT",
                                            "API key not valid. Please pass a valid API key.")),
    (load("hardcover", "error_invalid_jwt"), ("invalid-jwt", "Could not verify JWT: "
                                                              "JWSError JWSInvalidSignature")),
    (load("itunes", "error"), ("", "Invalid value(s) for key(s): [mediaType]")),
    (load("openlibrary", "error_not_found"), ("NOTFOUND", "notfound")),
    ([1, 2], ("", "")), ("text", ("", "")), ({}, ("", "")),
])
def test_error_bodies_in_every_documented_format(body, expected):
    assert json_error_detail(body) == expected


def test_small_readers():
    assert number("12.5") == 12.5 and number("-1") is None and number("nan") is None
    assert number(float("inf")) is None and number(True) is None and number([1]) is None
    assert names([{"name": "A"}, "B", {"name": None}, 3, {"name": "a"}]) == ("A", "B", "3")
    assert best_isbn(["123", "0-439-06487-2", "978-1-78110-263-3"]) == "9781781102633"
    assert best_isbn(["043906487X"]) == "043906487X" and best_isbn([]) is None


def test_ttl_cache_expires_and_stays_within_its_size():
    now = [0.0]
    cache = TTLCache(max_entries=2, clock=lambda: now[0])
    cache.put("a", 1, ttl_s=10)
    cache.put("b", 2, ttl_s=10)
    assert cache.get("a") == 1  # "a" is now the most recently used
    cache.put("c", 3, ttl_s=10)
    assert cache.get("b") is None and cache.get("a") == 1 and len(cache) == 2
    now[0] = 10.0
    assert cache.get("a") is None and cache.get("c", "gone") == "gone"
    cache.put("d", 4, ttl_s=0)
    assert cache.get("d") is None
    with pytest.raises(ValueError):
        TTLCache(max_entries=0)


def test_ttl_cache_is_thread_safe():
    cache = TTLCache(max_entries=50)
    errors: list[BaseException] = []

    def hammer(offset: int) -> None:
        try:
            for i in range(2000):
                cache.put((offset, i % 80), i, ttl_s=60)
                cache.get((offset, (i * 7) % 80))
        except BaseException as exc:  # collected for the assertion in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors and len(cache) == 50


KEYS = st.sampled_from([
    "asin", "title", "subtitle", "authors", "narrators", "name", "position", "seriesPrimary",
    "seriesSecondary", "runtimeLengthMin", "releaseDate", "language", "formatType", "genres",
    "type", "summary", "description", "image", "isbn", "products", "total_results", "docs",
    "numFound", "key", "author_name", "cover_i", "covers", "first_publish_year", "publishers",
    "publish_date", "isbn_13", "isbn_10", "series", "languages", "value", "items",
    "totalItems", "volumeInfo", "industryIdentifiers", "identifier", "imageLinks",
    "thumbnail", "categories", "publishedDate", "search", "results", "hits", "document",
    "featured_series", "series_names", "isbns", "audio_seconds", "release_year", "id",
    "book_series", "contributions", "contribution", "author", "default_audio_edition",
    "data", "errors", "message", "extensions", "code", "error", "resultCount",
    "collectionName", "collectionId", "artistName", "releaseDate", "primaryGenreName",
    "artworkUrl100", "subjects", "first_publish_date", "author_names", "release_date",
])
LEAVES = (st.none() | st.booleans() | st.integers(-10**20, 10**20)
          | st.floats(allow_nan=True, allow_infinity=True)
          | st.text(max_size=30) | st.sampled_from(["<p>x</p>", "<![a[b]]>", "1.5", "{}",
                                                    '{"hits": [1]}', "2015-01-01"]))
JUNK = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(KEYS | st.text(max_size=8), inner, max_size=6),
                    max_leaves=40)
PARSERS = {
    "audnexus.parse_catalog": audnexus.parse_catalog,
    "audnexus.parse_book": audnexus.parse_book,
    "openlibrary.parse_search": openlibrary.parse_search,
    "openlibrary.parse_work": openlibrary.parse_work,
    "openlibrary.parse_edition": openlibrary.parse_edition,
    "googlebooks.parse_volumes": googlebooks.parse_volumes,
    "googlebooks.parse_volume": googlebooks.parse_volume,
    "hardcover.parse_search": hardcover.parse_search,
    "hardcover.parse_book": lambda data: hardcover.parse_book(data, "1"),
    "hardcover.graphql_data": lambda data: hardcover.graphql_data(data, "test"),
    "itunes.parse_results": itunes.parse_results,
    "itunes.parse_result": itunes.parse_result,
}
SHAPES = {  # a documented answer each parser is fed with parts replaced by junk
    "audnexus.parse_catalog": load("audnexus", "catalog_products"),
    "audnexus.parse_book": load("audnexus", "book_B017V4IM1G"),
    "openlibrary.parse_search": load("openlibrary", "search"),
    "openlibrary.parse_work": load("openlibrary", "work_OL82563W"),
    "openlibrary.parse_edition": load("openlibrary", "edition"),
    "googlebooks.parse_volumes": load("googlebooks", "volumes"),
    "googlebooks.parse_volume": load("googlebooks", "volumes")["items"][0],
    "hardcover.parse_search": load("hardcover", "search")["data"],
    "hardcover.parse_book": load("hardcover", "books")["data"]["b0"],
    "hardcover.graphql_data": load("hardcover", "books"),
    "itunes.parse_results": load("itunes", "search"),
    "itunes.parse_result": load("itunes", "search")["results"][0],
}


def _check(parser_name: str, data: object) -> None:
    try:
        result = PARSERS[parser_name](data)
    except MetadataBadResponse as exc:
        assert exc.source and str(exc)
        return
    except (MetadataAuthError, MetadataRateLimited):
        assert parser_name == "hardcover.graphql_data"  # GraphQL errors carry these
        return
    outcome = result if isinstance(result, list) else [result]
    for item in outcome:
        if isinstance(item, SourceRecord):
            assert isinstance(item.title, str) and item.title
            assert all(isinstance(a, str) for a in item.authors + item.narrators + item.genres)
            assert item.year is None or 1000 <= item.year <= 2999
            assert item.duration_s is None or item.duration_s >= 0
        else:
            assert item is None or isinstance(item, str | dict)


def _mutate(data: st.DataObject, value: object) -> object:
    """`value` with random parts replaced by junk, dropped, or kept."""
    choice = data.draw(st.integers(0, 7))
    if choice == 0:
        return data.draw(JUNK)
    if isinstance(value, dict):
        return {k: _mutate(data, v) for k, v in value.items() if data.draw(st.integers(0, 5))}
    if isinstance(value, list):
        return [_mutate(data, v) for v in value]
    return value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(PARSERS)), junk=JUNK)
def test_parsers_never_raise_on_junk(name, junk):
    _check(name, junk)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(PARSERS)), data=st.data())
def test_parsers_never_raise_on_documented_shapes_with_junk_inside(name, data):
    _check(name, _mutate(data, copy.deepcopy(SHAPES[name])))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("<>!/[]&#;abp- x\"'=?"), max_size=40))
def test_plain_text_never_raises_and_leaves_no_tags_it_understood(raw):
    result = plain_text(raw)
    assert result is None or "<p>" not in result
