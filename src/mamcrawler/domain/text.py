"""Text normalisation shared by matching and de-duplication. Pure."""

from __future__ import annotations

import re
import unicodedata

_ARTICLES = re.compile(r"^(the|a|an)\s+")
_NOISE = re.compile(r"[\(\[].*?(unabridged|abridged|audiobook|m4b|mp3)[^\)\]]*[\)\]]", re.I)
_NON_WORD = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, strip accents, punctuation and extra spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = _NON_WORD.sub(" ", text.lower().replace("&", " and "))
    return _SPACES.sub(" ", text).strip()


def normalize_title(title: str) -> str:
    """A title reduced to what identifies the book: no edition noise, no leading article."""
    return _ARTICLES.sub("", fold(_NOISE.sub(" ", title)))


def normalize_person(name: str) -> str:
    """A person's name folded, with initials joined ("J. R. R." == "J.R.R.")."""
    folded = fold(name.replace(".", " "))
    return _SPACES.sub(" ", re.sub(r"\b(\w) (?=\w\b)", r"\1", folded))


def book_key(title: str, author: str | None) -> str:
    """The identity of a wanted book: normalised title and first author."""
    return f"{normalize_title(title)}|{normalize_person(author or '')}"
