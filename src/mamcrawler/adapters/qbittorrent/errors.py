"""The one exception family of the qBittorrent adapter, and the one place that maps
qbittorrent-api's exceptions onto it.

Every message says what went wrong and what the user can check, so the job runner and the
API can show ``str(exc)`` as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import qbittorrentapi.exceptions as qbt


class TorrentClientError(Exception):
    """Anything that went wrong talking to the torrent client."""


class TorrentClientUnavailable(TorrentClientError):
    """Nothing answered: connection refused, timed out, or the client is restarting."""


class TorrentClientAuthError(TorrentClientError):
    """The client refused our credentials, or banned our address after failed logins."""


class TorrentClientWebUIDisabled(TorrentClientError):
    """Something answers at the address, but not qBittorrent's Web API (404, not JSON)."""


class TorrentAddRejected(TorrentClientError):
    """The client would not take a torrent (not a valid .torrent, or refused)."""


class TorrentAlreadyPresent(TorrentAddRejected):
    """The torrent is already in the client; ``info_hash`` says which."""

    def __init__(self, message: str, info_hash: str) -> None:
        super().__init__(message)
        self.info_hash = info_hash


_CHECK_ADDRESS = "check QB_HOST/QB_PORT and that qBittorrent is running with the WebUI enabled"
_CHECK_CREDENTIALS = "check QB_USERNAME/QB_PASSWORD"


def translate(exc: BaseException, url: str, action: str) -> TorrentClientError:
    """Return the family member that describes ``exc``, raised while doing ``action``.

    ``url`` is the WebUI address, named in messages so the user sees what we tried.
    """
    if isinstance(exc, TorrentClientError):
        return exc
    detail = _detail(exc)
    if isinstance(exc, qbt.LoginFailed):
        return TorrentClientAuthError(
            f"qBittorrent at {url} refused the login while trying to {action}: "
            f"wrong username or password; {_CHECK_CREDENTIALS}"
        )
    if isinstance(exc, qbt.Forbidden403Error):
        return TorrentClientAuthError(
            f"qBittorrent at {url} denied access while trying to {action} ({detail}): "
            f"not logged in, or this address is banned after too many failed logins; "
            f"{_CHECK_CREDENTIALS}, then wait for the ban to expire or restart qBittorrent"
        )
    if isinstance(exc, qbt.Unauthorized401Error):
        return TorrentClientAuthError(
            f"qBittorrent at {url} rejected the request while trying to {action} "
            f"({detail}): its host-header or CSRF check failed; use the address qBittorrent "
            "is configured for, or allow it in the WebUI's server domains"
        )
    if isinstance(exc, qbt.NotFound404Error | qbt.MethodNotAllowed405Error):
        return _not_qbittorrent(url, action, f"HTTP {exc.http_status_code}")
    if isinstance(exc, qbt.UnsupportedMediaType415Error | qbt.Conflict409Error):
        return TorrentAddRejected(f"qBittorrent at {url} refused to {action}: {detail}")
    if isinstance(exc, qbt.HTTP5XXError):
        return TorrentClientError(
            f"qBittorrent at {url} failed internally while trying to {action} ({detail}); "
            "see qBittorrent's log"
        )
    if isinstance(exc, qbt.HTTPError):
        return TorrentClientError(f"qBittorrent at {url} could not {action}: {detail}")
    if isinstance(exc, qbt.APIConnectionError | OSError):
        return TorrentClientUnavailable(
            f"qBittorrent at {url} is not reachable while trying to {action} "
            f"({_connection_reason(str(exc))}); {_CHECK_ADDRESS}"
        )
    if isinstance(exc, qbt.APIError) and "response parsing" in str(exc):
        return _not_qbittorrent(url, action, "answer is not qBittorrent's JSON")
    return TorrentClientError(f"qBittorrent at {url} could not {action}: {detail}")


@contextmanager
def translated(url: str, action: str) -> Iterator[None]:
    """Run a block of qbittorrent-api calls; re-raise its exceptions as our family."""
    try:
        yield
    except (qbt.APIError, OSError) as exc:
        raise translate(exc, url, action) from exc


def _not_qbittorrent(url: str, action: str, what: str) -> TorrentClientWebUIDisabled:
    return TorrentClientWebUIDisabled(
        f"{url} does not answer as qBittorrent's Web API while trying to {action} ({what}); "
        f"{_CHECK_ADDRESS}"
    )


def _detail(exc: BaseException) -> str:
    text = str(exc).strip()
    return text[:200] if text else type(exc).__name__


def _connection_reason(text: str) -> str:
    """A short cause from qbittorrent-api's long nested requests/urllib3 message."""
    lowered = text.lower()
    if "refused" in lowered:
        return "connection refused"
    if "timed out" in lowered or "timeout" in lowered:
        return "timed out"
    if "name or service not known" in lowered or "resolve" in lowered:
        return "host name not found"
    if "reset" in lowered or "aborted" in lowered or "remote end closed" in lowered:
        return "connection dropped, the client may be restarting"
    return _detail(Exception(text))
