"""One exception family for everything that can go wrong talking to the tracker.

Every message says what happened and what the user can do about it. No message ever
contains the session cookie: text that came from the server is passed through
:func:`scrub` before it is quoted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_COOKIE_PATTERN = re.compile(r"(mam_id=)[^;\s&\"']+", re.IGNORECASE)
_TAG_PATTERN = re.compile(r"<[^>]*>")

SESSION_HELP = (
    "Create a fresh mam_id session on the tracker's Security preferences page "
    "(locked to this machine's IP or ASN) and set MAM_ID to its value, then restart."
)


def mask_cookies(text: str) -> str:
    """`text` with every `mam_id=<value>` masked."""
    return _COOKIE_PATTERN.sub(r"\1***", text)


def scrub(text: str, secrets: Iterable[str | None] = (), limit: int = 200) -> str:
    """A short, single-line, tag-free excerpt of `text` with cookie values masked."""
    text = _TAG_PATTERN.sub(" ", text)
    text = " ".join(text.split())
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = mask_cookies(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class TrackerError(Exception):
    """Base of every tracker failure; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TrackerAuthError(TrackerError):
    """The session is not accepted (HTTP 403, or an HTML login page instead of JSON)."""

    def __init__(self, detail: str, *, status: int | None = 403) -> None:
        super().__init__(f"The tracker rejected the session: {detail}. {SESSION_HELP}",
                         status=status)


class TrackerBlocked(TrackerError):
    """HTTP 406: the account is blocked or has reached its unsatisfied-torrent limit."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"The tracker refused the request (HTTP 406: {detail}). The account is blocked or "
            "has reached its limit of unsatisfied torrents: let the current torrents seed "
            "their required time and check the account page on the site before retrying.",
            status=406,
        )


class TrackerRateLimited(TrackerError):
    """HTTP 429; `retry_after` is the server's requested wait in seconds, if it gave one."""

    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        wait = f"wait {retry_after:g} s" if retry_after is not None else "wait a while"
        super().__init__(
            f"The tracker says there were too many requests (HTTP 429: {detail}); {wait} "
            "before trying again, or raise MAM_MIN_INTERVAL_S.",
            status=429,
        )
        self.retry_after = retry_after


class TrackerUnavailable(TrackerError):
    """The site is down or unreachable: 5xx, timeouts, connection errors."""

    def __init__(self, detail: str, *, status: int | None = None) -> None:
        super().__init__(
            f"The tracker could not be reached ({detail}). This is usually temporary: "
            "the next scheduled run will try again; check the site's status if it persists.",
            status=status,
        )


class TrackerBadResponse(TrackerError):
    """The reply could not be understood (not JSON, wrong shape, unexpected error field)."""

    def __init__(self, detail: str, *, status: int | None = None) -> None:
        super().__init__(
            f"The tracker sent a reply MAMcrawler does not understand ({detail}). If this "
            "keeps happening the site may have changed its API: please report it.",
            status=status,
        )


class TrackerRefused(TrackerError):
    """The tracker understood the request and said no (e.g. not enough bonus points)."""

    def __init__(self, detail: str, *, status: int | None = None) -> None:
        super().__init__(f"The tracker refused the request: {detail}", status=status)
        self.detail = detail


class TrackerPurchaseUncertain(TrackerError):
    """A purchase was sent but its answer was lost; it may or may not have gone through.

    It is never retried automatically: read the account back (points, VIP expiry,
    uploaded bytes) to find out whether it was applied.
    """

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(
            f"The answer to the purchase '{what}' was lost ({detail}); it may or may not have "
            "been applied. It was NOT repeated: read the account stats to see whether it "
            "went through before buying again."
        )
        self.what = what
