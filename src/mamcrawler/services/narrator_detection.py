"""Narrator detection (R16): listen to a book's opening, weigh what was heard against the
narrators that tags, the tracker and metadata sources name.

Speech-to-text is slow (pocketsphinx decodes at ~0.25 x real time: up to ~30 s for a
two-minute window), so detection runs in a `DetectionWorker`: one background thread with
a bounded queue, each job with its own time limit. The service submits and moves on;
the returned future carries the NarratorResult.

Speech is one piece of evidence, not a precondition: when the audio cannot be read, or
decoding runs out of time, the candidates still decide and the reason is in the
evidence. A missing tool or engine (ffmpeg, pocketsphinx, faster-whisper) is raised
instead: it is a setup problem that would hit every book.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from mamcrawler.adapters.audio.probe import AudioFileNotFound, AudioToolTimeout, AudioUnreadable
from mamcrawler.adapters.audio.speech import (
    DEFAULT_WINDOW_S,
    EXTRACT_TIMEOUT_S,
    SpeechEngine,
    extract_window,
    is_silent,
    transcribe,
)
from mamcrawler.domain.narrator import (
    NO_SPEECH,
    NarratorCandidate,
    NarratorResult,
    find_credit,
    match_narrator,
)

DEFAULT_TIMEOUT_S = 300.0
DEFAULT_MAX_PENDING = 32
SNIPPET_CHARS = 160
ENGINE_OFF = "speech not checked: NARRATOR_SPEECH_ENGINE=off"
NO_CREDIT = "no narrator credit heard"


class WorkerBusy(RuntimeError):
    """The detection queue is full: submit again later (the book keeps its candidates)."""


def detect_narrator(first_audio_file: str | Path, candidates: Iterable[NarratorCandidate],
                    engine: SpeechEngine | None, window_s: float = DEFAULT_WINDOW_S, *,
                    start_s: float = 0.0, deadline: float | None = None) -> NarratorResult:
    """The narrator of a book from its first audio file and its candidates (listed in
    precedence order), by `domain.narrator.match_narrator`.

    Listens to `window_s` seconds from `start_s` with `engine` (None = speech off, noted).
    A silent window or an empty transcript is noted NO_SPEECH and nothing is heard. A
    `deadline` (time.monotonic()) bounds extraction and decoding; running out of time,
    an unreadable or missing file are noted, not raised. Raises AudioToolMissing
    (including SpeechEngineMissing) when a tool is not installed.
    """
    candidates = tuple(candidates)
    if engine is None:
        return match_narrator([], candidates, notes=[ENGINE_OFF])
    heard, notes = listen(first_audio_file, engine, window_s, start_s=start_s,
                          deadline=deadline)
    return match_narrator(heard, candidates, notes=notes)


def listen(path: str | Path, engine: SpeechEngine, window_s: float = DEFAULT_WINDOW_S, *,
           start_s: float = 0.0, deadline: float | None = None) -> tuple[list[str], list[str]]:
    """The names credited in the window, and notes on what was heard (for the evidence).
    Decoding stops early once the same credit has been heard at two checks in a row."""
    try:
        pcm = extract_window(path, start_s, window_s, timeout_s=_time_left(deadline))
        if is_silent(pcm):
            return [], [NO_SPEECH]
        transcript = transcribe(pcm, engine, deadline=deadline, stop=_CreditHeard())
    except (AudioFileNotFound, AudioUnreadable, AudioToolTimeout) as exc:
        return [], [f"speech skipped: {exc}"]
    if not transcript.text:
        return [], [NO_SPEECH]
    heard = find_credit(transcript.text)
    snippet = transcript.text[:SNIPPET_CHARS] + ("…" if len(transcript.text) > SNIPPET_CHARS
                                                 else "")
    notes = [f"speech ({transcript.engine}, {transcript.audio_s:.0f} s): '{snippet}'"]
    return heard, notes if heard else [*notes, NO_CREDIT]


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

    def submit(self, first_audio_file: str | Path,
               candidates: Iterable[NarratorCandidate]) -> Future[NarratorResult]:
        """Queue a detection; the future gives its NarratorResult or the exception it
        raised. Raises WorkerBusy when `max_pending` jobs are waiting, RuntimeError after
        `close()`."""
        with self._lock:
            if self._pending >= self.max_pending:
                raise WorkerBusy(f"{self._pending} narrator detections are already waiting; "
                                 "submit again when some have finished")
            self._pending += 1
        try:
            future = self._executor.submit(self._run, Path(first_audio_file), tuple(candidates))
        except RuntimeError:
            self._finished(None)
            raise
        future.add_done_callback(self._finished)
        return future

    def detect(self, first_audio_file: str | Path, candidates: Iterable[NarratorCandidate],
               wait_s: float | None = None) -> NarratorResult:
        """Submit and wait up to `wait_s` (None = until done) for the result; raises
        concurrent.futures.TimeoutError when the wait runs out (the job still finishes)."""
        return self.submit(first_audio_file, candidates).result(timeout=wait_s)

    def close(self, *, wait: bool = True) -> None:
        """Stop taking jobs, cancel queued ones, and (with `wait`) let the running one end."""
        self._executor.shutdown(wait=wait, cancel_futures=True)

    def __enter__(self) -> DetectionWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, path: Path, candidates: tuple[NarratorCandidate, ...]) -> NarratorResult:
        deadline = time.monotonic() + self.timeout_s
        return detect_narrator(path, candidates, self.engine, self.window_s, deadline=deadline)

    def _finished(self, _future: Future[NarratorResult] | None) -> None:
        with self._lock:
            self._pending -= 1
