"""Series and author completion (R18): which books of a bibliography are gaps, and what
becomes of each gap. Pure.

For one followed series or author the shell hands in its bibliography (`bibliography.
collect`), what the library holds, and what is known about earlier gaps; `decide` gives
every book one verdict with its reason:

- owned: the library holds it (same ASIN, same series position, or the same title and
  author by the matching distance), or its wanted entry is done. An omnibus ("1-3") in
  the library holds books 1 to 3 only when ALLOW_OMNIBUS is on; a dramatized copy holds
  the narrated book only when ALLOW_DRAMATIZED is on; an abridged copy does not hold the
  book for a follow that wants unabridged editions;
- declined: the person said no (a wanted entry they cancelled or removed, or a gap they
  declined); it is never wanted again by itself;
- want: a released gap the tracker has: it goes to the wanted list;
- record: a gap kept on the missing list only: a pre-order (wanted once released), not
  on the tracker (yet), no audiobook edition, an omnibus whose books are listed one by
  one, wanting switched off (DISCOVERY_POLICY=record), or its downloads were given up.
Only gaps the tracker lists become wanted: a wanted book is searched on the tracker every
day until found, and a book not uploaded yet would cost a request a day for nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from mamcrawler.domain.bibliography import (
    BibBook,
    Bibliography,
    Skipped,
    Subject,
    SubjectKind,
    same_name,
)
from mamcrawler.domain.matching import MEDIUM, STRONG, BookTarget, MatchWeights, match
from mamcrawler.domain.records import Release, SeriesRef
from mamcrawler.domain.series_position import is_range, position_span

FOLLOW_DEFAULTS = ("none", "series", "all")
DISCOVERY_POLICIES = ("followed", "free", "narrator", "all", "record")


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
    followed until a person says otherwise) or all (series and authors; an author followed
    this way gets their new books only).
    `discovery_policy` (what category sync wants by itself): followed (new releases by
    followed authors or in followed series), free (any new release that costs no ratio),
    narrator (any new release read by a narrator you like: LIKED_NARRATORS, else the
    narrators of your library), all (every new release in a followed category) or record
    (nothing, finds and gaps are only recorded). Every policy but record wants gaps of
    followed series and authors.
    `tracker_requests_per_weekly_run`: tracker searches one run of `completion` or
    `category_sync` may send.
    """

    follow_library_by_default: str = "all"
    completion_language: str | None = "english"
    allow_omnibus: bool = False
    allow_dramatized: bool = False
    tracker_requests_per_weekly_run: int = 100
    discovery_policy: str = "followed"
    top10_discovery: bool = True
    liked_narrators: tuple[str, ...] = ()

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
    abridged: bool | None = None
    dramatized: bool = False


@dataclass(frozen=True)
class KnownGap:
    """What is recorded about a book already: its missing-book status (None: not
    recorded), the status of its wanted entry (None: not on the wanted list), and
    `removed`: a job put it on the wanted list and the entry is gone (the person
    removed it)."""

    status: str | None = None
    wanted_status: str | None = None
    wanted_id: int | None = None
    removed: bool = False


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
            kinds = Counter(s.kind for s in self.skipped)
            text += f"; {len(self.skipped)} listings left out (" + ", ".join(
                f"{n} {kind}" for kind, n in sorted(kinds.items())) + ")"
        return text


@dataclass(frozen=True)
class _Context:
    subject: Subject
    owned: Sequence[OwnedBook]
    policy: CompletionPolicy
    today: date
    singles: tuple[tuple[float, float], ...]  # positions listed as single books


def decide(subject: Subject, bibliography: Bibliography, owned: Sequence[OwnedBook],
           known: Mapping[str, KnownGap], policy: CompletionPolicy,
           today: date | None = None) -> SubjectResult:
    """One verdict per book of `bibliography`; `known` is keyed by BibBook.key. `today`
    decides which books are pre-orders (None: none are)."""
    singles = tuple(span for b in bibliography.books if not b.omnibus
                    and (span := position_span(b.position)) is not None)
    ctx = _Context(subject, owned, policy, today or date.max, singles)
    verdicts = tuple(_verdict(ctx, book, known.get(book.key, KnownGap()))
                     for book in bibliography.books)
    return SubjectResult(subject, verdicts, bibliography.skipped)


def _verdict(ctx: _Context, book: BibBook, known: KnownGap) -> BookVerdict:
    holder = _held(ctx, book)
    if holder is not None:
        return BookVerdict(book, GapAction.OWNED, f"in the library as '{holder.title}'")
    if known.wanted_status == "done":
        return BookVerdict(book, GapAction.OWNED, "downloaded already (its wanted entry is "
                           "done)")
    where = _where(ctx.subject, book)
    if known.status == GapStatus.DECLINED or known.wanted_status == "cancelled":
        return BookVerdict(book, GapAction.DECLINED,
                           f"{where}: you declined it; want it by hand to change that")
    if known.removed:
        return BookVerdict(book, GapAction.DECLINED, f"{where}: you removed it from the "
                           "wanted list; want it by hand to change that")
    if known.wanted_status == "abandoned":
        return BookVerdict(book, GapAction.RECORD, f"{where}: its downloads were given up "
                           "(retry the download to try again)")
    waiting = _waiting(ctx, book, where)
    if waiting:
        return BookVerdict(book, GapAction.RECORD, waiting)
    if not ctx.policy.wants:
        return BookVerdict(book, GapAction.RECORD, f"{where}: on the tracker; "
                           "DISCOVERY_POLICY=record, so want it by hand")
    uploads = len(book.release_ids)
    return BookVerdict(book, GapAction.WANT, f"{where}: missing from the library, on the "
                       f"tracker ({uploads} upload{'s' if uploads != 1 else ''})")


def _waiting(ctx: _Context, book: BibBook, where: str) -> str | None:
    """Why a gap is recorded but not wanted (yet), if it is."""
    if not book.released_by(ctx.today):
        return f"{where}: a pre-order, released on {book.release_date}; wanted after release"
    if not book.audio:
        return f"{where}: no audiobook edition known yet"
    if book.omnibus and _all_single(ctx, book):
        return f"{where}: an omnibus of books listed one by one; those are looked for instead"
    if not book.on_tracker:
        return (f"{where}: listed by {', '.join(book.sources)} but not on the tracker yet; "
                "wanted once a completion run finds it there")
    return None


def _all_single(ctx: _Context, book: BibBook) -> bool:
    span = position_span(book.position)
    if span is None:
        return False
    whole = [p for p in range(int(span[0]), int(span[1]) + 1) if span[0] <= p <= span[1]]
    return bool(whole) and all(any(s[0] <= p <= s[1] for s in ctx.singles) for p in whole)


def _held(ctx: _Context, book: BibBook) -> OwnedBook | None:
    policy = ctx.policy
    return owned_copy(book, ctx.owned, allow_omnibus=policy.allow_omnibus,
                      allow_dramatized=policy.allow_dramatized,
                      unabridged_only=ctx.subject.rules.unabridged_only)


def _where(subject: Subject, book: BibBook) -> str:
    if subject.kind is SubjectKind.SERIES:
        number = f"book {book.position}" if book.position else "a book"
        return f"{number} of {subject.name}"
    return f"a book by {subject.name}"


def owned_copy(book: BibBook, owned: Sequence[OwnedBook], *, allow_omnibus: bool = False,
               allow_dramatized: bool = False,
               unabridged_only: bool = True) -> OwnedBook | None:
    """The library's copy of `book`, if any.

    Same ASIN; else, when both have a position in the book's series, the position decides
    ("Ravenhold: Interlude", book 2.5, is not "Ravenhold", book 1, however alike the
    titles; an owned "1-3" omnibus holds book 2 only when omnibus editions are allowed);
    else title and author must match strongly or medium by the matching distance. A
    dramatized copy counts only when dramatized editions are allowed, an abridged one
    only when the follow takes abridged editions.
    """
    usable = [c for c in owned if (allow_dramatized or not c.dramatized)
              and not (unabridged_only and c.abridged)]
    asins = {a.casefold() for a in (book.asins or ((book.asin,) if book.asin else ()))}
    for copy in usable:
        if copy.asin and copy.asin.casefold() in asins:
            return copy
    for copy in usable:
        held = _position_in(copy, book.series)
        if book.position and held:
            if _covers(held, book.position, allow_omnibus):
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


def _covers(held: str, wanted: str, allow_omnibus: bool) -> bool:
    span, point = position_span(held), position_span(wanted)
    if span is None or point is None:
        return held.strip().casefold() == wanted.strip().casefold()
    if is_range(held) and span != point and not allow_omnibus:
        return False
    return span[0] <= point[0] and point[1] <= span[1]


_WEIGHTS = MatchWeights()


def _same_title(book: BibBook, copy: OwnedBook) -> bool:
    target = BookTarget(title=copy.title, authors=copy.authors, series_name=book.series)
    release = Release(id="", title=book.title, authors=(book.author,) if book.author else ())
    return match(target, release, _WEIGHTS).grade in (STRONG, MEDIUM)
