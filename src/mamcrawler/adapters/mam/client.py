"""The tracker client: account stats, search, .torrent download, bonus store, events.

Synchronous on purpose: jobs run in worker threads, and the shared rate limiter and
request lock serialise tracker traffic anyway.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

import httpx

from mamcrawler.adapters.mam.errors import (
    TrackerBadResponse,
    TrackerError,
    TrackerPurchaseUncertain,
    TrackerRefused,
    scrub,
)
from mamcrawler.adapters.mam.models import (
    PurchaseResult,
    SearchPage,
    SearchQuery,
    SeedboxUpdate,
    SiteEvents,
)
from mamcrawler.adapters.mam.parse import (
    parse_account_stats,
    parse_purchase,
    parse_search_page,
    parse_seedbox,
    parse_site_events,
)
from mamcrawler.adapters.mam.ratelimit import (
    DEFAULT_MIN_INTERVAL_S,
    RequestLimiter,
    shared_limiter,
)
from mamcrawler.adapters.mam.session import SessionStore
from mamcrawler.adapters.mam.transport import Kind, Observer, TrackerTransport
from mamcrawler.domain.records import AccountStats, Release
from mamcrawler.torrentfile import BencodeError, read_torrent

log = logging.getLogger(__name__)

MAX_VIP_WEEKS = 12  # 13 weeks would pass the site's ~90-day VIP maximum
# The built-in simulator's site-events endpoint. The real site publishes no
# machine-readable event status, so a client asks for events only when given this path.
SIM_EVENTS_PATH = "/json/simEvents.php"


class MamClient:
    """Talks to the tracker with a `mam_id` session (see reference/mam-api.md).

    The session starts from the store's value, else from `mam_id` (the settings); every
    rotated cookie is saved to the store at once. If the saved value is rejected and the
    settings hold a different one, reads try that once (the user set a fresh MAM_ID).
    `limiter` defaults to the process-wide limiter for `base_url` (pass a
    SharedRateLimiter to share one rate with the install's other processes);
    `min_interval_s` (seconds between requests) defaults to the limiter's own interval,
    2 s for a new one. `events_path` is where the tracker publishes its site events
    (SIM_EVENTS_PATH for the simulator); None, for the real site, never asks.
    """

    def __init__(
        self,
        base_url: str,
        mam_id: str,
        session_store: SessionStore,
        *,
        min_interval_s: float | None = None,
        timeout_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        limiter: RequestLimiter | None = None,
        max_attempts: int = 4,
        backoff_base_s: float = 2.0,
        backoff_max_s: float = 60.0,
        retry_after_cap_s: float = 300.0,
        events_path: str | None = None,
        observe: Observer | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._events_path = events_path
        interval = DEFAULT_MIN_INTERVAL_S if min_interval_s is None else min_interval_s
        self._transport = TrackerTransport(
            self.base_url,
            mam_id,
            session_store,
            limiter or shared_limiter(self.base_url, interval),
            min_interval_s=min_interval_s,
            timeout_s=timeout_s,
            transport=transport,
            max_attempts=max_attempts,
            backoff_base_s=backoff_base_s,
            backoff_max_s=backoff_max_s,
            retry_after_cap_s=retry_after_cap_s,
            observe=observe,
        )

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> MamClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:  # never show the cookie
        return f"MamClient({self.base_url!r})"

    def account_stats(self) -> AccountStats:
        """The account as the tracker reports it now, with the snatch buckets."""
        return parse_account_stats(self._get_json("/jsonLoad.php?snatch_summary", "account stats"))

    def search_page(self, query: SearchQuery) -> SearchPage:
        """One page of search results and the total count; unparseable results are skipped."""
        url = "/tor/js/loadSearchJSONbasic.php?" + urlencode(query.to_params())
        return parse_search_page(self._get_json(url, "search"))

    def search(self, query: SearchQuery) -> list[Release]:
        """The releases of one search page; [] when nothing matches."""
        return self.search_page(query).releases

    def release(self, torrent_id: int | str, title: str) -> Release | None:
        """The release `torrent_id` as the tracker shows it now (its free flags included),
        found by searching its title; None when the search does not list it."""
        tid = str(_positive_int(torrent_id, "torrent id"))
        words = " ".join(title.replace('"', " ").split())[:200]
        query = SearchQuery(text=words, fields=("title",), per_page=100)
        return next((r for r in self.search(query) if r.id == tid), None)

    def download_torrent(self, torrent_id: int | str, *, use_wedge: bool = False) -> bytes:
        """The .torrent file of `torrent_id`, checked to be a real bencoded torrent.

        `use_wedge` adds the `fl` flag, spending a freeleech wedge on it: callers must not
        do that for a release that is already free or VIP-free. A wedge download is a
        purchase: it is never retried, and a lost answer raises TrackerPurchaseUncertain.
        """
        tid = _positive_int(torrent_id, "torrent id")
        url = f"/tor/download.php?tid={tid}" + ("&fl" if use_wedge else "")
        what = f"freeleech wedge on torrent {tid}"
        kind = Kind.PURCHASE if use_wedge else Kind.READ
        body = self._transport.request(url, kind=kind, what=what).content
        try:
            read_torrent(body)
        except BencodeError as exc:
            refusal = _json_error(body)
            if refusal:
                raise TrackerRefused(f"torrent {tid}: {refusal}") from None
            detail = f"the reply to torrent {tid} is not a .torrent file ({exc})"
            if use_wedge:
                raise TrackerPurchaseUncertain(what, detail) from None
            raise TrackerBadResponse(detail) from None
        return body

    def buy_vip(self, weeks: int) -> PurchaseResult:
        """Buy `weeks` whole weeks of VIP (1..12); sent once, never retried."""
        whole = isinstance(weeks, int) and not isinstance(weeks, bool)
        if not whole or not 1 <= weeks <= MAX_VIP_WEEKS:
            raise ValueError(f"VIP is bought in whole weeks from 1 to {MAX_VIP_WEEKS}, "
                             f"not {weeks!r}")
        return self._purchase({"spendtype": "VIP", "duration": str(weeks)}, f"VIP {weeks} week(s)")

    def buy_upload_credit(self, gb: int) -> PurchaseResult:
        """Buy `gb` whole GB of upload credit with bonus points; sent once, never retried."""
        if isinstance(gb, bool) or not isinstance(gb, int) or gb < 1:
            raise ValueError(f"upload credit is bought in whole GB, at least 1, not {gb!r}")
        return self._purchase({"spendtype": "upload", "amount": str(gb)}, f"upload {gb} GB")

    def update_seedbox_ip(self) -> SeedboxUpdate:
        """Move the session to this machine's IP (needs a session with that permission).

        Not retried: the site allows one change per hour and answers 429 otherwise.
        """
        response = self._transport.request("/json/dynamicSeedbox.php", kind=Kind.ONCE,
                                           what="seedbox IP update")
        return parse_seedbox(_decode_json(response))

    def site_events(self) -> SiteEvents:
        """Site-wide events from the status endpoint; status "unknown" when unreadable.

        Never raises. A tracker without an events endpoint (the real site) is not asked.
        """
        now = datetime.now(UTC)
        if self._events_path is None:
            return SiteEvents(status="unknown", reason="the site publishes no event status",
                              fetched_at=now)
        try:
            return parse_site_events(self._get_json(self._events_path, "site events"), now)
        except TrackerError as exc:
            log.info("site events unknown: %s", exc)
            return SiteEvents(status="unknown", reason=str(exc), fetched_at=now)

    def _get_json(self, url: str, what: str) -> object:
        return _decode_json(self._transport.request(url, kind=Kind.READ, what=what))

    def _purchase(self, params: dict[str, str], what: str) -> PurchaseResult:
        # The timestamp defeats caches between us and the site, as the site's own page does.
        query = urlencode({**params, "_": str(int(time.time() * 1000))})
        response = self._transport.request(f"/json/bonusBuy.php/?{query}", kind=Kind.PURCHASE,
                                           what=what)
        try:
            payload = _decode_json(response)
        except TrackerBadResponse as exc:
            raise TrackerPurchaseUncertain(what, str(exc)) from None
        result = parse_purchase(payload, params["spendtype"])
        log.info("bought %s; %s points left", what, result.points_left)
        return result


def _decode_json(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        raise TrackerBadResponse(
            f"expected JSON, got {scrub(response.text, limit=80)!r}", status=response.status_code
        ) from None


def _json_error(body: bytes) -> str | None:
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if isinstance(payload, dict):
        text = payload.get("error") or payload.get("message") or payload.get("msg")
        return scrub(str(text)) if text else None
    return None


def _positive_int(value: int | str, what: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a positive integer, not {value!r}") from None
    if number <= 0 or isinstance(value, bool):
        raise ValueError(f"{what} must be a positive integer, not {value!r}")
    return number
