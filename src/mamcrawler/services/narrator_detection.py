"""Narrator detection (R16): listen to a book's opening, weigh what was heard against the
narrators that tags, the tracker and metadata sources name.

Listening: the window's speech segments (music and silence are skipped) are decoded one
by one, openly, and, when the book has candidates, spotted for their credits
(`domain.narrator_credit`), until a credit is heard or confirmed, or MAX_SPEECH_S of
speech passed without one. Pocketsphinx decodes speech at ~0.15-0.25 x real time, so
detection still runs in a `DetectionWorker`: one background thread with a bounded queue,
each job with its own time limit. The service submits and moves on; the returned future
carries the NarratorResult.

Speech is one piece of evidence, not a precondition: when the audio cannot be read, or
decoding runs out of time, the candidates still decide and the reason is in the
evidence. A missing tool or engine (ffmpeg, pocketsphinx, faster-whisper) is raised
instead: it is a setup problem that would hit every book.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from mamcrawler.adapters.audio.probe import AudioFileNotFound, AudioToolTimeout, AudioUnreadable
from mamcrawler.adapters.audio.speech import (
    DEFAULT_WINDOW_S,
    EXTRACT_TIMEOUT_S,
    KeyphraseSpotter,
    SpeechEngine,
    extract_window,
    is_silent,
    transcribe,
)
from mamcrawler.adapters.audio.vad import SpeechSegment, find_speech
from mamcrawler.domain.narrator import (
    NO_SPEECH,
    NarratorCandidate,
    NarratorResult,
    find_credit,
    match_narrator,
)
from mamcrawler.domain.narrator_credit import (
    CreditPhrase,
    Spotted,
    authors_heard,
    confirm,
    credit_phrases,
    decide,
)

DEFAULT_TIMEOUT_S = 300.0
DEFAULT_MAX_PENDING = 32
SNIPPET_CHARS = 160
MAX_SPEECH_S = 45.0  # credits come in the first half-minute of speech
ENGINE_OFF = "speech not checked: NARRATOR_SPEECH_ENGINE=off"
NO_CREDIT = "no narrator credit heard"


class WorkerBusy(RuntimeError):
    """The detection queue is full: submit again later (the book keeps its candidates)."""


def detect_narrator(first_audio_file: str | Path, candidates: Iterable[NarratorCandidate],
                    engine: SpeechEngine | None, window_s: float = DEFAULT_WINDOW_S, *,
                    start_s: float = 0.0, deadline: float | None = None,
                    authors: Iterable[str] = ()) -> NarratorResult:
    """The narrator of a book from its first audio file and its candidates (listed in
    precedence order), by `domain.narrator_credit.decide`.

    Listens to `window_s` seconds from `start_s` with `engine` (None = speech off, noted):
    open decoding of each speech segment, and, when there are candidates and the engine
    spots keyphrases, a second pass for their credits (and "written by" each of
    `authors`). A window without speech is noted NO_SPEECH. A `deadline`
    (time.monotonic()) bounds extraction and decoding; running out of time, an unreadable
    or missing file are noted, not raised. Raises AudioToolMissing (including
    SpeechEngineMissing) when a tool is not installed.
    """
    candidates = tuple(candidates)
    if engine is None:
        return match_narrator([], candidates, notes=[ENGINE_OFF])
    phrases, notes = _spottable(engine, credit_phrases(candidates, authors))
    heard = listen(first_audio_file, engine, window_s, start_s=start_s, deadline=deadline,
                   phrases=phrases)
    confirmations = confirm(phrases, heard.spotted)
    notes += heard.notes
    if heard.decoded_s and not heard.names and not any(c.confirmed for c in confirmations):
        notes.append(NO_CREDIT)
    return decide(heard.names, confirmations, candidates,
                  authors_credited=authors_heard(phrases, heard.spotted), notes=notes)


def _spottable(engine: SpeechEngine, phrases: Sequence[CreditPhrase]
               ) -> tuple[tuple[CreditPhrase, ...], list[str]]:
    """The phrases `engine` can listen for (none when it cannot spot keyphrases), after
    guessing how to say the words its dictionary lacks; notes on the guesses."""
    if not phrases or not isinstance(engine, KeyphraseSpotter):
        return (), []
    missing = [w for p in phrases for w in engine.unknown_words(p.phrase)]
    guessed = engine.guess_words(missing) if missing else {}
    notes = [f"speech: pronunciation guessed for {word} ({phones})"
             for word, phones in guessed.items()]
    return tuple(p for p in phrases if not engine.unknown_words(p.phrase)), notes


@dataclass
class Heard:
    """What listening found: names credited by open decoding, phrases spotted (seconds
    from the window's start), notes for the evidence, and seconds of speech decoded."""

    names: list[str] = field(default_factory=list)
    spotted: list[Spotted] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    decoded_s: float = 0.0


def listen(path: str | Path, engine: SpeechEngine, window_s: float = DEFAULT_WINDOW_S, *,
           start_s: float = 0.0, deadline: float | None = None,
           phrases: Sequence[CreditPhrase] = (),
           max_speech_s: float = MAX_SPEECH_S) -> Heard:
    """Find the speech in the window and decode each segment on its own (open decoding,
    then spotting `phrases` when given), until a credit is heard or confirmed, or
    `max_speech_s` of speech has been decoded without one."""
    try:
        pcm = extract_window(path, start_s, window_s, timeout_s=_time_left(deadline))
        segments = [] if is_silent(pcm) else find_speech(pcm)
    except (AudioFileNotFound, AudioUnreadable, AudioToolTimeout) as exc:
        return Heard(notes=[f"speech skipped: {exc}"])
    if not segments:
        return Heard(notes=[NO_SPEECH])
    heard, texts = Heard(), []
    try:
        for segment in segments:
            if heard.decoded_s >= max_speech_s:
                heard.notes.append(f"stopped after {heard.decoded_s:.0f} s of speech "
                                   "without a credit")
                break
            if _decode_segment(engine, pcm, segment, phrases, deadline, heard, texts):
                break
    except AudioToolTimeout as exc:
        heard.notes.append(f"speech cut short: {exc}")
    if not texts and not heard.spotted:
        heard.notes.insert(0, NO_SPEECH)
        return heard
    text = " | ".join(texts)
    snippet = text[:SNIPPET_CHARS] + ("…" if len(text) > SNIPPET_CHARS else "")
    plural = "" if len(texts) == 1 else "s"
    heard.notes.insert(0, f"speech ({engine.name}, {heard.decoded_s:.0f} s in "
                          f"{len(texts)} segment{plural}): '{snippet}'")
    return heard


def _decode_segment(engine: SpeechEngine, pcm: bytes, segment: SpeechSegment,
                    phrases: Sequence[CreditPhrase], deadline: float | None, heard: Heard,
                    texts: list[str]) -> bool:
    """Decode one segment into `heard`; True when a credit has been heard or confirmed."""
    chunk = segment.pcm(pcm)
    transcript = transcribe(chunk, engine, deadline=deadline, stop=_CreditHeard())
    heard.decoded_s += transcript.audio_s
    names = find_credit(transcript.text)
    if transcript.text:
        # The credit first: the evidence snippet is cut at SNIPPET_CHARS.
        texts.insert(len(texts) if not names or heard.names else 0, transcript.text)
    heard.names += [n for n in names if n not in heard.names]
    if phrases and isinstance(engine, KeyphraseSpotter):
        found = engine.spot(chunk, [p.phrase for p in phrases], deadline=deadline)
        heard.spotted += [replace(s, start_s=round(s.start_s + segment.start_s, 3),
                                  end_s=round(s.end_s + segment.start_s, 3)) for s in found]
    return bool(names) or any(c.confirmed for c in confirm(phrases, heard.spotted))


def _time_left(deadline: float | None) -> float:
    if deadline is None:
        return EXTRACT_TIMEOUT_S
    left = deadline - time.monotonic()
    if left <= 0:
        raise AudioToolTimeout("no time left to extract the audio window")
    return min(left, EXTRACT_TIMEOUT_S)


class _CreditHeard:
    """Stop decoding once two checks in a row find the same credited names: by then the
    name has been followed by a few seconds of other speech, so it is complete."""

    def __init__(self) -> None:
        self._last: list[str] = []

    def __call__(self, text: str) -> bool:
        names = find_credit(text)
        done = bool(names) and names == self._last
        self._last = names
        return done


class DetectionWorker:
    """Runs `detect_narrator` jobs in one background thread, in submission order.

    One thread because a speech engine decodes one window at a time (its calls are
    serialised); more threads would only wait on its lock. At most `max_pending` jobs are
    queued or running: `submit` raises WorkerBusy beyond that, so a large scan cannot pile
    up unbounded work. Each job gets `timeout_s` from the moment it starts running (not
    from submission) and then gives up on speech (noted in the evidence), so one stuck
    file cannot hold up the queue. Use as a context manager or call `close()`.
    """

    def __init__(self, engine: SpeechEngine | None, *, window_s: float = DEFAULT_WINDOW_S,
                 timeout_s: float = DEFAULT_TIMEOUT_S,
                 max_pending: int = DEFAULT_MAX_PENDING) -> None:
        if max_pending < 1 or timeout_s <= 0 or window_s <= 0:
            raise ValueError("need max_pending >= 1, timeout_s > 0 and window_s > 0")
        self.engine = engine
        self.window_s = window_s
        self.timeout_s = timeout_s
        self.max_pending = max_pending
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="narrator")
        self._lock = threading.Lock()
        self._pending = 0

    @property
    def pending(self) -> int:
        """Jobs queued or running."""
        with self._lock:
            return self._pending

    def submit(self, first_audio_file: str | Path, candidates: Iterable[NarratorCandidate],
               authors: Iterable[str] = ()) -> Future[NarratorResult]:
        """Queue a detection (`authors`: the book's, whose "written by" credit is not a
        narrator's); the future gives its NarratorResult or the exception it raised.
        Raises WorkerBusy when `max_pending` jobs are waiting, RuntimeError after
        `close()`."""
        with self._lock:
            if self._pending >= self.max_pending:
                raise WorkerBusy(f"{self._pending} narrator detections are already waiting; "
                                 "submit again when some have finished")
            self._pending += 1
        try:
            future = self._executor.submit(self._run, Path(first_audio_file), tuple(candidates),
                                           tuple(authors))
        except RuntimeError:
            self._finished(None)
            raise
        future.add_done_callback(self._finished)
        return future

    def detect(self, first_audio_file: str | Path, candidates: Iterable[NarratorCandidate],
               wait_s: float | None = None, authors: Iterable[str] = ()) -> NarratorResult:
        """Submit and wait up to `wait_s` (None = until done) for the result; raises
        concurrent.futures.TimeoutError when the wait runs out (the job still finishes)."""
        return self.submit(first_audio_file, candidates, authors).result(timeout=wait_s)

    def close(self, *, wait: bool = True) -> None:
        """Stop taking jobs, cancel queued ones, and (with `wait`) let the running one end."""
        self._executor.shutdown(wait=wait, cancel_futures=True)

    def __enter__(self) -> DetectionWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, path: Path, candidates: tuple[NarratorCandidate, ...],
             authors: tuple[str, ...]) -> NarratorResult:
        deadline = time.monotonic() + self.timeout_s
        return detect_narrator(path, candidates, self.engine, self.window_s, deadline=deadline,
                               authors=authors)

    def _finished(self, _future: Future[NarratorResult] | None) -> None:
        with self._lock:
            self._pending -= 1
