"""The weekly `completion` run (R18): gaps in followed series and authors become missing
books and, when the tracker has them, wanted books.

One run: apply FOLLOW_LIBRARY_BY_DEFAULT; take the followed subjects least recently
checked first; for each ask the tracker (within TRACKER_REQUESTS_PER_WEEKLY_RUN) and
Audible's catalog, collect the bibliography, decide (domain.completion) and record. When
the request budget is spent the rest wait for the next run and are first then. A tracker
failure ends the run (a failing tracker is not asked again and again, and a subject not
searched there could wrongly look "not on the tracker"); an Audible failure only leaves
that subject's Audible-only books unseen this time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.adapters.mam import TrackerError
from mamcrawler.adapters.metadata.catalog import AudibleCatalog
from mamcrawler.domain.bibliography import Subject, collect
from mamcrawler.domain.completion import CompletionPolicy, GapAction, SubjectResult, decide
from mamcrawler.store.db import session_scope

from . import completion_store as store
from .bibliography_sources import (
    BudgetSpent,
    RequestBudget,
    TrackerShelf,
    audible_listings,
    listing_of_release,
    tracker_languages,
)
from .follows import apply_default_follows
from .ports import Tracker
from .reports import never

log = logging.getLogger("mamcrawler.completion")
Progress = Callable[[int, int | None, str], None]


@dataclass(frozen=True)
class CompletionPorts:
    tracker: Tracker
    catalog: AudibleCatalog | None = None  # None: Audible is not asked (demo mode)


@dataclass
class CompletionReport:
    """Counts of one run, and why it stopped early if it did."""

    budget: int
    follows_changed: int = 0
    due: int = 0
    checked: int = 0
    tracker_requests: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    waiting: int = 0
    stopped: str = ""
    notes: list[str] = field(default_factory=list)

    def add(self, result: SubjectResult) -> None:
        self.checked += 1
        for action in GapAction:
            self.actions[action.value] = self.actions.get(action.value, 0) \
                + result.count(action)

    def summary(self) -> str:
        counts = ", ".join(f"{self.actions.get(a.value, 0)} {a.value}" for a in GapAction)
        text = (f"{self.checked} of {self.due} followed series and authors checked ({counts}); "
                f"{self.tracker_requests} of {self.budget} tracker requests")
        if self.follows_changed:
            text += f"; {self.follows_changed} follows set by FOLLOW_LIBRARY_BY_DEFAULT"
        if self.waiting:
            text += f"; {self.waiting} wait for the next run: {self.stopped}"
        if self.notes:
            text += f"; {len(self.notes)} source notes: " + "; ".join(self.notes[:3])
        return text


def run(ports: CompletionPorts, sessions: sessionmaker[Session], policy: CompletionPolicy,
        now: datetime, progress: Progress | None = None,
        stop: Callable[[], bool] = never) -> CompletionReport:
    """One completion run; never raises for a source's failure (see the module doc).
    `stop` is asked before each subject: True leaves the rest for the next run."""
    report = CompletionReport(budget=policy.tracker_requests_per_weekly_run)
    with session_scope(sessions) as session:
        report.follows_changed = apply_default_follows(session, policy)
    with session_scope(sessions) as session:
        subjects = store.due_subjects(session)
    report.due = len(subjects)
    shelf = TrackerShelf(ports.tracker, RequestBudget(policy.tracker_requests_per_weekly_run),
                         tracker_languages(policy.completion_language))
    for done, subject in enumerate(subjects):
        if stop():
            report.waiting, report.stopped = len(subjects) - done, "the run was stopped"
            break
        if progress is not None:
            progress(done, len(subjects), f"{subject.kind} {subject.name}")
        try:
            uploads = shelf.for_subject(subject)
        except (BudgetSpent, TrackerError) as exc:
            report.waiting = len(subjects) - done
            report.stopped = str(exc) if isinstance(exc, BudgetSpent) else f"tracker: {exc}"
            break
        check_subject(ports, sessions, policy, subject, uploads, now, report)
    report.tracker_requests = shelf.budget.used
    log.info("completion: %s", report.summary())
    return report


def check_subject(ports: CompletionPorts, sessions: sessionmaker[Session],
                  policy: CompletionPolicy, subject: Subject, uploads, now: datetime,
                  report: CompletionReport) -> SubjectResult:
    """Decide and record one subject from its tracker uploads and Audible's listing."""
    listings, note = audible_listings(ports.catalog, subject)
    listings = [listing_of_release(r) for r in uploads] + listings
    bibliography = collect(subject, listings, language=policy.completion_language,
                           allow_omnibus=policy.allow_omnibus)
    with session_scope(sessions) as session:
        owned = store.owned_books(session, subject)
        known = store.known_gaps(session, [b.key for b in bibliography.books])
        result = decide(subject, bibliography, owned, known, policy)
        store.record_subject(session, result, now, note)
    if note:
        report.notes.append(f"{subject.name}: {note}")
    report.add(result)
    return result
