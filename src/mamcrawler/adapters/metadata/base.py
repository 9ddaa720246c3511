"""What every metadata source offers, and the tolerant readers their parsers share.

The readers never raise: a value of the wrong type reads as missing. Parsers decide
which missing values make a whole answer unusable (then they raise the family's
MetadataBadResponse) and which only make one item skippable.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from html.parser import HTMLParser
from typing import Any, Protocol, runtime_checkable

from mamcrawler.adapters.metadata.errors import MetadataBadResponse
from mamcrawler.domain.metadata import BookQuery, SourceRecord

_BLOCK_TAGS = frozenset({"p", "br", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5",
                         "h6", "blockquote", "tr"})
_SKIP_TAGS = frozenset({"script", "style"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_TAG = re.compile(r"<[^>]*>")


@runtime_checkable
class MetadataSource(Protocol):
    """A source of book metadata.

    `lookup` returns the source's candidates for a query (best first, possibly none) or
    raises a MetadataError subclass; it never returns None.
    """

    name: str

    def lookup(self, query: BookQuery) -> list[SourceRecord]: ...


@runtime_checkable
class MetadataSourceById(MetadataSource, Protocol):
    """A source that can also fetch one book by its own id; None when it has no such book."""

    def by_id(self, source_id: str) -> SourceRecord | None: ...


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def plain_text(value: object) -> str | None:
    """Text with HTML tags removed and entities decoded; paragraphs kept as blank-line
    separated blocks, runs of spaces collapsed. None when nothing is left."""
    raw = text(value)
    if raw is None:
        return None
    raw = _strip_tags(raw) if "<" in raw else html.unescape(raw)
    lines = [_SPACES.sub(" ", line).strip() for line in raw.split("\n")]
    joined = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    # One line break between paragraphs is the markup's; make paragraphs explicit.
    return re.sub(r"(?<!\n)\n(?!\n)", "\n\n", joined) or None


def _strip_tags(raw: str) -> str:
    extractor = _TextExtractor()
    try:
        extractor.feed(raw)
        extractor.close()
    except AssertionError:
        # html.parser asserts on some malformed declarations ("<![foo[…]]>"); a crude
        # tag strip is still better than losing the description.
        return html.unescape(_TAG.sub("\n", raw))
    return "".join(extractor.parts)


def text(value: object) -> str | None:
    """A stripped non-empty string, numbers as text; anything else is None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


def number(value: object) -> float | None:
    """A finite non-negative number from a number or numeric text, else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = float(value) if isinstance(value, int | float | str) else None
    except ValueError:
        return None
    if result is None or result != result or result in (float("inf"), float("-inf")):
        return None
    return result if result >= 0 else None


def mapping(value: object) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def items(value: object) -> list[Any]:
    """`value` if it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def texts(values: object) -> tuple[str, ...]:
    """The distinct non-empty strings of a list (or of a lone string), in order."""
    if isinstance(values, str):
        values = [values]
    return unique(t for t in (text(v) for v in items(values)) if t)


def names(values: object) -> tuple[str, ...]:
    """The distinct `name`s of a list of objects like ``[{"name": "Jim Dale"}]``; plain
    strings in the list count as names too."""
    found = []
    for value in items(values):
        name = text(mapping(value).get("name")) if isinstance(value, dict) else text(value)
        if name:
            found.append(name)
    return unique(found)


def unique(values: Iterable[str]) -> tuple[str, ...]:
    """Values without repeats (compared case-insensitively), first spelling kept."""
    seen: set[str] = set()
    kept = []
    for value in values:
        if value.casefold() not in seen:
            seen.add(value.casefold())
            kept.append(value)
    return tuple(kept)


def best_isbn(values: Iterable[str]) -> str | None:
    """The first ISBN-13 among `values`, else the first ISBN-10, else None."""
    cleaned = [re.sub(r"[\s-]", "", v).upper() for v in values if v]
    for length in (13, 10):
        for value in cleaned:
            if len(value) == length and value[:-1].isdigit():
                return value
    return None


def require_object(data: object, source: str, label: str, what: str) -> dict[str, Any]:
    """`data` as a JSON object, or MetadataBadResponse saying which answer was wrong."""
    if not isinstance(data, dict):
        raise MetadataBadResponse(
            source, f"{label} sent {what} that is not a JSON object "
            f"(got {type(data).__name__}); the API may have changed")
    return data
