"""qBittorrent adapter on qbittorrent-api: commands, incremental polling, one error family."""

from mamcrawler.adapters.qbittorrent.client import QbitClient, base_url
from mamcrawler.adapters.qbittorrent.errors import (
    TorrentAddRejected,
    TorrentAlreadyPresent,
    TorrentClientAuthError,
    TorrentClientError,
    TorrentClientUnavailable,
    TorrentClientWebUIDisabled,
)
from mamcrawler.adapters.qbittorrent.poller import MainDataPoller
from mamcrawler.adapters.qbittorrent.states import normalise_state
from mamcrawler.torrentfile import info_hash

__all__ = [
    "MainDataPoller",
    "QbitClient",
    "TorrentAddRejected",
    "TorrentAlreadyPresent",
    "TorrentClientAuthError",
    "TorrentClientError",
    "TorrentClientUnavailable",
    "TorrentClientWebUIDisabled",
    "base_url",
    "info_hash",
    "normalise_state",
]
