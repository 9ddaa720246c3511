"""Pure parsing of tracker replies into neutral records. No I/O.

Every quirk in reference/mam-api.md is handled here: flat and nested snatch summaries,
ratio as number/string/"∞", human sizes, numbers and flags as strings, JSON-in-string
people and series, "Nothing returned" as an empty result, and one bad search result
never costing the others.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from mamcrawler.adapters.mam.errors import TrackerBadResponse, TrackerRefused, scrub
from mamcrawler.adapters.mam.models import (
    PurchaseResult,
    SearchPage,
    SeedboxUpdate,
    SiteEvent,
    SiteEvents,
)
from mamcrawler.adapters.mam.values import (
    clean_text,
    parse_people,
    parse_ratio,
    parse_series,
    parse_size,
    parse_utc,
    to_finite_float,
    to_flag,
    to_float,
    to_int,
)
from mamcrawler.domain.records import AccountStats, Release, SnatchBucket

log = logging.getLogger(__name__)

BUCKET_NAMES = (
    "leeching", "sSat", "seedUnsat", "seedHnr", "upAct", "upInact", "inactSat",
    "inactUnsat", "inactHnr", "unsat", "duplicates", "reseed", "ite",
)
NOTHING_RETURNED = "Nothing returned"
EVENT_KINDS = ("freeleech", "bonus", "multiplier")


def _require_object(payload: object, what: str) -> dict:
    if not isinstance(payload, dict):
        raise TrackerBadResponse(f"{what}: expected a JSON object, got {type(payload).__name__}")
    return payload


def _error_text(payload: dict) -> str | None:
    for key in ("error", "message", "msg"):
        value = payload.get(key)
        if value:
            return scrub(str(value))
    return None


def parse_account_stats(payload: object) -> AccountStats:
    """AccountStats from a /jsonLoad.php reply (flat or nested snatch-summary layout)."""
    data = _require_object(payload, "account stats")
    username = clean_text(data.get("username"))
    if not username:
        raise TrackerBadResponse(
            f"account stats without a username ({_error_text(data) or 'no error given'})"
        )
    uploaded = _bytes_field(data, "uploaded")
    downloaded = _bytes_field(data, "downloaded")
    points = to_finite_float(data.get("seedbonus"))
    if points is None or points < 0:
        # "inf" or NaN would pass for a fortune; refuse the reading as a whole, as for a
        # missing value, so nothing is bought or judged from it.
        raw = scrub(repr(data.get("seedbonus")), limit=40)
        raise TrackerBadResponse(f"account stats without a readable seedbonus ({raw})")
    return AccountStats(
        username=username,
        uid=to_int(data.get("uid")),
        class_name=clean_text(data.get("classname")) or "unknown",
        ratio=_ratio(data, uploaded, downloaded),
        uploaded_bytes=uploaded,
        downloaded_bytes=downloaded,
        bonus_points=points,
        wedges=to_int(data.get("wedges")) or 0,
        vip_until=parse_utc(data.get("vip_until")),
        connectable=to_flag(data["connectable"]) if data.get("connectable") is not None else None,
        buckets=parse_buckets(data),
    )


def _bytes_field(data: dict, name: str) -> int:
    """Exact `<name>_bytes` when present, else the human-readable `<name>`."""
    value = to_int(data.get(f"{name}_bytes"))
    if value is None:
        value = parse_size(data.get(name))
    if value is None:
        raise TrackerBadResponse(f"account stats without a readable {name} amount")
    return value


def _ratio(data: dict, uploaded: int, downloaded: int) -> float | None:
    if data.get("ratio") is None:
        return uploaded / downloaded if downloaded else None
    try:
        return parse_ratio(data["ratio"])
    except ValueError as exc:
        raise TrackerBadResponse(str(exc)) from exc


def parse_buckets(data: dict) -> dict[str, SnatchBucket]:
    """The snatch buckets, from the top level (older replies) and/or `snatch_summary`."""
    found: dict[str, SnatchBucket] = {}
    sources = [{k: data[k] for k in BUCKET_NAMES if k in data}]
    if isinstance(data.get("snatch_summary"), dict):
        sources.append(data["snatch_summary"])
    for source in sources:
        for key, raw in source.items():
            if isinstance(raw, dict):
                found[str(key)] = _bucket(str(key), raw)
    return found


def _bucket(key: str, raw: dict) -> SnatchBucket:
    limit = to_int(raw.get("limit")) if raw.get("limit") not in (None, "") else None
    return SnatchBucket(
        name=key,
        count=_count(raw.get("count")),
        red=to_flag(raw.get("red")),
        size_bytes=parse_size(raw.get("size")) or 0,
        limit=limit,
    )


def _count(value: object) -> int | None:
    """A bucket's count; None when it is missing or unreadable (null, "n/a", negative),
    which the acquisition side treats as unknown, never as 0."""
    count = to_int(value)
    return count if count is not None and count >= 0 else None


def parse_search_page(payload: object) -> SearchPage:
    """A page of releases; "Nothing returned…" is an empty page, other errors raise."""
    data = _require_object(payload, "search reply")
    error = data.get("error")
    if isinstance(error, str) and error.strip().startswith(NOTHING_RETURNED):
        return SearchPage(releases=[], total=0)
    items = data.get("data")
    if error or (items is None and data.get("message")):
        raise TrackerBadResponse(f"search failed: {_error_text(data)}")
    if items is None and not to_int(data.get("total")):
        return SearchPage(releases=[], total=0)
    if not isinstance(items, list):
        raise TrackerBadResponse("search reply without a result list")
    releases: list[Release] = []
    for item in items:
        try:
            releases.append(parse_release(item))
        except Exception as exc:  # one bad result never loses the others
            ident = item.get("id") if isinstance(item, dict) else None
            log.warning("search result %r skipped: %s", ident, exc)
    total = to_int(data.get("total")) or to_int(data.get("found")) or len(items)
    return SearchPage(
        releases=releases,
        total=max(total, len(releases)),
        start=to_int(data.get("start")) or 0,
        per_page=to_int(data.get("perpage")) or len(items),
        skipped=len(items) - len(releases),
    )


def parse_search(payload: object) -> list[Release]:
    """The releases of a search reply (see :func:`parse_search_page`)."""
    return parse_search_page(payload).releases


def parse_release(item: object) -> Release:
    """One search result as a Release; ValueError when it has no usable id or title."""
    if not isinstance(item, dict):
        raise ValueError(f"result is a {type(item).__name__}, not an object")
    ident = to_int(item.get("id"))
    if ident is None or ident <= 0:
        raise ValueError(f"result without a usable id: {scrub(repr(item.get('id')), limit=40)}")
    title = clean_text(item.get("title"))
    if not title:
        raise ValueError("result without a title")
    return Release(
        id=str(ident),
        title=title,
        authors=parse_people(item.get("author_info")),
        narrators=parse_people(item.get("narrator_info")),
        series=parse_series(item.get("series_info")),
        category_id=to_int(item.get("category")),
        category_name=clean_text(item.get("catname")) or None,
        language=clean_text(item.get("lang_code")) or None,
        format=clean_text(item.get("filetype")).lower() or None,
        size_bytes=parse_size(item.get("size")) or 0,
        file_count=to_int(item.get("numfiles")) or 0,
        seeders=to_int(item.get("seeders")) or 0,
        leechers=to_int(item.get("leechers")) or 0,
        snatches=to_int(item.get("times_completed")) or 0,
        added=parse_utc(item.get("added")),
        free=to_flag(item.get("free")),
        personal_freeleech=to_flag(item.get("personal_freeleech")),
        vip_free=to_flag(item.get("fl_vip")),
        tags=clean_text(item.get("tags")),
    )


def parse_purchase(payload: object, kind: str) -> PurchaseResult:
    """A bonus-store answer; TrackerRefused when the store says `success: false`."""
    data = _require_object(payload, "bonus store reply")
    if not to_flag(data.get("success")):
        raise TrackerRefused(_error_text(data) or "the bonus store gave no reason")
    try:
        ratio = parse_ratio(data["ratio"]) if data.get("ratio") is not None else None
    except ValueError:
        ratio = None
    return PurchaseResult(
        kind=clean_text(data.get("type")) or kind,
        amount=to_float(data.get("amount")) or 0.0,
        points_left=to_finite_float(data.get("seedbonus")),
        uploaded_bytes=parse_size(data.get("uploaded")),
        downloaded_bytes=parse_size(data.get("downloaded")),
        ratio=ratio,
    )


def parse_seedbox(payload: object) -> SeedboxUpdate:
    """The dynamic-seedbox answer; its `msg` is compared case-insensitively."""
    data = _require_object(payload, "dynamic seedbox reply")
    message = clean_text(data.get("msg"))
    if not to_flag(data.get("Success", data.get("success"))):
        raise TrackerRefused(scrub(message) or "the seedbox update failed without a reason")
    return SeedboxUpdate(
        changed=message.lower() != "no change",
        message=message,
        ip=clean_text(data.get("ip")) or None,
        asn=clean_text(data.get("ASN")) or None,
        as_name=clean_text(data.get("AS")) or None,
    )


def parse_site_events(payload: object, now: datetime | None = None) -> SiteEvents:
    """Events from the simulator-defined status format (see mamcrawler.sim.tracker).

    Raises TrackerBadResponse when none of the known event keys is present.
    """
    data = _require_object(payload, "site events")
    now = now or datetime.now(UTC)
    if not any(isinstance(data.get(kind), dict) for kind in EVENT_KINDS):
        raise TrackerBadResponse("no site-event status in the reply")
    events = []
    for kind in EVENT_KINDS:
        raw = data.get(kind)
        if not isinstance(raw, dict):
            continue
        ends = parse_utc(raw.get("ends"))
        factor = to_float(raw.get("factor", raw.get("percent")))
        events.append(SiteEvent(
            kind=kind,
            active=to_flag(raw.get("active")) and (ends is None or ends > now),
            ends=ends,
            factor=factor,
            title=clean_text(raw.get("title")),
        ))
    return SiteEvents(status="known", events=tuple(events), fetched_at=now, raw=data)
