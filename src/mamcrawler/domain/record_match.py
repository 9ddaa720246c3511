"""Is this metadata record about this book? The release matcher's penalties, plus runtime. Pure.

A source's record is compared with what the library knows of a book by the same named
penalties as a release (`domain.matching`: title after normalisation, authors, narrator,
series position, language), so there is one fuzzy engine, and by one penalty a release
cannot have: the runtime. Audiobookshelf ranks Audible results mostly by duration; here it
is one more named penalty, free within a minute (or 1 %), full at ten minutes (or 10 %).

A record naming no narrator gets no narrator penalty (most sources never name one).
The release matcher always counts "abridged" (a release marked abridged is unwanted); a
record only gets that penalty when both the book and the record say which edition they
are and disagree. Grades are the release matcher's: strong/medium/weak/none, with a
near-total title, author or language mismatch forcing "none".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from mamcrawler.domain.matching import (
    MEDIUM,
    NONE,
    STRONG,
    WEAK,
    BookTarget,
    Match,
    MatchThresholds,
    MatchWeights,
    Penalty,
    grade_rank,
    match,
)
from mamcrawler.domain.metadata import SourceRecord
from mamcrawler.domain.records import Release

USABLE = (STRONG, MEDIUM)  # grades whose record may write metadata
PENALTIES = ("title", "authors", "narrator", "duration", "series_position", "language",
             "abridged")


@dataclass(frozen=True)
class RecordMatchPolicy:
    """Weights and thresholds of record matching.

    `weights` are the release matcher's (title, authors, narrator, series_position,
    language, abridged); `duration` weighs the runtime penalty, which is 0 up to
    max(`duration_free_s`, `duration_free_pct` of the shorter) apart and 1 from
    max(`duration_full_s`, `duration_full_pct`) apart, linear between.
    """

    weights: MatchWeights = field(default_factory=MatchWeights)
    thresholds: MatchThresholds = field(default_factory=MatchThresholds)
    duration: float = 2.0
    duration_free_s: float = 60.0
    duration_free_pct: float = 1.0
    duration_full_s: float = 600.0
    duration_full_pct: float = 10.0

    def __post_init__(self) -> None:
        if self.duration < 0:
            raise ValueError("the duration weight must be >= 0")
        if not (0 <= self.duration_free_s < self.duration_full_s
                and 0 <= self.duration_free_pct < self.duration_full_pct):
            raise ValueError("the free runtime difference must be below the full one")

    @classmethod
    def from_weights(cls, named: Mapping[str, float]) -> RecordMatchPolicy:
        """A policy with the named weights (see PENALTIES) changed; ValueError names an
        unknown penalty."""
        unknown = sorted(set(named) - set(PENALTIES))
        if unknown:
            raise ValueError(f"unknown match penalties {', '.join(unknown)}; known: "
                             f"{', '.join(PENALTIES)}")
        base = MatchWeights()
        weights = MatchWeights(
            title=named.get("title", base.title), authors=named.get("authors", base.authors),
            narrator=named.get("narrator", base.narrator),
            series_position=named.get("series_position", base.series_position),
            language=named.get("language", base.language),
            abridged=named.get("abridged", base.abridged))
        return cls(weights=weights, duration=named.get("duration", 2.0))


@dataclass(frozen=True)
class BookFacts:
    """What the library knows of a book, as matching needs it."""

    title: str
    authors: tuple[str, ...] = ()
    narrators: tuple[str, ...] = ()
    series_name: str | None = None
    series_position: str | None = None
    duration_s: float | None = None
    language: str | None = None
    abridged: bool | None = None

    def target(self) -> BookTarget:
        return BookTarget(self.title, self.authors, self.narrators, self.series_name,
                          self.series_position, self.duration_s, self.language)


@dataclass(frozen=True)
class RecordMatch:
    """One source's best record for a book, and how well it matched."""

    source: str
    record: SourceRecord
    match: Match

    @property
    def usable(self) -> bool:
        """Strong or medium: this record may write metadata."""
        return self.match.grade in USABLE

    def explain(self) -> str:
        label = self.record.source_id or self.record.title
        return f"{self.source} '{label}': {self.match.explain()}"


def parse_weights(text: str | None) -> dict[str, float]:
    """Named weights from "title=4,authors=3,duration=2"; ValueError names the bad part.
    Whether the names are known is checked by `RecordMatchPolicy.from_weights`."""
    named: dict[str, float] = {}
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        try:
            weight = float(value) if sep else -1.0
        except ValueError:
            weight = -1.0
        if weight < 0 or weight != weight or weight == float("inf"):
            raise ValueError(f"{part!r} is not penalty=weight with a weight >= 0")
        named[name.strip().lower()] = weight
    return named


def match_record(book: BookFacts, record: SourceRecord,
                 policy: RecordMatchPolicy | None = None) -> Match:
    """How far `record` is from `book`. Promise: 0 <= distance <= 1; every penalty that
    counted is listed; a critical mismatch (title, authors, language) grades "none"."""
    policy = policy or RecordMatchPolicy()
    as_release = Release(id=record.source_id or "", title=record.title,
                         authors=record.authors, narrators=record.narrators,
                         series=record.series, language=record.language)
    base = match(book.target(), as_release, policy.weights, policy.thresholds)
    # Many sources never name narrators (Open Library, Google, iTunes): silence there is
    # missing data, not a mismatch.
    penalties = [p for p in base.penalties if p.name != "abridged"
                 and not (p.name == "narrator" and not record.narrators)]
    for extra in (_duration_penalty(book, record, policy), _edition_penalty(book, record,
                                                                           policy)):
        if extra is not None:
            penalties.append(extra)
    return _graded(tuple(penalties), base.capped_by, policy.thresholds)


def best_matches(book: BookFacts, records: Mapping[str, Iterable[SourceRecord]],
                 policy: RecordMatchPolicy | None = None) -> dict[str, RecordMatch]:
    """Per source, its best record for `book` (best grade, then smallest distance, then
    the one the source listed first); sources without records are left out."""
    best: dict[str, RecordMatch] = {}
    for source, found in records.items():
        for record in found:
            candidate = RecordMatch(source, record, match_record(book, record, policy))
            held = best.get(source)
            if held is None or _key(candidate) < _key(held):
                best[source] = candidate
    return best


def _key(found: RecordMatch) -> tuple[int, float]:
    return grade_rank(found.match.grade), round(found.match.distance, 9)


def _graded(penalties: tuple[Penalty, ...], capped_by: str | None,
            thresholds: MatchThresholds) -> Match:
    total = sum(p.weight for p in penalties)
    distance = sum(p.value * p.weight for p in penalties) / total if total else 0.0
    distance = min(max(distance, 0.0), 1.0)
    if capped_by:
        grade = NONE
    elif distance <= thresholds.strong:
        grade = STRONG
    elif distance <= thresholds.medium:
        grade = MEDIUM
    elif distance <= thresholds.weak:
        grade = WEAK
    else:
        grade = NONE
    return Match(distance, grade, penalties, capped_by)


def duration_penalty_value(book_s: float, record_s: float,
                           policy: RecordMatchPolicy | None = None) -> float:
    """0 within the free difference, 1 from the full one, linear between; percentages
    are of the shorter length, so the penalty is symmetric."""
    policy = policy or RecordMatchPolicy()
    shorter = min(book_s, record_s)
    free = max(policy.duration_free_s, shorter * policy.duration_free_pct / 100)
    full = max(policy.duration_full_s, shorter * policy.duration_full_pct / 100)
    difference = abs(book_s - record_s)
    return min(max((difference - free) / (full - free), 0.0), 1.0)


def _duration_penalty(book: BookFacts, record: SourceRecord,
                      policy: RecordMatchPolicy) -> Penalty | None:
    if not book.duration_s or not record.duration_s or policy.duration == 0:
        return None
    value = duration_penalty_value(book.duration_s, record.duration_s, policy)
    note = f"book {_minutes(book.duration_s)}, record {_minutes(record.duration_s)}"
    return Penalty("duration", value, policy.duration, note)


def _edition_penalty(book: BookFacts, record: SourceRecord,
                     policy: RecordMatchPolicy) -> Penalty | None:
    if book.abridged is None or record.abridged is None:
        return None
    same = book.abridged == record.abridged
    note = f"book {_edition(book.abridged)}, record {_edition(record.abridged)}"
    return Penalty("abridged", 0.0 if same else 1.0, policy.weights.abridged, note)


def _edition(abridged: bool) -> str:
    return "abridged" if abridged else "unabridged"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min"


__all__ = ["MEDIUM", "NONE", "PENALTIES", "STRONG", "USABLE", "WEAK", "BookFacts", "Match",
           "RecordMatch", "RecordMatchPolicy", "best_matches", "duration_penalty_value",
           "match_record", "parse_weights"]
