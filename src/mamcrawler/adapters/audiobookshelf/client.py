"""Audiobookshelf REST client: libraries, scans, items, metadata (R12, R15).

Only the endpoints in reference/audiobookshelf.md. Auth is ``Authorization: Bearer
<API token>``; the User-Agent is the project's own. Reads are retried with back-off on
429/5xx/timeouts (honouring Retry-After, capped); writes (scan, PATCH)
are sent once and fail loudly, because the caller decides whether repeating is safe.
Synchronous on purpose, like the other clients: jobs run in worker threads.

There is no watcher update (POST /api/watcher/update): ABS answers it 200 even when the
library's folder watcher is off and then does nothing, so it proves nothing; the service
scans and looks for the item instead (services/abs_library.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import httpx

from mamcrawler import USER_AGENT
from mamcrawler.adapters.audiobookshelf.errors import (
    AbsAuthError,
    AbsBadResponse,
    AbsNotFound,
    AbsUnavailable,
)
from mamcrawler.adapters.audiobookshelf.items import AbsItem, parse_item, sequence_text
from mamcrawler.adapters.http import parse_retry_after

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AbsStatus:
    app: str
    server_version: str
    is_init: bool


@dataclass(frozen=True)
class AbsLibrary:
    id: str
    name: str
    media_type: str
    folders: tuple[str, ...]  # full paths as the ABS server sees them


@dataclass(frozen=True)
class AbsItemsPage:
    items: tuple[AbsItem, ...]
    total: int
    page: int
    limit: int


class AbsClient:
    """Talks to one Audiobookshelf server with an API token.

    `min_interval_s` spaces requests (ABS is local, so this only keeps bursts polite);
    reads make up to `max_attempts` tries, waiting `backoff_base_s` doubled each time (at
    most `backoff_max_s`) or the server's Retry-After (at most `retry_after_cap_s`).
    """

    def __init__(self, base_url: str, token: str, *, timeout_s: float = 30.0,
                 transport: httpx.BaseTransport | None = None, max_attempts: int = 3,
                 backoff_base_s: float = 1.0, backoff_max_s: float = 30.0,
                 retry_after_cap_s: float = 60.0, min_interval_s: float = 0.1,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._max_attempts = max(1, max_attempts)
        self._backoff = (backoff_base_s, backoff_max_s, retry_after_cap_s)
        self._min_interval_s = min_interval_s
        self._sleep = sleep
        self._lock = threading.Lock()
        self._last_request = float("-inf")
        self._http = httpx.Client(
            base_url=self.base_url, transport=transport, follow_redirects=False,
            timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json",
                     "Authorization": f"Bearer {token}"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AbsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def status(self) -> AbsStatus:
        """GET /status (public): the server's version and whether it is set up."""
        data = self._get_json("/status", "read its status")
        return AbsStatus(app=str(data.get("app") or ""),
                         server_version=str(data.get("serverVersion") or ""),
                         is_init=bool(data.get("isInit")))

    def libraries(self) -> list[AbsLibrary]:
        """GET /api/libraries: every library with its folders."""
        data = self._get_json("/api/libraries", "list the libraries")
        # ABS 2.x wraps the list in {"libraries": [...]}; older servers sent the list.
        raw = data.get("libraries") if isinstance(data, dict) else data
        if not isinstance(raw, list):
            raise AbsBadResponse(self.base_url, "list the libraries", "no library list")
        return [self._library(entry) for entry in raw]

    def library_id_for_path(self, path: str) -> str:
        """The id of the library whose folder holds `path` (the deepest such folder).

        Paths are compared as the ABS server sees them; raises AbsNotFound when no
        folder matches (e.g. ABS runs in Docker with another mount: set ABS_PATH_MAP).
        """
        target = PurePosixPath(path)
        best: tuple[int, str] | None = None
        libraries = self.libraries()
        for library in libraries:
            for folder in library.folders:
                base = PurePosixPath(folder)
                if (target == base or base in target.parents) and (
                        best is None or len(base.parts) > best[0]):
                    best = (len(base.parts), library.id)
        if best is None:
            known = ", ".join(f for lib in libraries for f in lib.folders) or "none"
            raise AbsNotFound(
                f"no Audiobookshelf library at {self.base_url} has a folder holding {path} "
                f"(its folders: {known}); add LIBRARY_DIR as a library folder in ABS, or set "
                "ABS_PATH_MAP=<ABS's folder>=<the folder on this machine> when ABS sees the "
                "files under another path (e.g. Docker)")
        return best[1]

    def scan_library(self, library_id: str, *, force: bool = False) -> None:
        """POST /api/libraries/{id}/scan: ABS starts a scan and answers at once."""
        params = {"force": "1"} if force else None
        self._send("POST", f"/api/libraries/{library_id}/scan", f"scan library {library_id}",
                   params=params, missing="check ABS_LIBRARY_ID")

    def scan_item(self, item_id: str) -> str:
        """POST /api/items/{id}/scan: rescan one item; returns ABS's result word."""
        response = self._send("POST", f"/api/items/{item_id}/scan", f"scan item {item_id}")
        data = self._decode(response, f"scan item {item_id}")
        return str(data.get("result") or "") if isinstance(data, dict) else ""

    def items(self, library_id: str, *, limit: int = 100, page: int = 0) -> AbsItemsPage:
        """GET /api/libraries/{id}/items: one page of items (page counts from 0)."""
        what = f"list the items of library {library_id}"
        data = self._get_json(f"/api/libraries/{library_id}/items", what,
                              params={"limit": limit, "page": page},
                              missing="check ABS_LIBRARY_ID")
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise AbsBadResponse(self.base_url, what, "no results list")
        return AbsItemsPage(items=tuple(parse_item(r) for r in results if isinstance(r, dict)),
                            total=int(data.get("total") or 0),
                            page=int(data.get("page") or page), limit=int(data.get("limit") or 0))

    def item(self, item_id: str) -> AbsItem:
        """GET /api/items/{id}?expanded=1: one item in the expanded shape (series with
        their sequences, authors and narrators as lists)."""
        what = f"read item {item_id}"
        data = self._get_json(f"/api/items/{item_id}", what, params={"expanded": 1})
        if not isinstance(data, dict) or not data.get("id"):
            raise AbsBadResponse(self.base_url, what, "no library item")
        return parse_item(data)

    def update_media(self, item_id: str, metadata: Mapping[str, Any]) -> bool:
        """PATCH /api/items/{id}/media with ``{"metadata": metadata}`` (title, subtitle,
        authors [{name}], narrators [names], series [{name, sequence}], publishedYear,
        description, asin, isbn, genres). Returns whether ABS changed anything.

        Empty lists are sent as they are (``narrators: []`` clears ABS's narrators); a
        series sequence is always sent as text, because ABS stores a number as null.
        """
        what = f"update the metadata of item {item_id}"
        body = dict(metadata)
        if isinstance(body.get("series"), list):
            body["series"] = [_series_entry(s) for s in body["series"]]
        response = self._send("PATCH", f"/api/items/{item_id}/media", what,
                              json={"metadata": body})
        data = self._decode(response, what)
        return bool(data.get("updated")) if isinstance(data, dict) else False

    def _library(self, entry: object) -> AbsLibrary:
        if not isinstance(entry, dict) or not entry.get("id"):
            raise AbsBadResponse(self.base_url, "list the libraries", "a library has no id")
        folders = tuple(str(f.get("fullPath")) for f in entry.get("folders") or []
                        if isinstance(f, dict) and f.get("fullPath"))
        return AbsLibrary(id=str(entry["id"]), name=str(entry.get("name") or ""),
                          media_type=str(entry.get("mediaType") or ""), folders=folders)

    def _get_json(self, path: str, what: str, *, params: Mapping[str, Any] | None = None,
                  missing: str = "") -> Any:
        response = self._request("GET", path, what, params=params, missing=missing,
                                 attempts=self._max_attempts)
        return self._decode(response, what)

    def _send(self, method: str, path: str, what: str, *, missing: str = "",
              **kwargs: Any) -> httpx.Response:
        return self._request(method, path, what, missing=missing, attempts=1, **kwargs)

    def _decode(self, response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise AbsBadResponse(self.base_url, what, "the answer is not JSON",
                                 status=response.status_code) from None

    def _request(self, method: str, path: str, what: str, *, attempts: int, missing: str,
                 **kwargs: Any) -> httpx.Response:
        for attempt in range(1, attempts + 1):
            self._throttle()
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                failure = AbsUnavailable(self.base_url, what, _transport_reason(exc))
                wait = self._backoff_wait(attempt)
            else:
                status = response.status_code
                if status < 400:
                    return response
                self._raise_final(response, what, missing)
                failure = AbsUnavailable(self.base_url, what, f"HTTP {status}", status=status)
                wait = self._retry_wait(response, attempt)
            if attempt == attempts:
                raise failure
            log.info("Audiobookshelf: %s failed (%s); retrying in %.1f s", what, failure, wait)
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _raise_final(self, response: httpx.Response, what: str, missing: str) -> None:
        """Raise for answers that another try would not change; return for 429/5xx."""
        status = response.status_code
        if status in (401, 403):
            raise AbsAuthError(self.base_url, what, status)
        if status == 404:
            hint = f"; {missing}" if missing else ""
            raise AbsNotFound(f"Audiobookshelf at {self.base_url} found nothing to {what} "
                              f"(HTTP 404){hint}", status=404)
        if status != 429 and status < 500:
            raise AbsBadResponse(self.base_url, what, f"HTTP {status}: {self._excerpt(response)}",
                                 status=status)

    def _retry_wait(self, response: httpx.Response, attempt: int) -> float:
        after = parse_retry_after(response.headers.get("retry-after"))
        if after is not None:
            return min(after, self._backoff[2])
        return self._backoff_wait(attempt)

    def _backoff_wait(self, attempt: int) -> float:
        base, cap, _ = self._backoff
        return min(base * 2 ** (attempt - 1), cap)

    def _throttle(self) -> None:
        with self._lock:
            wait = self._last_request + self._min_interval_s - time.monotonic()
            if wait > 0:
                self._sleep(wait)
            self._last_request = time.monotonic()

    def _excerpt(self, response: httpx.Response) -> str:
        text = " ".join(response.text.split())[:200].replace(self._token, "***")
        return text or response.reason_phrase


def _series_entry(entry: object) -> object:
    if not isinstance(entry, Mapping) or "sequence" not in entry:
        return entry
    return {**entry, "sequence": sequence_text(entry["sequence"])}


def _transport_reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or host not found"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return type(exc).__name__
