"""Discovery (R7, R19): what to do with a new release in a followed category or a top-10
book. Pure.

A new release in a followed category is wanted when it is by a followed author or in a
followed series, whatever the policy; beyond that DISCOVERY_POLICY decides: free (it costs
no ratio), narrator (read by a narrator the person likes), all (any), followed (nothing
more). A top-10 book is wanted when TOP10_DISCOVERY is on. With DISCOVERY_POLICY=record
such finds are only recorded. Owned books, other languages, abridged and dramatized
editions, omnibuses (unless allowed) and books the person declined are never wanted.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from mamcrawler.domain.bibliography import has_person, same_name
from mamcrawler.domain.completion import CompletionPolicy, GapAction, GapStatus, KnownGap
from mamcrawler.domain.editions import clean_title, is_dramatized, is_omnibus
from mamcrawler.domain.matching import canonical_language
from mamcrawler.domain.quality import is_abridged
from mamcrawler.domain.records import Release
from mamcrawler.domain.text import book_key


class FindKind(StrEnum):
    CATEGORY = "category"
    TOP10 = "top10"


@dataclass(frozen=True)
class Follows:
    """Followed author and series names, and the narrators the person likes."""

    authors: tuple[str, ...] = ()
    series: tuple[str, ...] = ()
    narrators: tuple[str, ...] = ()


@dataclass(frozen=True)
class Find:
    """A release judged: `action` is want, record, declined, or None (left alone)."""

    release: Release
    kind: FindKind
    key: str
    title: str
    action: GapAction | None
    reason: str


def find_key(release: Release) -> str:
    """The wanted-list identity of the book a release holds."""
    return book_key(clean_title(release.title), release.authors[0] if release.authors else None)


def judge(release: Release, kind: FindKind, follows: Follows, owned_keys: Collection[str],
          known: Mapping[str, KnownGap], policy: CompletionPolicy,
          costs_nothing: bool = False) -> Find:
    """The verdict on one release found by category sync or top-10 discovery.
    `costs_nothing`: the release is free for this account (for DISCOVERY_POLICY=free)."""
    key, title = find_key(release), clean_title(release.title)

    def verdict(action: GapAction | None, reason: str) -> Find:
        return Find(release, kind, key, title, action, reason)

    unwanted = _unwanted(release, policy)
    if unwanted:
        return verdict(None, unwanted)
    if key in owned_keys:
        return verdict(None, "already in the library")
    gap = known.get(key, KnownGap())
    if gap.wanted_status == "done":
        return verdict(None, "downloaded already")
    if gap.status == GapStatus.DECLINED or gap.wanted_status == "cancelled" or gap.removed:
        return verdict(GapAction.DECLINED, "you declined it")
    if kind is FindKind.TOP10:
        why = f"top-10 new release of {release.category_name or 'its category'}"
    else:
        why = _followed_by(release, follows) or _by_policy(release, follows, policy,
                                                            costs_nothing)
        if why is None:
            return verdict(None, f"new, but {_not_wanted_because(policy)}")
    if not policy.wants:
        return verdict(GapAction.RECORD, f"{why}; DISCOVERY_POLICY=record, so want it by hand")
    return verdict(GapAction.WANT, why)


def _unwanted(release: Release, policy: CompletionPolicy) -> str | None:
    wanted = canonical_language(policy.completion_language)
    given = canonical_language(release.language)
    if wanted and given and wanted != given:
        return f"in {release.language}, not {policy.completion_language}"
    if is_abridged(release):
        return "abridged"
    if not policy.allow_dramatized and is_dramatized(release.title, release.tags):
        return "a dramatized edition (ALLOW_DRAMATIZED=false)"
    position = release.series[0].position if release.series else None
    name = release.series[0].name if release.series else None
    if not policy.allow_omnibus and is_omnibus(release.title, position, name):
        return "an omnibus or box set (ALLOW_OMNIBUS=false)"
    return None


def _followed_by(release: Release, follows: Follows) -> str | None:
    for author in follows.authors:
        if has_person(release.authors, author):
            return f"new by followed author {author}"
    for series in follows.series:
        if any(same_name(ref.name, series) for ref in release.series):
            return f"new in followed series {series}"
    return None


def _by_policy(release: Release, follows: Follows, policy: CompletionPolicy,
               costs_nothing: bool) -> str | None:
    where = f"new in followed category {release.category_name or release.category_id}"
    rule = policy.discovery_policy
    if rule == "all":
        return where
    if rule == "free" and costs_nothing:
        return f"{where}, free for you"
    if rule == "narrator":
        liked = next((n for n in follows.narrators if has_person(release.narrators, n)), None)
        if liked:
            return f"{where}, read by {liked}"
    return None


def _not_wanted_because(policy: CompletionPolicy) -> str:
    return {"free": "not by a followed author or series and not free",
            "narrator": "not by a followed author or series nor read by a narrator you like",
            }.get(policy.discovery_policy, "not by a followed author or series")
