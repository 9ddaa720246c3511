"""The qBittorrent adapter against a real qbittorrent-nox on 127.0.0.1."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from mamcrawler.adapters.qbittorrent import (
    QbitClient,
    TorrentAddRejected,
    TorrentAlreadyPresent,
    TorrentClientAuthError,
    TorrentClientUnavailable,
    TorrentClientWebUIDisabled,
)
from mamcrawler.domain.torrents import TorrentSnapshot, TorrentState
from tests.support.qbittorrent import (
    QbitProcess,
    Swarm,
    TinyTorrent,
    free_port,
    make_torrent,
    wait_until,
)

slow = pytest.mark.slow


@pytest.fixture(scope="module")
def qbit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QbitProcess]:
    """One instance for the module; 127.0.0.1 must log in, so credentials are real."""
    proc = QbitProcess(tmp_path_factory.mktemp("qbit"), localhost_auth=True).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def client(qbit: QbitProcess) -> QbitClient:
    return qbit.client()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def find(client: QbitClient, info_hash: str) -> TorrentSnapshot | None:
    return next((t for t in client.torrents() if t.hash == info_hash), None)


def await_torrent(
    client: QbitClient,
    info_hash: str,
    condition: Callable[[TorrentSnapshot], bool],
    what: str,
    timeout_s: float = 30,
) -> TorrentSnapshot:
    def check() -> TorrentSnapshot | None:
        found = find(client, info_hash)
        return found if found is not None and condition(found) else None

    return wait_until(check, timeout_s=timeout_s, what=what)


def add_seeding(client: QbitClient, torrent: TinyTorrent) -> str:
    info_hash = client.add_torrent(torrent.data, save_path=str(torrent.save_path))
    await_torrent(client, info_hash, lambda t: t.state is TorrentState.SEEDING, "seeding")
    return info_hash


@slow
def test_login_with_good_credentials_and_version(client: QbitClient) -> None:
    client.login()
    assert re.fullmatch(r"v4\.5\.\d+ \(Web API 2\.\d+(\.\d+)*\)", client.version())


@slow
def test_bad_credentials_raise_auth_error_with_advice(qbit: QbitProcess) -> None:
    wrong = QbitClient("localhost", qbit.webui_port, qbit.username, "not-the-password")
    with pytest.raises(TorrentClientAuthError, match="QB_USERNAME/QB_PASSWORD"):
        wrong.login()
    with pytest.raises(TorrentClientAuthError):
        wrong.torrents()  # the lazy login on first use fails the same way


@slow
def test_banned_address_is_an_auth_error(qbit_factory: Callable[..., QbitProcess]) -> None:
    proc = qbit_factory(
        localhost_auth=True,
        extra_config={"Preferences": {"WebUI\\MaxAuthenticationFailCount": "1"}},
    )
    with pytest.raises(TorrentClientAuthError):
        QbitClient("127.0.0.1", proc.webui_port, proc.username, "wrong").login()
    with pytest.raises(TorrentClientAuthError, match="banned"):
        proc.client().login()


@slow
def test_add_paused_with_category_tags_and_save_path(client: QbitClient, data_dir: Path) -> None:
    torrent = make_torrent(data_dir, "paused-book")
    info_hash = client.add_torrent(
        torrent.data,
        category="audiobooks",
        tags=["new", "mam"],
        save_path=str(torrent.save_path),
        paused=True,
    )
    assert info_hash == torrent.info_hash
    listed = await_torrent(client, info_hash, lambda t: t.state is TorrentState.PAUSED, "paused")
    assert (listed.name, listed.category, listed.tags) == (
        "paused-book",
        "audiobooks",
        ("mam", "new"),
    )
    assert Path(listed.save_path) == torrent.save_path
    assert [t.hash for t in client.torrents(category="audiobooks")].count(info_hash) == 1


@slow
def test_add_running_with_data_on_disk_seeds(client: QbitClient, data_dir: Path) -> None:
    torrent = make_torrent(data_dir, "complete-book", (30_000, 5_000))
    info_hash = add_seeding(client, torrent)
    seeding = find(client, info_hash)
    assert seeding is not None and seeding.is_complete
    assert seeding.completion_on is not None and seeding.added_on is not None
    assert seeding.size == 35_000


@slow
def test_add_rejects_garbage_and_duplicates(client: QbitClient, data_dir: Path) -> None:
    with pytest.raises(TorrentAddRejected, match="not a valid .torrent"):
        client.add_torrent(b"<html>not a torrent</html>")
    torrent = make_torrent(data_dir, "twice", (1_000,))
    client.add_torrent(torrent.data, paused=True, save_path=str(torrent.save_path))
    with pytest.raises(TorrentAlreadyPresent) as raised:
        client.add_torrent(torrent.data, paused=True)
    assert raised.value.info_hash == torrent.info_hash


@slow
def test_pause_resume_and_force_start(client: QbitClient, data_dir: Path) -> None:
    info_hash = add_seeding(client, make_torrent(data_dir, "controlled"))
    client.pause(info_hash)
    await_torrent(client, info_hash, lambda t: t.state is TorrentState.PAUSED, "paused")
    client.resume([info_hash])
    await_torrent(client, info_hash, lambda t: t.state is TorrentState.SEEDING, "resumed")
    client.force_start(info_hash)
    forced = await_torrent(client, info_hash, lambda t: t.forced, "forced")
    assert forced.state is TorrentState.SEEDING  # raw "stalledUP" while nobody downloads
    client.force_start(info_hash, on=False)
    await_torrent(client, info_hash, lambda t: not t.forced, "not forced")
    client.pause([])  # nothing named: a no-op, never "all torrents"
    assert find(client, info_hash).state is TorrentState.SEEDING  # type: ignore[union-attr]


@slow
def test_added_torrents_keep_seeding_past_a_global_share_limit(
    qbit_factory: Callable[..., QbitProcess], data_dir: Path
) -> None:
    """A global "pause at ratio 0" stops a torrent under the global limit, never ours."""
    client = qbit_factory().client()
    client.set_preferences(max_ratio_enabled=True, max_ratio=0, max_ratio_act=0)  # 0 = pause
    ours = add_seeding(client, make_torrent(data_dir, "ours"))
    under_global = add_seeding(client, make_torrent(data_dir, "under-global"))
    client.set_share_limits(under_global, ratio_limit=-2, seeding_time_limit_min=-2)  # -2: global
    # qBittorrent applies share limits on a timer (about every 10 s)
    await_torrent(client, under_global, lambda t: t.state is TorrentState.PAUSED,
                  "paused by the global ratio limit")
    assert find(client, ours).state is TorrentState.SEEDING  # type: ignore[union-attr]
    client.set_share_limits([], ratio_limit=-2, seeding_time_limit_min=-2)  # no-op, never "all"
    assert find(client, ours).state is TorrentState.SEEDING  # type: ignore[union-attr]


@slow
def test_recheck_notices_damaged_data(client: QbitClient, data_dir: Path) -> None:
    torrent = make_torrent(data_dir, "damaged", (PIECES_3 := 3 * 16 * 1024,))
    info_hash = add_seeding(client, torrent)
    client.pause(info_hash)
    await_torrent(client, info_hash, lambda t: t.state is TorrentState.PAUSED, "paused")
    torrent.files[0].write_bytes(b"\0" * PIECES_3)
    client.recheck(info_hash)
    damaged = await_torrent(client, info_hash, lambda t: t.progress < 1.0, "recheck result")
    assert damaged.progress == 0.0


@slow
def test_reannounce_is_accepted(client: QbitClient, data_dir: Path) -> None:
    info_hash = add_seeding(client, make_torrent(data_dir, "announced"))
    client.reannounce(info_hash)
    client.reannounce([])
    assert find(client, info_hash) is not None


@slow
def test_remove_keeps_data_unless_asked(client: QbitClient, data_dir: Path) -> None:
    kept = make_torrent(data_dir, "kept")
    deleted = make_torrent(data_dir, "deleted")
    kept_hash, deleted_hash = add_seeding(client, kept), add_seeding(client, deleted)
    client.remove(kept_hash)
    wait_until(lambda: find(client, kept_hash) is None, timeout_s=15, what="kept removed")
    assert all(path.exists() for path in kept.files)
    client.remove([deleted_hash], delete_files=True)
    wait_until(lambda: not deleted.files[0].exists(), timeout_s=15, what="data deleted")
    assert find(client, deleted_hash) is None


@slow
def test_preferences_round_trip(client: QbitClient) -> None:
    before = client.preferences()
    wanted = {"max_uploads": 7, "max_uploads_per_torrent": 3, "up_limit": 204_800}
    client.set_preferences(**wanted)
    try:
        after = client.preferences()
        assert {key: after[key] for key in wanted} == wanted
        with pytest.raises(ValueError, match="max_upload_slots"):
            client.set_preferences(max_upload_slots=5)
    finally:
        client.set_preferences(**{key: before[key] for key in wanted})
    assert client.preferences()["max_uploads"] == before["max_uploads"]


@slow
def test_transfer_info(client: QbitClient) -> None:
    info = client.transfer_info()
    assert info.connection_status in {"connected", "firewalled", "disconnected"}
    assert info.dl_speed >= 0 and info.up_speed >= 0 and info.alltime_ul is None


@slow
def test_ensure_category_creates_then_moves(client: QbitClient, qbit: QbitProcess) -> None:
    client.ensure_category("books-cat", "/srv/books")
    client.ensure_category("books-cat", "/srv/books")
    assert qbit.api().torrents_categories()["books-cat"]["savePath"] == "/srv/books"
    client.ensure_category("books-cat", "/srv/other")
    assert qbit.api().torrents_categories()["books-cat"]["savePath"] == "/srv/other"


@slow
def test_incremental_poll_merges_changes_and_sees_removal(
    client: QbitClient, data_dir: Path
) -> None:
    first = client.poll()
    assert first.full_update and client.poller.last_poll_ok
    torrent = make_torrent(data_dir, "polled")
    info_hash = client.add_torrent(torrent.data, category="watch", save_path=str(data_dir))

    def seeding_seen() -> bool:
        snap = client.poll()
        found = snap.by_hash().get(info_hash)
        return found is not None and found.state is TorrentState.SEEDING

    wait_until(seeding_seen, timeout_s=30, what="poll sees seeding")
    client.pause(info_hash)

    def pause_seen():
        snap = client.poll()
        return snap if snap.by_hash()[info_hash].state is TorrentState.PAUSED else None

    partial = wait_until(pause_seen, timeout_s=15, what="poll sees pause")
    assert not partial.full_update and info_hash in partial.changed
    merged = partial.by_hash()[info_hash]
    # the partial update carried the state; the rest must survive from earlier polls
    assert (merged.name, merged.category, merged.size) == ("polled", "watch", 40_000)
    assert merged == find(client, info_hash)
    client.remove(info_hash)

    def removal_seen():
        snap = client.poll()
        return snap if info_hash in snap.removed else None

    gone = wait_until(removal_seen, timeout_s=15, what="poll sees removal")
    assert info_hash not in gone.by_hash() and not gone.full_update


@slow
def test_full_poll_agrees_with_incremental(client: QbitClient) -> None:
    client.poll()
    incremental, full = client.poll(), client.full_poll()
    assert full.full_update
    assert {t.hash: t.state for t in full.torrents} == {
        t.hash: t.state for t in incremental.torrents
    }


@slow
def test_connection_refused_is_unavailable_with_advice() -> None:
    nothing = QbitClient("127.0.0.1", free_port(), "u", "p", timeout_s=2)
    with pytest.raises(TorrentClientUnavailable, match="connection refused") as raised:
        nothing.poll()
    assert "QB_HOST/QB_PORT" in str(raised.value)
    assert nothing.poller.last_poll_ok is False


@slow
def test_something_else_on_the_port_is_reported(httpserver: HTTPServer) -> None:
    httpserver.expect_request(re.compile("/api/v2/auth/.*")).respond_with_data(
        "Not Found", status=404
    )
    httpserver.expect_request("/api/v2/app/version").respond_with_data("<html>hi</html>")
    httpserver.expect_request("/api/v2/sync/maindata").respond_with_data("<html>hi</html>")
    other = QbitClient(httpserver.url_for("/"), None, "u", "p", timeout_s=2)
    with pytest.raises(TorrentClientWebUIDisabled, match="QB_HOST/QB_PORT"):
        other.login()
    with pytest.raises(TorrentClientWebUIDisabled, match="not qBittorrent"):
        other.version()
    with pytest.raises(TorrentClientWebUIDisabled, match="not qBittorrent's JSON"):
        other.poll()


@slow
def test_killed_client_is_reported_and_next_poll_recovers(
    qbit_factory: Callable[..., QbitProcess], tmp_path: Path
) -> None:
    proc = qbit_factory(localhost_auth=True)
    client = proc.client(timeout_s=3)
    info_hash = add_seeding(client, make_torrent(tmp_path / "data", "survivor"))
    assert client.poll().full_update and not client.poll().full_update
    proc.kill()
    with pytest.raises(TorrentClientUnavailable, match="QB_HOST/QB_PORT"):
        client.poll()
    assert client.poller.last_poll_ok is False and client.poller.rid == 0
    proc.start()
    recovered = client.poll()  # logs in again on the new process by itself
    assert recovered.full_update and client.poller.last_poll_ok
    assert info_hash in recovered.by_hash() and not recovered.removed


@slow
def test_swarm_delivers_a_torrent_from_seeder_to_leecher(swarm: Swarm) -> None:
    torrent = swarm.share("swarm-book", (300_000, 70_000))
    leecher = swarm.leecher.client()
    target = swarm.leecher.downloads_dir
    leecher.add_torrent(torrent.data, save_path=str(target))
    await_torrent(
        leecher,
        torrent.info_hash,
        lambda t: t.is_complete,
        "leecher completes via opentracker",
        timeout_s=120,
    )
    for path in torrent.files:
        assert (target / torrent.name / path.name).read_bytes() == path.read_bytes()
    # the bytes came from our seeder (DHT/PeX/LSD are off, so only the tracker introduced them)
    seeder = swarm.seeder.client()
    await_torrent(seeder, torrent.info_hash, lambda t: t.uploaded >= 370_000, "seeder upload")
