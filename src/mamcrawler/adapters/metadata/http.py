"""One HTTP path per metadata source: User-Agent, rate limit, retries, one error family.

Every request is a read (GraphQL queries included), so every request may be retried:
5xx and transport failures with exponential back-off, 429 after the source's Retry-After
(capped). A Retry-After longer than the cap is not waited out inside a lookup: the
source is put on cool-down and answers MetadataRateLimited at once until it ends, so a
slow-down request never ties up a worker thread for an hour.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from mamcrawler import USER_AGENT
from mamcrawler.adapters.http import parse_retry_after
from mamcrawler.adapters.mam.ratelimit import MinIntervalLimiter, shared_limiter
from mamcrawler.adapters.metadata.errors import (
    MetadataAuthError,
    MetadataBadResponse,
    MetadataError,
    MetadataNotFound,
    MetadataRateLimited,
    MetadataUnavailable,
)

log = logging.getLogger(__name__)
NOT_FOUND_CODES = frozenset({"NOT_FOUND", "REGION_UNAVAILABLE", "NOTFOUND"})
_RATE_WORDS = re.compile(
    r"rate.?limit|limit.?exceeded|too.?many|quota|throttl|resource_exhausted", re.I)
_CREDENTIAL_WORDS = re.compile(r"api.?key|token|jwt|unauthori[sz]ed|credential", re.I)
# httpx logs every request line with its full URL, Google's `key=` included.
_HTTP_LOGGERS = ("httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2")


@dataclass(frozen=True)
class HttpOptions:
    """How a source adapter talks HTTP. Defaults suit the public services.

    `min_interval_s` None = the source's own polite default. `limiter` None = the
    process-wide limiter for the source's base URL; tests pass their own together with a
    fake `clock`/`sleep` so nothing really waits.
    """

    timeout_s: float = 20.0
    min_interval_s: float | None = None
    max_attempts: int = 3
    backoff_base_s: float = 1.0
    backoff_max_s: float = 30.0
    retry_after_cap_s: float = 60.0
    limiter: MinIntervalLimiter | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    transport: httpx.BaseTransport | None = None


class _SecretMask(logging.Filter):
    """Replaces registered secrets in the HTTP libraries' log records."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        with self._lock:
            self.secrets.add(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = tuple(self.secrets)
        if secrets:
            message = record.getMessage()
            masked = scrub(message, secrets)
            if masked != message:
                record.msg, record.args = masked, ()
        return True


_MASK = _SecretMask()
for _name in _HTTP_LOGGERS:
    logging.getLogger(_name).addFilter(_MASK)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class SourceHttp:
    """Sends requests to one base URL of one source and returns decoded JSON.

    `label` is the source as the user knows it ("Audnexus"); `url_setting` and
    `credential_setting` are the settings named in error messages; `secrets` are masked
    in logs and messages.
    """

    def __init__(self, source: str, label: str, base_url: str, *, url_setting: str,
                 options: HttpOptions, default_interval_s: float,
                 credential_setting: str | None = None, secrets: Iterable[str] = (),
                 headers: Mapping[str, str] | None = None,
                 follow_redirects: bool = False) -> None:
        self.source, self.label = source, label
        self.base_url = base_url.rstrip("/")
        self._url_setting = url_setting
        self._credential_setting = credential_setting
        self._secrets = tuple(s for s in secrets if s)
        for secret in self._secrets:
            _MASK.add(secret)
        self._options = options
        self._interval = (default_interval_s if options.min_interval_s is None
                          else options.min_interval_s)
        self._limiter = options.limiter or shared_limiter(self.base_url, self._interval)
        self._cooldown_until = float("-inf")
        self._cooldown_lock = threading.Lock()
        self._http = httpx.Client(
            base_url=self.base_url, transport=options.transport,
            follow_redirects=follow_redirects,
            timeout=httpx.Timeout(options.timeout_s, connect=min(10.0, options.timeout_s)),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})})

    def close(self) -> None:
        self._http.close()

    def get_json(self, path: str, what: str, *, params: Mapping[str, Any] | None = None) -> Any:
        """Decoded JSON of GET `path`; raises a MetadataError subclass otherwise."""
        return self._decode(self._request("GET", path, what, params=params), what)

    def post_json(self, path: str, what: str, *, body: Mapping[str, Any]) -> Any:
        """Decoded JSON of POST `path` with a JSON body (a read, e.g. a GraphQL query)."""
        return self._decode(self._request("POST", path, what, json=dict(body)), what)

    def bad_response(self, what: str, detail: str, status: int | None = None) -> MetadataError:
        """The error for an answer of the wrong shape, naming the URL setting to check."""
        return MetadataBadResponse(
            self.source, f"{self.label} at {self.base_url} sent an unexpected answer while "
            f"trying to {what} ({detail}); check {self._url_setting}", status=status)

    def _decode(self, response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise self.bad_response(what, "the answer is not JSON",
                                    response.status_code) from None

    def _request(self, method: str, path: str, what: str, **kwargs: Any) -> httpx.Response:
        self._check_cooldown(what)
        attempts = max(1, self._options.max_attempts)
        for attempt in range(1, attempts + 1):
            self._limiter.acquire(self._interval)
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.UnsupportedProtocol:
                raise self._unavailable(what, "the URL is not http(s)") from None
            except httpx.TransportError as exc:
                failure: MetadataError = self._unavailable(what, _transport_reason(exc))
                wait = self._backoff(attempt)
            else:
                if response.status_code < 300:
                    return response
                failure, wait = self._failure(response, what, attempt)
            if attempt == attempts:
                raise failure
            log.info("%s: %s failed (%s); retrying in %.1f s", self.label, what, failure, wait)
            self._options.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _failure(self, response: httpx.Response, what: str,
                 attempt: int) -> tuple[MetadataError, float]:
        """The error and wait for a retryable answer; raises the final ones at once."""
        status = response.status_code
        code, message = error_detail(response, self._secrets)
        detail = " ".join(part for part in (f"HTTP {status}", code) if part)
        detail += f": {message}" if message else ""
        if status == 429 or code == "RATE_LIMIT_EXCEEDED" or (
                status in (403, 503) and _RATE_WORDS.search(f"{code} {message}")):
            return self._rate_limited(response, what, detail, attempt)
        if status >= 500:
            return (self._unavailable(what, detail, status), self._backoff(attempt))
        if status == 404 or (code or "").upper() in NOT_FOUND_CODES:
            raise MetadataNotFound(self.source, f"{self.label} found nothing to {what} "
                                   f"({detail})", status=status)
        if status in (401, 403) or (self._credential_setting and status == 400
                                    and _CREDENTIAL_WORDS.search(message)):
            raise self._refused(what, detail, status)
        if 300 <= status < 400:
            where = response.headers.get("location", "elsewhere")
            raise self.bad_response(what, f"redirected to {scrub(where, self._secrets)}",
                                    status)
        raise self.bad_response(what, detail, status)

    def _rate_limited(self, response: httpx.Response, what: str, detail: str,
                      attempt: int) -> tuple[MetadataError, float]:
        after = parse_retry_after(response.headers.get("retry-after"))
        cap = self._options.retry_after_cap_s
        error = MetadataRateLimited(
            self.source, f"{self.label} asked us to slow down while trying to {what} "
            f"({detail}); it is asked again later, nothing to fix unless this persists",
            retry_after=after, status=response.status_code)
        if after is not None and after > cap:
            with self._cooldown_lock:
                self._cooldown_until = max(self._cooldown_until, self._options.clock() + after)
            raise error
        wait = after if after is not None else self._backoff(attempt)
        # Other threads using this source wait too instead of drawing more 429s.
        self._limiter.hold_off(wait)
        return error, wait

    def _check_cooldown(self, what: str) -> None:
        with self._cooldown_lock:
            left = self._cooldown_until - self._options.clock()
        if left > 0:
            raise MetadataRateLimited(
                self.source, f"{self.label} asked us to wait; not trying to {what} for "
                f"another {left:.0f} s", retry_after=left, status=None)

    def _refused(self, what: str, detail: str, status: int) -> MetadataError:
        if self._credential_setting:
            return MetadataAuthError(
                self.source, f"{self.label} refused the credentials while trying to {what} "
                f"({detail}); check {self._credential_setting}", status=status)
        return MetadataUnavailable(
            self.source, f"{self.label} at {self.base_url} refused to {what} ({detail}); "
            f"check {self._url_setting} and that this address may use it", status=status)

    def _unavailable(self, what: str, detail: str, status: int | None = None) -> MetadataError:
        return MetadataUnavailable(
            self.source, f"{self.label} at {self.base_url} is not available to {what} "
            f"({detail}); check {self._url_setting} and the network", status=status)

    def _backoff(self, attempt: int) -> float:
        options = self._options
        return min(options.backoff_base_s * 2 ** (attempt - 1), options.backoff_max_s)


def error_detail(response: httpx.Response, secrets: Iterable[str] = ()) -> tuple[str, str]:
    """(code, message) from an error answer, whatever its documented format.

    Audnexus: ``{"error":{"code","message"}}`` and the older ``{statusCode,error,message}``;
    Google: ``{"error":{"code":429,"message","status","errors":[{"reason"}]}}``;
    GraphQL: ``{"errors":[{"message","extensions":{"code"}}]}``; iTunes: ``errorMessage``.
    Otherwise the start of the body as text.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    code, message = json_error_detail(body)
    if not (code or message):
        message = " ".join(response.text.split())[:200]
    return scrub(code, secrets), scrub(message, secrets)[:300]


def json_error_detail(body: object) -> tuple[str, str]:
    """(code, message) from a decoded error body; ("", "") when it has none."""
    if not isinstance(body, dict):
        return "", ""
    error, message = body.get("error"), body.get("message") or body.get("errorMessage")
    code = ""
    if isinstance(error, dict):
        message = error.get("message") or message
        code = error.get("status") or error.get("code") or ""
        reasons = [e.get("reason") for e in error.get("errors") or []
                   if isinstance(e, dict) and e.get("reason")]
        if reasons and not isinstance(code, str):
            code = reasons[0]
    elif isinstance(error, str):
        # The older Audnexus format and Open Library: {"error": "Not Found"|"notfound"}.
        code = error.strip().upper().replace(" ", "_")
        message = message or error
    errors = body.get("errors")
    if not message and isinstance(errors, list) and errors:
        first = errors[0] if isinstance(errors[0], dict) else {}
        message = first.get("message") or ""
        extensions = first.get("extensions")
        code = extensions.get("code", "") if isinstance(extensions, dict) else ""
    return _short(code), _short(message)


def _short(value: object) -> str:
    if value is None or value == "":
        return ""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return " ".join(text.split())[:300]


def _transport_reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or host not found"
    return type(exc).__name__
