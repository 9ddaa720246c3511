"""A realistic audiobook library with KNOWN truth, for scan tests and the benchmark.

`generate_library(root, n)` files `n` books the way people's libraries look: every folder
convention Audiobookshelf reads (``Author/Title``, ``Author/Series/Book N - Title {Narrator}``,
``Vol. 2 - ``, ``1. Title``, ``01 - Title``, ``(2010) - Title``, ``Title [ASIN]``,
``Last, First`` and ``A & B`` authors, ``CD1``/``CD2`` discs), in mp3, m4b, flac and opus,
with good tags, missing tags, placeholder tags ("Unknown Artist", "Track 01"), tags richer
than the folder (series only in the tags, a title with the ":" the folder could not hold),
movement and "Name #2" grouping tags, reader.txt and OPF sidecars — plus odd files a scan
must survive: zero-byte and garbage .mp3 files, a .txt note, an AppleDouble ``._`` file and
a dot folder. Each `BookTruth` is what a correct scan must find.

Audio is real but tiny: one ~1 s file per format is made by ffmpeg once (`templates`) and
copied for every book with its own tags written by mutagen, so hundreds of books take
seconds and 5,000 well under a minute.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from mutagen.flac import FLAC
from mutagen.id3 import COMM, ID3, MVIN, MVNM, TALB, TCOM, TDRC, TIT1, TIT2, TPE1, TPE2, TXXX
from mutagen.mp4 import MP4, MP4FreeForm
from mutagen.oggopus import OggOpus

FORMATS = ("mp3", "m4b", "flac", "opus")
_ENCODERS = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "16k", "-f", "mp3"],
    "m4b": ["-c:a", "aac", "-b:a", "16k", "-movflags", "+faststart", "-f", "ipod"],
    "flac": ["-c:a", "flac", "-compression_level", "0", "-f", "flac"],
    "opus": ["-c:a", "libopus", "-b:a", "8k", "-f", "opus"],
}
_FIRST = ("Anna", "Brandon", "Clara", "Daniel", "Elena", "Felix", "Grace", "Hugo", "Iris",
          "Jonas", "Kate", "Liam", "Maya", "Nora", "Oscar", "Paula", "Quinn", "Ruth", "Simon",
          "Tara", "Umar", "Vera", "Walter", "Xenia", "Yusuf", "Zoe")
_LAST = ("Abbott", "Brennan", "Castillo", "Delacroix", "Ellison", "Fairweather", "Grant",
         "Holloway", "Ingram", "Jaworski", "Kowalski", "Lindqvist", "Marlow", "Nakamura",
         "Okafor", "Pemberton", "Quigley", "Rasmussen", "Sandoval", "Thornton")
_ADJECTIVES = ("Silent", "Broken", "Hidden", "Burning", "Last", "Crimson", "Winter", "Hollow",
               "Golden", "Shattered", "Distant", "Iron", "Sleeping", "Wandering", "Bitter",
               "Emerald", "Forgotten", "Midnight", "Restless", "Drowned")
_NOUNS = ("Harbor", "Crown", "Engine", "Garden", "Sky", "Throne", "River", "Archive", "Tower",
          "Signal", "Orchard", "Citadel", "Lantern", "Frontier", "Mirror", "Compass", "Forge",
          "Meridian", "Chorus", "Labyrinth")
_KINDS = ("plain", "series_book", "vol", "dot", "zero_padded", "year", "asin", "tags_richer",
          "colon", "multi_file", "multi_author", "last_first", "discs", "movement",
          "placeholder_title", "dalmatians", "unabridged", "reader_txt", "opf", "decimal")


@dataclass(frozen=True)
class BookTruth:
    """What a correct scan finds for one generated book."""

    relpath: str  # the book folder, relative to the library root
    kind: str
    format: str
    title: str
    authors: tuple[str, ...]
    narrators: tuple[str, ...] = ()
    series: str | None = None
    position: str | None = None
    year: int | None = None
    asin: str | None = None
    files: tuple[str, ...] = ()  # audio files, relative to the root


@dataclass
class GeneratedLibrary:
    root: Path
    books: list[BookTruth] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)  # relpath -> what is wrong
    ignored: list[str] = field(default_factory=list)  # files a scan must leave alone

    def audio_files(self) -> list[Path]:
        return [self.root / f for book in self.books for f in book.files]


def make_templates(folder: Path, seconds: float = 1.0) -> dict[str, Path]:
    """One tiny untagged file per format, made by ffmpeg (mono, 8 kHz)."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for fmt, codec in _ENCODERS.items():
        path = folder / f"template.{fmt}"
        if not path.exists():
            rate = "48000" if fmt == "opus" else "8000"
            subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-f",
                            "lavfi", "-i", f"sine=frequency=440:duration={seconds}:"
                            f"sample_rate={rate}", "-ac", "1", *codec, str(path)],
                           check=True, capture_output=True)
        made[fmt] = path
    return made


def write_tags(path: Path, fmt: str, tags: dict[str, str]) -> None:
    """Replace the file's tags with `tags` (keys: title album artist albumartist composer
    series series-part grouping asin date mvnm mvin comment), in the format's own frames."""
    if fmt == "mp3":
        _write_id3(path, tags)
    elif fmt in ("m4b", "m4a"):
        _write_mp4(path, tags)
    else:
        audio = FLAC(path) if fmt == "flac" else OggOpus(path)
        audio.delete()
        for key, value in tags.items():
            name = {"mvnm": "MOVEMENTNAME", "mvin": "MOVEMENT"}.get(key, key.upper())
            audio[name] = [value]
        audio.save()


def _write_id3(path: Path, tags: dict[str, str]) -> None:
    frames = {"title": TIT2, "album": TALB, "artist": TPE1, "albumartist": TPE2,
              "composer": TCOM, "grouping": TIT1, "date": TDRC, "mvnm": MVNM, "mvin": MVIN}
    id3 = ID3()
    for key, value in tags.items():
        if key in frames:
            id3.add(frames[key](encoding=3, text=[value]))
        elif key == "comment":
            id3.add(COMM(encoding=3, lang="eng", desc="", text=[value]))
        else:
            id3.add(TXXX(encoding=3, desc=key.upper(), text=[value]))
    id3.save(path)


def _write_mp4(path: Path, tags: dict[str, str]) -> None:
    atoms = {"title": "©nam", "album": "©alb", "artist": "©ART", "albumartist": "aART",
             "composer": "©wrt", "grouping": "©grp", "date": "©day", "mvnm": "©mvn",
             "comment": "©cmt"}
    audio = MP4(path)
    audio.delete()
    for key, value in tags.items():
        if key == "mvin":
            audio["©mvi"] = [int(value)]
        elif key in atoms:
            audio[atoms[key]] = [value]
        else:
            audio[f"----:com.apple.iTunes:{key.upper()}"] = [MP4FreeForm(value.encode())]
    audio.save()


def generate_library(root: Path, n_books: int, templates: dict[str, Path], *,
                     seed: int = 7, odd_files: bool = True) -> GeneratedLibrary:
    """File `n_books` books under `root` (every convention in turn) and return the truth."""
    rng = random.Random(seed)
    library = GeneratedLibrary(root=root)
    titles = _unique_titles(rng)
    for index in range(n_books):
        kind = _KINDS[index % len(_KINDS)]
        # Formats cycle within each round of kinds and shift by one each round, so every
        # kind meets every format within 4 rounds.
        fmt = FORMATS[(index + index // len(_KINDS)) % len(FORMATS)]
        people = _people(rng)
        library.books.append(_BUILDERS[kind](_Ctx(root, templates, fmt, kind, index,
                                                  next(titles), rng, people)))
    if odd_files and library.books:
        _add_odd_files(library, rng)
    return library


@dataclass
class _Ctx:
    root: Path
    templates: dict[str, Path]
    fmt: str
    kind: str
    index: int
    title: str
    rng: random.Random
    people: tuple[str, str, str]  # author, narrator, second person

    @property
    def series(self) -> str:
        return f"The {self.title.split()[-1]} Cycle {self.index}"

    def file(self, relfolder: str, tags: dict[str, str], name: str | None = None) -> str:
        rel = f"{relfolder}/{name or 'audiobook'}.{self.fmt}"
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.templates[self.fmt], path)
        if tags:
            write_tags(path, self.fmt, tags)
        return rel

    def truth(self, relfolder: str, files: list[str], **facts) -> BookTruth:
        facts.setdefault("title", self.title)
        facts.setdefault("authors", (self.people[0],))
        return BookTruth(relpath=relfolder, kind=self.kind, format=self.fmt,
                         files=tuple(files), **facts)


def _plain(c: _Ctx) -> BookTruth:
    author, narrator, _ = c.people
    rel = f"{author}/{c.title}"
    tags = {"album": c.title, "artist": author, "composer": narrator, "date": "2015"}
    return c.truth(rel, [c.file(rel, tags)], narrators=(narrator,), year=2015)


def _series_book(c: _Ctx) -> BookTruth:
    author, narrator, _ = c.people
    rel = f"{author}/{c.series}/Book 3 - {c.title} {{{narrator}}}"
    tags = {"album": c.title, "artist": author, "composer": narrator, "series": c.series,
            "series-part": "3"}
    return c.truth(rel, [c.file(rel, tags)], narrators=(narrator,), series=c.series,
                   position="3")


def _vol(c: _Ctx) -> BookTruth:
    author = c.people[0]
    rel = f"{author}/{c.series}/Vol. 2 - {c.title}"
    return c.truth(rel, [c.file(rel, {})], series=c.series, position="2")


def _dot(c: _Ctx) -> BookTruth:
    author, narrator, _ = c.people
    rel = f"{author}/{c.series}/4. {c.title} {{{narrator}}}"
    junk = {"album": "Unknown Album", "artist": "Unknown Artist", "title": "Track 01"}
    return c.truth(rel, [c.file(rel, junk)], narrators=(narrator,), series=c.series,
                   position="4")


def _zero_padded(c: _Ctx) -> BookTruth:
    author, narrator, _ = c.people
    rel = f"{author}/{c.series}/01 - {c.title}"
    tags = {"grouping": f"{c.series} #1", "composer": narrator, "album": c.title}
    return c.truth(rel, [c.file(rel, tags)], narrators=(narrator,), series=c.series,
                   position="1")


def _year(c: _Ctx) -> BookTruth:
    author = c.people[0]
    year = 1990 + c.index % 30
    rel = f"{author}/({year}) - {c.title}" if c.index % 2 else f"{author}/{year} - {c.title}"
    return c.truth(rel, [c.file(rel, {"artist": author})], year=year)


def _asin(c: _Ctx) -> BookTruth:
    author, narrator, _ = c.people
    asin = f"B0{c.index:08d}"
    rel = f"{author}/{c.title} [{asin}] {{{narrator}}}"
    return c.truth(rel, [c.file(rel, {"album": c.title})], narrators=(narrator,), asin=asin)


def _tags_richer(c: _Ctx) -> BookTruth:
    author, narrator, second = c.people
    rel = f"{author}/{c.title}"
    tags = {"album": c.title, "artist": author, "composer": f"{narrator} & {second}",
            "series": c.series, "series-part": "05", "asin": f"B1{c.index:08d}"}
    return c.truth(rel, [c.file(rel, tags)], narrators=(narrator, second), series=c.series,
                   position="5", asin=f"B1{c.index:08d}")


def _colon(c: _Ctx) -> BookTruth:
    author = c.people[0]
    full = f"{c.title}: A Novel"
    rel = f"{author}/{c.title} - A Novel"
    return c.truth(rel, [c.file(rel, {"album": full, "artist": author})], title=full)


def _multi_file(c: _Ctx) -> BookTruth:
    author, narrator, _ = c.people
    rel = f"{author}/{c.series}/Book 7 - {c.title}"
    files = [c.file(rel, {"title": f"Chapter {n}", "album": c.title, "artist": author,
                          "composer": narrator}, name=f"{n:02d} - Chapter {n}")
             for n in range(1, 4)]
    return c.truth(rel, files, narrators=(narrator,), series=c.series, position="7")


def _multi_author(c: _Ctx) -> BookTruth:
    author, _, second = c.people
    rel = f"{author} & {second}/{c.title}"
    return c.truth(rel, [c.file(rel, {})], authors=(author, second))


def _last_first(c: _Ctx) -> BookTruth:
    first, last = c.people[0].split(" ", 1)
    rel = f"{last}, {first}/{c.title}"
    return c.truth(rel, [c.file(rel, {"album": c.title})])


def _discs(c: _Ctx) -> BookTruth:
    author, narrator, _ = c.people
    rel = f"{author}/{c.title}"
    tags = {"album": c.title, "artist": author, "composer": narrator}
    files = [c.file(f"{rel}/CD{n}", tags, name=f"Track {n}") for n in (1, 2)]
    return c.truth(rel, files, narrators=(narrator,))


def _movement(c: _Ctx) -> BookTruth:
    author = c.people[0]
    rel = f"{author}/{c.title}"
    tags = {"album": c.title, "artist": author, "mvnm": c.series, "mvin": "6"}
    return c.truth(rel, [c.file(rel, tags)], series=c.series, position="6")


def _placeholder_title(c: _Ctx) -> BookTruth:
    author = c.people[0]
    rel = f"{author}/{c.title}"
    tags = {"title": "Track 1", "artist": "Various Artists", "composer": "Unknown"}
    return c.truth(rel, [c.file(rel, tags)])


def _dalmatians(c: _Ctx) -> BookTruth:
    author = c.people[0]
    title = f"{100 + c.index % 900} {c.title}"
    rel = f"{author}/{c.series}/{title}"
    return c.truth(rel, [c.file(rel, {})], title=title, series=c.series)


def _unabridged(c: _Ctx) -> BookTruth:
    author, narrator, _ = c.people
    rel = f"{author}/{c.title}"
    tags = {"album": f"{c.title} (Unabridged)", "albumartist": author, "composer": narrator}
    return c.truth(rel, [c.file(rel, tags)], narrators=(narrator,))


def _reader_txt(c: _Ctx) -> BookTruth:
    author, narrator, _ = c.people
    rel = f"{author}/{c.title}"
    files = [c.file(rel, {"album": c.title, "artist": author})]
    (c.root / rel / "reader.txt").write_text(f"{narrator}\nrecorded 2019\n", encoding="utf-8")
    return c.truth(rel, files, narrators=(narrator,))


def _opf(c: _Ctx) -> BookTruth:
    author, narrator, _ = c.people
    rel = f"{author}/{c.title}"
    files = [c.file(rel, {"album": "Unknown Album"})]
    (c.root / rel / "metadata.opf").write_text(
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="2.0">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:opf="http://www.idpf.org/2007/opf">'
        f'<dc:title>{c.title}</dc:title><dc:creator opf:role="aut">{author}</dc:creator>'
        f'<dc:creator opf:role="nrt">{narrator}</dc:creator><dc:date>2001-05-01</dc:date>'
        f'<meta name="calibre:series" content="{c.series}"/>'
        '<meta name="calibre:series_index" content="8.0"/></metadata></package>',
        encoding="utf-8")
    return c.truth(rel, files, narrators=(narrator,), series=c.series, position="8",
                   year=2001)


def _decimal(c: _Ctx) -> BookTruth:
    author, narrator, _ = c.people
    rel = f"{author}/{c.series}/Book 2.5 - {c.title} {{{narrator}}}"
    return c.truth(rel, [c.file(rel, {"artist": author})], narrators=(narrator,),
                   series=c.series, position="2.5")


_BUILDERS: dict[str, Callable[[_Ctx], BookTruth]] = {
    "plain": _plain, "series_book": _series_book, "vol": _vol, "dot": _dot,
    "zero_padded": _zero_padded, "year": _year, "asin": _asin, "tags_richer": _tags_richer,
    "colon": _colon, "multi_file": _multi_file, "multi_author": _multi_author,
    "last_first": _last_first, "discs": _discs, "movement": _movement,
    "placeholder_title": _placeholder_title, "dalmatians": _dalmatians,
    "unabridged": _unabridged, "reader_txt": _reader_txt, "opf": _opf, "decimal": _decimal,
}


def _add_odd_files(library: GeneratedLibrary, rng: random.Random) -> None:
    """Damaged and stray files beside real books: none of them may stop a scan."""
    root, books = library.root, library.books
    zero = f"{books[0].relpath}/99 - empty.mp3"
    (root / zero).write_bytes(b"")
    garbage = f"{books[1 % len(books)].relpath}/98 - garbage.mp3"
    (root / garbage).write_bytes(rng.randbytes(20_000))
    library.unreadable.update({zero: "empty", garbage: "garbage"})
    note = f"{books[2 % len(books)].relpath}/notes.txt"
    (root / note).write_text("ripped from my own CDs\n", encoding="utf-8")
    apple = f"{books[0].relpath}/._audiobook.mp3"
    (root / apple).write_bytes(b"\x00\x05\x16\x07" + rng.randbytes(100))
    hidden = ".mamcrawler-incoming/tok/Some Author/Some Book/book.mp3"
    (root / hidden).parent.mkdir(parents=True)
    shutil.copyfile(root / books[0].files[0], root / hidden)
    library.ignored.extend([note, apple, hidden])


def _people(rng: random.Random) -> tuple[str, str, str]:
    names = rng.sample([f"{f} {last}" for f in _FIRST for last in _LAST], 3)
    return names[0], names[1], names[2]


def _unique_titles(rng: random.Random):
    combos = [f"The {a} {n}" for a in _ADJECTIVES for n in _NOUNS]
    combos += [f"{n} of the {a} {m}" for n in _NOUNS for a in _ADJECTIVES for m in _NOUNS
               if n != m]
    rng.shuffle(combos)
    yield from combos


@pytest.fixture(scope="session")
def library_templates(tmp_path_factory) -> dict[str, Path]:
    """The per-format template files, made once per test session (needs ffmpeg)."""
    from tests.support.audio import skip_or_fail_without

    skip_or_fail_without("ffmpeg")
    return make_templates(tmp_path_factory.mktemp("library-templates"))


@pytest.fixture
def make_library(library_templates, tmp_path):
    """`make_library(n, **options)`: a generated library of n books under tmp_path."""

    def build(n_books: int, **options) -> GeneratedLibrary:
        return generate_library(tmp_path / "library", n_books, library_templates, **options)

    return build
