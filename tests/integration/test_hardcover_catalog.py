"""Contract test: Hardcover as a bibliography source (series and author lists), over
loopback HTTP with recorded-shape answers."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from werkzeug import Request, Response

from mamcrawler.adapters.metadata import HttpOptions, MetadataAuthError
from mamcrawler.adapters.metadata.hardcover import HardcoverSource
from mamcrawler.adapters.metadata.hardcover_catalog import HardcoverCatalog
from mamcrawler.domain.records import SeriesRef

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "metadata" / "hardcover"
FAST = HttpOptions(min_interval_s=0.0, max_attempts=1)


@pytest.fixture
def hardcover(httpserver):
    asked: list[dict] = []

    def answer(request: Request) -> Response:
        asked.append({"query": request.get_json()["query"],
                      "auth": request.headers.get("Authorization")})
        name = "series_books" if "book_series(where" in asked[-1]["query"] else "author_books"
        return Response((FIXTURES / f"{name}.json").read_text("utf-8"),
                        content_type="application/json")

    httpserver.expect_request("/v1/graphql", method="POST").respond_with_handler(answer)
    catalog = HardcoverCatalog(HardcoverSource("Bearer tok", httpserver.url_for("/v1/graphql"),
                                               options=FAST))
    catalog.asked = asked
    yield catalog
    catalog.close()


def test_series_books_with_positions_compilations_and_missing_audio(hardcover):
    books = hardcover.series_books("Mistborn")
    assert [b.record.title for b in books] == ["The Final Empire", "Mistborn: Secret History",
                                               "The Mistborn Trilogy"]
    final, novella, boxed = books
    assert final.record.series == (SeriesRef("Mistborn", "1"),)
    assert (final.record.asin, final.record.duration_s, final.record.language) == (
        "B002UZMLXM", 88920.0, "english")
    assert final.record.release_date == date(2009, 3, 24) and final.audio
    assert novella.record.series[0].position == "1.5" and not novella.audio
    assert novella.record.release_date == date(2016, 1, 26)
    assert boxed.compilation and boxed.record.series == (SeriesRef("Mistborn", None),)
    [asked] = hardcover.asked
    assert 'name: {_eq: "Mistborn"}' in asked["query"] and asked["auth"] == "Bearer tok"


def test_author_books_carry_their_series_and_the_authors_only(hardcover):
    wind, final = hardcover.author_books("Brandon Sanderson")
    assert wind.record.authors == ("Brandon Sanderson",)
    assert wind.record.series == (SeriesRef("The Stormlight Archive", "5"),)
    assert final.record.series[0] == SeriesRef("Mistborn", "1") and not final.audio
    assert 'author: {name: {_eq: "Brandon Sanderson"}}' in hardcover.asked[0]["query"]


def test_a_refused_token_names_the_setting(httpserver):
    httpserver.expect_request("/v1/graphql", method="POST").respond_with_json(
        json.loads((FIXTURES / "error_invalid_jwt.json").read_text("utf-8")))
    catalog = HardcoverCatalog(HardcoverSource("tok", httpserver.url_for("/v1/graphql"),
                                               options=FAST))
    with pytest.raises(MetadataAuthError, match="HARDCOVER_TOKEN"):
        catalog.series_books("Mistborn")
    catalog.close()
