"""The weekly `category_sync` run (R19, R7): new releases in the followed tracker
categories, and the top-10 of Fantasy (41) and Science Fiction (47).

New releases: one search over every followed category (and Fantasy and Science Fiction
for the top-10) at once, newest first, page after page until the releases seen last run
(the newest `added` is kept in app state) or the request budget's end; the first run
looks back a week. Top-10: of the new releases of the window in Fantasy and in Science
Fiction, the ten most snatched of each. Each release is judged (domain.discovery, with
DISCOVERY_POLICY: followed authors and series, free for this account, a liked narrator,
or all) and recorded like a gap: a missing book found in `category` or `top10`, wanted
when the verdict says so, its source naming the category ("category:Fantasy").
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
from mamcrawler.domain.freeness import AccountView, freeness
from mamcrawler.domain.records import Release
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import (
    AppState,
    Author,
    BookNarrator,
    CategorySetting,
    Narrator,
    Series,
)

from . import completion_store as store
from . import library
from .bibliography_sources import BudgetSpent, RequestBudget, tracker_languages
from .follows import followed_categories
from .guard_store import latest_snapshot
from .ports import Tracker
from .reports import never

log = logging.getLogger("mamcrawler.discovery")
MARK_KEY = "category_sync.newest_added"
FIRST_LOOKBACK = timedelta(days=7)
TOP10_CATEGORIES = (41, 47)  # Fantasy, Science Fiction (SPEC R2)
PER_PAGE = 100
MAX_PAGES = 10  # 1,000 new releases: a week of the followed categories, top-10 included


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
    """One category sync; a tracker failure ends it with what was found so far. `stop`
    is asked before the walk over the new releases (a stopping process skips it)."""
    report = DiscoveryReport(budget=policy.tracker_requests_per_weekly_run)
    budget = RequestBudget(policy.tracker_requests_per_weekly_run)
    languages = tracker_languages(policy.completion_language)
    with session_scope(sessions) as session:
        followed = tuple(c.category_id for c in followed_categories(session))
        since = _mark(session) or now - FIRST_LOOKBACK
    top10 = TOP10_CATEGORIES if policy.top10_discovery else ()
    walk = tuple(sorted(set(followed) | set(top10)))
    report.categories = len(followed)
    found: list[tuple[Release, FindKind]] = []
    newest = None
    try:
        if walk and not stop():
            fresh, newest, report.stopped = _new_releases(tracker, budget, walk, languages,
                                                          since)
            new = [r for r in fresh if r.category_id in followed]
            found += [(r, FindKind.CATEGORY) for r in new]
            report.new_releases = len(new)
            for category in top10:
                best = most_snatched(fresh, category)
                found += [(r, FindKind.TOP10) for r in best]
                report.top10 += len(best)
    except (BudgetSpent, TrackerError) as exc:
        report.stopped = str(exc) if isinstance(exc, BudgetSpent) else f"tracker: {exc}"
    report.tracker_requests = budget.used
    with session_scope(sessions) as session:
        for find in _judge_all(session, found, policy, now):
            report.actions[find.action.value if find.action else "left alone"] += 1
            if find.action is not None:
                store.record_find(session, _as_record(session, find), now)
        if newest is not None:
            _set_mark(session, newest)
    log.info("category_sync: %s", report.summary())
    return report


def most_snatched(releases: list[Release], category: int, count: int = 10) -> list[Release]:
    """The `count` most snatched of `releases` in `category`, one upload per book."""
    ranked = sorted((r for r in releases if r.category_id == category),
                    key=lambda r: -r.snatches)
    best: dict[str, Release] = {}
    for release in ranked:
        best.setdefault(find_key(release), release)
    return list(best.values())[:count]


def _new_releases(tracker: Tracker, budget: RequestBudget, categories: tuple[int, ...],
                  languages: tuple[int, ...], since: datetime
                  ) -> tuple[list[Release], datetime, str]:
    """Releases added after `since`, newest first; the newest `added` seen (the next
    run's mark); and, when the walk ended at the request budget or MAX_PAGES before it
    reached `since`, what it skipped ("" when it saw everything). A tracker failure is
    raised (the mark then stays where it was)."""
    fresh: list[Release] = []
    newest, oldest = since, None
    for page in range(MAX_PAGES):
        if page and not budget.left:
            return fresh, newest, _skipped("the request budget was spent", since, oldest)
        budget.take()
        releases = tracker.search(SearchQuery(category_ids=categories, sort="dateDesc",
                                              per_page=PER_PAGE, start=page * PER_PAGE,
                                              language_ids=languages))
        dated = [r for r in releases if r.added is not None]
        for release in dated:
            newest = max(newest, release.added)
            oldest = release.added if oldest is None else min(oldest, release.added)
        fresh += [r for r in dated if r.added > since]
        if len(releases) < PER_PAGE or any(r.added <= since for r in dated):
            return fresh, newest, ""
    return fresh, newest, _skipped(f"{MAX_PAGES} pages were read", since, oldest)


def _skipped(why: str, since: datetime, oldest: datetime | None) -> str:
    upto = f" and {oldest:%Y-%m-%d %H:%M} UTC" if oldest else ""
    return (f"{why} before the walk reached the last run's releases: those added between "
            f"{since:%Y-%m-%d %H:%M} UTC{upto} were not looked at (raise "
            "TRACKER_REQUESTS_PER_WEEKLY_RUN or run category_sync more often)")


def _judge_all(session: Session, found: list[tuple[Release, FindKind]],
               policy: CompletionPolicy, now: datetime) -> list[Find]:
    follows = Follows(
        authors=tuple(session.scalars(select(Author.name).where(Author.followed))),
        series=tuple(session.scalars(select(Series.name).where(Series.followed))),
        narrators=policy.liked_narrators or tuple(session.scalars(
            select(Narrator.name).where(Narrator.id.in_(select(BookNarrator.narrator_id))))))
    snapshot = latest_snapshot(session)
    account = AccountView(snapshot.class_name or "", snapshot.vip_until) if snapshot \
        else AccountView("")
    owned = set(library.book_keys(session))
    seen: dict[str, Find] = {}
    known = store.known_gaps(session, [find_key(release) for release, _ in found])
    for release, kind in found:
        free = freeness(release, account, (), now).free
        find = judge(release, kind, follows, owned, known, policy, costs_nothing=free)
        # The same book twice (new in a followed category and top-10): once, as a find
        # that does something if either does.
        if find.key not in seen or (seen[find.key].action is None and find.action):
            seen[find.key] = find
    return list(seen.values())


def _as_record(session: Session, find: Find) -> store.Find:
    release = find.release
    series = release.series[0] if release.series else None
    category = session.get(CategorySetting, release.category_id) \
        if release.category_id is not None else None
    return store.Find(
        key=find.key, title=find.title, author=release.authors[0] if release.authors else None,
        action=find.action, reason=find.reason, found_in=str(find.kind), sources=("tracker",),
        series=series.name if series else None, position=series.position if series else None,
        release_ids=(release.id,), category_id=release.category_id,
        found_name=category.name if category else None,
        narrator=release.narrators[0] if release.narrators else None)


def _mark(session: Session) -> datetime | None:
    row = session.get(AppState, MARK_KEY)
    return datetime.fromisoformat(row.value) if row and row.value else None


def _set_mark(session: Session, newest: datetime) -> None:
    row = session.get(AppState, MARK_KEY)
    if row is None:
        session.add(AppState(key=MARK_KEY, value=newest.isoformat()))
    else:
        row.value = newest.isoformat()
