"""The weekly `completion` run (R18): gaps in followed series and authors become missing
books and, when the tracker has them, wanted books.

One run: apply FOLLOW_LIBRARY_BY_DEFAULT; take the followed subjects least recently
checked first (or only the ones asked for); for each ask the tracker (within
TRACKER_REQUESTS_PER_WEEKLY_RUN), Audible's catalog and Hardcover (with a token), collect
the bibliography under the follow's rules, decide (domain.completion) and record. When
the request budget is spent the rest wait for the next run and are first then. A tracker
failure ends the run (a failing tracker is not asked again and again, and a subject not
searched there could wrongly look "not on the tracker"); a catalog failure only leaves
that subject's books only it lists unseen this time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.adapters.mam import TrackerError
from mamcrawler.adapters.metadata.catalog import AudibleCatalog
from mamcrawler.adapters.metadata.hardcover_catalog import HardcoverCatalog
from mamcrawler.domain.bibliography import Subject, SubjectKind, collect
from mamcrawler.domain.completion import CompletionPolicy, GapAction, SubjectResult, decide
from mamcrawler.store.db import session_scope

from . import completion_store as store
from .bibliography_sources import (
    BudgetSpent,
    RequestBudget,
    TrackerShelf,
    catalog_listings,
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
    hardcover: HardcoverCatalog | None = None  # None: no HARDCOVER_TOKEN (or demo mode)


class SubjectNotFollowed(LookupError):
    """A run was asked for a series or author that is not followed."""


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
        only: Sequence[tuple[SubjectKind, str]] = (),
        stop: Callable[[], bool] = never) -> CompletionReport:
    """One completion run; never raises for a source's failure (see the module doc).
    `only`: check just these followed series or authors (kind, name; any case), now;
    SubjectNotFollowed when one is not followed. `stop` is asked before each subject:
    True leaves the rest for the next run."""
    report = CompletionReport(budget=policy.tracker_requests_per_weekly_run)
    with session_scope(sessions) as session:
        report.follows_changed = apply_default_follows(session, policy, now)
    with session_scope(sessions) as session:
        subjects = _chosen(store.due_subjects(session), only)
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
    if progress is not None:
        progress(len(subjects), len(subjects), "done")
    report.tracker_requests = shelf.budget.used
    log.info("completion: %s", report.summary())
    return report


def check_subject(ports: CompletionPorts, sessions: sessionmaker[Session],
                  policy: CompletionPolicy, subject: Subject, uploads, now: datetime,
                  report: CompletionReport) -> SubjectResult:
    """Decide and record one subject from its tracker uploads and the catalogs' listings."""
    listings, notes = catalog_listings(ports.catalog, ports.hardcover, subject)
    listings = [listing_of_release(r) for r in uploads] + listings
    bibliography = collect(subject, listings, language=policy.completion_language,
                           allow_omnibus=policy.allow_omnibus,
                           allow_dramatized=policy.allow_dramatized)
    note = "; ".join(notes)
    with session_scope(sessions) as session:
        owned = store.owned_books(session, subject)
        known = store.known_gaps(session, [b.key for b in bibliography.books])
        result = decide(subject, bibliography, owned, known, policy, now.date())
        store.record_subject(session, result, now, note)
    if note:
        report.notes.append(f"{subject.name}: {note}")
    report.add(result)
    return result


def _chosen(subjects: list[Subject], only: Sequence[tuple[SubjectKind, str]]) -> list[Subject]:
    if not only:
        return subjects
    chosen = []
    for kind, name in only:
        found = next((s for s in subjects if s.kind is kind
                      and s.name.casefold() == name.strip().casefold()), None)
        if found is None:
            raise SubjectNotFollowed(f"{kind} {name!r} is not followed; follow it first "
                                     f"(mamcrawler follow {kind} \"{name}\")")
        chosen.append(found)
    return chosen
