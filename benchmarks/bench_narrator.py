"""Narrator detection (R16) on generated audiobook openings: is the narrator that speech
names the right one, and how much CPU does listening cost?

Each intro is festival (voice cmu_us_slt_arctic_hts) saying a credit, put by ffmpeg after
0, 10, 30 or 60 s of music-like audio (chords, pink or brown noise, a jingle) and followed
by a few seconds of music. Groups: one narrator at each lead-in, two narrators, a full
cast, an unusual name (not in the recogniser's dictionary), no candidates at all (open
decoding alone), a narrator none of the candidates names, no credit at all, and a credit
for the author only ("written by"). The candidates are what the service would have: the
narrator from the tracker, often a different narrator from the tags; for no-credit and
author-only intros the author (as some sources list) and a narrator from the tags.

Per intro, speech's answer is the chosen narrator when speech supported it
(`NarratorResult.heard`), else none. Right: a narrator of the intro; wrong: anyone else;
none: speech named nobody. Where no candidate is credited (not a candidate, no credit,
author only) none is right and naming anyone is wrong.

The real-time factor is this process's CPU time (voice activity detection, decoding,
spotting; ffmpeg's extraction is shown apart) over the seconds of audio listened to, on
one core. Generation is not counted; the audio is made once per run in a temporary folder.

Usage: env BENCH_NARRATOR_LIMIT (first N intros only), BENCH_NARRATOR_VERBOSE=1 (one line
per intro).
"""

from __future__ import annotations

import os
import re
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.speech import spoken_intro  # noqa: E402

from mamcrawler.adapters.audio.probe import probe  # noqa: E402
from mamcrawler.adapters.audio.speech import DEFAULT_WINDOW_S, PocketsphinxEngine  # noqa: E402
from mamcrawler.domain.matching import person_similarity  # noqa: E402
from mamcrawler.domain.narrator import NarratorCandidate  # noqa: E402
from mamcrawler.services.narrator_detection import detect_narrator  # noqa: E402

LEADS = ("chords", "pink", "jingle", "brown")
NARRATORS = ("Ray Porter", "Michael Kramer", "Kate Reading", "Scott Brick", "Simon Vance",
             "Julia Whelan", "Luke Daniels", "Wil Wheaton", "Jefferson Mays", "Will Patton",
             "Emily Rankin", "Steven Pacey", "Grover Gardner", "Juliet Stevenson")
UNUSUAL = ("Nick Podehl", "Fiona Hardingham", "Edoardo Ballerini", "Kevin Kenerly")
BOOKS = (("Project Hail Mary", "Andy Weir"), ("The Way of Kings", "Brandon Sanderson"),
         ("Old Man's War", "John Scalzi"), ("All Systems Red", "Martha Wells"),
         ("The Blade Itself", "Joe Abercrombie"), ("Ancillary Justice", "Ann Leckie"),
         ("The Stand", "Stephen King"), ("Children of Time", "Adrian Tchaikovsky"))
CREDITS = ("Narrated by {n}.", "This is Audible. {t}, by {a}. Narrated by {n}.",
           "{t}. Written by {a}. Read by {n}.", "{t}. Performed by {n}.")
DECODED = re.compile(r"^speech \(\w+, (\d+) s in")
EXPECT_NONE = ("narrator not a candidate", "no credit", "author only")
STORY = "Chapter one. The morning was cold, and the ship was quiet."


@dataclass(frozen=True)
class Intro:
    group: str
    text: str
    lead: str
    lead_s: float
    narrators: tuple[str, ...]  # who is credited; () when nobody is
    candidates: tuple[NarratorCandidate, ...]
    authors: tuple[str, ...]


def intros() -> list[Intro]:
    """The benchmark's intros, the same every run."""
    out: list[Intro] = []
    index = 0

    def add(group: str, lead_s: float, credit: str, narrators: tuple[str, ...],
            distractor: bool = True, candidates: bool = True, with_author: bool = False,
            candidates_of: tuple[str, ...] | None = None) -> None:
        nonlocal index
        title, author = BOOKS[index % len(BOOKS)]
        other = NARRATORS[(index + 5) % len(NARRATORS)]
        text = credit.format(n=" and ".join(narrators), t=title, a=author) + " " + STORY
        named = narrators if candidates_of is None else candidates_of
        cands = [NarratorCandidate(n, "tracker") for n in named]
        if with_author:
            cands.append(NarratorCandidate(author, "openlibrary"))
        if distractor and other not in narrators:
            cands.append(NarratorCandidate(other, "tags"))
        out.append(Intro(group, text, LEADS[index % len(LEADS)] if lead_s else "none", lead_s,
                         narrators, tuple(cands) if candidates else (), (author,)))
        index += 1

    for lead_s, count in ((0, 8), (10, 8), (30, 6), (60, 6)):
        for i in range(count):
            add(f"one narrator, {lead_s:>2} s lead-in", lead_s, CREDITS[i % len(CREDITS)],
                (NARRATORS[(index * 3) % len(NARRATORS)],), distractor=i % 2 == 0)
    for i in range(4):
        pair = (NARRATORS[index % len(NARRATORS)], NARRATORS[(index + 1) % len(NARRATORS)])
        add("two narrators", (10, 30)[i % 2], CREDITS[i % 2], pair)
    for _ in range(3):
        cast = tuple(NARRATORS[(index + k) % len(NARRATORS)] for k in range(3))
        add("full cast", 10, "{t}. Performed by a full cast: {n}.", cast)
    for i, name in enumerate(UNUSUAL):
        add("unusual name", (0, 10)[i % 2], CREDITS[i % 2], (name,))
    for i in range(4):
        add("no candidates", (0, 10, 30, 10)[i], CREDITS[i % 2],
            (NARRATORS[(index * 5) % len(NARRATORS)],), candidates=False)
    for i in range(4):
        # The sources name someone else (a wrong tag): speech must not confirm them.
        credited = NARRATORS[(index * 7) % len(NARRATORS)]
        add("narrator not a candidate", (0, 10, 30, 10)[i], CREDITS[i % len(CREDITS)],
            (credited,), candidates_of=(NARRATORS[(index * 7 + 3) % len(NARRATORS)],))
    for i in range(5):
        add("no credit", (0, 10, 30, 10, 60)[i], "This is Audible. {t}.", (), with_author=True)
    for i in range(5):
        add("author only", (0, 10, 30, 10, 60)[i], "{t}. Written by {a}.", (),
            with_author=True)
    return out


def make(intro: Intro, folder: Path, number: int) -> Path:
    return spoken_intro(folder / f"{number:02d}.mp3", intro.text, lead_tone_s=intro.lead_s,
                        lead=intro.lead if intro.lead_s else "tone", then_tone_s=8,
                        tail=LEADS[number % len(LEADS)], pause_s=0.5)


def verdict(intro: Intro, result) -> str:
    said = result.name if result.name and result.name in result.heard else None
    if said is None:
        return "none"
    if intro.group in EXPECT_NONE:
        return "wrong"  # speech confirmed someone who was not credited
    if any(person_similarity(said, n) >= 0.9 for n in intro.narrators):
        return "right"
    return "wrong"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    cases = intros()
    limit = int(os.environ.get("BENCH_NARRATOR_LIMIT", "0") or 0)
    verbose = os.environ.get("BENCH_NARRATOR_VERBOSE") == "1"
    cases = cases[:limit] if limit else cases
    engine = PocketsphinxEngine()
    with tempfile.TemporaryDirectory(prefix="bench-narrator-") as name:
        folder = Path(name)
        began = time.perf_counter()
        files = [make(intro, folder, i) for i, intro in enumerate(cases)]
        print(f"  generated {len(files)} intros in {time.perf_counter() - began:.0f} s")
        table: dict[str, dict[str, int]] = {}
        cpu = ffmpeg_cpu = audio = decoded = 0.0
        for intro, path in zip(cases, files, strict=True):
            seconds = min(probe(path).duration_s or 0.0, DEFAULT_WINDOW_S)
            cpu0, kids0 = time.process_time(), children_cpu()
            result = detect_narrator(path, intro.candidates, engine, authors=intro.authors)
            cpu += time.process_time() - cpu0
            ffmpeg_cpu += children_cpu() - kids0
            audio += seconds
            decoded += sum(float(m) for e in result.evidence
                           for m in DECODED.findall(e))
            outcome = verdict(intro, result)
            row = table.setdefault(intro.group, {"right": 0, "wrong": 0, "none": 0})
            row[outcome] += 1
            if verbose or outcome == "wrong":
                speech = next((e for e in result.evidence if e.startswith("speech (")), "")
                print(f"  {outcome:<5} {intro.group:<26} {intro.lead:<6} "
                      f"want {'/'.join(intro.narrators) or '-'}: got {result.name} "
                      f"heard {list(result.heard)} | {speech[:110]}")
        report(table, cpu, ffmpeg_cpu, audio, decoded)


def report(table: dict[str, dict[str, int]], cpu: float, ffmpeg_cpu: float,
           audio: float, decoded: float) -> None:
    print(f"  {'group':<26} {'right':>5} {'wrong':>5} {'none':>5}")
    right = total = 0
    for group, row in table.items():
        expect_none = group in EXPECT_NONE
        print(f"  {group:<26} {row['right']:>5} {row['wrong']:>5} {row['none']:>5}"
              + ("   (none is right)" if expect_none else ""))
        right += row["none"] if expect_none else row["right"]
        total += sum(row.values())
    print(f"  accuracy: {right}/{total} = {right / total:.0%} right (goal >= 90 %)")
    print(f"  real-time factor: {cpu / audio:.3f} (CPU {cpu:.1f} s over {audio:.0f} s of "
          f"audio; goal <= 0.2); ffmpeg extraction apart: {ffmpeg_cpu / audio:.3f}")
    print(f"  speech decoded: {decoded:.0f} s of the {audio:.0f} s ({decoded / audio:.0%}); "
          f"CPU per second of speech decoded: {cpu / max(decoded, 1e-9):.2f} s")


if __name__ == "__main__":
    main()
