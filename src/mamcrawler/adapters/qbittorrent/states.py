"""qBittorrent's torrent states (4.x and 5.x names) mapped onto ours.

``stalledUP`` — complete, announced, nobody downloading right now — maps to SEEDING: the
tracker counts that as seeding time and nothing needs recovering. ``stalledDL`` — a
download with no progress — is STALLED, the case the watch job recovers.
"""

from __future__ import annotations

from mamcrawler.domain.torrents import TorrentState

RAW_STATES: dict[str, TorrentState] = {
    "downloading": TorrentState.DOWNLOADING,
    "forcedDL": TorrentState.DOWNLOADING,
    "metaDL": TorrentState.DOWNLOADING,
    "forcedMetaDL": TorrentState.DOWNLOADING,
    # allocating disk space is the first step of a download, not a check
    "allocating": TorrentState.DOWNLOADING,
    "uploading": TorrentState.SEEDING,
    "forcedUP": TorrentState.SEEDING,
    "stalledUP": TorrentState.SEEDING,
    "stalledDL": TorrentState.STALLED,
    "pausedUP": TorrentState.PAUSED,
    "pausedDL": TorrentState.PAUSED,
    "stoppedUP": TorrentState.PAUSED,  # qBittorrent 5 renamed paused to stopped
    "stoppedDL": TorrentState.PAUSED,
    "error": TorrentState.ERRORED,
    "checkingUP": TorrentState.CHECKING,
    "checkingDL": TorrentState.CHECKING,
    "checkingResumeData": TorrentState.CHECKING,
    "missingFiles": TorrentState.MISSING_FILES,
    "queuedUP": TorrentState.QUEUED,
    "queuedDL": TorrentState.QUEUED,
    "moving": TorrentState.MOVING,
    "unknown": TorrentState.UNKNOWN,
}


def normalise_state(raw: str) -> TorrentState:
    """Our state for qBittorrent's ``raw`` state; UNKNOWN for words we have not met."""
    return RAW_STATES.get(raw, TorrentState.UNKNOWN)
