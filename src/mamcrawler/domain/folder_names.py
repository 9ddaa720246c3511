"""What a book's place in the library says about it, read as Audiobookshelf reads it. Pure.

The inverse of `domain.naming.library_relpath`, following reference/audiobookshelf.md and
ABS's own scanner (``getBookDataFromDir``): the book folder is the last part of its path
relative to the library root; the one above it is the series when there are at least two
above it, and the one above that the author(s). In the book folder's name, in this order:

1. an ASIN in brackets anywhere, set off by spaces: ``Title [B003ZWFO7E]``;
2. narrators in braces at the end: ``Title {Michael Kramer, Kate Reading}``;
3. only inside a series folder, a sequence in one `` - ``-separated part: ``Book 1``,
   ``Vol. 2``, ``Volume 3.``, ``1. Title``, ``01`` — a number followed by text is a
   sequence only with a label or a trailing dot, so "101 Dalmatians" stays a title;
4. a year at the start: ``2010 - Title`` or ``(2010) - Title``.

Names are split on ``&``, `` and ``, ``;``, then ``,``; a comma list whose first piece is
one word is read as "Last, First" pairs ("Kishimi, Ichiro" -> "Ichiro Kishimi"), as ABS does.

Where this differs from ABS, on purpose: a sequence needs at least one digit (ABS reads the
empty part of "A -  - B" as book 0), and a disc sub-folder may be spelled ``CD 1``,
``Disc 2`` or ``Disk3`` (ABS knows only ``CD1``), so a book split into discs stays one book.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from mamcrawler.domain.series_position import normalize_position

_ASIN = re.compile(r"(?: |^)\[([A-Z0-9]{10})\](?= |$)")
_NARRATORS = re.compile(r"^(?P<title>.*) \{(?P<narrators>.*)\}$")
_SEQUENCE = re.compile(
    r"^(?P<label>vol\.? |volume |book )?(?P<seq>\d{0,3}(?:\.\d{1,2})?)(?P<dot>\.?)"
    r"(?: (?P<suffix>.*))?$", re.IGNORECASE)
_YEAR = re.compile(r"^ *\(?([0-9]{4})\)? * - *(.+)")
_NAME_SEPARATORS = re.compile(r"\s*(?:&|;| and )\s*")
_DISC_FOLDER = re.compile(r"^(?:cd|disc|disk) ?\d{1,3}$", re.IGNORECASE)
_ASIN_TEXT = re.compile(r"^[A-Z0-9]{10}$")
_ISBN = re.compile(r"^(?:\d{9}[\dX]|\d{13})$")


@dataclass(frozen=True)
class FolderFacts:
    """What a book folder's path says. Empty tuples and None where it says nothing;
    `position` is canonical position text (domain.series_position: "02" -> "2",
    "1.50" -> "1.5"), as ABS shows it."""

    title: str | None = None
    authors: tuple[str, ...] = ()
    series: str | None = None
    position: str | None = None
    year: int | None = None
    narrators: tuple[str, ...] = ()
    asin: str | None = None


def parse_book_folder(relpath_parts: Sequence[str]) -> FolderFacts:
    """The facts in a book folder's path relative to the library root, e.g.
    ``("Brandon Sanderson", "Mistborn", "Book 1 - The Final Empire {Michael Kramer}")``.

    Only the last three parts count (author/series/title); with two parts there is no
    series, with one no author. An empty sequence gives empty facts.
    """
    parts = [p for p in relpath_parts if p]
    if not parts:
        return FolderFacts()
    folder = parts.pop()
    series = parts.pop() if len(parts) > 1 else None
    author = parts.pop() if parts else None
    folder, asin = _take_asin(folder)
    folder, narrators = _take_narrators(folder)
    position = None
    if series:
        folder, position = _take_sequence(folder)
    folder, year = _take_year(folder)
    return FolderFacts(title=folder.strip() or None, authors=tuple(split_names(author)),
                       series=series.strip() or None if series else None, position=position,
                       year=year, narrators=tuple(split_names(narrators)), asin=asin)


def single_file_facts(filename: str) -> FolderFacts:
    """A book that is one audio file in the library root: ABS takes only the title, the
    file name without its extension."""
    return FolderFacts(title=PurePosixPath(filename).stem.strip() or None)


def split_names(text: str | None) -> list[str]:
    """People in one string: split on ``&``, `` and ``, ``;``, then ``,`` ("Last, First"
    pairs joined back as "First Last"); blanks dropped, order and duplicates kept."""
    names: list[str] = []
    for chunk in _NAME_SEPARATORS.split(text or ""):
        pieces = [p.strip() for p in chunk.split(",") if p.strip()]
        if len(pieces) > 1 and " " not in pieces[0]:
            # "Tolkien, J. R. R." is one person; like ABS, a lone last piece of an odd
            # count ("Smith, John, Jr.") is a suffix and dropped.
            names.extend(f"{first} {last}" for last, first in zip(pieces[::2], pieces[1::2],
                                                                  strict=False))
        else:
            names.extend(pieces)
    return names


def is_disc_folder(name: str) -> bool:
    """True for a disc sub-folder of a book ("CD1", "cd 02", "Disc 3", "Disk4")."""
    return bool(_DISC_FOLDER.match(name))


def group_book_folders(audio_relparts: Iterable[Sequence[str]]
                       ) -> dict[tuple[str, ...], list[tuple[str, ...]]]:
    """Audio files (their path parts relative to the library root) grouped into books,
    keyed by the book folder's parts, as ABS groups them: the folder holding a file is its
    book, except that a disc folder belongs to the folder above it and a folder inside
    another book's folder belongs to that book. A file in the root itself is a book of
    its own, keyed by its own name. Files keep the order given. (Tuples, not paths: a
    7,500-book library has tens of thousands of files, and PurePosixPath costs ~10x.)"""
    paths = [tuple(p) for p in audio_relparts]
    books: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    # Shallow folders first, so a book folder is known before anything nested inside it.
    for path in sorted(paths, key=len):
        books.setdefault(_book_key(path, books), [])
    for path in paths:
        books[_book_key(path, books)].append(path)
    return books


def _book_key(path: tuple[str, ...], books: dict[tuple[str, ...], list[tuple[str, ...]]]
              ) -> tuple[str, ...]:
    folders = path[:-1]
    if not folders:
        return path
    if len(folders) > 1 and is_disc_folder(folders[-1]):
        folders = folders[:-1]
    for depth in range(1, len(folders)):
        if folders[:depth] in books:
            return folders[:depth]
    return folders


def combine_sources(layers: Sequence[tuple[str, Any]]) -> dict[str, tuple[Any, str]]:
    """Book fields, each with the source it came from, from `(source, facts)` layers in
    increasing precedence; a later layer wins wherever it has a usable value.

    `facts` is FolderFacts or anything with the same attribute names (the audio adapter's
    TagFacts adds subtitle, isbn, publisher, language, description, abridged). The scan
    passes ABS's order (reference/audiobookshelf.md): folder, audio tags, reader.txt, OPF.
    Tags beat the folder because a folder name is a sanitised copy ("Title: Subtitle" is
    filed as "Title - Subtitle") while tags keep the original; tags that say nothing
    leave the folder's value standing. When the winner names a series without a position,
    a lower layer naming the same series supplies it. Values are fitted to the database
    columns: malformed ASINs and ISBNs are dropped, long texts cut, names de-duplicated.
    """
    fields = [(source, _fields(facts)) for source, facts in layers]
    combined: dict[str, tuple[Any, str]] = {}
    for source, layer in fields:
        for name, value in layer.items():
            if value is not None and value != "" and value != []:
                combined[name] = (value, source)
    series = combined.get("series")
    if series and series[0][0]["position"] is None:
        name = series[0][0]["name"].casefold()
        for _, layer in reversed(fields):
            other = (layer.get("series") or [{}])[0]
            if other.get("position") and other["name"].casefold() == name:
                series[0][0]["position"] = other["position"]
                break
    return combined


def _fields(facts: Any) -> dict[str, Any]:
    asin = (facts.asin or "").strip().upper()
    isbn = re.sub(r"[\s-]", "", getattr(facts, "isbn", None) or "").upper()
    return {
        "title": _fit(facts.title, 500), "authors": _unique_names(facts.authors),
        "narrators": _unique_names(facts.narrators), "year": facts.year,
        "asin": asin if _ASIN_TEXT.match(asin) else None,
        "isbn": isbn if _ISBN.match(isbn) else None,
        "series": [{"name": _fit(facts.series, 300), "position": _fit(facts.position, 20)}]
        if _fit(facts.series, 300) else None,
        "subtitle": _fit(getattr(facts, "subtitle", None), 500),
        "publisher": _fit(getattr(facts, "publisher", None), 300),
        "language": _fit(getattr(facts, "language", None), 20),
        "description": getattr(facts, "description", None),
        "abridged": getattr(facts, "abridged", None)}


def _unique_names(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(n[:300].strip() for n in names if n.strip()))


def _fit(text: str | None, limit: int) -> str | None:
    return (text.strip()[:limit].strip() or None) if text else None


def _take_asin(folder: str) -> tuple[str, str | None]:
    match = _ASIN.search(folder)
    if not match:
        return folder, None
    return folder.replace(match.group(0), "", 1).strip(), match.group(1)


def _take_narrators(folder: str) -> tuple[str, str | None]:
    match = _NARRATORS.match(folder)
    return (match["title"], match["narrators"]) if match else (folder, None)


def reads_as_sequence(part: str) -> bool:
    """True when ABS reads one `` - ``-separated part of a book folder's name as a
    sequence ("Book 2", "1. Title", "01"; not "101 Dalmatians"), by ABS's own rule, which
    also reads an empty part as book 0; `parse_book_folder` wants a digit as well."""
    return _sequence_match(part) is not None


def _sequence_match(part: str) -> re.Match[str] | None:
    match = _SEQUENCE.match(part)
    # "101 Dalmatians" is a title; "101. Dalmatians" and "Book 101" are sequences.
    if match and match["suffix"] and not (match["label"] or match["dot"]):
        return None
    return match


def _take_sequence(folder: str) -> tuple[str, str | None]:
    parts = folder.split(" - ")
    for index, part in enumerate(parts):
        match = _sequence_match(part)
        if not match or not any(ch.isdigit() for ch in match["seq"]):
            continue
        if match["suffix"]:
            parts[index] = match["suffix"]
        else:
            del parts[index]
        return " - ".join(parts), normalize_position(match["seq"])
    return folder, None


def _take_year(folder: str) -> tuple[str, int | None]:
    match = _YEAR.match(folder)
    return (match.group(2), int(match.group(1))) if match else (folder, None)
