"""Contract test: Audible's catalog as a bibliography source, over loopback HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mamcrawler.adapters.metadata import AudnexusSource, HttpOptions, MetadataBadResponse
from mamcrawler.adapters.metadata.catalog import AudibleCatalog
from mamcrawler.domain.records import SeriesRef

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "metadata"
FAST = HttpOptions(min_interval_s=0.0, max_attempts=1)


def load(source: str, name: str):
    return json.loads((FIXTURES / source / f"{name}.json").read_text("utf-8"))


@pytest.fixture
def catalog(httpserver):
    base = httpserver.url_for("").rstrip("/")
    audnexus = AudnexusSource(base, base, options=FAST)
    source = AudibleCatalog(base, audnexus=audnexus, options=FAST)
    yield source
    source.close()
    audnexus.close()


def test_series_books_with_details_and_bare_products_completed_from_audnexus(httpserver,
                                                                             catalog):
    httpserver.expect_request("/1.0/catalog/products", query_string={
        "num_results": "50", "response_groups": "contributors,product_attrs,series",
        "keywords": "The Ember Crown Cycle", "products_sort_by": "Relevance",
        "author": "Mara Quill"}).respond_with_json(load("audible", "catalog_series"))
    httpserver.expect_request("/books/B017V4IM1G").respond_with_json(
        load("audnexus", "book_B017V4IM1G"))
    books = catalog.series_books("The Ember Crown Cycle", "Mara Quill")
    ash, abridged, bare_title, potter = books  # details from Audnexus come last
    assert (ash.title, ash.authors, ash.series, ash.asin) == (
        "The Ash Throne", ("Mara Quill",), (SeriesRef("The Ember Crown Cycle", "2"),),
        "B08G9PRS1K")
    assert (ash.language, ash.abridged, ash.duration_s, ash.year) == (
        "english", False, 812 * 60, 2021)
    assert abridged.abridged is True and abridged.series[0].position == "2"
    assert bare_title.asin is None and bare_title.series == ()
    assert potter.source == "audnexus" and potter.series[0].name == "Harry Potter"


def test_author_books_newest_first_and_bad_answers(httpserver, catalog):
    httpserver.expect_request("/1.0/catalog/products", query_string={
        "num_results": "50", "response_groups": "contributors,product_attrs,series",
        "author": "Nobody", "products_sort_by": "-ReleaseDate"}).respond_with_json(
        {"products": [], "total_results": 0})
    assert catalog.author_books("Nobody") == []
    httpserver.clear()
    httpserver.expect_request("/1.0/catalog/products").respond_with_json({"oops": 1})
    with pytest.raises(MetadataBadResponse, match="AUDIBLE_CATALOG_URL"):
        catalog.author_books("Mara Quill")


def test_details_stop_at_the_first_429_from_audnexus(httpserver, catalog):
    bare = [{"asin": f"B0000000{n}"} for n in range(1, 5)]  # no title: details wanted
    httpserver.expect_request("/1.0/catalog/products").respond_with_json(
        {"products": bare, "total_results": 4})
    httpserver.expect_request("/books/B00000001").respond_with_json({}, status=429)
    httpserver.expect_request("/books/B00000002").respond_with_json({}, status=429)
    assert catalog.author_books("Mara Quill") == []
    asked = [r.path for r, _ in httpserver.log if r.path.startswith("/books/")]
    assert asked == ["/books/B00000001"]
