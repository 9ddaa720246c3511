"""Confirming narrator candidates by keyphrase spotting (R16). Pure.

Open decoding of an audiobook's opening mishears unusual names ("narrated by ray porter"
came out "narrated by rape torture"), so when the sources name candidates a second pass
listens for exactly their credits: "narrated by | read by | performed by <name>", "full
cast <name>", "and <name>" for a co-narrator, and "written by <author>" as a distractor,
so that an author's credit is not taken for a narrator's. This module builds those phrases
(`credit_phrases`), turns what the recogniser spotted into a verdict per candidate
(`confirm`), and combines the verdicts with open decoding and the candidates (`decide`).

Rules of `confirm`:

- A spotted phrase counts when its posterior is at least `MIN_PROB`.
- Detections of different names that overlap in time compete: only the most probable one
  stays (the recogniser offers "narrated by michael page" where "michael kramer" was said).
- A "written by X" detection vetoes every narrator phrase of X that overlaps it: never
  confirm X from a stretch where the author's credit was heard.
- X is confirmed by a "<verb> by X" detection, or by "and X" starting within
  `CHAIN_GAP_S` of the end of a confirmed credit (a co-narrator: "narrated by A and B").
  A lone "and X" elsewhere ("... by brandon sanderson") confirms nothing.

Rules of `decide`:

- A confirmed candidate is heard (weight of a perfectly matched credit in
  `domain.narrator.match_narrator`). When open decoding heard none of the confirmed names,
  its names are set aside, noted: the confirmation is the stronger evidence. When it heard
  one, its other names that match a candidate stay (a co-narrator the spotting missed).
- With nothing confirmed, open-decoding names stay evidence, except a name matching an
  author whose "written by" credit was spotted.
- With no credit heard at all the candidates decide alone: speech names nobody.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mamcrawler.domain.matching import person_similarity
from mamcrawler.domain.narrator import (
    SPEECH_MATCH,
    NarratorCandidate,
    NarratorResult,
    match_narrator,
)
from mamcrawler.domain.text import fold

NARRATOR_VERBS = ("narrated by", "read by", "performed by")
AUTHOR_VERB = "written by"
CO_NARRATOR = "and"
CAST = "full cast"  # "performed by a full cast: <name>, ..."
NARRATOR, CO, AUTHOR = "narrator", "co-narrator", "author"
MIN_PROB = 0.7
CHAIN_GAP_S = 1.0
CHAIN_OVERLAP_S = 0.5
OVERLAP = 0.5


@dataclass(frozen=True)
class CreditPhrase:
    """A phrase to listen for: its words (folded), whose name it credits, and as what
    ("narrator", "co-narrator" after another credit, or "author")."""

    phrase: str
    name: str
    role: str


@dataclass(frozen=True)
class Spotted:
    """A phrase the recogniser spotted, when (seconds), and its posterior (0-1)."""

    phrase: str
    start_s: float
    end_s: float
    prob: float


@dataclass(frozen=True)
class Confirmation:
    """The second pass's verdict on one candidate: confirmed or not, the posterior of the
    phrase that decided it (0 when nothing was heard), and why."""

    name: str
    confirmed: bool
    confidence: float
    reason: str


def credit_phrases(candidates: Iterable[NarratorCandidate],
                   authors: Iterable[str] = ()) -> tuple[CreditPhrase, ...]:
    """The phrases to spot for these candidates and authors, without repeats. A name is
    folded to lower-case words ("R.C. Bray" -> "r c bray"); empty names are skipped."""
    phrases: dict[str, CreditPhrase] = {}
    for candidate in candidates:
        words = fold(candidate.name)
        if words:
            for verb in NARRATOR_VERBS:
                phrases.setdefault(f"{verb} {words}", CreditPhrase(f"{verb} {words}",
                                                                   candidate.name, NARRATOR))
            cast = f"{CAST} {words}"
            phrases.setdefault(cast, CreditPhrase(cast, candidate.name, NARRATOR))
            phrases.setdefault(f"{CO_NARRATOR} {words}",
                               CreditPhrase(f"{CO_NARRATOR} {words}", candidate.name, CO))
    for author in authors:
        words = fold(author)
        if words:
            phrase = f"{AUTHOR_VERB} {words}"
            phrases.setdefault(phrase, CreditPhrase(phrase, author, AUTHOR))
    return tuple(phrases.values())


def confirm(phrases: Sequence[CreditPhrase], spotted: Sequence[Spotted], *,
            min_prob: float = MIN_PROB) -> tuple[Confirmation, ...]:
    """A verdict per narrator name in `phrases`, in their order, by the module's rules."""
    by_phrase = {p.phrase: p for p in phrases}
    hits = [(s, by_phrase[s.phrase]) for s in spotted
            if s.phrase in by_phrase and s.prob >= min_prob]
    kept = _strongest(hits)
    vetoed = {id(s) for s, p in kept if p.role != AUTHOR and any(
        q.role == AUTHOR and _same_person(q.name, p.name) and _overlap(s, t) > 0
        for t, q in kept)}
    credits = [(s, p) for s, p in kept if p.role == NARRATOR and id(s) not in vetoed]
    credits += _chained(credits, [(s, p) for s, p in kept
                                  if p.role == CO and id(s) not in vetoed])
    verdicts = []
    for name in dict.fromkeys(p.name for p in phrases if p.role != AUTHOR):
        mine = [s for s, p in credits if p.name == name]
        if mine:
            best = max(mine, key=lambda s: s.prob)
            verdicts.append(Confirmation(name, True, best.prob,
                                         f"heard '{best.phrase}' ({best.prob:.2f})"))
            continue
        author = next((s for s, p in kept if p.role == AUTHOR and _same_person(p.name, name)),
                      None)
        reason = (f"heard '{author.phrase}': an author's credit" if author
                  else "no credit for this name heard")
        verdicts.append(Confirmation(name, False, 0.0, reason))
    return tuple(verdicts)


def authors_heard(phrases: Sequence[CreditPhrase], spotted: Sequence[Spotted], *,
                  min_prob: float = MIN_PROB) -> tuple[str, ...]:
    """The authors whose "written by" credit was spotted, in the order of `phrases`."""
    heard = {s.phrase for s in spotted if s.prob >= min_prob}
    return tuple(dict.fromkeys(p.name for p in phrases if p.role == AUTHOR
                               and p.phrase in heard))


def _strongest(hits: list[tuple[Spotted, CreditPhrase]]) -> list[tuple[Spotted, CreditPhrase]]:
    """Hits that no more probable hit of another name overlaps by more than OVERLAP of
    the shorter one. An author's credit stays regardless (it is a veto, not a claim)."""
    kept: list[tuple[Spotted, CreditPhrase]] = []
    for hit, phrase in sorted(hits, key=lambda h: -h[0].prob):
        if phrase.role == AUTHOR or not any(
                other.name != phrase.name and other.role != AUTHOR
                and _overlap(hit, seen) > OVERLAP for seen, other in kept):
            kept.append((hit, phrase))
    return sorted(kept, key=lambda h: (h[0].start_s, h[0].phrase))


def _chained(credits: list[tuple[Spotted, CreditPhrase]],
             ands: list[tuple[Spotted, CreditPhrase]]) -> list[tuple[Spotted, CreditPhrase]]:
    """The "and X" hits that follow a credit (or a chained "and") within CHAIN_GAP_S."""
    ends = [s.end_s for s, _ in credits]
    chained = []
    for hit, phrase in sorted(ands, key=lambda h: h[0].start_s):
        if any(-CHAIN_OVERLAP_S <= hit.start_s - end <= CHAIN_GAP_S for end in ends):
            chained.append((hit, phrase))
            ends.append(hit.end_s)
    return chained


def _overlap(a: Spotted, b: Spotted) -> float:
    """The shared time of two detections as a fraction of the shorter one."""
    shared = min(a.end_s, b.end_s) - max(a.start_s, b.start_s)
    shorter = min(a.end_s - a.start_s, b.end_s - b.start_s)
    return max(shared, 0.0) / shorter if shorter > 0 else 0.0


def _same_person(a: str, b: str) -> bool:
    return person_similarity(a, b) >= SPEECH_MATCH


def decide(heard: Sequence[str], confirmations: Sequence[Confirmation],
           candidates: Iterable[NarratorCandidate], *, authors_credited: Iterable[str] = (),
           notes: Iterable[str] = ()) -> NarratorResult:
    """The narrator from open-decoding credits (`heard`), the second pass's verdicts and
    the candidates, by the module's rules. `authors_credited` are names whose "written
    by" credit was spotted."""
    candidates = tuple(candidates)
    confirmed = [c.name for c in confirmations if c.confirmed]
    evidence = [f"speech: confirmed {c.name}: {c.reason}" for c in confirmations
                if c.confirmed]
    evidence += [f"speech: {c.name} not confirmed: {c.reason}" for c in confirmations
                 if not c.confirmed and c.reason.startswith("heard")]
    authors = list(authors_credited)
    # Open decoding that heard a confirmed name got the credit right: its other names
    # (co-narrators the spotting missed) are trusted too.
    trusted = any(_same_heard(name, c) for name in heard for c in confirmed)
    named = [c.name for c in candidates]
    kept = []
    for name in heard:
        if confirmed and not any(_same_heard(name, c) for c in confirmed) and not (
                trusted and any(_same_heard(name, c) for c in named)):
            evidence.append(f"speech: set aside '{name}': not among the confirmed narrators")
        elif not confirmed and any(_same_heard(name, a) for a in authors):
            evidence.append(f"speech: set aside '{name}': credited as the author")
        else:
            kept.append(name)
    return match_narrator([*(fold(c) for c in confirmed), *kept], candidates,
                          notes=[*notes, *evidence])


def _same_heard(heard: str, name: str) -> bool:
    """A heard name (maybe with extra words after it) names this person."""
    words = fold(heard).split()
    return any(person_similarity(" ".join(words[:end]), name) >= SPEECH_MATCH
               for end in range(1, len(words) + 1))
