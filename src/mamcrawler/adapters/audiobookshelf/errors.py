"""The one exception family of the Audiobookshelf client.

Every message says what happened and what the user can check, so jobs and the API can
show ``str(exc)`` as it is. The API token never appears in a message.
"""

from __future__ import annotations

_CREDENTIAL_HELP = ("check ABS_TOKEN (in Audiobookshelf: Settings → Users → your user → "
                    "API token)")
_URL_HELP = "check ABS_URL and that Audiobookshelf is running"


class AbsError(Exception):
    """Base of every Audiobookshelf failure; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AbsAuthError(AbsError):
    """401: the token is not accepted; 403: its user may not do this (not an admin)."""

    def __init__(self, url: str, what: str, status: int) -> None:
        if status == 403:
            detail = (f"Audiobookshelf at {url} refused to {what} (HTTP 403): the token's user "
                      "is not allowed to; scans need an admin user's "
                      "token, so " + _CREDENTIAL_HELP)
        else:
            detail = (f"Audiobookshelf at {url} rejected the API token while trying to {what} "
                      f"(HTTP {status}); {_CREDENTIAL_HELP}")
        super().__init__(detail, status=status)


class AbsUnavailable(AbsError):
    """Nothing usable answered: connection refused, timeout, 5xx, or still rate-limited."""

    def __init__(self, url: str, what: str, detail: str, *, status: int | None = None) -> None:
        super().__init__(f"Audiobookshelf at {url} is not available to {what} ({detail}); "
                         f"{_URL_HELP}", status=status)


class AbsNotFound(AbsError):
    """The library or item asked for does not exist (HTTP 404), or no library folder
    holds a given path."""


class AbsBadResponse(AbsError):
    """The answer is not what Audiobookshelf sends (not JSON, wrong shape, other 4xx)."""

    def __init__(self, url: str, what: str, detail: str, *, status: int | None = None) -> None:
        super().__init__(
            f"Audiobookshelf at {url} sent an unexpected answer while trying to {what} "
            f"({detail}); check that ABS_URL points at Audiobookshelf itself (not a proxy's "
            "login page) and that its version is recent", status=status)
