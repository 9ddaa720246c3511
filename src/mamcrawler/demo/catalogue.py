"""The demo's catalogue: a few invented audiobooks, generated as real audio with ffmpeg.

Chosen so the release choice has something to explain: a free edition taken over a
better-seeded paid one, a VIP-freeleech edition, a paid-only book the ratio can afford,
and one book left off the wanted list for the newcomer to ask for. The demo library starts
with the first book of a series; `completion` finds the two after it on the tracker and
they arrive like any wanted book.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .books import make_audio, make_book

SERIES = "The Kessick Lanterns"
SERIES_AUTHOR = "Marisol Quayle"


@dataclass(frozen=True)
class Edition:
    fmt: str  # mp3: a folder of chapter files; m4b: one file
    free: bool = False
    vip: bool = False
    seeders: int = 5
    seconds: float = 60.0  # total running time


@dataclass(frozen=True)
class DemoBook:
    title: str
    author: str
    narrator: str
    editions: tuple[Edition, ...]
    series: str | None = None
    position: str | None = None
    wanted: bool = True  # put on the wanted list when the demo starts
    in_library: bool = False  # in the demo library from the start (a copy of its edition)

    def folder_name(self, edition: Edition) -> str:
        kind = "free" if edition.free else "vip-free" if edition.vip else "paid"
        return f"{self.author} - {self.title} [{edition.fmt}, {kind}]"


CATALOGUE: tuple[DemoBook, ...] = (
    DemoBook("The Lamplighter's Oath", SERIES_AUTHOR, "Wendell Ashdown", series=SERIES,
             position="1", editions=(Edition("m4b", seeders=40),), wanted=False,
             in_library=True),
    DemoBook("The Bellwright's Tide", SERIES_AUTHOR, "Wendell Ashdown", series=SERIES,
             position="2", editions=(Edition("m4b", vip=True, seeders=12),), wanted=False),
    DemoBook("The Tinker's Eclipse", SERIES_AUTHOR, "Wendell Ashdown", series=SERIES,
             position="3", editions=(Edition("mp3", free=True, seeders=3),
                                     Edition("m4b", seeders=60)), wanted=False),
    DemoBook("Clockwork Orchard", "Edda Sorensen", "Piet Varga",
             editions=(Edition("m4b", seeders=25, seconds=45),)),
    DemoBook("The Saltmarsh Ledger", "Edda Sorensen", "Piet Varga",
             editions=(Edition("mp3", free=True, seeders=8, seconds=30),), wanted=False),
)


def spare() -> DemoBook:
    """The book the newcomer is invited to ask for: in no series, wanted by nobody."""
    return next(b for b in CATALOGUE if not (b.wanted or b.in_library or b.series))


@dataclass(frozen=True)
class GeneratedEdition:
    book: DemoBook
    edition: Edition
    folder: Path  # the torrent's folder; its parent is the save path


def generate(catalogue_dir: Path) -> list[GeneratedEdition]:
    """Every edition's files under `catalogue_dir`, made once and reused on later starts."""
    catalogue_dir.mkdir(parents=True, exist_ok=True)
    made = []
    for book in CATALOGUE:
        for edition in book.editions:
            folder = catalogue_dir / book.folder_name(edition)
            if not folder.is_dir():
                _write_edition(book, edition, folder)
            made.append(GeneratedEdition(book, edition, folder))
    return made


def _write_edition(book: DemoBook, edition: Edition, folder: Path) -> None:
    # Written under a hidden name and renamed: a folder with the real name is complete.
    partial = folder.with_name(f".partial-{folder.name}")
    shutil.rmtree(partial, ignore_errors=True)
    tags = {"album": book.title, "artist": book.author, "album_artist": book.author,
            "composer": book.narrator, "genre": "Audiobook",
            "comment": "MAMcrawler demo: generated tones, not a real book"}
    if edition.fmt == "m4b":
        make_audio(partial / f"{book.title}.m4b", edition.seconds, "m4b", tags=tags)
    else:
        chapters = 3
        make_book(partial, chapters=chapters, seconds_each=edition.seconds / chapters,
                  fmt=edition.fmt, tags=tags)
    partial.rename(folder)


def place_in_library(book: DemoBook, catalogue_dir: Path, library_dir: Path,
                     relpath: PurePosixPath) -> Path:
    """Copy the book's first edition into the library at `relpath` (once); returns the
    book's folder."""
    folder = library_dir / relpath
    if folder.is_dir():
        return folder
    source = catalogue_dir / book.folder_name(book.editions[0])
    partial = folder.with_name(f".partial-{folder.name}")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(source, partial)
    partial.rename(folder)
    return folder
