"""Series and author completion (R18): which books of a bibliography are gaps, and what
becomes of each gap. Pure.

For one followed series or author the shell hands in its bibliography (`bibliography.
collect`), what the library holds, and what is known about earlier gaps; `decide` gives
every book one verdict with its reason:

- owned: the library holds it (same ASIN, same series position, or the same title and
  author by the matching distance), or its wanted entry is done;
- declined: the person said no (a wanted entry they cancelled, or a gap they declined);
  it is never wanted again by itself;
- want: a gap the tracker has: it goes to the wanted list;
- record: a gap kept on the missing list only: not on the tracker (yet), wanting is
  switched off (DISCOVERY_POLICY=record), or its downloads were given up.
Only gaps the tracker lists become wanted: a wanted book is searched on the tracker every
day until found, and a book not uploaded yet would cost a request a day for nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from mamcrawler.domain.bibliography import (
    BibBook,
    Bibliography,
    Skipped,
    Subject,
    SubjectKind,
    parse_range,
    same_name,
)
from mamcrawler.domain.matching import MEDIUM, STRONG, BookTarget, MatchWeights, match
from mamcrawler.domain.records import Release, SeriesRef

FOLLOW_DEFAULTS = ("none", "series", "all")
DISCOVERY_POLICIES = ("followed", "all", "record")


class GapAction(StrEnum):
    OWNED = "owned"
    WANT = "want"
    RECORD = "record"
    DECLINED = "declined"


class GapStatus(StrEnum):
    """A missing book's status: an open gap, one the person declined, or one now owned."""

    MISSING = "missing"
    DECLINED = "declined"
    FILLED = "filled"


@dataclass(frozen=True)
class CompletionPolicy:
    """What completion and discovery may do (settings of the same names, upper-case).

    `follow_library_by_default`: none, series (every series with a book in the library is
    followed until a person says otherwise) or all (series and authors).
    `discovery_policy`: followed (gaps on the tracker and new releases by followed authors
    or series are wanted), all (every new release in a followed category too) or record
    (nothing is wanted by itself; gaps and finds are only recorded).
    `tracker_requests_per_weekly_run`: tracker searches one run of `completion` or
    `category_sync` may send.
    """

    follow_library_by_default: str = "series"
    completion_language: str | None = "english"
    allow_omnibus: bool = False
    tracker_requests_per_weekly_run: int = 100
    discovery_policy: str = "followed"
    top10_discovery: bool = True

    def __post_init__(self) -> None:
        if self.follow_library_by_default not in FOLLOW_DEFAULTS:
            raise ValueError(f"follow_library_by_default must be one of {FOLLOW_DEFAULTS}")
        if self.discovery_policy not in DISCOVERY_POLICIES:
            raise ValueError(f"discovery_policy must be one of {DISCOVERY_POLICIES}")
        if self.tracker_requests_per_weekly_run < 0:
            raise ValueError("tracker_requests_per_weekly_run must be >= 0")

    @property
    def wants(self) -> bool:
        """Whether gaps and finds go to the wanted list by themselves."""
        return self.discovery_policy != "record"

    def follows_by_default(self, kind: SubjectKind) -> bool:
        if kind is SubjectKind.SERIES:
            return self.follow_library_by_default in ("series", "all")
        return self.follow_library_by_default == "all"


@dataclass(frozen=True)
class OwnedBook:
    """A book the library holds, as completion compares it."""

    title: str
    authors: tuple[str, ...] = ()
    series: tuple[SeriesRef, ...] = ()
    asin: str | None = None


@dataclass(frozen=True)
class KnownGap:
    """What is recorded about a book already: its missing-book status (None: not
    recorded) and the status of its wanted entry (None: not on the wanted list)."""

    status: str | None = None
    wanted_status: str | None = None
    wanted_id: int | None = None


@dataclass(frozen=True)
class BookVerdict:
    book: BibBook
    action: GapAction
    reason: str


@dataclass(frozen=True)
class SubjectResult:
    """Every book of one subject's bibliography with its verdict, and what was left out."""

    subject: Subject
    verdicts: tuple[BookVerdict, ...]
    skipped: tuple[Skipped, ...]

    def count(self, action: GapAction) -> int:
        return sum(v.action is action for v in self.verdicts)

    @property
    def known_total(self) -> int:
        """Books the bibliography counts (owned or not)."""
        return len(self.verdicts)

    def summary(self) -> str:
        counts = Counter(v.action.value for v in self.verdicts)
        parts = [f"{counts.get(a.value, 0)} {a.value}" for a in GapAction]
        text = f"{self.subject.kind} {self.subject.name}: {len(self.verdicts)} books (" \
               + ", ".join(parts) + ")"
        if self.skipped:
            text += f"; {len(self.skipped)} listings left out"
        return text


def decide(subject: Subject, bibliography: Bibliography, owned: Sequence[OwnedBook],
           known: Mapping[str, KnownGap], policy: CompletionPolicy) -> SubjectResult:
    """One verdict per book of `bibliography`; `known` is keyed by BibBook.key."""
    verdicts = tuple(_verdict(subject, book, owned, known.get(book.key, KnownGap()), policy)
                     for book in bibliography.books)
    return SubjectResult(subject, verdicts, bibliography.skipped)


def _verdict(subject: Subject, book: BibBook, owned: Sequence[OwnedBook], known: KnownGap,
             policy: CompletionPolicy) -> BookVerdict:
    holder = owned_copy(book, owned)
    if holder is not None:
        return BookVerdict(book, GapAction.OWNED, f"in the library as '{holder.title}'")
    if known.wanted_status == "done":
        return BookVerdict(book, GapAction.OWNED, "downloaded already (its wanted entry is "
                           "done)")
    where = _where(subject, book)
    if known.status == GapStatus.DECLINED or known.wanted_status == "cancelled":
        return BookVerdict(book, GapAction.DECLINED,
                           f"{where}: you declined it; want it by hand to change that")
    if known.wanted_status == "abandoned":
        return BookVerdict(book, GapAction.RECORD, f"{where}: its downloads were given up "
                           "(retry the download to try again)")
    if not book.on_tracker:
        return BookVerdict(book, GapAction.RECORD, f"{where}: listed by "
                           f"{', '.join(book.sources)} but not on the tracker yet; wanted "
                           "once a completion run finds it there")
    if not policy.wants:
        return BookVerdict(book, GapAction.RECORD, f"{where}: on the tracker; "
                           "DISCOVERY_POLICY=record, so want it by hand")
    uploads = len(book.release_ids)
    return BookVerdict(book, GapAction.WANT, f"{where}: missing from the library, on the "
                       f"tracker ({uploads} upload{'s' if uploads != 1 else ''})")


def _where(subject: Subject, book: BibBook) -> str:
    if subject.kind is SubjectKind.SERIES:
        number = f"book {book.position}" if book.position else "a book"
        return f"{number} of {subject.name}"
    return f"a book by {subject.name}"


def owned_copy(book: BibBook, owned: Sequence[OwnedBook]) -> OwnedBook | None:
    """The library's copy of `book`, if any.

    Same ASIN; else, when both have a position in the book's series, the position decides
    (an owned "1-3" omnibus holds book 2; "Ravenhold: Interlude", book 2.5, is not
    "Ravenhold", book 1, however alike the titles); else title and author must match
    strongly or medium by the matching distance.
    """
    for copy in owned:
        if book.asin and copy.asin and book.asin.casefold() == copy.asin.casefold():
            return copy
    for copy in owned:
        held = _position_in(copy, book.series)
        if book.position and held:
            if _covers(held, book.position):
                return copy
            continue
        if _same_title(book, copy):
            return copy
    return None


def _position_in(copy: OwnedBook, series: str | None) -> str | None:
    if not series:
        return None
    return next((s.position for s in copy.series if s.position and same_name(s.name, series)),
                None)


def _covers(held: str, wanted: str) -> bool:
    span, point = parse_range(held), parse_range(wanted)
    if span is None or point is None:
        return held.strip().casefold() == wanted.strip().casefold()
    return span[0] <= point[0] and point[1] <= span[1]


_WEIGHTS = MatchWeights()


def _same_title(book: BibBook, copy: OwnedBook) -> bool:
    target = BookTarget(title=copy.title, authors=copy.authors, series_name=book.series)
    release = Release(id="", title=book.title, authors=(book.author,) if book.author else ())
    return match(target, release, _WEIGHTS).grade in (STRONG, MEDIUM)
