"""Metadata enrichment of one book (R13, R15, R16): gather, match, merge, write, push.

`enrich_book` asks the configured metadata sources about a book, keeps per source the
record that matches it best (`domain.record_match`), and merges the strong and medium
matches with the book's own facts (tags, folder, sidecars, tracker release) field by
field (`domain.metadata_merge`). Changed fields are written with one MetadataCorrection
each and FieldSource says where every value came from, with the match as evidence.

When sources answered but none matched better than "weak", nothing is written at all:
the book is flagged for review with the penalties of the best candidate, because a
wrong book's metadata is worse than none. The flag is lifted once a later run finds a
good match.

Narrator detection listens to the opening of the book's first audio file and weighs the
credit against every source's narrators; a credit heard for one of them makes a
"speech" record, which ranks first for narrators. Corrected metadata is pushed to
Audiobookshelf; a failure there is noted, never fatal. Tags inside the files are never
written: the files are hard links to the seeding torrent's data, so writing a tag would
corrupt the torrent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.adapters.audiobookshelf import AbsClient
from mamcrawler.adapters.metadata import MetadataSource, build_sources, close_all, query_all
from mamcrawler.config import Settings
from mamcrawler.domain.metadata_merge import FIELDS, MergeResult, merge, parse_precedence, show
from mamcrawler.domain.record_match import (
    RecordMatch,
    RecordMatchPolicy,
    best_matches,
    parse_weights,
)
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Book, FieldSource, MetadataCorrection

from . import library
from .metadata_abs import AbsPusher
from .metadata_gather import BookState, field_rows, load_state
from .metadata_narrator import NarratorListener, NarratorOutcome, narrator_step

log = logging.getLogger("mamcrawler.metadata")
REVIEW_MARK = "metadata: "
EVIDENCE_CHARS = 2000
OWN_EVIDENCE = {"tags": "read from the audio files", "folder": "read from the folder name",
                "txt": "read from reader.txt", "opf": "read from the OPF file",
                "speech": "narrator credit heard in the audio"}


@dataclass
class MetadataTools:
    """What enrichment needs: sources, precedence, match policy, the optional
    Audiobookshelf pusher and narrator listener. Build with `open_tools`."""

    settings: Settings
    sources: Sequence[MetadataSource]
    precedence: dict[str, tuple[str, ...]]
    policy: RecordMatchPolicy
    abs: AbsPusher | None = None
    listener: NarratorListener | None = None


@dataclass
class BookOutcome:
    """What one enrichment did, for job summaries and the API."""

    book_id: int
    changes: list[dict[str, Any]] = field(default_factory=list)
    flagged: bool = False
    review_reason: str | None = None
    source_errors: dict[str, str] = field(default_factory=dict)
    matches: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    narrator: dict[str, Any] | None = None
    abs_pushed: bool = False


@contextmanager
def open_tools(settings: Settings, *, abs_client: AbsClient | None = None,
               sources: Sequence[MetadataSource] | None = None,
               listener: NarratorListener | None = None,
               listen: bool = True) -> Iterator[MetadataTools]:
    """Tools for a run: the configured sources (or `sources`), ABS when a client is
    given, a narrator listener (or `listener`; none with `listen` off). What this built,
    it closes."""
    built = sources is None
    sources = build_sources(settings) if sources is None else sources
    own_listener = listener is None and listen
    listener = NarratorListener(settings) if own_listener else listener
    try:
        yield MetadataTools(
            settings=settings, sources=sources,
            precedence=parse_precedence(settings.metadata_precedence),
            policy=match_policy(settings),
            abs=AbsPusher(abs_client, settings) if abs_client is not None else None,
            listener=listener)
    finally:
        if own_listener and listener is not None:
            listener.close()
        if built:
            close_all(list(sources))


def match_policy(settings: Settings) -> RecordMatchPolicy:
    """The record match policy with METADATA_MATCH_WEIGHTS applied."""
    return RecordMatchPolicy.from_weights(parse_weights(settings.metadata_match_weights))


def enrich_book(sessions: sessionmaker[Session], tools: MetadataTools, book_id: int, *,
                listen: bool | None = None) -> BookOutcome:
    """Gather, match, merge and write one book's metadata (see the module docstring).

    `listen`: True runs narrator detection, False never, None only when the book's
    narrators were never assessed. Raises BookNotFound; source, speech and ABS failures
    are reported in the outcome instead.
    """
    with session_scope(sessions) as session:
        state = load_state(session, book_id)
    outcome = BookOutcome(book_id)
    found = _search(tools, state, outcome)
    usable = {s: m for s, m in found.items() if m.usable}
    if found and not usable:
        _flag(sessions, book_id, found, outcome)
        return outcome
    records: dict[str, Any] = dict(state.own)
    records.update({s: m.record for s, m in usable.items()})
    heard = None
    if tools.listener is not None and _should_listen(listen, state):
        heard = narrator_step(tools.listener, state, records, tools.precedence)
        if heard.skipped:
            outcome.notes.append(heard.skipped)
            heard = None
        else:
            outcome.narrator = heard.as_dict()
            if heard.speech_record:
                records["speech"] = heard.speech_record
    with session_scope(sessions) as session:
        result, first_push = _write(session, book_id, records, usable, tools, heard, outcome)
    if tools.abs is not None and (result.changes or first_push):
        _push(tools.abs, sessions, book_id, None if first_push else result, outcome)
    return outcome


def _search(tools: MetadataTools, state: BookState, outcome: BookOutcome
            ) -> dict[str, RecordMatch]:
    query = state.query()
    if query is None or not tools.sources:
        return {}
    answer = query_all(tools.sources, query, timeout_s=tools.settings.metadata_timeout_s)
    outcome.source_errors.update(answer.errors)
    found = best_matches(state.facts(), answer.records, tools.policy)
    outcome.matches = [m.explain() for m in found.values()]
    return found


def _should_listen(listen: bool | None, state: BookState) -> bool:
    if listen is not None:
        return listen
    return "narrators" not in state.protected and state.confidence.get("narrators") is None


def _flag(sessions: sessionmaker[Session], book_id: int, found: dict[str, RecordMatch],
          outcome: BookOutcome) -> None:
    """Flag the book for review with the best candidate's penalties; write nothing else."""
    best = min(found.values(), key=lambda m: m.match.distance)
    reason = (f"{REVIEW_MARK}no source matched well enough to write anything; best "
              f"{best.explain()}")
    with session_scope(sessions) as session:
        book = session.get(Book, book_id)
        other = book.review_reason if book.needs_review else None
        if other and not other.startswith(REVIEW_MARK):
            # Another part's reason (e.g. the scan's "no audio file can be read") stays
            # first: it lifts its own flag by that prefix.
            reason = f"{other.split(' | ' + REVIEW_MARK)[0]} | {reason}"
        book.needs_review, book.review_reason = True, reason
    outcome.flagged, outcome.review_reason = True, reason
    log.info("book %s flagged for review: %s", book_id, reason)


def _write(session: Session, book_id: int, records: dict[str, Any],
           usable: dict[str, RecordMatch], tools: MetadataTools,
           heard: NarratorOutcome | None, outcome: BookOutcome) -> tuple[MergeResult, bool]:
    """Merge against the book as it is now (a person may have protected a field since it
    was read) and write the changes, corrections and sources."""
    state = load_state(session, book_id)
    result = merge(state.fields, state.sources, records, tools.precedence, state.protected)
    book = session.get(Book, book_id)
    if result.changes:
        library.update_book(session, book, book_changes(state, result))
    for change in result.changes:
        session.add(MetadataCorrection(book_id=book_id, field=change.field,
                                       old_value=show(change.old), new_value=show(change.new),
                                       source=change.source))
        outcome.changes.append({"field": change.field, "old": show(change.old),
                                "new": show(change.new), "source": change.source,
                                "reason": change.reason})
    _record_sources(session, book_id, result, usable, state)
    if heard is not None:
        _record_narrator(session, book_id, heard)
    outcome.notes.extend(result.notes)
    _unflag(book)
    return result, not book.abs_item_id


def _unflag(book: Book) -> None:
    """Lift this module's review flag, leaving any other part's reason in place."""
    reason = book.review_reason or ""
    if reason.startswith(REVIEW_MARK):
        book.needs_review, book.review_reason = False, None
    elif f" | {REVIEW_MARK}" in reason:
        book.review_reason = reason.split(f" | {REVIEW_MARK}")[0]


def book_changes(state: BookState, result: MergeResult) -> dict[str, Any]:
    """The merge's changes as `library.update_book` fields: people as lists, the series
    name and position written together into the book's first series."""
    changed = result.changed()
    fields: dict[str, Any] = {}
    for name, value in changed.items():
        if name in ("series", "series_position"):
            continue
        fields[name] = list(value) if isinstance(value, tuple) else value
    if "series" in changed or "series_position" in changed:
        series = [dict(s) for s in state.view.get("series") or []]
        name = changed.get("series", state.fields.get("series"))
        position = changed.get("series_position", state.fields.get("series_position"))
        first = {"name": name, "position": position}
        fields["series"] = [first] + [s for s in series[1:] if s["name"] != name]
    return fields


def _record_sources(session: Session, book_id: int, result: MergeResult,
                    usable: dict[str, RecordMatch], state: BookState) -> None:
    """Who set each field, with the match (or the own source) as evidence. For narrators
    a confidence means "narrator detection has weighed them": it is left to detection,
    and cleared when another source's value takes over."""
    rows = field_rows(session, book_id)
    for name in FIELDS:
        source = result.sources.get(name)
        if source is None or name in state.protected:
            continue
        matched = usable.get(source)
        evidence = _evidence(source, matched, state)
        row = rows.get(name)
        if row is None:
            row = FieldSource(book_id=book_id, field=name, source=source)
            session.add(row)
        elif name == "narrators" and row.source == source:
            row.evidence = row.evidence or evidence
            continue
        row.source = source
        confidence = round(1.0 - matched.match.distance, 3) if matched else None
        row.confidence = None if name == "narrators" else confidence
        row.evidence = evidence


def _evidence(source: str, matched: RecordMatch | None, state: BookState) -> str | None:
    if matched is not None:
        return matched.explain()[:EVIDENCE_CHARS]
    if source == "tracker":
        return f"tracker release {state.release_id or '?'}"
    return OWN_EVIDENCE.get(source)


def _record_narrator(session: Session, book_id: int, heard: NarratorOutcome) -> None:
    """Narrator detection's confidence and evidence, about the narrators now stored. A
    protected field keeps the person's word; a book with no narrator stored gets no row
    (it is assessed again next time)."""
    book = session.get(Book, book_id)
    stored = [link.narrator.name for link in book.narrators]
    row = field_rows(session, book_id).get("narrators")
    if row is not None and row.protected:
        return
    if row is None:
        if not stored:
            return
        row = FieldSource(book_id=book_id, field="narrators", source=heard.source or "speech")
        session.add(row)
    confidence, evidence = heard.about(stored)
    row.confidence, row.evidence = confidence, evidence[:EVIDENCE_CHARS]


def _push(pusher: AbsPusher, sessions: sessionmaker[Session], book_id: int,
          result: MergeResult | None, outcome: BookOutcome) -> None:
    """Push the changed fields, or everything (`result` None) to an item not yet known."""
    changed = None if result is None else {c.field for c in result.changes}
    note = pusher.push(sessions, book_id, changed)
    outcome.abs_pushed = note is None
    if note:
        outcome.notes.append(note)

