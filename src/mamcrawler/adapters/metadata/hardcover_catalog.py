"""Hardcover as a bibliography source: the books of a series or an author (R18).

One GraphQL request per series (``book_series`` rows of the series with their position)
or author (``books`` with a contribution by them), at most 100 books, with the fields a
bibliography needs: title, authors, series positions, release date, whether the book is a
compilation (an omnibus) and its default audiobook edition (ASIN, runtime, its own release
date). A book without an audiobook edition is kept and marked so: a follow that wants
audiobook editions only leaves it out. Nested at most four levels, like the book lookup.
Names are matched exactly (the API offers no case-insensitive comparison).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mamcrawler.adapters.metadata.base import items, mapping, number, text
from mamcrawler.adapters.metadata.hardcover import SOURCE, HardcoverSource, people
from mamcrawler.domain.metadata import SourceRecord, date_of, year_of
from mamcrawler.domain.records import SeriesRef
from mamcrawler.domain.series_position import normalize_position

LIMIT = 100
BOOK_FIELDS = ("id title subtitle release_date compilation contributions{contribution "
               "author{name}} default_audio_edition{asin release_date audio_seconds "
               "language{language}}")


@dataclass(frozen=True)
class HardcoverBook:
    """A book as Hardcover lists it for a bibliography."""

    record: SourceRecord
    audio: bool  # Hardcover knows an audiobook edition
    compilation: bool  # an omnibus or collection


class HardcoverCatalog:
    """Series and author bibliographies from Hardcover (needs HARDCOVER_TOKEN)."""

    name = SOURCE

    def __init__(self, source: HardcoverSource) -> None:
        self._source = source

    def close(self) -> None:
        self._source.close()

    def series_books(self, series: str) -> list[HardcoverBook]:
        graphql = (f"query {{ book_series(where: {{series: {{name: {{_eq: "
                   f"{json.dumps(series)}}}}}}}, order_by: {{position: asc_nulls_last}}, "
                   f"limit: {LIMIT}) {{ position book {{ {BOOK_FIELDS} }} }} }}")
        data = self._source.query(graphql, f"list the books of series {series!r}")
        found = []
        for row in map(mapping, items(data.get("book_series"))):
            ref = SeriesRef(series, normalize_position(row.get("position")))
            book = parse_listed(row.get("book"), (ref,))
            if book is not None:
                found.append(book)
        return found

    def author_books(self, author: str) -> list[HardcoverBook]:
        graphql = (f"query {{ books(where: {{contributions: {{author: {{name: {{_eq: "
                   f"{json.dumps(author)}}}}}}}}}, order_by: {{release_date: desc_nulls_last}}, "
                   f"limit: {LIMIT}) {{ {BOOK_FIELDS} book_series{{position series{{name}}}} "
                   "} }")
        data = self._source.query(graphql, f"list the books of {author!r}")
        found = []
        for row in map(mapping, items(data.get("books"))):
            series = tuple(SeriesRef(name, normalize_position(mapping(entry).get("position")))
                           for entry in items(row.get("book_series"))
                           if (name := text(mapping(mapping(entry).get("series")).get("name"))))
            book = parse_listed(row, series)
            if book is not None:
                found.append(book)
        return found


def parse_listed(raw: object, series: tuple[SeriesRef, ...]) -> HardcoverBook | None:
    """A bibliography entry from one book object; None without a title."""
    book: dict[str, Any] = mapping(raw)
    title = text(book.get("title"))
    if title is None:
        return None
    audio = mapping(book.get("default_audio_edition"))
    released = date_of(audio.get("release_date")) or date_of(book.get("release_date"))
    language = text(mapping(audio.get("language")).get("language"))
    record = SourceRecord(
        source=SOURCE, source_id=text(book.get("id")), title=title,
        subtitle=text(book.get("subtitle")), authors=people(book.get("contributions"))[
            "authors"], series=series,
        duration_s=number(audio.get("audio_seconds")) or None, asin=text(audio.get("asin")),
        language=language.lower() if language else None,
        year=year_of(book.get("release_date")), release_date=released)
    return HardcoverBook(record, audio=bool(audio), compilation=book.get("compilation") is True)
