"""Incremental polling of qBittorrent through ``sync/maindata`` with a response id.

qBittorrent answers each maindata request with only what changed since the response id
(``rid``) we send back, so a watch cycle over thousands of torrents moves and converts only
the few that changed. The poller keeps the merged state between polls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from mamcrawler.adapters.qbittorrent.errors import TorrentClientError
from mamcrawler.adapters.qbittorrent.snapshots import snapshot_from_fields, transfer_from_fields
from mamcrawler.domain.torrents import ClientSnapshot, TorrentSnapshot

log = logging.getLogger(__name__)

FetchMainData = Callable[[int], Mapping[str, Any]]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class MainDataPoller:
    """Keeps ``rid`` and the merged torrent map; one ClientSnapshot per ``poll()``.

    ``fetch(rid)`` returns the raw maindata JSON and raises TorrentClientError on failure.
    After a failure the next poll asks for everything again (rid 0), because the client may
    have restarted and forgotten our rid; torrents missing from that full answer are
    reported as removed, so nothing that vanished during an outage goes unnoticed.
    """

    def __init__(self, fetch: FetchMainData, clock: Callable[[], datetime] = _utcnow) -> None:
        self._fetch = fetch
        self._clock = clock
        self._rid = 0
        self._fields: dict[str, dict[str, Any]] = {}
        self._snapshots: dict[str, TorrentSnapshot] = {}
        self._server_state: dict[str, Any] = {}
        self.last_poll_ok: bool | None = None  # None until the first poll
        self.last_error: str | None = None

    @property
    def rid(self) -> int:
        """The response id the next poll will send (0 = ask for everything)."""
        return self._rid

    def reset(self) -> None:
        """Ask for a full update next time; the known torrents stay for the diff."""
        self._rid = 0

    def poll(self) -> ClientSnapshot:
        """Fetch what changed, merge it, and return the whole current picture."""
        try:
            data = self._fetch(self._rid)
        except TorrentClientError as exc:
            self._rid = 0
            self._note(ok=False, error=str(exc))
            raise
        try:
            snapshot = self._merge(data)
            self._rid = int(data.get("rid", 0))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            self._rid = 0
            error = TorrentClientError(f"qBittorrent sent maindata we cannot read: {exc!r}")
            self._note(ok=False, error=str(error))
            raise error from exc
        self._note(ok=True, error=None)
        return snapshot

    def _merge(self, data: Mapping[str, Any]) -> ClientSnapshot:
        full = bool(data.get("full_update", False))
        before = set(self._fields)
        if full:
            self._fields.clear()
            self._server_state.clear()
        updates: Mapping[str, Mapping[str, Any]] = data.get("torrents") or {}
        for info_hash, fields in updates.items():
            self._fields.setdefault(info_hash, {}).update(fields)
        removed = {h for h in data.get("torrents_removed") or () if h in self._fields}
        for info_hash in removed:
            del self._fields[info_hash]
        if full:
            removed |= before - set(self._fields)
        self._server_state.update(data.get("server_state") or {})
        changed = set(updates) - removed
        self._refresh_snapshots(changed, removed)
        return ClientSnapshot(
            taken_at=self._clock(),
            torrents=tuple(self._snapshots.values()),
            transfer=transfer_from_fields(self._server_state),
            full_update=full,
            changed=frozenset(changed),
            removed=frozenset(removed),
        )

    def _refresh_snapshots(self, changed: set[str], removed: set[str]) -> None:
        # Only changed torrents are converted again: that is what makes a poll cheap.
        for info_hash in removed:
            self._snapshots.pop(info_hash, None)
        for info_hash in set(self._snapshots) - set(self._fields):
            del self._snapshots[info_hash]
        for info_hash in changed:
            self._snapshots[info_hash] = snapshot_from_fields(info_hash, self._fields[info_hash])

    def _note(self, *, ok: bool, error: str | None) -> None:
        # Log on a change of health only, so a long outage is one line, not one per poll.
        if ok != self.last_poll_ok:
            if ok:
                log.info("qBittorrent poll OK (rid %s)", self._rid)
            else:
                log.warning("qBittorrent poll failed: %s", error)
        self.last_poll_ok = ok
        self.last_error = error
