"""The watch's small pure rules: which torrents are watched, stuck, healthy; staleness."""

from datetime import timedelta

import pytest

from mamcrawler.config import load_settings
from mamcrawler.domain.torrents import TorrentSnapshot, TorrentState
from mamcrawler.services.compliance import stale_after
from mamcrawler.services.torrent_store import in_scope, is_healthy, is_stuck


def torrent(state: TorrentState, raw: str = "", **fields) -> TorrentSnapshot:
    return TorrentSnapshot(hash="ab" * 20, name="t", state=state, raw_state=raw or state.value,
                           **fields)


@pytest.mark.parametrize(("category", "watched", "expected"), [
    ("mamcrawler", "mamcrawler", True),
    ("mamcrawler", "mamcrawler/sci-fi", True),
    ("mamcrawler", "mamcrawler-old", False),
    ("mamcrawler", "", False),
    ("", "anything", True),
    ("", "", True),
])
def test_scope_is_the_category_and_its_subcategories(category, watched, expected):
    assert in_scope(torrent(TorrentState.SEEDING, category=watched), category) is expected


@pytest.mark.parametrize(("snapshot", "stuck", "healthy"), [
    (torrent(TorrentState.STALLED, "stalledDL"), True, False),
    (torrent(TorrentState.ERRORED, "error"), True, False),
    # qBittorrent says forcedDL even with no peer at all: idle and forced is still stuck
    (torrent(TorrentState.DOWNLOADING, "forcedDL", forced=True), True, False),
    (torrent(TorrentState.DOWNLOADING, "forcedDL", forced=True, dlspeed=10), False, True),
    (torrent(TorrentState.DOWNLOADING, "downloading", dlspeed=0), False, False),
    (torrent(TorrentState.DOWNLOADING, "downloading", dlspeed=5_000), False, True),
    (torrent(TorrentState.SEEDING, "stalledUP"), False, True),
    (torrent(TorrentState.PAUSED, "pausedDL"), False, False),
    (torrent(TorrentState.CHECKING, "checkingDL"), False, False),
    (torrent(TorrentState.MISSING_FILES, "missingFiles"), False, False),
])
def test_stuck_and_healthy(snapshot, stuck, healthy):
    assert is_stuck(snapshot) is stuck
    assert is_healthy(snapshot) is healthy
    assert not (stuck and healthy)


def test_account_data_goes_stale_after_three_watch_intervals():
    assert stale_after(load_settings(None)) == timedelta(minutes=15)
    assert stale_after(load_settings(None, schedule_torrent_watch="every 1h")) == timedelta(hours=3)
    assert stale_after(load_settings(None, schedule_torrent_watch="*/10 * * * *")) == \
        timedelta(hours=1)
