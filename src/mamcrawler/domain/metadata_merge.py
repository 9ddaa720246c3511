"""Conflict resolution (R15): one value per book field from many sources. Pure.

For each field the sources are ranked (`DEFAULT_PRECEDENCE`, changed per field with
METADATA_PRECEDENCE); the highest-ranked source that has a value wins. Sources a field's
list does not name rank after the named ones, in name order, so the result never depends
on the order sources arrive in.

The value stored now keeps the rank of the source that set it while that source is not
heard from (the tracker's release facts, or speech-to-text, are not asked again on every
run): a lower-ranked source cannot displace it, and a value whose setter is unknown ranks
below every source. A source that is heard from speaks for itself: when the source that
set a value now says something else, that is drift and is corrected (R17).

A protected field (set or verified by a person) is never changed. A value equal to the
stored one after normalisation (case, accents, spacing, "J.K." vs "J. K.", "1" vs "1.0",
"en" vs "English") is not a change. Every change names its source and why it won.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mamcrawler.domain.matching import canonical_language
from mamcrawler.domain.metadata import SourceRecord, year_of
from mamcrawler.domain.narrator import SPEECH_SOURCE
from mamcrawler.domain.series_position import normalize_position
from mamcrawler.domain.text import fold, normalize_person

FIELDS = ("title", "subtitle", "authors", "narrators", "series", "series_position", "year",
          "publisher", "isbn", "asin", "language", "duration_seconds", "description",
          "abridged")
PEOPLE = frozenset({"authors", "narrators"})
# Column sizes of the books table: a source's value is cut to fit before it is compared,
# so a long value does not look changed again on every run.
LIMITS = {"title": 500, "subtitle": 500, "series": 300, "series_position": 20,
          "publisher": 300, "isbn": 20, "asin": 20, "language": 20}
NAME_LIMIT = 300
# Sources read from the book itself (library scan, folder name, sidecar files).
OWN_SOURCES = ("tags", "folder", "txt", "opf")
USER = "user"

_SOURCES = ("audnexus", "hardcover", "tracker", "googlebooks", "openlibrary", "itunes")
DEFAULT_PRECEDENCE: dict[str, tuple[str, ...]] = {
    "title": (*_SOURCES, "opf", "txt", "tags", "folder"),
    "subtitle": ("audnexus", "hardcover", "googlebooks", "openlibrary", "opf", "tags"),
    "authors": (*_SOURCES, "opf", "tags", "folder"),
    # The order (tags > tracker > Audnexus), after a credit heard in the audio and
    # the sidecar files a person wrote.
    "narrators": (SPEECH_SOURCE, "opf", "txt", "tags", "tracker", "audnexus", "hardcover",
                  "folder"),
    "series": ("audnexus", "hardcover", "tracker", "opf", "tags", "folder"),
    "series_position": ("audnexus", "hardcover", "tracker", "opf", "tags", "folder"),
    "year": ("audnexus", "hardcover", "googlebooks", "openlibrary", "itunes", "opf", "tags",
             "folder"),
    "publisher": ("audnexus", "googlebooks", "openlibrary", "hardcover", "opf", "tags"),
    "isbn": ("audnexus", "hardcover", "googlebooks", "openlibrary", "opf", "tags"),
    "asin": ("audnexus", "hardcover", "opf", "tags", "folder"),
    "language": ("audnexus", "tracker", "googlebooks", "openlibrary", "hardcover", "opf",
                 "tags"),
    # The files' own length is measured; catalog runtimes are for other editions too.
    "duration_seconds": ("tags", "audnexus", "hardcover"),
    "description": ("audnexus", "googlebooks", "openlibrary", "hardcover", "itunes", "opf",
                    "txt", "tags"),
    "abridged": ("audnexus", "tracker", "opf", "tags"),
}
_SOURCE_NAME = re.compile(r"^[a-z0-9_]{1,50}$")
_LABEL = r"(?:book|volume|vol\.?|no\.?|#)\s*\d+(?:\.\d+)?"
# "(Mistborn, Book 1)", "[Book 1]", "(Mistborn #1)" at the end of a title.
_BRACKET_LABEL = re.compile(rf"\s*[\(\[][^\(\)\[\]]*?{_LABEL}\s*[\)\]]\s*$", re.I)
# ", Book 1", ": Book 1", " - Book 1" at the end of a title.
_TRAILING_LABEL = re.compile(rf"\s*(?:[,:;]|\s[-–—])\s*{_LABEL}\s*$", re.I)
_EDITION = re.compile(r"\s*[\(\[]\s*(?:un)?abridged\s*[\)\]]\s*", re.I)


@dataclass(frozen=True)
class FieldChange:
    """One field's new value, where it came from, and why it won."""

    field: str
    old: Any
    new: Any
    source: str
    reason: str


@dataclass(frozen=True)
class MergeResult:
    """The changes to make; the source of every field that has one after them; notes on
    values that were kept against a source (protected fields)."""

    changes: tuple[FieldChange, ...]
    sources: dict[str, str]
    notes: tuple[str, ...] = ()

    def changed(self) -> dict[str, Any]:
        """field -> new value, for the changed fields."""
        return {c.field: c.new for c in self.changes}


def parse_precedence(text: str | None) -> dict[str, tuple[str, ...]]:
    """DEFAULT_PRECEDENCE with the fields `text` names replaced, from
    "narrators=tags,tracker,audnexus;series_position=audnexus,tracker,folder".
    Raises ValueError naming the unknown field or malformed part."""
    precedence = dict(DEFAULT_PRECEDENCE)
    for part in (p.strip() for p in (text or "").split(";")):
        if not part:
            continue
        name, sep, sources = part.partition("=")
        name = name.strip().lower()
        if not sep:
            raise ValueError(f"{part!r} is not field=source,source,...")
        if name not in FIELDS:
            raise ValueError(f"unknown field {name!r}; fields are {', '.join(FIELDS)}")
        order = tuple(dict.fromkeys(s.strip().lower() for s in sources.split(",") if s.strip()))
        bad = [s for s in order if not _SOURCE_NAME.match(s)]
        if not order or bad:
            raise ValueError(f"{name}: list source names (letters, digits, _) separated by "
                             f"commas, got {sources.strip()!r}")
        precedence[name] = order
    return precedence


def rank(precedence: Mapping[str, tuple[str, ...]], field_name: str,
         source: str | None) -> tuple[int, str]:
    """Sort key of `source` for a field: its place in the field's list, unnamed sources
    after the named ones by name, an unknown setter (None) last."""
    order = precedence.get(field_name, ())
    if source is None:
        return (len(order) + 2, "")
    if source in order:
        return (order.index(source), source)
    return (len(order) + 1, source)


def merge(book_fields_now: Mapping[str, Any], field_sources_now: Mapping[str, str],
          records_by_source: Mapping[str, SourceRecord | Mapping[str, Any]],
          precedence: Mapping[str, tuple[str, ...]] | None = None,
          protected: Iterable[str] = ()) -> MergeResult:
    """The per-field merge described in the module docstring.

    `book_fields_now` holds the stored values by FIELDS name (see `book_fields`),
    `field_sources_now` who set each, `records_by_source` one record (or a mapping of
    field values) per source. Promises: a protected field is never changed; the result
    does not depend on the order of `records_by_source`; merging again after applying
    the changes (values and sources) changes nothing.
    """
    precedence = DEFAULT_PRECEDENCE if precedence is None else precedence
    locked = set(protected)
    offered = {source: record_fields(values) if isinstance(values, SourceRecord)
               else clean_fields(values) for source, values in records_by_source.items()}
    changes: list[FieldChange] = []
    sources: dict[str, str] = {}
    notes: list[str] = []
    final = dict(book_fields_now)
    for name in FIELDS:
        now, held = book_fields_now.get(name), field_sources_now.get(name)
        if name in locked:
            notes += _disagreements(name, now, offered)
            winner = (held, now)
        else:
            winner = _winner(name, now, held, _offers(name, offered, final), precedence)
        source, value = winner if winner is not None else (held, now)
        if source is not None:
            sources[name] = source
        final[name] = value
        if name not in locked and winner is not None and not same_value(name, value, now):
            reason = _reason(name, source, held, now, offered, precedence)
            changes.append(FieldChange(name, now, value, source, reason))
    return MergeResult(tuple(changes), sources, tuple(notes))


def _offers(name: str, offered: Mapping[str, Mapping[str, Any]],
            final: Mapping[str, Any]) -> dict[str, Any]:
    """Each source's value for `name`. A series position counts only from a source that
    names no series or the series the book ends up in: positions of different series
    must not mix."""
    found = {source: values[name] for source, values in offered.items() if name in values}
    if name == "series_position":
        series = final.get("series")
        if not _present(series):
            return {}
        found = {source: value for source, value in found.items()
                 if not _present(offered[source].get("series"))
                 or same_value("series", offered[source]["series"], series)}
    return found


def _winner(name: str, now: Any, held: str | None, offers: Mapping[str, Any],
            precedence: Mapping[str, tuple[str, ...]]) -> tuple[str | None, Any] | None:
    """(source, value) of the best-ranked offer, the stored value competing with its
    setter's rank while that setter is silent; None when nobody has a value."""
    candidates = [(rank(precedence, name, source), source, value)
                  for source, value in offers.items()]
    if held not in offers and _present(now):
        candidates.append((rank(precedence, name, held), held, now))
    if not candidates:
        return None
    best = min(candidates, key=lambda c: c[0])
    return best[1], best[2]


def _reason(name: str, source: str | None, held: str | None, now: Any,
            offered: Mapping[str, Mapping[str, Any]],
            precedence: Mapping[str, tuple[str, ...]]) -> str:
    order = " > ".join(precedence.get(name, ())) or "no order set"
    others = sorted(s for s, values in offered.items() if s != source and name in values)
    if not _present(now):
        why = f"{name} was empty; {source} has a value"
    elif held == source:
        why = f"{source} set the old value and now says otherwise"
    else:
        why = f"{source} outranks {held or 'an unknown setter'}"
    if others:
        why += f" (also offered by {', '.join(others)})"
    return f"{why}; precedence for {name}: {order}"


def _disagreements(name: str, now: Any, offered: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return [f"{name} is protected: kept {show(now)!s} although {source} says {show(v)!s}"
            for source, values in sorted(offered.items())
            if _present(v := values.get(name)) and not same_value(name, v, now)]


def record_fields(record: SourceRecord) -> dict[str, Any]:
    """A source record's facts under FIELDS names, cleaned (see `clean_fields`). Titles
    lose a trailing series label ("…, Book 1", "(Mistborn #1)") and edition words."""
    first = record.series[0] if record.series else None
    names = tuple(s.name for s in record.series)
    raw = {"title": clean_title(record.title, names), "subtitle": record.subtitle,
           "authors": record.authors, "narrators": record.narrators,
           "series": first.name if first else None,
           "series_position": first.position if first else None,
           "year": record.year, "publisher": record.publisher, "isbn": record.isbn,
           "asin": record.asin, "language": record.language,
           "duration_seconds": record.duration_s, "description": record.description,
           "abridged": record.abridged}
    return clean_fields(raw)


def book_fields(view: Mapping[str, Any]) -> dict[str, Any]:
    """A book (as `services.library.book_view` renders it) under FIELDS names; the first
    series is the one that counts."""
    series = (view.get("series") or [{}])[0]
    raw = {name: view.get(name) for name in FIELDS if name in view}
    raw["series"] = series.get("name")
    raw["series_position"] = series.get("position")
    return clean_fields(raw)


def clean_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Only FIELDS names, each value cleaned by `clean_value`; empty values dropped."""
    cleaned = {}
    for name, value in raw.items():
        if name in FIELDS:
            value = clean_value(name, value)
            if _present(value):
                cleaned[name] = value
    return cleaned


def clean_value(name: str, value: Any) -> Any:
    """A value in the shape the field stores, or None: text stripped and cut to its
    column, people as a tuple of distinct names, year 1000-2999, duration > 0, position
    canonical ("01" -> "1"), ISBN/ASIN upper case without spaces or hyphens."""
    if value is None:
        return None
    if name in PEOPLE:
        names = [value] if isinstance(value, str) else value
        kept = {}
        for person in names if isinstance(names, list | tuple) else ():
            if isinstance(person, str) and person.strip():
                kept.setdefault(normalize_person(person), " ".join(person.split())[:NAME_LIMIT])
        return tuple(kept.values()) or None
    if name == "year":
        return year_of(value)
    if name == "duration_seconds":
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
        return float(value) if ok and value < 1e8 else None
    if name == "abridged":
        return value if isinstance(value, bool) else None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    if name == "series_position":
        return normalize_position(value) or (str(value).strip()[:20] or None)
    text = str(value).strip()
    if name in ("isbn", "asin"):
        text = re.sub(r"[\s-]", "", text).upper()
    return text[:LIMITS[name]].strip() or None if name in LIMITS else text or None


def clean_title(title: str | None, series: tuple[str, ...] = ()) -> str | None:
    """`title` without edition words and a trailing series label: "The Final Empire,
    Book 1", "The Final Empire (Mistborn, Book 1)" and, when the record names the series
    Mistborn, "The Final Empire: Mistborn" all give "The Final Empire". Unchanged when
    nothing would be left."""
    if not title:
        return title
    stripped = _EDITION.sub(" ", title).strip()
    for pattern in (_BRACKET_LABEL, _TRAILING_LABEL):
        stripped = pattern.sub("", stripped).strip()
    for name in series:
        if name.strip():
            tail = re.compile(rf"\s*(?:[,:;]|\s[-–—])\s*{re.escape(name.strip())}\s*$", re.I)
            stripped = tail.sub("", stripped).strip()
    return stripped or title


def same_value(name: str, a: Any, b: Any) -> bool:
    """True when `a` and `b` say the same for field `name` after normalisation."""
    a, b = clean_value(name, a), clean_value(name, b)
    if not _present(a) or not _present(b):
        return not _present(a) and not _present(b)
    if name in PEOPLE:
        return sorted(map(normalize_person, a)) == sorted(map(normalize_person, b))
    if name == "language":
        return canonical_language(a) == canonical_language(b)
    if name == "duration_seconds":
        return abs(a - b) < 1.0
    if name in ("year", "abridged", "series_position", "isbn", "asin"):
        return a == b
    if name == "description":
        return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()
    return fold(a) == fold(b)


def show(value: Any) -> str | None:
    """A value as text for a correction record: people joined by ", "."""
    if value is None or value == "" or value == ():
        return None
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != () and value != []
