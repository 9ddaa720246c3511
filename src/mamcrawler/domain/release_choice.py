"""Release choice (R9, R14): rank one book's releases and pick one, every step explained.

Pure: releases, the account's situation and the settings in; a `Choice` out, with a
`Candidate` for every release given. Rejected (codes in `REJECTION_CODES`): wrong book
(grade below `min_grade`), not audio, not better than the library copy, an upgrade that
would cost ratio or a wedge (unless `pay_for_upgrades`), incomplete or absurd size for
the duration, too few seeders, a paid grab `ratio_guard.may_grab` refuses.

Accepted candidates are ordered lexicographically, in SPEC order:
1. cost: free (`freeness.freeness`: only what the tracker says, events while they run,
   VIP-free while VIP lasts) < wedge-able (a tracker release that is not VIP-free and
   would also be affordable paid, since a wedge that does not take is paid) < paid;
2. right book: match grade, then preferred narrator (named < unknown < another), then
   unabridged before abridged (the grade alone, not the raw distance, so that small title
   noise does not outrank a better format);
3. format rank (m4b > m4a/aac > mp3 > others > unknown), then bitrate up to the cap;
4. completeness: a size checked sane for the duration before an unchecked one;
5. seeders (more first), then upload date (newer first: with equal seeders a newer upload
   is the one people are still joining, and tends to be the better-tagged re-release);
then match distance, then id, source and all fields, so input order never matters.
Rejected candidates follow, ranked by the same key so the next-best stays visible.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from mamcrawler.domain import quality as q
from mamcrawler.domain.freeness import (
    TRACKER_SOURCE,
    AccountView,
    Freeness,
    SiteEvent,
    freeness,
    utc,
)
from mamcrawler.domain.matching import (
    GRADES,
    MEDIUM,
    BookTarget,
    Match,
    MatchThresholds,
    MatchWeights,
    grade_rank,
    match,
)
from mamcrawler.domain.quality import HeldEdition, is_abridged, quality_of
from mamcrawler.domain.ratio_guard import GuardPolicy, GuardState, may_grab
from mamcrawler.domain.records import Release

FREE, WEDGE, PAID = "free", "wedge", "paid"
REJECTION_CODES = ("wrong book", "not audio", "duplicate", "upgrade cost", "incomplete", "size",
                   "dead", "few seeders", "ratio")  # most fundamental first: the listed order
WRONG_BOOK, NOT_AUDIO, DUPLICATE, UPGRADE_COST, INCOMPLETE, SIZE, DEAD, FEW_SEEDERS, RATIO = (
    REJECTION_CODES)
_COST_TIER = {FREE: 0, WEDGE: 1, PAID: 2}
_KEY_NAMES = ("acceptance", "cost", "match grade", "narrator", "abridged", "format",
              "bitrate", "size check", "seeders", "upload date", "match distance", "id")
GIB = 2**30


@dataclass(frozen=True)
class ChoicePolicy:
    """Settings. Defaults: medium matches or better, 1 seeder, wedges on paid releases of
    1 GiB or more, replacement only free and with a better format or 1.5x the bitrate."""

    weights: MatchWeights = MatchWeights()
    thresholds: MatchThresholds = MatchThresholds()
    min_grade: str = MEDIUM
    min_seeders: int = 1  # 0 allows dead torrents
    wedges_enabled: bool = True
    wedge_min_size_bytes: int = GIB
    pay_for_upgrades: bool = False  # an upgrade of a held book may cost ratio or a wedge
    replace_bitrate_factor: float = 1.5
    bitrate_cap_kbps: int = q.BITRATE_CAP_KBPS
    kbps_bounds: dict[str, tuple[float, float]] = field(
        default_factory=lambda: dict(q.DEFAULT_KBPS_BOUNDS))
    incomplete_below: float = 0.5

    def __post_init__(self) -> None:
        if self.min_grade not in GRADES:
            raise ValueError(f"min_grade must be one of {GRADES}")
        if self.replace_bitrate_factor <= 1:
            raise ValueError("replace_bitrate_factor must be > 1: equal is not better")
        if self.min_seeders < 0 or self.wedge_min_size_bytes < 0 or self.bitrate_cap_kbps <= 0:
            raise ValueError("min_seeders, wedge_min_size_bytes >= 0 and bitrate cap > 0")
        if set(self.kbps_bounds) != set(q.DEFAULT_KBPS_BOUNDS):
            raise ValueError(f"kbps_bounds needs exactly {sorted(q.DEFAULT_KBPS_BOUNDS)}")


@dataclass(frozen=True)
class ChoiceContext:
    """The account's situation at choice time. `upload_buffer_bytes` must already be
    reduced by paid downloads in progress and grabs queued earlier in the same run."""

    account_class: str
    vip_until: datetime | None = None  # VIP-free counts only while VIP lasts
    events: tuple[SiteEvent, ...] = ()  # site-wide events; only those running at `now` count
    wedges_available: int = 0
    guard_state: GuardState = GuardState()
    guard_policy: GuardPolicy = GuardPolicy()
    upload_buffer_bytes: int = 0
    library_copy: HeldEdition | None = None
    # Events and VIP are judged at `now`; without it nothing time-bound counts as free.
    # Ranking never reads a clock.
    now: datetime | None = None


@dataclass(frozen=True)
class Candidate:
    """One release as the choice saw it: accepted or not, and why, with the numbers."""

    release: Release
    edition: str  # FREE, WEDGE or PAID: what grabbing it would cost
    accepted: bool
    reasons: tuple[str, ...]  # rejections first, then the facts it was ranked on
    rejections: tuple[str, ...]
    rejection_codes: tuple[str, ...]  # REJECTION_CODES, parallel to `rejections`
    score_breakdown: dict[str, float | str]
    quality_score: float  # quality_of(format, bitrate), 0-99
    match: Match
    format: str | None
    bitrate_kbps: int | None
    replaces_library_copy: bool = False
    rank: int = 0  # 1-based position in Choice.candidates
    freeness: Freeness | None = None  # why it is (not) free, and until when

    @property
    def release_id(self) -> str:
        return self.release.id

    @property
    def title(self) -> str:
        return self.release.title


@dataclass(frozen=True)
class Choice:
    """The chosen candidate (or None), all candidates best first, and why."""

    chosen: Candidate | None
    candidates: tuple[Candidate, ...]
    reason: str
    use_wedge: bool = False

    @property
    def replaces_library_copy(self) -> bool:
        return self.chosen is not None and self.chosen.replaces_library_copy


@dataclass
class _Assessment:
    release: Release
    match: Match
    fmt: str | None
    bitrate: int | None
    quality: float
    edition: str
    size: q.SizeCheck
    free: Freeness
    paid_verdict: str
    rejections: list[tuple[str, str]] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    replaces: bool = False
    age_days: float | None = None


def choose(target: BookTarget, releases: Iterable[Release], ctx: ChoiceContext,
           policy: ChoicePolicy | None = None) -> Choice:
    """Rank `releases` for `target` and pick the best acceptable one.

    Promises: one candidate per release given; the result does not depend on their order;
    never a paid release the guard refuses; a free acceptable release whenever one exists;
    a wedge only on a non-free release, with wedges available and the policy allowing it;
    never a release not clearly better than `ctx.library_copy`.
    """
    policy = policy or ChoicePolicy()
    assessed = [_assess(target, release, ctx, policy) for release in releases]
    assessed.sort(key=_rank_key)
    candidates = _candidates(assessed)
    chosen = candidates[0] if candidates and candidates[0].accepted else None
    use_wedge = chosen is not None and chosen.edition == WEDGE
    return Choice(chosen, candidates, _choice_reason(chosen, candidates), use_wedge)


def _assess(target: BookTarget, release: Release, ctx: ChoiceContext,
            policy: ChoicePolicy) -> _Assessment:
    fmt = q.normalize_format(release.format) or q.sniff_format(f"{release.title} {release.tags}")
    bitrate = q.parse_bitrate(release.tags, release.title)
    size = q.check_size(release.size_bytes, target.expected_duration_s, fmt, bitrate,
                        policy.kbps_bounds, policy.incomplete_below)
    found = _Assessment(
        release=release,
        match=match(target, release, policy.weights, policy.thresholds),
        fmt=fmt, bitrate=bitrate, quality=quality_of(fmt, bitrate, policy.bitrate_cap_kbps),
        size=size, age_days=_age_days(release.added, ctx.now),
        **_edition(release, ctx, policy),
    )
    for check in (_check_cost, _check_match, _check_format, _check_size, _check_seeders,
                  _check_library):
        check(found, ctx, policy)
    # facts stay in ranking order; rejections lead with the most fundamental, so the
    # transient "ratio" comes last and rejections[0] says what is wrong with the release
    found.rejections.sort(key=lambda r: REJECTION_CODES.index(r[0]))
    return found


def _age_days(added: datetime | None, now: datetime | None) -> float | None:
    if added is None or now is None:
        return None
    return round((utc(now) - utc(added)).total_seconds() / 86400, 2)


_NEVER = datetime.max.replace(tzinfo=UTC)  # without `now`, time-bound freeness has ended


def _edition(release: Release, ctx: ChoiceContext, policy: ChoicePolicy) -> dict:
    """FREE, WEDGE or PAID with the freeness and the paid verdict behind it.

    A wedge only on a tracker release (reference/mam-api.md: never on a VIP-free one) that
    the guard would also let through paid: if the wedge does not take, it is paid.
    """
    free = freeness(release, AccountView(ctx.account_class, ctx.vip_until), ctx.events,
                    ctx.now or _NEVER)
    if free.free:
        return {"edition": FREE, "free": free, "paid_verdict": ""}
    verdict = may_grab(release, is_free=False, state=ctx.guard_state,
                       account_upload_buffer_bytes=ctx.upload_buffer_bytes,
                       policy=ctx.guard_policy)
    wedge_ok = (policy.wedges_enabled and ctx.wedges_available > 0 and not release.vip_free
                and release.source == TRACKER_SOURCE and verdict.allowed)
    if wedge_ok and release.size_bytes >= max(policy.wedge_min_size_bytes, 1):
        return {"edition": WEDGE, "free": free, "paid_verdict": verdict.reason}
    rejection = "" if verdict.allowed else verdict.reason
    return {"edition": PAID, "free": free, "paid_verdict": verdict.reason,
            "rejections": [(RATIO, rejection)] if rejection else []}


def _check_cost(a: _Assessment, ctx: ChoiceContext, policy: ChoicePolicy) -> None:
    release = a.release
    if a.edition == FREE:
        a.facts.append(f"free: {a.free.reason}")
    elif a.edition == WEDGE:
        a.facts.append(
            f"wedge: paid release of {q.size_text(release.size_bytes)} ≥ "
            f"{q.size_text(policy.wedge_min_size_bytes)}, {ctx.wedges_available} wedges left; "
            f"{a.paid_verdict} (in case the wedge does not take)")
    else:
        a.facts.append(a.free.reason)
        if not a.rejections:
            a.facts.append(a.paid_verdict)


def _check_match(a: _Assessment, ctx: ChoiceContext, policy: ChoicePolicy) -> None:
    if grade_rank(a.match.grade) > grade_rank(policy.min_grade):
        a.rejections.append((WRONG_BOOK, f"wrong book (need {policy.min_grade} or better): "
                             f"{a.match.explain()}"))
        return
    fact = f"{a.match.grade} match (distance {a.match.distance:.2f})"
    narrator = a.match.penalty("narrator")
    if narrator is not None:
        fact += {0.5: ", narrator unknown"}.get(
            narrator, ", preferred narrator" if narrator < 0.5 else ", not the preferred narrator")
    fact += ", abridged" if is_abridged(a.release) else ", unabridged"
    a.facts.append(fact)


def _check_format(a: _Assessment, ctx: ChoiceContext, policy: ChoicePolicy) -> None:
    if not q.is_audio_format(a.fmt):
        a.rejections.append((NOT_AUDIO, f"not an audio format: {a.fmt}"))
        return
    a.facts.append(f"{q.edition_text(a.fmt, a.bitrate)} (quality {a.quality:.1f})")


def _check_size(a: _Assessment, ctx: ChoiceContext, policy: ChoicePolicy) -> None:
    marker = q.incomplete_marker(f"{a.release.title} {a.release.tags}")
    if marker:
        a.rejections.append((INCOMPLETE, f"incomplete: release says '{marker}'"))
    if a.size.rejects:
        a.rejections.append((INCOMPLETE if a.size.status == q.INCOMPLETE else SIZE, a.size.text))
    else:
        a.facts.append(a.size.text)


def _check_seeders(a: _Assessment, ctx: ChoiceContext, policy: ChoicePolicy) -> None:
    seeders = max(a.release.seeders, 0)
    if seeders < policy.min_seeders:
        code = DEAD if seeders == 0 else FEW_SEEDERS
        a.rejections.append((code, f"{code}: {seeders} seeders < minimum {policy.min_seeders}"))
    else:
        a.facts.append(f"{seeders} seeders")


def _check_library(a: _Assessment, ctx: ChoiceContext, policy: ChoicePolicy) -> None:
    held = ctx.library_copy
    if held is None:
        return
    better, why = q.better_than_held(a.fmt, a.bitrate, held, policy.replace_bitrate_factor)
    if not better:
        a.rejections.append((DUPLICATE, f"not better than the library copy "
                             f"({held.text()}): {why}"))
    elif a.edition != FREE and not policy.pay_for_upgrades:
        cost = "a wedge" if a.edition == WEDGE else "ratio"
        a.rejections.append((UPGRADE_COST, f"upgrade over the library copy ({held.text()}) "
                             f"would cost {cost}; policy allows free upgrades only"))
    else:
        a.replaces = True
        a.facts.append(f"better than the library copy ({held.text()}): {why}")


def _rank_key(a: _Assessment) -> tuple:
    """Sort key in `_KEY_NAMES` order; smaller is better."""
    release = a.release
    added = utc(release.added) if release.added else None
    return (
        1 if a.rejections else 0,
        _COST_TIER[a.edition],
        grade_rank(a.match.grade),
        a.match.penalty("narrator") or 0.0,
        1 if is_abridged(release) else 0,
        -q.format_rank(a.fmt),
        -a.quality,  # same format here, so this is the bitrate up to the cap, unknown last
        0 if a.size.status == q.OK else 1,
        -max(release.seeders, 0),
        (0, -added.timestamp()) if added else (1, 0.0),
        round(a.match.distance, 9),
        (release.id, release.source, repr(release)),
    )


def _candidates(assessed: list[_Assessment]) -> tuple[Candidate, ...]:
    best_key = _rank_key(assessed[0]) if assessed else None
    out = []
    for rank, a in enumerate(assessed, start=1):
        key = _rank_key(a)
        reasons = [text for _, text in a.rejections] + a.facts
        codes = tuple(code for code, _ in a.rejections)
        if rank > 1 and not a.rejections and best_key is not None:
            lost_on = next((n for n, x, y in zip(_KEY_NAMES, key, best_key, strict=True)
                            if x != y), "nothing: same release")
            reasons.append(f"ranked #{rank}: behind #1 on {lost_on}")
        out.append(Candidate(
            release=a.release, edition=a.edition, accepted=not a.rejections,
            reasons=tuple(reasons), rejections=tuple(text for _, text in a.rejections),
            rejection_codes=codes,
            score_breakdown=_breakdown(a, rank), quality_score=a.quality, match=a.match,
            format=a.fmt, bitrate_kbps=a.bitrate,
            replaces_library_copy=a.replaces and not a.rejections,
            rank=rank, freeness=a.free,
        ))
    return tuple(out)


def _breakdown(a: _Assessment, rank: int) -> dict[str, float | str]:
    release = a.release
    out: dict[str, float | str] = {
        "rank": rank, "edition": a.edition,
        "match_grade": a.match.grade, "match_distance": round(a.match.distance, 4),
        **{f"penalty_{name}": value for name, value in a.match.as_dict().items()},
        "format": a.fmt or "unknown", "format_rank": q.format_rank(a.fmt),
        "bitrate_kbps": a.bitrate if a.bitrate else "unknown", "quality": a.quality,
        "size_bytes": max(release.size_bytes, 0), "size_check": a.size.status,
        "seeders": max(release.seeders, 0), "leechers": max(release.leechers, 0),
        "added": release.added.isoformat() if release.added else "unknown",
    }
    if a.age_days is not None:
        out["age_days"] = a.age_days
    if a.size.average_kbps is not None:
        out["average_kbps"] = round(a.size.average_kbps, 1)
    if a.rejections:
        out["rejected_for"] = ", ".join(dict.fromkeys(code for code, _ in a.rejections))
    return out


def _choice_reason(chosen: Candidate | None, candidates: tuple[Candidate, ...]) -> str:
    if not candidates:
        return "nothing chosen: no releases found"
    rejected = sum(1 for c in candidates if not c.accepted)
    if chosen is None:
        codes = Counter(code for c in candidates
                        for code in str(c.score_breakdown["rejected_for"]).split(", "))
        summary = ", ".join(f"{code} {n}" for code, n in sorted(codes.items()))
        count = f"{len(candidates)} release{'s' if len(candidates) != 1 else ''}"
        return (f"nothing chosen: {count}, all rejected ({summary}); "
                f"best: {candidates[0].rejections[0]}")
    others = len(candidates) - 1
    text = (f"chosen: {chosen.edition} {q.edition_text(chosen.format, chosen.bitrate_kbps)}, "
            f"{chosen.match.grade} match, {max(chosen.release.seeders, 0)} seeders; "
            f"better than {others} other{'s' if others != 1 else ''}")
    if rejected:
        text += f" ({rejected} rejected)"
    if chosen.edition == WEDGE:
        text += "; spends a wedge"
    if chosen.replaces_library_copy:
        text += "; replaces the library copy"
    return text


def candidates_as_json(choice: Choice) -> list[dict[str, object]]:
    """Every candidate as plain JSON-ready data, best first, for storing with the download."""
    chosen_rank = choice.chosen.rank if choice.chosen else None
    return [
        {
            "rank": c.rank, "release_id": c.release_id, "title": c.title,
            "source": c.release.source, "edition": c.edition, "accepted": c.accepted,
            "chosen": c.rank == chosen_rank,
            "use_wedge": c.rank == chosen_rank and choice.use_wedge,
            "replaces_library_copy": c.replaces_library_copy,
            "quality_score": c.quality_score, "reasons": list(c.reasons),
            "score_breakdown": dict(c.score_breakdown),
        }
        for c in choice.candidates
    ]
