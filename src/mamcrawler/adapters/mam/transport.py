"""One HTTP path to the tracker: session cookie, rotation, rate limit, errors, retries.

Only safe reads are retried (exponential back-off on 5xx and timeouts, the server's
Retry-After on 429, capped). Purchases are sent exactly once: a lost answer becomes
TrackerPurchaseUncertain so the caller reads the account back instead of buying twice.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from http.cookiejar import CookieJar, DefaultCookiePolicy
from http.cookies import CookieError, SimpleCookie

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from mamcrawler import USER_AGENT
from mamcrawler.adapters.http import parse_retry_after
from mamcrawler.adapters.mam.errors import (
    TrackerAuthError,
    TrackerBadResponse,
    TrackerBlocked,
    TrackerError,
    TrackerPurchaseUncertain,
    TrackerRateLimited,
    TrackerRefused,
    TrackerUnavailable,
    mask_cookies,
    scrub,
)
from mamcrawler.adapters.mam.ratelimit import RequestLimiter
from mamcrawler.adapters.mam.session import SessionStore
from mamcrawler.adapters.mam.shared_rate import LimiterLockTimeout

log = logging.getLogger(__name__)
COOKIE_NAME = "mam_id"
# httpcore's DEBUG traces print response headers, Set-Cookie included.
_HTTP_LOGGERS = ("httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2",
                 "httpcore.proxy")
# Failures where the request certainly never reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class _CookieMask(logging.Filter):
    """Masks session cookie values in records of the HTTP libraries' loggers."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if COOKIE_NAME in message:
            record.msg, record.args = mask_cookies(message), ()
        return True


_MASK = _CookieMask()
for _name in _HTTP_LOGGERS:
    if _MASK not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_MASK)


# Told of every request sent: (path, HTTP status or "error", the TrackerError raised or None).
Observer = Callable[[str, str, BaseException | None], None]


def _unobserved(path: str, status: str, error: BaseException | None) -> None:
    return None


class Kind(enum.Enum):
    READ = "read"  # idempotent: retried with back-off
    ONCE = "once"  # has a side effect but a lost answer is harmless: not retried
    PURCHASE = "purchase"  # spends something: never retried, lost answer is "uncertain"


class TrackerTransport:
    """Sends GET requests to the tracker with the newest session cookie."""

    def __init__(
        self,
        base_url: str,
        mam_id: str,
        store: SessionStore,
        limiter: RequestLimiter,
        *,
        min_interval_s: float | None,
        timeout_s: float,
        transport: httpx.BaseTransport | None = None,
        max_attempts: int = 4,
        backoff_base_s: float = 2.0,
        backoff_max_s: float = 60.0,
        retry_after_cap_s: float = 300.0,
        observe: Observer | None = None,
    ) -> None:
        self._observe = observe or _unobserved
        self._configured = mam_id.strip() if mam_id else ""
        self._store = store
        self._limiter = limiter
        self._min_interval_s = min_interval_s
        self._max_attempts = max(1, max_attempts)
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s
        self._retry_after_cap_s = retry_after_cap_s
        self._unsaved: str | None = None
        self._fallback_tried = False
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)),
            transport=transport,
            # The cookie is sent by hand from the store; this jar refuses everything.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def current_cookie(self) -> str:
        """The value the next request sends: unsaved rotation, else store, else settings."""
        value = self._unsaved or self._store.load() or self._configured
        if not value:
            raise TrackerAuthError("no session cookie is configured", status=None)
        return value

    def request(self, url: str, *, kind: Kind, what: str) -> httpx.Response:
        """A checked response for GET `url`; raises a TrackerError subclass otherwise."""
        if kind is not Kind.READ:
            return self._attempt(url, kind, what)
        retrying = Retrying(
            stop=stop_after_attempt(self._max_attempts),
            retry=retry_if_exception(self._retryable),
            wait=self._wait,
            sleep=self._limiter.sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        return retrying(self._read_once, url, what)

    def _read_once(self, url: str, what: str) -> httpx.Response:
        try:
            return self._attempt(url, Kind.READ, what)
        except TrackerAuthError:
            fallback = self._fallback_cookie()
            if fallback is None:
                raise
            # The user may have followed our advice and set a fresh MAM_ID after the
            # saved (rotated) session expired; the store must not hide it.
            log.warning("the saved tracker session was rejected; trying MAM_ID from settings")
            return self._attempt(url, Kind.READ, what, cookie=fallback)

    def _fallback_cookie(self) -> str | None:
        saved = self._unsaved or self._store.load()
        if self._fallback_tried or not self._configured or not saved or saved == self._configured:
            return None
        self._fallback_tried = True
        return self._configured

    def _attempt(
        self, url: str, kind: Kind, what: str, cookie: str | None = None
    ) -> httpx.Response:
        try:
            with self._limiter.exclusive:
                self._limiter.acquire(self._min_interval_s)
                sent = cookie or self.current_cookie()
                try:
                    response = self._http.get(url, headers={"Cookie": f"{COOKIE_NAME}={sent}"})
                except httpx.TransportError as exc:
                    self._observe(url.split("?")[0], "error", exc)
                    raise self._transport_failure(exc, kind, what) from None
                self._remember_rotation(response, sent)
                log.debug("tracker GET %s -> %s", url.split("?")[0], response.status_code)
                # Checked before letting go, so a 429's back-off is in the shared timeline
                # before any other process sends its next request.
                path, status = url.split("?")[0], str(response.status_code)
                try:
                    self._check(response, kind, what, sent)
                except TrackerError as exc:
                    self._observe(path, status, exc)
                    raise
                self._observe(path, status, None)
        except LimiterLockTimeout as exc:  # nothing was sent
            raise TrackerUnavailable(str(exc)) from None
        return response

    def _transport_failure(self, exc: httpx.TransportError, kind: Kind, what: str) -> TrackerError:
        detail = f"{type(exc).__name__}: {scrub(str(exc)) or 'no details'}"
        if kind is Kind.PURCHASE and not isinstance(exc, _NOT_SENT):
            return TrackerPurchaseUncertain(what, detail)
        return TrackerUnavailable(detail)

    def _remember_rotation(self, response: httpx.Response, sent: str) -> None:
        value = rotated_cookie(response.headers.get_list("set-cookie"))
        if not value or value == sent:
            return
        try:
            self._store.save(value)
            self._unsaved = None
        except Exception:
            # Losing the rotated value would end the session; keep it for this process.
            log.exception("could not persist the rotated tracker session; keeping it in memory")
            self._unsaved = value

    def _check(self, response: httpx.Response, kind: Kind, what: str, sent: str) -> None:
        status = response.status_code
        if 200 <= status < 300:
            if _is_html(response):
                raise TrackerAuthError(
                    "an HTML page came back where data was expected, so the session is not "
                    "logged in", status=status)
            return
        detail = scrub(response.text, [sent, self._configured]) or response.reason_phrase
        if status == 403:
            raise TrackerAuthError(f"HTTP 403: {detail}")
        if status == 406:
            raise TrackerBlocked(detail)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            self._limiter.hold_off(min(retry_after or 0.0, self._retry_after_cap_s))
            raise TrackerRateLimited(detail, retry_after)
        if status == 410:
            raise TrackerRefused(f"HTTP 410: {detail}", status=410)
        if status >= 500:
            if kind is Kind.PURCHASE:
                raise TrackerPurchaseUncertain(what, f"HTTP {status}: {detail}")
            raise TrackerUnavailable(f"HTTP {status}: {detail}", status=status)
        if 300 <= status < 400 and "login" in response.headers.get("location", "").lower():
            raise TrackerAuthError("redirected to the login page", status=status)
        raise TrackerBadResponse(f"HTTP {status} for {what}: {detail}", status=status)

    def _retryable(self, exc: BaseException) -> bool:
        if isinstance(exc, TrackerRateLimited):
            return exc.retry_after is None or exc.retry_after <= self._retry_after_cap_s
        return isinstance(exc, TrackerUnavailable)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = min(self._backoff_max_s, self._backoff_base_s * 2 ** (state.attempt_number - 1))
        if isinstance(exc, TrackerRateLimited):
            # Without a Retry-After, back off at least as long as the longest normal wait.
            return exc.retry_after if exc.retry_after is not None else max(backoff,
                                                                           self._backoff_max_s)
        return backoff

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning("tracker request failed (attempt %d): %s; retrying in %.1f s",
                    state.attempt_number, exc, state.upcoming_sleep)


def rotated_cookie(set_cookie_headers: list[str]) -> str | None:
    """The new session value among Set-Cookie headers, ignoring deletions."""
    for header in set_cookie_headers:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(header)
        except CookieError:
            continue
        morsel = jar.get(COOKIE_NAME)
        if morsel is None or morsel.value in ("", "deleted") or morsel["max-age"] == "0":
            continue
        return morsel.value
    return None


def _is_html(response: httpx.Response) -> bool:
    content_type = response.headers.get("content-type", "").lower()
    if "text/html" in content_type:
        return True
    return response.content[:64].lstrip()[:1] == b"<"
