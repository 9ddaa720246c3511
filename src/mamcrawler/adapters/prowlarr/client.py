"""Prowlarr's `/api/v1/search` as a search path that yields neutral releases.

Results are parsed tolerantly: numbers may be missing, categories may be ids or objects,
one bad result never loses the others. A result is free only when Prowlarr says its
download volume factor is 0; everything else is treated as ratio-costing (the cautious
reading) and passes the same gates as a paid tracker release.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

import httpx

from mamcrawler import USER_AGENT
from mamcrawler.domain.records import Release

log = logging.getLogger("mamcrawler.prowlarr")
AUDIOBOOK_CATEGORY = 3030  # Newznab "Audio/Audiobook"
_FORMATS = ("m4b", "m4a", "mp3", "flac", "opus", "ogg", "aac")


class ProwlarrError(Exception):
    """Prowlarr could not be asked or answered something unusable."""


class ProwlarrAuthError(ProwlarrError):
    pass


class ProwlarrUnavailable(ProwlarrError):
    pass


class ProwlarrClient:
    def __init__(self, base_url: str, api_key: str, *, timeout_s: float = 60.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s, transport=transport,
                                  headers={"X-Api-Key": api_key, "User-Agent": USER_AGENT})

    def close(self) -> None:
        self._http.close()

    def search(self, text: str, categories: tuple[int, ...] = (AUDIOBOOK_CATEGORY,),
               limit: int = 100) -> list[Release]:
        """Releases matching `text` across Prowlarr's indexers (torrents only)."""
        params = [("query", text), ("type", "search"), ("limit", str(limit))]
        params += [("categories", str(c)) for c in categories]
        payload = self._get("/api/v1/search", params)
        if not isinstance(payload, list):
            raise ProwlarrError("Prowlarr's search answer is not a list")
        releases = []
        for item in payload:
            try:
                release = parse_release(item)
            except (TypeError, ValueError, KeyError) as exc:
                log.info("skipped an unreadable Prowlarr result: %s", exc)
                continue
            if release is not None:
                releases.append(release)
        return releases

    def download_torrent(self, url: str) -> bytes:
        """The .torrent behind a result's download URL (Prowlarr proxies it)."""
        try:
            response = self._http.get(url, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise ProwlarrUnavailable(f"cannot download from Prowlarr: {exc}") from None
        self._raise_for(response)
        return response.content

    def _get(self, path: str, params) -> object:
        try:
            response = self._http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise ProwlarrUnavailable(f"cannot reach Prowlarr at {self.base_url} "
                                      f"({exc.__class__.__name__}); check PROWLARR_URL") from None
        self._raise_for(response)
        try:
            return response.json()
        except ValueError:
            raise ProwlarrError("Prowlarr answered something that is not JSON") from None

    def _raise_for(self, response: httpx.Response) -> None:
        if response.status_code in (401, 403):
            raise ProwlarrAuthError("Prowlarr refused the API key; check PROWLARR_API_KEY "
                                    "(Settings → General in Prowlarr)")
        if response.status_code >= 400:
            raise ProwlarrUnavailable(f"Prowlarr answered HTTP {response.status_code}")


def parse_release(item: dict) -> Release | None:
    """One search result as a Release; None for non-torrent (usenet) results."""
    if str(item.get("protocol", "torrent")).lower() != "torrent":
        return None
    title = str(item["title"]).strip()
    if not title:
        raise ValueError("result without a title")
    indexer = str(item.get("indexer") or item.get("indexerId") or "unknown")
    lowered = title.lower()
    fmt = next((f for f in _FORMATS if re.search(rf"\b{f}\b", lowered)), None)
    return Release(
        id=str(item.get("guid") or item.get("downloadUrl") or title),
        title=title,
        format=fmt,
        size_bytes=max(int(item.get("size") or 0), 0),
        seeders=max(int(item.get("seeders") or 0), 0),
        leechers=max(int(item.get("leechers") or 0), 0),
        added=_date(item.get("publishDate")),
        free=_is_free(item.get("downloadVolumeFactor")),
        tags=title,
        source=f"prowlarr:{indexer}",
        download_url=item.get("downloadUrl") or None,
        info_hash=(str(item["infoHash"]).lower() if item.get("infoHash") else None),
    )


def _is_free(factor: object) -> bool:
    """Free only when Prowlarr explicitly says nothing counts as downloaded."""
    try:
        return factor is not None and float(factor) == 0.0
    except (TypeError, ValueError):
        return False


def _date(value: object) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
