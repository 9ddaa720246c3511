"""The simulator's catalogue: a seeded set of invented audiobook torrents.

Books, authors, narrators and series are made up (apart from a few public-domain
classics); category ids are the tracker's real audiobook ids. Content is small generated
data: an entry's advertised size is the real size of the files its .torrent describes.
Language ids other than 1 (English) are the simulator's own.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from mamcrawler.sim.torrents import TorrentContent, generated_content

AUDIOBOOKS, RADIO = 13, 16
CATEGORIES = {
    39: "Action/Adventure", 49: "Art", 50: "Biographical", 83: "Business",
    51: "Computer/Internet", 97: "Crafts", 40: "Crime/Thriller", 41: "Fantasy", 106: "Food",
    42: "General Fiction", 52: "General Non-Fic", 98: "Historical Fiction", 54: "History",
    55: "Home/Garden", 43: "Horror", 99: "Humor", 84: "Instructional", 44: "Juvenile",
    56: "Language", 45: "Literary Classics", 57: "Math/Science/Tech", 85: "Medical",
    87: "Mystery", 119: "Nature", 88: "Philosophy", 58: "Pol/Soc/Relig", 59: "Recreation",
    46: "Romance", 47: "Science Fiction", 53: "Self-Help", 89: "Travel/Adventure",
    100: "True Crime", 108: "Urban Fantasy", 48: "Western", 111: "Young Adult",
}
RADIO_CATEGORIES = {127: "Comedy", 130: "Drama", 128: "Factual/Documentary", 132: "Reading"}
LANGUAGES = {1: "ENG", 36: "GER", 4: "FRE"}
FIRST_ID = 1_000_001

# (title, authors, narrators, series, position, category, language)
_WORKS: list[tuple[str, tuple[str, ...], tuple[str, ...], str | None, str | None, int, int]] = [
    ("The Ember Crown", ("Mara Quill",), ("Tom O'Hanlon",), "The Ember Crown Cycle", "1", 41, 1),
    ("The Ash Throne", ("Mara Quill",), ("Tom O'Hanlon",), "The Ember Crown Cycle", "2", 41, 1),
    ("The Cinder Court", ("Mara Quill",), ("Tom O'Hanlon",), "The Ember Crown Cycle", "3", 41, 1),
    ("The Smoke Kingdom", ("Mara Quill",), ("Tom O'Hanlon",), "The Ember Crown Cycle", "4", 41,
     1),
    ("Ravenhold", ("D. K. Ashcombe",), ('Elena "Ellie" Marsh',), "Ravenhold Chronicles", "1",
     41, 1),
    ("Ravenhold Rising", ("D. K. Ashcombe",), ('Elena "Ellie" Marsh',), "Ravenhold Chronicles",
     "2", 41, 1),
    ("Ravenhold: Interlude", ("D. K. Ashcombe",), ('Elena "Ellie" Marsh',),
     "Ravenhold Chronicles", "2.5", 41, 1),
    ("Ravenhold Falls", ("D. K. Ashcombe",), ('Elena "Ellie" Marsh',), "Ravenhold Chronicles",
     "3", 41, 1),
    ("Deep Lattice", ("Priya Venkataraman",), ("Marcus Bell",), "Deep Lattice", "1", 47, 1),
    ("Lattice Drift", ("Priya Venkataraman",), ("Marcus Bell",), "Deep Lattice", "2", 47, 1),
    ("Lattice Fall", ("Priya Venkataraman",), ("Marcus Bell",), "Deep Lattice", "3", 47, 1),
    ("Halcyon Station", ("Jonah Reyes",), ("Ana Ruiz", "Ben Cho"), None, None, 47, 1),
    ("Starwake", ("J. R. Okafor",), ("Chidi Nwosu",), "Starwake", "1", 47, 1),
    ("Starwake: Meridian", ("J. R. Okafor",), ("Chidi Nwosu",), "Starwake", "2", 47, 1),
    ("Death at the Vicarage Fête", ("Harriet Lyle",), ("Siobhan McKenna",),
     "A Maud Pennyworth Mystery", "1", 87, 1),
    ("The Lighthouse Murders", ("Harriet Lyle",), ("Siobhan McKenna",),
     "A Maud Pennyworth Mystery", "2", 87, 1),
    ("Poison & Pudding", ("Harriet Lyle",), ("Siobhan McKenna",), "A Maud Pennyworth Mystery",
     "3", 87, 1),
    ("Cold Harbour", ("Owen Marsh",), ("Dev Patel-Jones",), "Detective Ruth Calder", "1", 40, 1),
    ("The Quiet Witness", ("Owen Marsh",), ("Dev Patel-Jones",), "Detective Ruth Calder", "2",
     40, 1),
    ("Nine Days in Lisbon", ("Carla Dorn",), ("Ines Duarte",), None, None, 40, 1),
    ("Harbor Lights", ("Lena Moreau",), ("Grace Whitlow",), "Harbor Lights", "1", 46, 1),
    ("Harbor Lights Again", ("Lena Moreau",), ("Grace Whitlow",), "Harbor Lights", "2", 46, 1),
    ("The Hollow House", ("Silas Crane",), ("Victor Lamb",), None, None, 43, 1),
    ("The Silk Road Letters", ("Yusuf Demir",), ("Omar Haddad",), None, None, 98, 1),
    ("Empires of Salt", ("Helen Barrow",), ("Helen Barrow",), None, None, 54, 1),
    ("The Cartographer's Daughter", ("Rosa Lindqvist",), ("Rosa Lindqvist",), None, None, 50, 1),
    ("The Patient Investor", ("Mark Ellery",), ("Sam Okoye",), None, None, 83, 1),
    ("Small Habits, Quiet Mind", ("Nora Fields",), ("Nora Fields",), None, None, 53, 1),
    ("The Shape of Numbers", ("Ivan Petrov",), ("Leo Hart",), None, None, 57, 1),
    ("My Cat Runs the Household", ("Penny Hart",), ("Penny Hart", "Max Hart"), None, None, 99,
     1),
    ("The Glass Academy", ("Tess Arden",), ("Maya Lin Torres",), "The Glass Academy", "1", 111,
     1),
    ("The Glass Tower", ("Tess Arden",), ("Maya Lin Torres",), "The Glass Academy", "2", 111, 1),
    ("Milo and the Moon Kite", ("Ada Brightwater",), ("Toby Brightwater",), None, None, 44, 1),
    ("Pride and Prejudice", ("Jane Austen",), ("Clara Whitfield",), None, None, 45, 1),
    ("The Time Machine", ("H. G. Wells",), ("Arthur Penhaligon",), None, None, 45, 1),
    ("Neon Hex", ("Rook Alvarez",), ("Jade Okonkwo",), "Neon Hex", "1", 108, 1),
    ("Neon Curse", ("Rook Alvarez",), ("Jade Okonkwo",), "Neon Hex", "2", 108, 1),
    ("Neon Requiem", ("Rook Alvarez",), ("Jade Okonkwo",), "Neon Hex", "3", 108, 1),
    ("The Marsh Road Case", ("Gail Whitcombe",), ("Peter Vance",), None, None, 100, 1),
    ("Dust on the Pecos", ("Cole Harlan",), ("Wade Barrett",), None, None, 48, 1),
    ("Summer at Willow Bend", ("Jane O'Connell",), ("Fiona Daly",), None, None, 42, 1),
    ("Meditations", ("Marcus Aurelius",), ("George Hale",), None, None, 88, 1),
    ("Der gläserne Turm", ("Klara Vogt",), ("Jonas Becker",), None, None, 41, 36),
    ("Le Jardin des Ombres", ("Élise Fontaine",), ("Luc Marchand",), None, None, 87, 4),
    ("The Last Expedition", ("Rex Holloway",), ("Nate Sorensen",), None, None, 39, 1),
    ("Seeing Colour", ("Iris Navarro",), ("Iris Navarro",), None, None, 49, 1),
    ("Packets and Protocols", ("Dana Kowalski",), ("Eric Stone",), None, None, 51, 1),
    ("The Knitter's Year", ("Molly Fenwick",), ("Molly Fenwick",), None, None, 97, 1),
    ("Salt, Fire, Bread", ("Tomas Ruiz",), ("Tomas Ruiz",), None, None, 106, 1),
    ("Why We Wander", ("Amira Said",), ("Noor Haddad",), None, None, 52, 1),
    ("Learn Chess in Ten Evenings", ("Boris Lind",), ("Kai Mercer",), None, None, 84, 1),
    ("The Body Keeps Time", ("Dr. Ruth Amos",), ("Claire Dunn",), None, None, 85, 1),
    ("Among the Owls", ("Finn Calloway",), ("Finn Calloway",), None, None, 119, 1),
    ("The Commons", ("Hugo Brandt",), ("Ray Ellison",), None, None, 58, 1),
    ("Trail Running for Everyone", ("Kim Asher",), ("Kim Asher",), None, None, 59, 1),
    ("Two Wheels to Tbilisi", ("Will Garner",), ("Will Garner",), None, None, 89, 1),
    ("The Small Garden", ("Basil Thorne",), ("June Thorne",), None, None, 55, 1),
]
# Further editions: (title, format, narrators or None for the work's own)
_EXTRA_EDITIONS = [
    ("The Ember Crown", "mp3", None), ("The Ember Crown", "m4a", None),
    ("Pride and Prejudice", "mp3", ("Rupert Ashdown",)),
    ("Pride and Prejudice", "m4b", ("Eleanor Price & Co.",)),
    ("Deep Lattice", "mp3", None), ("Death at the Vicarage Fête", "mp3", None),
    ("Neon Hex", "m4a", None),
]
_RADIO = [
    ("The Midnight Wireless Hour", ("Various",), ("The Wireless Players",), 130),
    ("Laughing Matters, Volume 1", ("Various",), ("Frank Doyle",), 127),
]


@dataclass(frozen=True)
class CatalogueEntry:
    """One torrent on the simulated tracker."""

    id: int
    title: str
    authors: tuple[str, ...]
    narrators: tuple[str, ...]
    series: tuple[tuple[str, str | None], ...]
    category: int
    main_category: int
    language: int
    filetype: str
    content: TorrentContent
    added: datetime
    seeders: int = 10
    leechers: int = 0
    times_completed: int = 0
    free: bool = False
    vip: bool = False  # VIP torrent: free for VIP-class accounts (fl_vip)
    tags: str = ""
    description: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def category_name(self) -> str:
        names = CATEGORIES if self.main_category == AUDIOBOOKS else RADIO_CATEGORIES
        prefix = "Audiobooks" if self.main_category == AUDIOBOOKS else "Radio"
        return f"{prefix} - {names.get(self.category, 'Other')}"

    @property
    def lang_code(self) -> str:
        return LANGUAGES.get(self.language, "ENG")

    @property
    def size(self) -> int:
        return self.content.total_size

    def with_changes(self, **changes: object) -> CatalogueEntry:
        return replace(self, **changes)  # type: ignore[arg-type]


def person_id(name: str) -> int:
    """A stable id for an author, narrator or series name."""
    return 1000 + zlib.crc32(name.casefold().encode()) % 900_000


def _files(rng: random.Random, title: str, author: str, fmt: str) -> tuple[str, list]:
    """Torrent name and (path, size) list for an edition; sizes are kept small."""
    safe = title.replace("/", "-").replace(":", " -")
    if fmt == "m4b":
        name = f"{safe}.m4b"
        return name, [(name, rng.randint(192, 768) * 1024)]
    parts = rng.randint(3, 8) if fmt == "mp3" else 2
    files = [(f"{safe} - Part {i:02d}.{fmt}", rng.randint(48, 256) * 1024)
             for i in range(1, parts + 1)]
    if fmt == "mp3":
        files.append(("cover.jpg", rng.randint(8, 24) * 1024))
    return f"{author} - {safe}", files


def _edition(index: int, seed: int, work: tuple, fmt: str | None,
             narrators: tuple[str, ...] | None, main: int = AUDIOBOOKS) -> CatalogueEntry:
    title, authors, work_narrators, series, position, category, language = work
    rng = random.Random(f"{seed}:{index}:{title}")  # noqa: S311 - simulation data
    fmt = fmt or rng.choices(["m4b", "mp3", "m4a"], weights=[6, 3, 1])[0]
    entry_id = FIRST_ID + index
    name, files = _files(rng, title, authors[0], fmt)
    bitrate = {"m4b": 64, "mp3": 128, "m4a": 96}[fmt]
    # Fixed rhythm of flags so every seed has free, VIP-free and paid-only torrents.
    free = (index + seed) % 9 == 0
    vip = not free and (index + seed) % 3 == 0
    return CatalogueEntry(
        id=entry_id,
        title=title,
        authors=authors,
        narrators=narrators or work_narrators,
        series=((series, position),) if series else (),
        category=category,
        main_category=main,
        language=language,
        filetype=fmt,
        content=generated_content(f"{seed}:{entry_id}", name, files),
        added=datetime(2025, 9, 1, 12, 0, tzinfo=UTC) - timedelta(hours=index * 37 + seed),
        seeders=rng.choice([0, 1, 2, 5, 8, 13, 21, 34, 55, 120]),
        leechers=rng.randint(0, 4),
        times_completed=rng.randint(0, 400),
        free=free,
        vip=vip,
        tags=f"{bitrate}Kb {'2 channel Stereo' if fmt == 'mp3' else '1 channel Mono'}",
        description=f"An unabridged reading of {title} by {', '.join(authors)}. "
        "Simulated catalogue entry.",
    )


def seed_catalogue(seed: int = 1) -> list[CatalogueEntry]:
    """The starting catalogue: every work once, extra editions, a few radio shows."""
    entries = [_edition(i, seed, work, None, None) for i, work in enumerate(_WORKS)]
    by_title = {work[0]: work for work in _WORKS}
    for title, fmt, narrators in _EXTRA_EDITIONS:
        entries.append(_edition(len(entries), seed, by_title[title], fmt, narrators))
    for title, authors, narrators, category in _RADIO:
        work = (title, authors, narrators, None, None, category, 1)
        entries.append(_edition(len(entries), seed, work, "mp3", None, main=RADIO))
    return entries


def new_entry(entry_id: int, seed: int, *, title: str, added: datetime,
              authors: tuple[str, ...] = ("Unknown Author",), filetype: str = "m4b",
              **facts: object) -> CatalogueEntry:
    """An entry with generated content; `facts` are any other CatalogueEntry fields."""
    rng = random.Random(f"{seed}:{entry_id}:{title}")  # noqa: S311 - simulation data
    name, files = _files(rng, title, authors[0] if authors else "Unknown Author", filetype)
    defaults: dict = {"narrators": (), "series": (), "category": 41,
                      "main_category": AUDIOBOOKS, "language": 1}
    return CatalogueEntry(
        id=entry_id, title=title, authors=tuple(authors), filetype=filetype,
        content=generated_content(f"{seed}:{entry_id}", name, files), added=added,
        **{**defaults, **facts},  # type: ignore[arg-type]
    )
