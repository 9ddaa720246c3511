"""A book's position in its series, read one way everywhere. Pure.

Sources, tags, folder names, the tracker and people write a position many ways: 2, 2.0,
"02", "2.50", "2,5", "Book 2", "#2", "1-3", "Books 1 – 3". `normalize_position` turns
all of them into one canonical text, and `position_span` / `position_rank` /
`is_range` give the numbers behind it, so every caller agrees on what a position is.

Canonical text is a number ("0", "2", "2.5", "10") or a range of two ("1-3", "0.5-2"):
no leading zeros, no trailing decimal zeros, no spaces.

What is read, and the rules for the doubtful cases:

- ints and floats: a whole float is written without decimals (2.0 -> "2").
- text: one number, or two joined by "-", "–", "—" or " to " (a range), optionally after
  a label: "Book", "Books", "Bk", "Vol", "Volume", "No", "Nr", "Number", "Part" (with or
  without a dot), and/or "#"; a trailing dot is ignored ("3." is 3, as ABS reads it).
- a comma between digits with one or two digits after it ("1,5", "1,25") is a European
  decimal comma: "1,2" is 1.2, never the list "1 and 2". A list of positions names no
  single position, so "1, 2" (comma and space) gives None, and so does "1,000" (three
  digits after the comma: a thousands separator, not a decimal).
- at most 4 digits before the decimal point and 2 after it (ABS writes 2 decimals; more
  is noise such as 0.30000000000000004 or an ISBN in the wrong field).
- a range must rise: "3-3" is just "3", "3-1" is None.
- None for everything else: blank, bools, NaN and infinities, negative numbers,
  exponents ("1e3"), Roman numerals ("III": "I", "V" and "X" are as often letters or
  words, and sources write Arabic numbers), number words ("one"), free text with a
  number in it ("Prologue 2", "1 of 3": guessing is worse than not knowing).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

MAX_INTEGER_DIGITS = 4
MAX_DECIMALS = 2

_NUMBER = r"(?:[0-9]+(?:\.[0-9]+|,[0-9]{1,2})?|\.[0-9]+)"
_LABEL = r"(?:(?:books?|bk|vol|volume|no|nr|number|part)\.?\s*)?#?\s*"
_TEXT = re.compile(
    rf"^{_LABEL}(?P<first>{_NUMBER})(?:(?:\s*[-–—]\s*|\s+to\s+)(?P<last>{_NUMBER}))?\.?$",
    re.IGNORECASE)


def normalize_position(raw: object) -> str | None:
    """`raw` as canonical position text ("2", "2.5", "1-3"), or None when it is no
    position by the rules in the module docstring. Idempotent:
    normalize_position(normalize_position(x)) == normalize_position(x)."""
    span = _decimal_span(raw)
    if span is None:
        return None
    first, last = span
    return _text(first) if first == last else f"{_text(first)}-{_text(last)}"


def position_span(raw: object) -> tuple[float, float] | None:
    """(first, last) position `raw` covers: "3" -> (3.0, 3.0), "1-3" -> (1.0, 3.0);
    None when `raw` is no position."""
    span = _decimal_span(raw)
    return (float(span[0]), float(span[1])) if span else None


def position_rank(raw: object) -> float | None:
    """The number a position sorts by, its first one ("2.5" -> 2.5, "1-3" -> 1.0);
    None when `raw` is no position."""
    span = position_span(raw)
    return span[0] if span else None


def reading_order(position: object, title: str) -> tuple[bool, float, str]:
    """Sort key for books of a series as a person reads them: by position (1.5 after 1,
    10 after 2), books without a position last, ties by title."""
    rank = position_rank(position)
    return (rank is None, rank or 0.0, title.casefold())


def is_range(raw: object) -> bool:
    """True for a position covering more than one book ("1-3"), as an omnibus does."""
    span = _decimal_span(raw)
    return span is not None and span[0] != span[1]


def _decimal_span(raw: object) -> tuple[Decimal, Decimal] | None:
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int | float | Decimal):
        number = _from_number(raw)
        return (number, number) if number is not None else None
    if not isinstance(raw, str):
        return None
    found = _TEXT.match(raw.strip())
    if found is None:
        return None
    first = _from_text(found["first"])
    last = _from_text(found["last"]) if found["last"] else first
    if first is None or last is None or last < first:
        return None
    return first, last


def _from_number(raw: int | float | Decimal) -> Decimal | None:
    if isinstance(raw, float) and not math.isfinite(raw):
        return None
    try:
        # repr: the shortest text that reads back as the same float (1.5, not 1.5000…01).
        number = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    except (InvalidOperation, ValueError):  # pragma: no cover - ints and finite floats
        return None
    return _checked(number)


def _from_text(text: str) -> Decimal | None:
    return _checked(Decimal(text.replace(",", ".")))


def _checked(number: Decimal) -> Decimal | None:
    if not number.is_finite() or number < 0:
        return None
    number = number.copy_abs().normalize()  # copy_abs: -0.0 is 0
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite, checked above
    if exponent < -MAX_DECIMALS or number >= 10 ** MAX_INTEGER_DIGITS:
        return None
    return number


def _text(number: Decimal) -> str:
    return format(number, "f")
