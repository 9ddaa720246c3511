"""What a listed title says about its edition: series labels, edition words, omnibus
editions, abridged and dramatized editions. Pure.

Sources name one book many ways ("The Ash Throne, Book 2", "The Ash Throne (The Ember
Crown Cycle, Book 2)", "The Ash Throne (Unabridged)", "The Ash Throne (UK Edition)");
`clean_title` brings them back to the book's title, so re-releases and region editions
are recognised as one book. The flags (`is_omnibus`, `says_abridged`, `is_dramatized`)
are read before cleaning.
"""

from __future__ import annotations

import re

from mamcrawler.domain.series_position import is_range
from mamcrawler.domain.text import fold

_WORD = r"(?:book|bk|volume|vol|part|no|number)\.?\s*#?\d+(?:\.\d+)?"
_TAIL_LABEL = re.compile(rf"\s*,\s*{_WORD}\s*$", re.I)  # ", Book 2"
_PAREN_LABEL = re.compile(  # " (The Ember Crown Cycle, Book 2)", "(Mistborn #1)"
    rf"\s*[(\[][^()\[\]]*?(?:\b{_WORD}|#\s*\d+(?:\.\d+)?)\s*[)\]]\s*$", re.I)
# Edition words in brackets: they name an edition of the book, not another book.
_EDITION_MARK = re.compile(
    r"\s*[(\[][^()\[\]]*\b(?:unabridged|abridged|edition|re-?release|remaster(?:ed)?|"
    r"dramati[sz]ed|dramati[sz]ation|adaptation|full[- ]cast|audio ?drama|radio drama|"
    r"audiobook|retail)\b[^()\[\]]*[)\]]", re.I)
_OMNIBUS = re.compile(
    r"\b(box(?:ed)? ?set|omnibus|collection|bundle|anthology|complete series|"
    r"books? \d+(?:\.\d+)? ?(?:-|–|to|and|&) ?\d+|trilogy|quartet|duology)\b")
_DRAMATIZED = re.compile(
    r"\b(dramati[sz]ed|dramati[sz]ation|full cast|audio drama|radio drama|radio play|"
    r"bbc radio)\b")


def clean_title(title: str) -> str:
    """The book's title without edition words and a trailing series label: "The Ash
    Throne (The Ember Crown Cycle, Book 2)", "The Ash Throne, Book 2" and "The Ash Throne
    (UK Edition)" are "The Ash Throne"."""
    text = title.strip()
    for _ in range(3):  # "Title (Unabridged) (Series, Book 2)": labels come in any order
        before = text
        text = _EDITION_MARK.sub("", text).strip()
        text = _TAIL_LABEL.sub("", _PAREN_LABEL.sub("", text)).strip(" ,:-")
        if text == before:
            break
    return text or title.strip()


def is_omnibus(title: str, position: str | None, series_name: str | None = None) -> bool:
    """A box set or omnibus: a position range ("1-3") or words like "Books 1-3", "Box Set",
    "Omnibus" in the title once the series name is taken out."""
    if is_range(position):
        return True
    text = " ".join(title.casefold().split())
    if series_name:
        text = text.replace(" ".join(series_name.casefold().split()), " ")
    return bool(_OMNIBUS.search(text))


def says_abridged(text: str) -> bool:
    words = fold(text).split()
    return "abridged" in words and "unabridged" not in words


def is_dramatized(*texts: str | None) -> bool:
    """A dramatized (full-cast, radio drama) edition, by its title, subtitle, tags or
    format words."""
    return any(_DRAMATIZED.search(fold(t)) for t in texts if t)
