"""Who narrates a book (R16): credits heard in speech, weighed with named candidates. Pure.

Speech-to-text of an audiobook's opening gives a lower-case transcript without punctuation
("this is audible the way of kings by brandon sanderson narrated by michael kramer and kate
reading prelude"), where unusual names come out as dictionary words ("ray porter" was heard
as "rape torture"). So a heard name is only a hint: it is fuzzy-matched against the
candidates that tags, the tracker and metadata sources name, with the same person matching
as release matching (`domain.matching.person_similarity`).

Confidence rules (`match_narrator`):

- Candidates naming the same person (similarity >= 0.9) form one group. Each distinct
  source in a group is one piece of evidence of weight 0.5 (`SOURCE_WEIGHT`).
- A heard name supports the group it matches best: weight 0.8 x similarity
  (`SPEECH_WEIGHT`). It matches when some run of two or more of its words has similarity
  >= 0.8 with a group's name (extra words captured after the name are tolerated); failing
  that, when its last word alone is a group's surname (similarity 0.8 x 0.75 = 0.6: the
  first name was misheard).
- A heard name matching no candidate still counts when it looks like a name: two to three
  words (the first ones heard), letters only, none a common word. It forms a group "speech"
  of weight 0.35 (`HEARD_ONLY_WEIGHT`): below one agreeing source, so any candidate wins
  over it, but with no candidates it is returned.
- A group's score is the noisy-OR of its weights, 1 - prod(1 - w): agreeing sources raise
  it (one source 0.5, two 0.75, a source confirmed by speech 0.9), and it stays in [0, 1].
- The highest score wins; ties go to the candidate listed first (callers list candidates
  in their precedence order), heard-only groups come last.
- Groups named by the same source as the winner, or heard in the same credit, are
  co-narrators. Any other group is a rival: confidence = score x (1 - 0.5 x best rival's
  score). When a rival scores as high as the winner the sources disagree and nothing is
  chosen: name None, confidence 0.
- No candidates and nothing heard: name None, confidence 0. Notes the caller passes ("no
  speech in the window") are kept in the evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from mamcrawler.domain.matching import person_similarity
from mamcrawler.domain.text import fold

SOURCE_WEIGHT = 0.5
SPEECH_WEIGHT = 0.8
HEARD_ONLY_WEIGHT = 0.35
RIVAL_FACTOR = 0.5
SAME_PERSON = 0.9
SPEECH_MATCH = 0.8
SURNAME_ONLY_FACTOR = 0.75
MAX_NAME_WORDS = 4
MAX_NAMES_PER_CREDIT = 4
NO_SPEECH = "no speech in the window"
SPEECH_SOURCE = "speech"

# Verbs that credit the voice when followed by "by" ("read by", "read to you by").
_CREDIT_VERBS = frozenset({"narrated", "narration", "read", "performed", "voiced"})
_NARRATOR_NOUNS = frozenset({"narrator", "narrators"})
_JOINERS = frozenset({"and", "with"})
# Words that end a name: without punctuation, a name ends where ordinary speech resumes.
_STOP_WORDS = frozenset("""
a an the this that these those is are was were be been being am it its of for to from in
on at as by into onto over under about after before than then there here he she they we you
i me my your his her their our us him them who whom which what when where why how not no
yes so but or nor if do does did done has have had will would shall should can could may
might must all any each every some such own same very just also only again now today
chapter chapters part parts book books volume prologue epilogue introduction foreword
preface afterword prelude interlude contents copyright published publishing publisher
presented presents production productions produced recorded recording edition unabridged
abridged audible audio audiobook audiobooks studios studio welcome brought written author
authors translated edited music series novel story stories narrated narration narrator
narrators read reader performed voiced end
""".split())


@dataclass(frozen=True)
class NarratorCandidate:
    """A narrator some source names: "tags", "tracker", "audnexus", ... (free text)."""

    name: str
    source: str


@dataclass(frozen=True)
class NarratorResult:
    """The narrator chosen (None when there is no answer), a confidence in [0, 1], why,
    and where the name's spelling comes from: the source of the first candidate in the
    chosen group, or "speech" when only speech named this person. `heard` lists the
    people speech credited (candidates it matched, or names heard with no candidate), in
    the order of the result: empty when speech named nobody."""

    name: str | None
    confidence: float
    evidence: tuple[str, ...] = ()
    source: str | None = None
    heard: tuple[str, ...] = ()


@dataclass
class _Group:
    """One person: the candidates naming them, and the heard names that matched."""

    name: str
    order: int
    names: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    heard: list[tuple[str, float]] = field(default_factory=list)
    heard_only: bool = False

    def score(self) -> float:
        weights = [SOURCE_WEIGHT] * len(self.sources)
        weights += [SPEECH_WEIGHT * s for _, s in self.heard[:1]]
        if self.heard_only:
            weights.append(HEARD_ONLY_WEIGHT)
        missing = 1.0
        for weight in weights:
            missing *= 1.0 - weight
        return min(max(1.0 - missing, 0.0), 1.0)


def find_credit(transcript_text: str) -> list[str]:
    """The names a transcript credits as narrators, as heard (folded, lower case), in order,
    without repeats. Credits are "narrated/read/performed/voiced by X" (also "read to you
    by", "narration by", "narrating by") and "narrator(s) (is|are) X"; "X and Y" gives
    both names; "performed by a full cast: X, Y and Z" gives the cast. A name is at most
    four words and ends at a common word ("chapter", "the",
    "this", ...)."""
    words = fold(transcript_text or "").split()
    names: list[str] = []
    index = 0
    while index < len(words):
        start = _name_start(words, index)
        if start is None:
            index += 1
            continue
        found, index = _names_from(words, _past_cast(words, start))
        names.extend(n for n in found if n not in names)
    return names


def _name_start(words: Sequence[str], index: int) -> int | None:
    """Where a credited name begins when a credit phrase starts at `index`, else None."""
    word = words[index]
    nxt = words[index + 1:index + 4]
    if word in _NARRATOR_NOUNS:
        return index + 1 + (1 if nxt[:1] in (["is"], ["are"], ["was"]) else 0)
    if not _is_credit_verb(word):
        return None
    if nxt[:1] == ["by"]:
        return index + 2
    if nxt[:3] == ["to", "you", "by"]:
        return index + 4
    return None


def _past_cast(words: Sequence[str], start: int) -> int:
    """Past "a full cast (including)" before the names of a cast."""
    for lead in (["a", "full", "cast"], ["the", "full", "cast"], ["full", "cast"]):
        if list(words[start:start + len(lead)]) == lead:
            start += len(lead)
            return start + (1 if words[start:start + 1] in (["including"], ["of"],
                                                              ["featuring"]) else 0)
    return start


def _is_credit_verb(word: str) -> bool:
    # "narrate"/"narrating" are how a recogniser sometimes ends "narrated".
    return word in _CREDIT_VERBS or word.startswith("narrat")


def _names_from(words: Sequence[str], start: int) -> tuple[list[str], int]:
    """The names from `start` on ("a b and c d"), and the index after them."""
    names: list[str] = []
    index = start
    while len(names) < MAX_NAMES_PER_CREDIT:
        name: list[str] = []
        while index < len(words) and len(name) < MAX_NAME_WORDS:
            word = words[index]
            if word in _STOP_WORDS or word in _JOINERS or not word.isalpha():
                break
            name.append(word)
            index += 1
        if name:
            names.append(" ".join(name))
        if not name or index >= len(words) or words[index] not in _JOINERS:
            break
        index += 1  # past "and"/"with": the next co-narrator
    return names, index  # start > the credit word: the scan moves on


def looks_like_name(heard: str) -> bool:
    """True for two to three words of letters, none of them a common word."""
    words = heard.split()
    return 2 <= len(words) <= 3 and all(
        w.isalpha() and len(w) >= 2 and w not in _STOP_WORDS and w not in _JOINERS
        for w in words)


def match_narrator(heard: Iterable[str], candidates: Iterable[NarratorCandidate], *,
                   notes: Iterable[str] = ()) -> NarratorResult:
    """Choose the narrator from candidates and heard names by the rules in the module
    docstring. Never raises on any text; the result names a candidate or a heard name (title
    cased) or None, and its confidence is in [0, 1]. `notes` (e.g. NO_SPEECH) are added to
    the evidence as they are."""
    heard = [h for h in dict.fromkeys(fold(h) for h in heard) if h]
    groups = _group_candidates(candidates)
    evidence = [f"{source}: {name}" for g in groups for name, source
                in zip(g.names, g.sources, strict=True)]
    evidence += _add_heard(groups, heard)
    evidence += [n for n in notes if n]
    if not groups:
        return NarratorResult(None, 0.0, tuple(evidence or ["no candidates"]), None)
    return _choose(groups, evidence)


def _group_candidates(candidates: Iterable[NarratorCandidate]) -> list[_Group]:
    groups: list[_Group] = []
    for candidate in candidates:
        name = " ".join((candidate.name or "").split())
        if not fold(name):
            continue
        group = next((g for g in groups if _group_similarity(g, name) >= SAME_PERSON), None)
        if group is None:
            group = _Group(name=name, order=len(groups))
            groups.append(group)
        if candidate.source not in group.sources:
            group.names.append(name)
            group.sources.append(candidate.source)
    return groups


def _group_similarity(group: _Group, name: str) -> float:
    return max((person_similarity(known, name) for known in group.names or [group.name]),
               default=0.0)


def _add_heard(groups: list[_Group], heard: Sequence[str]) -> list[str]:
    """Attach each heard name to the group it matches, or add a heard-only group. Words
    heard after a matched name are tried as a further name: a recogniser can turn "and
    kate" into "kincaid", leaving "michael kramer kincaid reading"."""
    notes = []
    queue = list(heard)
    while queue:
        name = queue.pop(0)
        group, similarity, rest = _best_group(groups, name)
        if group is not None:
            group.heard.append((name, similarity))
            group.heard.sort(key=lambda item: -item[1])
            notes.append(f"speech: heard '{name}' ~ {group.name} {similarity:.0%}")
            if rest:
                queue.insert(0, rest)
            continue
        shown = _name_part(name)
        if looks_like_name(shown):
            groups.append(_Group(name=shown.title(), order=len(groups), heard=[(name, 0.0)],
                                 heard_only=True))
            notes.append(f"speech: heard '{name}', not among the candidates")
        else:
            notes.append(f"speech: heard '{name}', not a name")
    return notes


def _name_part(heard: str) -> str:
    """What to show of a heard name: all of it up to three words, else the first two (a
    long run is a name followed by speech)."""
    words = heard.split()
    return " ".join(words if len(words) <= 3 else words[:2])


def _best_group(groups: Sequence[_Group], heard: str) -> tuple[_Group | None, float, str]:
    """The group a heard name matches best, the similarity, and the words heard after the
    matching run ("" when none are left)."""
    words = heard.split()
    best: tuple[_Group | None, float, str] = (None, 0.0, "")
    for group in (g for g in groups if not g.heard_only):
        for first, last in _spans(len(words)):
            span = " ".join(words[first:last])
            score = max(person_similarity(span, known) for known in group.names)
            if score > best[1]:
                best = (group, score, " ".join(words[last:]))
    if best[1] >= SPEECH_MATCH:
        return best
    group, score = _surname_only(groups, words)
    return group, score, ""


def _surname_only(groups: Sequence[_Group], words: Sequence[str]) -> tuple[_Group | None, float]:
    """The one group whose surname is the heard name's last word (first name misheard)."""
    last = words[-1] if words else ""
    if not last or last in _STOP_WORDS:
        return None, 0.0
    found = [g for g in groups if not g.heard_only
             and max(person_similarity(last, known) for known in g.names) >= SPEECH_MATCH]
    if len(found) != 1:
        return None, 0.0
    return found[0], SPEECH_MATCH * SURNAME_ONLY_FACTOR


def _spans(count: int) -> list[tuple[int, int]]:
    """(start, end) of every run of two or more consecutive words; the single word when
    only one was heard."""
    if count <= 1:
        return [(0, count)] if count else []
    return [(i, j) for i in range(count) for j in range(i + 2, count + 1)]


def _choose(groups: list[_Group], evidence: list[str]) -> NarratorResult:
    ranked = sorted(groups, key=lambda g: (-g.score(), g.heard_only, g.order))
    winner = ranked[0]
    rivals = [g for g in ranked[1:] if not _co_narrators(winner, g)]
    best_rival = max((g.score() for g in rivals), default=0.0)
    top = winner.score()
    if rivals and best_rival >= top - 1e-9:
        tied = [g.name for g in rivals if g.score() >= top - 1e-9]
        evidence.append(f"sources disagree: {winner.name} vs {', '.join(tied)}")
        return NarratorResult(None, 0.0, tuple(evidence), None)
    if rivals:
        rival = max(rivals, key=lambda g: g.score())
        evidence.append(f"rival: {rival.name} ({_describe(rival)}) {rival.score():.2f}")
    confidence = min(max(top * (1.0 - RIVAL_FACTOR * best_rival), 0.0), 1.0)
    source = SPEECH_SOURCE if winner.heard_only else winner.sources[0]
    heard = tuple(g.name for g in ranked if g.heard and (g is winner
                                                         or _co_narrators(winner, g)))
    return NarratorResult(winner.name, round(confidence, 4), tuple(evidence), source, heard)


def _co_narrators(a: _Group, b: _Group) -> bool:
    """Named together by one source, or heard in the same speech: both narrate."""
    return bool(set(a.sources) & set(b.sources)) or bool(a.heard and b.heard)


def _describe(group: _Group) -> str:
    parts = list(group.sources) + ([SPEECH_SOURCE] if group.heard else [])
    return "+".join(parts)
