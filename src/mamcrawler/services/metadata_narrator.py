"""Narrator detection inside enrichment (R16): who the sources say, and what the audio says.

Candidates come from every record that names narrators, listed in the narrators
precedence order (so a tie goes to the better source). The speech engine is built on
first use and decodes in a DetectionWorker thread with a time limit per book. When the
credit heard in the audio supports one candidate (or, with no candidates at all, names
someone), that answer becomes a "speech" record with the full narrator list of the
source the winner came from (co-narrators kept), ranked first for narrators by default.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mamcrawler.adapters.audio.probe import AudioToolError
from mamcrawler.adapters.audio.speech import first_audio_file, make_engine
from mamcrawler.config import Settings
from mamcrawler.domain.matching import person_similarity
from mamcrawler.domain.metadata import SourceRecord
from mamcrawler.domain.metadata_merge import rank, record_fields
from mamcrawler.domain.narrator import (
    SAME_PERSON,
    SPEECH_SOURCE,
    NarratorCandidate,
    NarratorResult,
    match_narrator,
)

from .metadata_gather import BookState
from .narrator_detection import DEFAULT_TIMEOUT_S, DetectionWorker, WorkerBusy

log = logging.getLogger("mamcrawler.metadata")
WAIT_MARGIN_S = 60.0


class NarratorListener:
    """Speech-to-text for narrator credits, with the engine NARRATOR_SPEECH_ENGINE names.

    The engine and its worker thread are built on the first `detect`; an engine that
    cannot be built (not installed, no Whisper model) is noted in the evidence of every
    detection instead of failing enrichment. Close it when done.
    """

    def __init__(self, settings: Settings, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self._worker: DetectionWorker | None = None
        self._problem: str | None = None

    def detect(self, path: Path, candidates: list[NarratorCandidate],
               authors: tuple[str, ...] = ()) -> NarratorResult:
        """The NarratorResult for the book starting with `path` (by `authors`)."""
        worker = self._ensure_worker()
        if worker is None:
            return match_narrator([], candidates, notes=[self._problem or "speech not checked"])
        try:
            return worker.detect(path, candidates, wait_s=self.timeout_s + WAIT_MARGIN_S,
                                 authors=authors)
        except (AudioToolError, WorkerBusy) as exc:
            return match_narrator([], candidates, notes=[f"speech not checked: {exc}"])
        except TimeoutError:
            return match_narrator([], candidates, notes=[
                f"speech not checked: no result within {self.timeout_s:g} s"])

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()

    def _ensure_worker(self) -> DetectionWorker | None:
        if self._worker is None and self._problem is None:
            try:
                engine = make_engine(self.settings.narrator_speech_engine,
                                     self.settings.whisper_model_path)
            except (AudioToolError, ValueError) as exc:
                self._problem = f"speech not checked: {exc}"
                log.warning("narrator detection without speech: %s", exc)
                return None
            self._worker = DetectionWorker(engine, window_s=self.settings.narrator_window_s,
                                           timeout_s=self.timeout_s)
        return self._worker


@dataclass(frozen=True)
class NarratorOutcome:
    """A detection's result, and the "speech" record it makes (None when speech did not
    support anyone). `skipped` says why there was no audio to listen to (no folder, no
    audio file): such a book is assessed again once it has its files."""

    result: NarratorResult
    speech_record: dict[str, Any] | None = None
    skipped: str | None = None  # why the audio could not be listened to at all

    @property
    def source(self) -> str | None:
        return SPEECH_SOURCE if self.speech_record else self.result.source

    def about(self, stored: list[str]) -> tuple[float, str]:
        """Confidence and evidence for the narrators now stored: the detection's
        confidence when it chose one of them, else 0 with the disagreement noted."""
        evidence = list(self.result.evidence)
        name = self.result.name
        if name and any(person_similarity(name, s) >= SAME_PERSON for s in stored):
            return self.result.confidence, "; ".join(evidence)
        if name:
            shown = ", ".join(stored) or "none"
            evidence.append(f"stored narrators ({shown}) differ from the detected {name} "
                            f"({self.result.confidence:.2f})")
        return 0.0, "; ".join(evidence)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.result.name, "confidence": self.result.confidence,
                "source": self.result.source, "evidence": list(self.result.evidence),
                "heard": list(self.result.heard),
                "speech_record": list(self.speech_record["narrators"])
                if self.speech_record else None}


def narrator_step(listener: NarratorListener, state: BookState,
                  records: Mapping[str, SourceRecord | Mapping[str, Any]],
                  precedence: Mapping[str, tuple[str, ...]]) -> NarratorOutcome:
    """Detect the narrator of the book in `state` from `records` and its audio."""
    lists = narrator_lists(records, precedence)
    candidates = [NarratorCandidate(name, source) for source, names in lists.items()
                  for name in names]
    try:
        if not state.library_path:
            raise FileNotFoundError("the book has no library folder")
        path = first_audio_file(state.library_path)
    except (AudioToolError, FileNotFoundError) as exc:
        note = f"narrator not detected: {exc}"
        return NarratorOutcome(match_narrator([], candidates, notes=[note]), skipped=note)
    result = listener.detect(path, candidates, tuple(state.fields.get("authors") or ()))
    return NarratorOutcome(result, speech_record(result, candidates, lists))


def narrator_lists(records: Mapping[str, SourceRecord | Mapping[str, Any]],
                   precedence: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Each source's narrators, best-ranked source first."""
    lists = {}
    for source, record in records.items():
        values = record_fields(record) if isinstance(record, SourceRecord) else record
        names = values.get("narrators")
        if names:
            lists[source] = tuple(names)
    return dict(sorted(lists.items(), key=lambda item: rank(precedence, "narrators", item[0])))


def speech_record(result: NarratorResult, candidates: list[NarratorCandidate],
                  lists: Mapping[str, tuple[str, ...]]) -> dict[str, Any] | None:
    """{"narrators": [...]} when speech supported the chosen narrator, else None.

    Speech supported the choice when it is a name heard with no candidate at all, or when
    the same candidates without speech give another answer or a lower confidence.
    """
    if not result.name:
        return None
    if result.source == SPEECH_SOURCE:
        return None if candidates else {"narrators": (result.name,)}
    without = match_narrator([], candidates)
    if without.name == result.name and result.confidence <= without.confidence + 1e-9:
        return None
    return {"narrators": lists.get(result.source or "", (result.name,))}
