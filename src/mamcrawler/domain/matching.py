"""Is this release the wanted book? A distance made of named penalties. Pure.

Like beets' autotag distance: each aspect (title, authors, narrator, series position,
language, abridged) gives a penalty in [0, 1]; the distance is their weighted mean over
the aspects that could be checked, so missing data neither helps nor hurts. Thresholds
turn the distance into a grade, and a near-total mismatch on a critical aspect (title,
authors, language) makes the grade "none" whatever the rest says: the same title by
another author is another book.

Titles are compared after normalisation with rapidfuzz `ratio`/`token_sort_ratio`, never
`token_set_ratio`: a subset scores 100 there, so "Dune" would equal "Dune Messiah".
Series labels ("Mistborn 1:", "(Mistborn, Book 1)") and edition words are dropped for
free; dropping any other subtitle costs a little.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

from mamcrawler.domain.quality import is_abridged
from mamcrawler.domain.records import Release
from mamcrawler.domain.series_position import normalize_position
from mamcrawler.domain.text import fold, normalize_title

STRONG, MEDIUM, WEAK, NONE = "strong", "medium", "weak", "none"
GRADES = (STRONG, MEDIUM, WEAK, NONE)  # best first

# not "/" or ";": they join the titles of an omnibus, and one of them must not match alone
_PARTS = re.compile(r"\s*(?::|\(|\)|\[|\]|\{|\}|\s[-–—]\s)\s*")
_NUMERAL = re.compile(r"^(\d+(\.\d+)?|[ivxlc]+|one|two|three|four|five|six|seven|eight|nine|ten)$")
_FREE_WORDS = frozenset({
    "book", "books", "bk", "volume", "vol", "part", "series", "no", "number", "episode",
    "unabridged", "audiobook", "audio", "edition", "novel", "a", "the", "of", "and",
    "dramatized", "dramatised", "full", "cast", "retail", "m4b", "mp3", "m4a", "aac",
})
_TITLE_POSITION = re.compile(r"\b(?:book|bk|volume|vol|number)\s*(\d+(?:\.\d+)?)\b")
_TRAILING_ARTICLE = re.compile(r"^(.*?),\s*(the|a|an)$", re.I)  # "Hobbit, The"
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md", "dr", "prof"})
_LANGUAGE_SPELLINGS = (  # canonical ISO 639-2/B code first, then spellings seen
    "eng en english", "ger de deu german deutsch", "fre fr fra french francais",
    "spa es spanish espanol", "ita it italian italiano", "dut nl nld dutch nederlands",
    "por pt portuguese", "swe sv swedish", "rus ru russian", "jpn ja japanese")
_LANGUAGES = {alias: names.split()[0] for names in _LANGUAGE_SPELLINGS for alias in names.split()}


@dataclass(frozen=True)
class BookTarget:
    """The wanted book, as far as it is known. `narrators` are preferred, not required."""

    title: str
    authors: tuple[str, ...] = ()
    narrators: tuple[str, ...] = ()
    series_name: str | None = None
    series_position: str | None = None
    expected_duration_s: float | None = None
    language: str | None = None


@dataclass(frozen=True)
class MatchWeights:
    """How much each penalty counts, and how similarity maps to a penalty.

    A similarity (0-100) at or below `title_floor` is a full title penalty of 1; between
    the floor and 100 the penalty falls linearly to 0. `subtitle_cost` is taken off the
    title similarity (as a fraction) when a non-series subtitle had to be dropped.
    """

    title: float = 4.0
    authors: float = 3.0
    narrator: float = 0.5
    series_position: float = 2.0
    language: float = 2.0
    abridged: float = 2.0
    title_floor: float = 60.0
    subtitle_cost: float = 0.05

    def __post_init__(self) -> None:
        weights = (self.title, self.authors, self.narrator, self.series_position,
                   self.language, self.abridged)
        if min(weights) < 0 or self.title <= 0:
            raise ValueError("weights must be >= 0 and the title weight > 0")
        if not 0 <= self.title_floor < 100 or not 0 <= self.subtitle_cost <= 1:
            raise ValueError("need 0 <= title_floor < 100 and 0 <= subtitle_cost <= 1")


@dataclass(frozen=True)
class MatchThresholds:
    """Distance limits of each grade, and the critical-mismatch rule."""

    strong: float = 0.12
    medium: float = 0.25
    weak: float = 0.45
    mismatch: float = 0.75  # a critical penalty at or above this makes the grade "none"
    critical: tuple[str, ...] = ("title", "authors", "language")

    def __post_init__(self) -> None:
        if not 0 <= self.strong <= self.medium <= self.weak <= 1:
            raise ValueError("need 0 <= strong <= medium <= weak <= 1")


@dataclass(frozen=True)
class Penalty:
    """One named aspect: its penalty in [0, 1], its weight, and what was compared."""

    name: str
    value: float
    weight: float
    note: str


@dataclass(frozen=True)
class Match:
    """How far a release is from the wanted book, and why."""

    distance: float
    grade: str
    penalties: tuple[Penalty, ...]
    capped_by: str | None = None  # the critical penalty that forced grade "none"

    def penalty(self, name: str) -> float | None:
        """The named penalty, or None when that aspect could not be checked."""
        return next((p.value for p in self.penalties if p.name == name), None)

    def as_dict(self) -> dict[str, float]:
        return {p.name: round(p.value, 3) for p in self.penalties}

    def explain(self) -> str:
        """"strong match (distance 0.02): title 0.00 (...); authors 0.00 (...)"."""
        parts = [f"{p.name} {p.value:.2f} ({p.note})" for p in self.penalties]
        head = f"{self.grade} match (distance {self.distance:.2f})"
        if self.capped_by:
            head += f", {self.capped_by} mismatch"
        return f"{head}: " + "; ".join(parts)


def grade_rank(grade: str) -> int:
    """0 for strong ... 3 for none; lower is better."""
    return GRADES.index(grade)


def match(target: BookTarget, release: Release, weights: MatchWeights,
          thresholds: MatchThresholds | None = None) -> Match:
    """Compare a release with the wanted book. Promise: 0 <= distance <= 1, and every
    penalty that counted is listed with its note."""
    thresholds = thresholds or MatchThresholds()
    found = [
        _title_penalty(target, release, weights),
        _authors_penalty(target, release, weights),
        _narrator_penalty(target, release, weights),
        _series_penalty(target, release, weights),
        _language_penalty(target, release, weights),
        _abridged_penalty(release, weights),
    ]
    penalties = tuple(p for p in found if p is not None)
    total = sum(p.weight for p in penalties)
    distance = sum(p.value * p.weight for p in penalties) / total if total else 0.0
    distance = min(max(distance, 0.0), 1.0)
    capped = next((p.name for p in penalties
                   if p.name in thresholds.critical and p.value >= thresholds.mismatch), None)
    grade = NONE if capped else _grade(distance, thresholds)
    return Match(distance, grade, penalties, capped)


def _grade(distance: float, thresholds: MatchThresholds) -> str:
    if distance <= thresholds.strong:
        return STRONG
    if distance <= thresholds.medium:
        return MEDIUM
    if distance <= thresholds.weak:
        return WEAK
    return NONE


def _title_penalty(target: BookTarget, release: Release, weights: MatchWeights) -> Penalty:
    series = _series_names(target, release)
    best, best_pair = 0.0, ("", "")
    for wanted, wanted_cost in _title_variants(target.title, series, weights.subtitle_cost):
        for offered, offered_cost in _title_variants(release.title, series,
                                                     weights.subtitle_cost):
            similarity = _similarity(wanted, offered) - 100 * (wanted_cost + offered_cost)
            if similarity > best:
                best, best_pair = similarity, (wanted, offered)
    value = _sharpen(best, weights.title_floor)
    note = f"'{best_pair[0]}' vs '{best_pair[1]}' {best:.0f}%"
    return Penalty("title", value, weights.title, note)


def _similarity(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    return max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b))


def _sharpen(similarity: float, floor: float) -> float:
    """Similarity 100 -> penalty 0; at or below `floor` -> penalty 1; linear between."""
    return min(max((100 - similarity) / (100 - floor), 0.0), 1.0)


def _series_names(target: BookTarget, release: Release) -> tuple[str, ...]:
    names = [target.series_name or ""] + [s.name for s in release.series]
    return tuple(dict.fromkeys(n for n in (normalize_title(x) for x in names) if n))


def _title_variants(title: str, series: tuple[str, ...],
                    subtitle_cost: float) -> list[tuple[str, float]]:
    """Ways to read a title, each with what reading it that way costs.

    The whole title is free; each part on its own is free when all other parts are series
    labels or edition words, else it costs `subtitle_cost`; the non-label parts joined are
    free; the whole title with "<series> N" and "book N" removed is free.
    """
    parts = [normalize_title(_TRAILING_ARTICLE.sub(r"\2 \1", p.strip()))
             for p in _PARTS.split(title)]
    parts = [p for p in parts if p]
    labels = [_is_label(p, series) for p in parts]
    variants = [(normalize_title(title), 0.0), (_strip_series(normalize_title(title), series),
                                                0.0)]
    kept = [p for p, label in zip(parts, labels, strict=True) if not label]
    if kept:
        variants.append((" ".join(kept), 0.0))
    for part in kept:
        variants.append((part, 0.0 if len(kept) == 1 else subtitle_cost))
    return variants


def _is_label(part: str, series: Iterable[str]) -> bool:
    """True when a title part only names the series or the edition ("mistborn book 1")."""
    rest = f" {part} "
    for name in series:
        rest = rest.replace(f" {name} ", " ")
    return all(w in _FREE_WORDS or _NUMERAL.match(w) for w in rest.split())


def _strip_series(title: str, series: Iterable[str]) -> str:
    for name in series:
        title = re.sub(rf"\b{re.escape(name)}\s+(?:book\s+|vol\s+|volume\s+)?\d+(\.\d+)?\b",
                       " ", title)
    title = re.sub(r"\bbook\s+\d+(\.\d+)?\b", " ", title)
    return normalize_title(title)


def _authors_penalty(target: BookTarget, release: Release,
                     weights: MatchWeights) -> Penalty | None:
    return _people_penalty("authors", target.authors, release.authors, weights.authors)


def _narrator_penalty(target: BookTarget, release: Release,
                      weights: MatchWeights) -> Penalty | None:
    return _people_penalty("narrator", target.narrators, release.narrators, weights.narrator)


def _people_penalty(name: str, wanted: tuple[str, ...], offered: tuple[str, ...],
                    weight: float) -> Penalty | None:
    """Not checked when nothing is wanted; half a penalty when the release names nobody."""
    if not wanted:
        return None
    if not offered:
        return Penalty(name, 0.5, weight, f"release names no {name.rstrip('s')}")
    score, note = people_overlap(wanted, offered)
    return Penalty(name, 1.0 - score, weight, note)


def people_overlap(wanted: Iterable[str], offered: Iterable[str]) -> tuple[float, str]:
    """The best `person_similarity` between any wanted and any offered name, with a note
    naming the pair (any one shared person is an overlap)."""
    wanted, offered = tuple(wanted), tuple(offered)
    best, pair = 0.0, None
    for a in wanted:
        for b in offered:
            score = person_similarity(a, b)
            if score > best:
                best, pair = score, (a, b)
    if pair is None:
        return 0.0, f"wanted {', '.join(wanted)}; release has {', '.join(offered)}"
    return best, f"{pair[0]} ~ {pair[1]} {best:.0%}"


def person_similarity(a: str, b: str) -> float:
    """1.0 same person; 0.95 same first and last name but middle names differ or a surname
    spelt slightly differently; 0.9 initials agree ("J. R. R. Tolkien" ~ "John Ronald Reuel
    Tolkien"); 0.8 one side gives only the surname; 0.0 otherwise, including the same
    surname with another first name."""
    ta, tb = _person_tokens(a), _person_tokens(b)
    if not ta or not tb:
        return 0.0
    if ta == tb or sorted(ta) == sorted(tb):
        return 1.0
    if fuzz.ratio(ta[-1], tb[-1]) < 85:
        return 0.0
    score = _given_names_similarity(ta[:-1], tb[:-1])
    return score if ta[-1] == tb[-1] else min(score, 0.95)


def _given_names_similarity(ga: list[str], gb: list[str]) -> float:
    if not ga or not gb:
        return 0.8
    if "".join(ga) == "".join(gb):
        return 1.0
    if _abbreviated(ga) or _abbreviated(gb):
        la, lb = _initials(ga), _initials(gb)
        return 0.9 if la.startswith(lb) or lb.startswith(la) else 0.0
    return 0.95 if fuzz.ratio(ga[0], gb[0]) >= 85 else 0.0


def _person_tokens(name: str) -> list[str]:
    """Folded name words, "Last, First" turned round, suffixes (Jr, PhD) dropped."""
    if name.count(",") == 1:
        last, first = (x.strip() for x in name.split(","))
        if first and fold(first) not in _SUFFIXES:
            name = f"{first} {last}"
    return [w for w in fold(name.replace(".", " ")).split() if w not in _SUFFIXES]


def _abbreviated(given: list[str]) -> bool:
    """"j r r" or "jrr" (a short word without vowels) are initials, "jo" is a name."""
    if all(len(w) == 1 for w in given):
        return True
    return len(given) == 1 and len(given[0]) <= 3 and not set(given[0]) & set("aeiouy")


def _initials(given: list[str]) -> str:
    if len(given) == 1 and _abbreviated(given):
        return given[0]
    return "".join(w[0] for w in given)


def _series_penalty(target: BookTarget, release: Release,
                    weights: MatchWeights) -> Penalty | None:
    wanted = _position(target.series_position)
    offered = release_position(target, release)
    if wanted is None or offered is None:
        return None
    same = wanted == offered
    note = f"wanted #{wanted}, release #{offered}"
    return Penalty("series_position", 0.0 if same else 1.0, weights.series_position, note)


def release_position(target: BookTarget, release: Release) -> str | None:
    """The release's position in the target's series: from its series data when a name
    matches (or the target names no series), else from "Book N" in its title."""
    wanted_name = normalize_title(target.series_name or "")
    for ref in release.series:
        if not wanted_name or _similarity(wanted_name, normalize_title(ref.name)) >= 90:
            position = _position(ref.position)
            if position is not None:
                return position
    title = fold(release.title)
    found = _TITLE_POSITION.search(title)
    if not found and wanted_name:
        found = re.search(rf"\b{re.escape(wanted_name)}\s+(\d+(?:\.\d+)?)\b", title)
    return _position(found.group(1)) if found else None


def _position(raw: str | None) -> str | None:
    """A position as domain.series_position reads it ("01" -> "1", "2.50" -> "2.5",
    "1 – 3" -> "1-3"); text that is no number ("Prequel") folded, so it still compares;
    blank -> None."""
    return normalize_position(raw) or fold(raw or "") or None


def _language_penalty(target: BookTarget, release: Release,
                      weights: MatchWeights) -> Penalty | None:
    wanted, offered = canonical_language(target.language), canonical_language(release.language)
    if wanted is None or offered is None:
        return None
    same = wanted == offered
    note = f"wanted {wanted}, release {offered}"
    return Penalty("language", 0.0 if same else 1.0, weights.language, note)


def canonical_language(raw: str | None) -> str | None:
    """"English", "en", "ENG" -> "eng"; unknown spellings folded; blank -> None."""
    folded = fold(raw or "")
    return _LANGUAGES.get(folded, folded) or None


def _abridged_penalty(release: Release, weights: MatchWeights) -> Penalty:
    if is_abridged(release):
        return Penalty("abridged", 1.0, weights.abridged, "release says abridged")
    return Penalty("abridged", 0.0, weights.abridged, "not marked abridged")
