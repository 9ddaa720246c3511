"""Discovery (R7, R19): what to do with a new release in a followed category or a top-10
book. Pure.

A new release is wanted when it is by a followed author or in a followed series (or with
DISCOVERY_POLICY=all, any new release in a followed category); a top-10 book is wanted
when TOP10_DISCOVERY is on. With DISCOVERY_POLICY=record such finds are only recorded.
Owned books, other languages, abridged editions, omnibuses (unless ALLOW_OMNIBUS) and
books the person declined are never wanted.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from mamcrawler.domain.bibliography import clean_title, has_person, is_omnibus, same_name
from mamcrawler.domain.completion import CompletionPolicy, GapAction, GapStatus, KnownGap
from mamcrawler.domain.matching import canonical_language
from mamcrawler.domain.quality import is_abridged
from mamcrawler.domain.records import Release
from mamcrawler.domain.text import book_key


class FindKind(StrEnum):
    CATEGORY = "category"
    TOP10 = "top10"


@dataclass(frozen=True)
class Follows:
    """Followed author and series names."""

    authors: tuple[str, ...] = ()
    series: tuple[str, ...] = ()


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
          known: Mapping[str, KnownGap], policy: CompletionPolicy) -> Find:
    """The verdict on one release found by category sync or top-10 discovery."""
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
    if gap.status == GapStatus.DECLINED or gap.wanted_status == "cancelled":
        return verdict(GapAction.DECLINED, "you declined it")
    if kind is FindKind.TOP10:
        why = f"top-10 of {release.category_name or 'its category'}"
    else:
        why = _followed_by(release, follows)
        if why is None and policy.discovery_policy != "all":
            return verdict(None, "new, but not by a followed author or series")
        why = why or f"new in followed category {release.category_name or release.category_id}"
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
