"""Where a book is filed in the library (R12). Pure.

The layout is the one Audiobookshelf reads (reference/audiobookshelf.md):
``Author/Series/Book N - Title {Narrator, Narrator}``, or ``Author/Title {Narrator}``
without a series. ABS parses that folder name back: narrators from the trailing braces,
the series position from a ``Book N`` part (1-3 digits, up to 2 decimals), a year from a
leading ``2010 - ``. The names are made safe for Linux, macOS and Windows/SMB file systems
and are shaped so that ABS does not misread them (a title starting "2001 - " would be
taken for a year, a stray ``{`` for narrators, a leading "." hides the folder from ABS).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath

from mamcrawler.domain.folder_names import reads_as_sequence
from mamcrawler.domain.series_position import is_range, normalize_position, position_rank

# Below the 255-byte NAME_MAX of ext4/xfs/btrfs/NTFS with room to spare for file systems
# that encrypt names (their limit is lower) and for suffixes other tools append.
MAX_SEGMENT_BYTES = 200
UNKNOWN_AUTHOR = "Unknown Author"
UNKNOWN_TITLE = "Unknown Title"
ELLIPSIS = "…"

# Characters no common file system (or SMB share) accepts in a name, and what to write
# instead so the name keeps its meaning: "AC/DC" -> "AC-DC", 'The "Best"' -> "The 'Best'".
_REPLACEMENTS = {
    "/": "-", "\\": "-", "|": "-", "*": "-",
    '"': "'", "?": "", "<": "", ">": "",
    # Braces mark narrators for ABS: a brace inside a name would be read as one.
    "{": "(", "}": ")",
}
_COLON_SPACED = re.compile(r"\s*:\s+")
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
# ABS's reading of a title folder (reference/audiobookshelf.md, "Folder layout it reads").
_ABS_YEAR_PREFIX = re.compile(r"^ *\(?\d{4}\)? *- *.+")
# ABS reads a sequence of up to 3 digits and 2 decimals (domain.series_position keeps 2).
_ABS_POSITION_LIMIT = 1000


def sanitize_name(text: str | None, fallback: str = "") -> str:
    """One path segment made safe for any common file system, meaning kept.

    Promises: no ``/ \\ : * ? " < > | { }``, no control characters, no leading dot
    (ABS ignores dot folders), no leading/trailing spaces or trailing dots (Windows), not a
    Windows device name, at most MAX_SEGMENT_BYTES of UTF-8, never "." or "..". Idempotent.
    Returns `fallback` when nothing usable is left.
    """
    name = unicodedata.normalize("NFC", text or "")
    name = "".join(" " if _is_control(ch) else ch for ch in name)
    # "Mistborn: The Final Empire" -> "Mistborn - The Final Empire", as ABS itself writes.
    name = _COLON_SPACED.sub(" - ", name).replace(":", "-")
    name = "".join(_REPLACEMENTS.get(ch, ch) for ch in name)
    name = _trim(_SPACES.sub(" ", name))
    if _WINDOWS_RESERVED.match(name):
        name += "_"
    name = _trim(_clip_bytes(name, MAX_SEGMENT_BYTES))
    return name or fallback


def library_relpath(
    author: str | Sequence[str] | None,
    series: str | None,
    position: str | float | None,
    title: str | None,
    narrators: str | Iterable[str] | None = None,
) -> PurePosixPath:
    """The book's folder relative to the library root.

    ``Author/Series/Book N - Title {Narrator, Narrator}``; without a series
    ``Author/Title {Narrator}``; without narrators no braces. Only the first author names
    the folder (ABS would split "A & B" into two authors anyway). A position is written
    only when ABS can read it back (a number below 1000 with at most 2 decimals, e.g.
    "2", "2.5", "02" -> "2"); others ("1-3", "Prequel") are left out of the name.
    Always a relative path of 2 or 3 non-empty, safe segments (see sanitize_name).
    """
    author_dir = sanitize_name(_first(author), UNKNOWN_AUTHOR)
    series_dir = sanitize_name(series) if series else ""
    number = abs_position(position) if series_dir else None
    folder = _title_folder(sanitize_name(title, UNKNOWN_TITLE), number,
                           has_series=bool(series_dir), narrators=_narrator_names(narrators))
    parts = [author_dir, series_dir, folder] if series_dir else [author_dir, folder]
    return PurePosixPath(*parts)


def abs_position(position: str | float | None) -> str | None:
    """A series position as ABS writes and reads it in a folder name ("02" -> "2",
    "2.50" -> "2.5", "1,5" -> "1.5"; see domain.series_position), or None when ABS could
    not read it back: a range ("1-3"), 1000 or more (ABS reads at most 3 digits), or no
    position at all."""
    text = normalize_position(position)
    if text is None or is_range(text) or (position_rank(text) or 0) >= _ABS_POSITION_LIMIT:
        return None
    return text


def _title_folder(title: str, number: str | None, *, has_series: bool,
                  narrators: list[str]) -> str:
    prefix = f"Book {number} - " if number else ""
    title = _unambiguous_title(title, checks_sequence=has_series and not number)
    suffix = _narrator_suffix(narrators, _utf8_len(prefix) + min(_utf8_len(title), 60))
    budget = MAX_SEGMENT_BYTES - _utf8_len(prefix) - _utf8_len(suffix)
    return _trim(prefix + _trim(_clip_bytes(title, budget))) + suffix


def _unambiguous_title(title: str, *, checks_sequence: bool) -> str:
    """`title` with its " - " turned into " – " (en dash) where ABS would otherwise read
    part of it as a year ("2001 - A Space Odyssey") or, in a series folder without a
    position, as a sequence ("Tales - Book 2")."""
    misread = bool(_ABS_YEAR_PREFIX.match(title))
    if checks_sequence:
        misread = misread or any(reads_as_sequence(part) for part in title.split(" - "))
    return title.replace(" - ", " – ") if misread else title


def _narrator_suffix(names: list[str], used: int) -> str:
    """`` {A, B}``, shortened to the first name "et al." when the folder name would get
    too long, and dropped only when even one name does not fit."""
    if not names:
        return ""
    full = " {" + ", ".join(names) + "}"
    if used + _utf8_len(full) <= MAX_SEGMENT_BYTES:
        return full
    short = " {" + names[0] + (" et al" if len(names) > 1 else "") + "}"
    return short if used + _utf8_len(short) <= MAX_SEGMENT_BYTES else ""


def _narrator_names(narrators: str | Iterable[str] | None) -> list[str]:
    if narrators is None:
        return []
    items = [narrators] if isinstance(narrators, str) else list(narrators)
    names: list[str] = []
    seen: set[str] = set()
    for item in items:
        name = sanitize_name(item)
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)
    return names


def _first(author: str | Sequence[str] | None) -> str:
    if author is None or isinstance(author, str):
        return author or ""
    return next((a for a in author if a and a.strip()), "")


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def _trim(name: str) -> str:
    """No leading dots/spaces (hidden from ABS), no trailing dots/spaces (Windows)."""
    return name.lstrip(". ").rstrip(". ")


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _clip_bytes(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes on a character boundary, marked with …"""
    if _utf8_len(text) <= limit:
        return text
    room = max(0, limit - _utf8_len(ELLIPSIS))
    clipped = text.encode("utf-8")[:room].decode("utf-8", errors="ignore").rstrip(". ")
    return clipped + ELLIPSIS if clipped else ""
