"""The weekly `category_sync` run (R19, R7): new releases in the followed tracker
categories, and the top-10 of Fantasy (41) and Science Fiction (47).

New releases: one search over every followed category at once, newest first, page after
page until the releases seen last run (the newest `added` is kept in app state) or the
request budget's end; the first run looks back a week. Top-10: one search per category,
most snatched first. Each release is judged (domain.discovery) and recorded like a gap:
a missing book found in `category` or `top10`, wanted when the verdict says so.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mamcrawler.adapters.mam import SearchQuery, TrackerError
from mamcrawler.domain.completion import CompletionPolicy
from mamcrawler.domain.discovery import Find, FindKind, Follows, find_key, judge
from mamcrawler.domain.records import Release
from mamcrawler.domain.text import book_key
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import AppState, Author, Book, Series

from . import completion_store as store
from .bibliography_sources import BudgetSpent, RequestBudget, tracker_languages
from .follows import followed_categories
from .ports import Tracker
from .reports import never

log = logging.getLogger("mamcrawler.discovery")
MARK_KEY = "category_sync.newest_added"
FIRST_LOOKBACK = timedelta(days=7)
TOP10_CATEGORIES = (41, 47)  # Fantasy, Science Fiction (SPEC R2)
PER_PAGE = 100
MAX_PAGES = 5


@dataclass
class DiscoveryReport:
    budget: int
    categories: int = 0
    new_releases: int = 0
    top10: int = 0
    actions: Counter = field(default_factory=Counter)
    tracker_requests: int = 0
    stopped: str = ""

    def summary(self) -> str:
        acted = ", ".join(f"{self.actions.get(a, 0)} {a}" for a in ("want", "record",
                                                                    "declined", "left alone"))
        text = (f"{self.new_releases} new releases in {self.categories} followed categories, "
                f"{self.top10} top-10 books ({acted}); {self.tracker_requests} of "
                f"{self.budget} tracker requests")
        return text + (f"; stopped early: {self.stopped}" if self.stopped else "")


def run(tracker: Tracker, sessions: sessionmaker[Session], policy: CompletionPolicy,
        now: datetime, stop: Callable[[], bool] = never) -> DiscoveryReport:
    """One category sync; a tracker failure ends it with what was found so far, and so
    does `stop`, asked before each top-10 search."""
    report = DiscoveryReport(budget=policy.tracker_requests_per_weekly_run)
    budget = RequestBudget(policy.tracker_requests_per_weekly_run)
    languages = tracker_languages(policy.completion_language)
    with session_scope(sessions) as session:
        categories = tuple(c.category_id for c in followed_categories(session))
        since = _mark(session) or now - FIRST_LOOKBACK
    report.categories = len(categories)
    found: list[tuple[Release, FindKind]] = []
    newest = None
    try:
        if categories:
            fresh, newest = _new_releases(tracker, budget, categories, languages, since)
            found += [(r, FindKind.CATEGORY) for r in fresh]
            report.new_releases = len(fresh)
        if policy.top10_discovery:
            for category in TOP10_CATEGORIES:
                if stop():
                    break
                budget.take()
                top = tracker.search(SearchQuery(category_ids=(category,), sort="snatchedDesc",
                                                 per_page=10, language_ids=languages))[:10]
                found += [(r, FindKind.TOP10) for r in top]
                report.top10 += len(top)
    except (BudgetSpent, TrackerError) as exc:
        report.stopped = str(exc) if isinstance(exc, BudgetSpent) else f"tracker: {exc}"
    report.tracker_requests = budget.used
    with session_scope(sessions) as session:
        for find in _judge_all(session, found, policy):
            report.actions[find.action.value if find.action else "left alone"] += 1
            if find.action is not None:
                store.record_find(session, _as_record(find), now)
        if newest is not None:
            _set_mark(session, newest)
    log.info("category_sync: %s", report.summary())
    return report


def _new_releases(tracker: Tracker, budget: RequestBudget, categories: tuple[int, ...],
                  languages: tuple[int, ...], since: datetime
                  ) -> tuple[list[Release], datetime | None]:
    """Releases added after `since`, newest first, and the newest `added` seen (None when
    a failure left the walk unfinished: the mark then stays where it was)."""
    fresh: list[Release] = []
    newest = None
    for page in range(MAX_PAGES):
        if page and not budget.left:
            break
        budget.take()
        releases = tracker.search(SearchQuery(category_ids=categories, sort="dateDesc",
                                              per_page=PER_PAGE, start=page * PER_PAGE,
                                              language_ids=languages))
        dated = [r for r in releases if r.added is not None]
        for release in dated:
            newest = release.added if newest is None else max(newest, release.added)
        fresh += [r for r in dated if r.added > since]
        if len(releases) < PER_PAGE or any(r.added <= since for r in dated):
            break
    return fresh, newest or since


def _judge_all(session: Session, found: list[tuple[Release, FindKind]],
               policy: CompletionPolicy) -> list[Find]:
    follows = Follows(
        authors=tuple(session.scalars(select(Author.name).where(Author.followed))),
        series=tuple(session.scalars(select(Series.name).where(Series.followed))))
    owned = {book_key(b.title, b.authors[0].author.name if b.authors else None)
             for b in session.scalars(select(Book))}
    seen: dict[str, Find] = {}
    known = store.known_gaps(session, [find_key(release) for release, _ in found])
    for release, kind in found:
        find = judge(release, kind, follows, owned, known, policy)
        seen.setdefault(find.key, find)  # the same book twice (top-10 and new): once
    return list(seen.values())


def _as_record(find: Find) -> store.Find:
    release = find.release
    series = release.series[0] if release.series else None
    return store.Find(
        key=find.key, title=find.title, author=release.authors[0] if release.authors else None,
        action=find.action, reason=find.reason, found_in=str(find.kind), sources=("tracker",),
        series=series.name if series else None, position=series.position if series else None,
        release_ids=(release.id,), category_id=release.category_id)


def _mark(session: Session) -> datetime | None:
    row = session.get(AppState, MARK_KEY)
    return datetime.fromisoformat(row.value) if row and row.value else None


def _set_mark(session: Session, newest: datetime) -> None:
    row = session.get(AppState, MARK_KEY)
    if row is None:
        session.add(AppState(key=MARK_KEY, value=newest.isoformat()))
    else:
        row.value = newest.isoformat()
