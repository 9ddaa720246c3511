"""Audiobookshelf's library item JSON, in the shapes the server really sends.

`GET /api/libraries/{id}/items` always answers the *minified* shape: the people and series
are one string each in ``media.metadata`` (``authorName``, ``narratorName``, and
``seriesName``, which ABS builds as ``", ".join("name #sequence")``, just ``name`` when the
book has no sequence). `GET /api/items/{id}?expanded=1` answers the *expanded* shape, with
``authors [{id, name}]``, ``narrators [names]`` and ``series [{id, name, sequence}]`` (and
the strings as well). Sequences are text ("2", "1.5", "0") and stay text here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mamcrawler.domain.series_position import normalize_position

Series = tuple[tuple[str, str | None], ...]
# "Name #2" -> ("Name", "2"); the sequence is one word, so "Book #1 Club" stays a name.
_NAME_AND_SEQUENCE = re.compile(r"^(?P<name>.*?\S)\s+#(?P<sequence>\S+)$")


@dataclass(frozen=True)
class AbsItem:
    """One library item; `series` holds (name, sequence) pairs; `raw` the JSON as sent."""

    id: str
    path: str
    title: str
    authors: tuple[str, ...]
    narrators: tuple[str, ...]
    series: Series
    duration_s: float | None
    asin: str | None
    isbn: str | None
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)


def parse_item(raw: Mapping[str, Any]) -> AbsItem:
    """An AbsItem from the expanded or the minified item JSON: the lists when the item
    has them (expanded), else the joined strings (minified)."""
    media = raw.get("media") if isinstance(raw.get("media"), dict) else {}
    meta = media.get("metadata") if isinstance(media.get("metadata"), dict) else {}
    authors = _names(meta.get("authors")) or split_names(meta.get("authorName"))
    narrators = _names(meta.get("narrators")) or split_names(meta.get("narratorName"))
    if isinstance(meta.get("series"), list):
        series = tuple((str(s.get("name")), sequence_text(s.get("sequence")))
                       for s in meta["series"] if isinstance(s, dict) and s.get("name"))
    else:
        series = parse_series_name(meta.get("seriesName"))
    duration = media.get("duration")
    return AbsItem(id=str(raw.get("id") or ""), path=str(raw.get("path") or ""),
                   title=str(meta.get("title") or ""), authors=authors, narrators=narrators,
                   series=series,
                   duration_s=float(duration) if isinstance(duration, int | float) else None,
                   asin=_text(meta.get("asin")), isbn=_text(meta.get("isbn")),
                   raw=raw)


def parse_series_name(value: object) -> Series:
    """The (name, sequence) pairs of a minified item's ``seriesName``.

    "The Expanse #2" -> (("The Expanse", "2"),); "A #1, B #3" -> two series; a name without
    " #…" has no sequence. ABS joins with ", " and does not escape, so a series whose own
    name holds ", " is read as two: the expanded item is the one to trust for those.
    """
    if not isinstance(value, str):
        return ()
    pairs = []
    for piece in value.split(", "):
        piece = piece.strip()
        if not piece:
            continue
        match = _NAME_AND_SEQUENCE.match(piece)
        pairs.append((match["name"], match["sequence"]) if match else (piece, None))
    return tuple(pairs)


def sequence_text(value: object) -> str | None:
    """A series sequence as the text ABS stores: a position reads as
    `domain.series_position` reads it ("2", "1.5", "1-3"; ABS stores a number sent in a
    PATCH as null), other text (a person's "Prequel") is kept, empty becomes None."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    position = normalize_position(value)
    if position is not None or not isinstance(value, str):
        return position
    return value.strip() or None


def split_names(value: object) -> tuple[str, ...]:
    """The names in a minified item's ``authorName`` / ``narratorName`` (", "-joined)."""
    return tuple(p.strip() for p in str(value).split(",") if p.strip()) if value else ()


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _names(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    names = (v.get("name") if isinstance(v, dict) else v for v in value)
    return tuple(str(n) for n in names if n)
