"""The library scan's decisions (R13), with no I/O: which book folders are new, changed,
unchanged or moved; which books have lost every file; which fields the scan may write;
and when a book must be flagged because none of its audio can be read.

The scan service walks the folder and reads the database into `SeenFile`s and a
`LibraryState`; `plan_scan` turns them into a `ScanPlan`. Paths are the database's keys
(absolute strings); `rel` holds a file's parts relative to the library root, which is
what books are grouped by (`folder_names.group_book_folders`, ABS's rules).

Rules kept here:
- a file whose size and mtime are unchanged is never read again;
- a book none of whose files changed (and that is not marked missing) is unchanged;
- files of one book found in two folders: the folder the book is filed at (or else the
  first) keeps the book, the other becomes a new book;
- a new folder whose files all have a vanished twin (same name, size and mtime) in one
  book whose files are all gone is that book, moved;
- a field is written only where the scan may (`scan_writes`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from mamcrawler.domain.folder_names import group_book_folders

# The sources the scan records in FieldSource: anything else was set by another part.
SCAN_SOURCES = frozenset({"folder", "tags", "txt", "opf"})
# Scan fields that also hold another field a person can protect separately.
FIELD_PARTS = {"series": ("series_position",)}
UNREADABLE_MARK = "library scan: no audio file of this book can be read: "
REASON_SEPARATOR = " | "  # between the review reasons of different parts
_MTIME_SLACK = 1e-6  # a float column may round the last digits


class Status(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    MOVED = "moved"
    UNCHANGED = "unchanged"


class SeenFile(NamedTuple):
    """A file found by the walk."""

    path: str
    rel: tuple[str, ...]
    size: int
    mtime: float
    sidecar: bool  # reader.txt / .opf: joins the book of its folder, never makes one


class KnownFile(NamedTuple):
    """A file the database knows (LibraryFile)."""

    book_id: int | None
    size: int
    mtime: float | None
    unreadable: str | None


@dataclass(frozen=True)
class LibraryState:
    """The database's view of the library before the scan."""

    known: Mapping[str, KnownFile]  # path -> file
    books: Mapping[str, int]  # library_path -> book id, for books filed under the root
    missing: frozenset[int] = frozenset()  # books already marked missing


@dataclass(slots=True)
class BookPlan:
    key: tuple[str, ...]  # the book folder's parts (a root file's own name)
    folder: str
    files: list[SeenFile]
    to_read: Sequence[SeenFile]
    vanished: Sequence[str]  # known files of this book that are gone
    book_id: int | None
    status: Status


@dataclass
class ScanPlan:
    books: list[BookPlan]
    missing: dict[int, str] = field(default_factory=dict)  # book id -> its folder
    orphans: list[str] = field(default_factory=list)  # vanished files of no book

    def count(self, status: Status) -> int:
        return sum(plan.status is status for plan in self.books)


def plan_scan(root: str, seen: Sequence[SeenFile], state: LibraryState, *,
              sep: str = "/") -> ScanPlan:
    """What the scan does with each book folder under `root` (joined with `sep`)."""
    groups = group_book_folders(s.rel for s in seen if not s.sidecar)
    by_rel = {s.rel: s for s in seen}
    for s in seen:
        if s.sidecar and s.rel[:-1] in groups:
            groups[s.rel[:-1]].append(s.rel)
    present = {s.path for s in seen}
    vanished: dict[int | None, list[str]] = {}
    for path, known in state.known.items():
        if path not in present:
            vanished.setdefault(known.book_id, []).append(path)
    head = root.rstrip(sep) + sep
    plans = [_plan_book(key, head + sep.join(key), [by_rel[r] for r in rels], state,
                        vanished) for key, rels in groups.items()]
    _one_folder_per_book(plans, state)
    kept = {plan.book_id for plan in plans if plan.book_id is not None}
    gone = {bid for bid in vanished if bid is not None and bid not in kept}
    _adopt_moves(plans, gone, vanished, state.known, sep)
    folders = {bid: path for path, bid in state.books.items() if bid in gone} if gone else {}
    missing = {bid: folders.get(bid) or common_folder(vanished[bid], sep) for bid in gone}
    return ScanPlan(plans, missing, vanished.get(None, []))


def _plan_book(key: tuple[str, ...], folder: str, files: list[SeenFile],
               state: LibraryState, vanished: dict[int | None, list[str]]) -> BookPlan:
    # Runs once per book on every rescan: kept to plain loops and lookups.
    owners: dict[int, int] = {}
    stale: list[SeenFile] | None = None  # made only when there is something to read
    owned = 0
    known = state.known.get
    for seen in files:
        row = known(seen.path)
        if row is not None and row.book_id is not None:
            owners[row.book_id] = owners.get(row.book_id, 0) + 1
            owned += 1
        if row is None or row.size != seen.size or row.mtime is None \
                or abs(row.mtime - seen.mtime) > _MTIME_SLACK:
            if stale is None:
                stale = []
            stale.append(seen)
    if len(owners) == 1:
        book_id: int | None = next(iter(owners))
    elif owners:  # the book most of the files belong to (the first one on a tie)
        book_id = max(owners, key=owners.__getitem__)
    else:
        book_id = state.books.get(folder)
    gone = vanished.get(book_id) if book_id is not None else None
    if book_id is None:
        status = Status.NEW
    elif stale or gone or len(owners) > 1 or owned < len(files) or book_id in state.missing:
        status = Status.CHANGED
    else:
        status = Status.UNCHANGED
    return BookPlan(key, folder, files, stale or (), tuple(gone) if gone else (), book_id, status)


def _one_folder_per_book(plans: list[BookPlan], state: LibraryState) -> None:
    claimed: dict[int, BookPlan] = {}
    for plan in plans:
        if plan.book_id is None:
            continue
        first = claimed.setdefault(plan.book_id, plan)
        if first is plan:
            continue
        keeper = plan if state.books.get(plan.folder) == plan.book_id else first
        other = first if keeper is plan else plan
        keeper.vanished = keeper.vanished or other.vanished
        other.book_id, other.status, other.vanished = None, Status.NEW, ()
        claimed[plan.book_id] = keeper


def _adopt_moves(plans: list[BookPlan], gone: set[int],
                 vanished: dict[int | None, list[str]], known: Mapping[str, KnownFile],
                 sep: str) -> None:
    twins = {(path.rsplit(sep, 1)[-1], known[path].size, known[path].mtime): bid
             for bid in gone for path in vanished[bid]}
    if not twins:
        return
    for plan in plans:
        if plan.status is not Status.NEW:
            continue
        owners = {twins.get((s.rel[-1], s.size, s.mtime)) for s in plan.files}
        bid = owners.pop() if len(owners) == 1 else None
        if bid is not None and bid in gone:
            plan.book_id, plan.status, plan.vanished = bid, Status.MOVED, tuple(vanished[bid])
            gone.discard(bid)


def common_folder(paths: Sequence[str], sep: str = "/") -> str:
    """The deepest folder holding every one of `paths` (files)."""
    parts = [p.split(sep)[:-1] for p in paths]
    common = parts[0]
    for other in parts[1:]:
        depth = 0
        while depth < min(len(common), len(other)) and common[depth] == other[depth]:
            depth += 1
        common = common[:depth]
    return sep.join(common) or sep


class HeldField(NamedTuple):
    """A book field's recorded source (FieldSource)."""

    source: str
    protected: bool


class Write(NamedTuple):
    """One field the scan writes: `new_source` when no source was recorded yet."""

    field: str
    value: Any
    source: str
    old: Any
    new_source: bool

    @property
    def changes_value(self) -> bool:
        return self.old != self.value


def scan_writes(combined: Mapping[str, tuple[Any, str]], held: Mapping[str, HeldField],
                current: Mapping[str, Any]) -> list[Write]:
    """The fields of an existing book the scan may write, from `combined` (field ->
    (value, source)): never a protected field (a protected series position guards the
    series too); only a field the scan itself set before, or one still empty — a value
    another source set (the importer, the metadata merge) is left to the merge (R15)."""
    writes = []
    for name, (value, source) in combined.items():
        was = held.get(name)
        if was is not None and (was.protected or was.source not in SCAN_SOURCES):
            continue
        if any(held[part].protected for part in FIELD_PARTS.get(name, ()) if part in held):
            continue
        if was is None and current.get(name) not in (None, "", []):
            continue
        writes.append(Write(name, value, source, current.get(name), was is None))
    return writes


def unreadable_reason(audio: Iterable[tuple[str, str | None]]) -> str | None:
    """Why a book must be reviewed when none of its audio files (name, unreadable reason
    or None when read) can be read; None when one can, or when it has none."""
    files = list(audio)
    if not files or any(reason is None for _, reason in files):
        return None
    return UNREADABLE_MARK + "; ".join(f"{name} ({reason})" for name, reason in files)


def review_after_scan(flagged: bool, reason: str | None, scan_reason: str | None
                      ) -> tuple[bool, str | None]:
    """The book's review flag and reason once the scan has judged its audio: the scan's
    own reason (first, as other parts expect) replaces the one it gave before; other
    parts' reasons stay; the flag is lifted when no reason is left but the scan's."""
    parts = (reason or "").split(REASON_SEPARATOR) if flagged and reason else []
    others = [p for p in parts if not p.startswith(UNREADABLE_MARK)]
    if scan_reason:
        return True, REASON_SEPARATOR.join([scan_reason, *others])
    if len(others) < len(parts):
        return bool(others), REASON_SEPARATOR.join(others) or None
    return flagged, reason
