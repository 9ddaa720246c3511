"""The real tracker client against the simulator over HTTP on 127.0.0.1.

Waiting (rate limit, back-off, Retry-After) runs on a fake clock injected through the
limiter, so the suite never sleeps to "wait enough".
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest

from mamcrawler import USER_AGENT
from mamcrawler.adapters.mam import (
    MamClient,
    MemorySessionStore,
    MinIntervalLimiter,
    SearchQuery,
    TrackerAuthError,
    TrackerBadResponse,
    TrackerBlocked,
    TrackerPurchaseUncertain,
    TrackerRateLimited,
    TrackerRefused,
    TrackerUnavailable,
    shared_limiter,
)
from mamcrawler.adapters.mam.client import SIM_EVENTS_PATH
from mamcrawler.torrentfile import read_torrent
from tests.support.tracker_sim import TrackerSimHandle

GIB = 1024**3


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it; thread-safe."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


MakeClient = Callable[..., MamClient]


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(tracker_sim: TrackerSimHandle, fake_clock: FakeClock) -> Iterator[MakeClient]:
    """Clients for the simulator on the fake clock, interval 0 unless given; closed after."""
    clients: list[MamClient] = []

    def make(store: MemorySessionStore | None = None, *, mam_id: str | None = None,
             min_interval_s: float = 0.0, **options: object) -> MamClient:
        limiter = MinIntervalLimiter(min_interval_s, clock=fake_clock.clock,
                                     sleep=fake_clock.sleep)
        settings: dict = {"timeout_s": 5.0, "max_attempts": 3, "backoff_base_s": 1.0,
                          "backoff_max_s": 8.0, "retry_after_cap_s": 60.0} | options
        client = MamClient(tracker_sim.base_url, mam_id or tracker_sim.mam_id,
                           store if store is not None else MemorySessionStore(),
                           min_interval_s=min_interval_s, limiter=limiter, **settings)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def requests_to(sim: TrackerSimHandle, path: str) -> int:
    return sim.simulator.snapshot()["requests"].get(path, 0)


def test_cookie_rotation_is_saved_and_survives_a_restart(
        tracker_sim: TrackerSimHandle, make_client: MakeClient) -> None:
    store = MemorySessionStore()
    first = make_client(store)
    first.account_stats()
    after_one = store.load()
    first.search(SearchQuery(text="ember"))
    assert store.load() not in (None, after_one, tracker_sim.mam_id)
    assert store.load() == tracker_sim.control.state()["mam_id"] and store.saves == 2
    first.close()

    restarted = make_client(store)  # same store, settings still hold the first cookie
    assert restarted.account_stats().username == "SimMouse"
    assert store.saves == 3 and store.load() == tracker_sim.control.state()["mam_id"]

    with pytest.raises(TrackerAuthError):  # the first cookie was rotated away long ago
        make_client(MemorySessionStore()).account_stats()


def test_stale_cookie_is_an_auth_error_that_never_shows_the_cookie(
        tracker_sim: TrackerSimHandle, make_client: MakeClient) -> None:
    stale = tracker_sim.mam_id
    make_client().account_stats()  # rotates the session away from `stale`
    with pytest.raises(TrackerAuthError) as caught:
        make_client(MemorySessionStore(stale)).account_stats()
    message = str(caught.value)
    assert "Security" in message and "MAM_ID" in message and stale not in message
    assert caught.value.status == 403


def test_fresh_mam_id_in_settings_replaces_a_rejected_saved_session(
        tracker_sim: TrackerSimHandle, make_client: MakeClient) -> None:
    store = MemorySessionStore("an-old-rotated-session-value")
    fresh = tracker_sim.control.new_session("a-fresh-session-made-on-the-site")
    assert make_client(store, mam_id=fresh).account_stats().username == "SimMouse"
    assert store.load() == tracker_sim.control.state()["mam_id"] != fresh


def test_html_page_instead_of_json_is_an_auth_error(
        tracker_sim: TrackerSimHandle, make_client: MakeClient) -> None:
    tracker_sim.control.fail("html")
    with pytest.raises(TrackerAuthError, match="HTML page"):
        make_client().account_stats()


def test_blocked_account(tracker_sim: TrackerSimHandle, make_client: MakeClient) -> None:
    tracker_sim.control.fail(406)
    with pytest.raises(TrackerBlocked, match="unsatisfied"):
        make_client().search(SearchQuery())
    assert requests_to(tracker_sim, "/tor/js/loadSearchJSONbasic.php") == 1


def test_injected_403_is_an_auth_error_and_not_retried(
        tracker_sim: TrackerSimHandle, make_client: MakeClient) -> None:
    tracker_sim.control.fail(403)
    with pytest.raises(TrackerAuthError, match="IP mismatch"):
        make_client().account_stats()
    assert requests_to(tracker_sim, "/jsonLoad.php") == 1


def test_429_waits_for_retry_after_then_succeeds(
        tracker_sim: TrackerSimHandle, make_client: MakeClient, fake_clock: FakeClock) -> None:
    tracker_sim.control.fail(429, retry_after=7)
    assert make_client().account_stats().username == "SimMouse"
    assert 7.0 in fake_clock.sleeps
    assert requests_to(tracker_sim, "/jsonLoad.php") == 2


def test_429_with_retry_after_beyond_the_cap_is_raised_at_once(
        tracker_sim: TrackerSimHandle, make_client: MakeClient) -> None:
    tracker_sim.control.fail(429, retry_after=3600)
    with pytest.raises(TrackerRateLimited) as caught:
        make_client().account_stats()
    assert caught.value.retry_after == 3600
    assert requests_to(tracker_sim, "/jsonLoad.php") == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_with_backoff_then_unavailable(
        tracker_sim: TrackerSimHandle, make_client: MakeClient, fake_clock: FakeClock,
        status: int) -> None:
    tracker_sim.control.fail(status, count=10)
    with pytest.raises(TrackerUnavailable):
        make_client().account_stats()
    assert requests_to(tracker_sim, "/jsonLoad.php") == 3
    assert fake_clock.sleeps == [1.0, 2.0]


def test_a_passing_server_error_is_retried_away(
        tracker_sim: TrackerSimHandle, make_client: MakeClient) -> None:
    tracker_sim.control.fail(503, count=2)
    assert make_client().search(SearchQuery(text="lattice"))
    assert requests_to(tracker_sim, "/tor/js/loadSearchJSONbasic.php") == 3


def test_timeout_is_retried(tracker_sim: TrackerSimHandle, make_client: MakeClient) -> None:
    tracker_sim.control.post("delay", seconds=1.5, count=1, path="/jsonLoad.php")
    assert make_client(timeout_s=0.3).account_stats().username == "SimMouse"
    assert requests_to(tracker_sim, "/jsonLoad.php") == 2


def test_unreachable_tracker_is_unavailable(fake_clock: FakeClock) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    limiter = MinIntervalLimiter(0, clock=fake_clock.clock, sleep=fake_clock.sleep)
    with MamClient(f"http://127.0.0.1:{port}", "x", MemorySessionStore(), limiter=limiter,
                   max_attempts=2, backoff_base_s=1) as client, \
            pytest.raises(TrackerUnavailable):
        client.account_stats()


@pytest.mark.parametrize("layout", ["nested", "flat"])
def test_account_stats_in_both_layouts(tracker_sim: TrackerSimHandle, make_client: MakeClient,
                                       layout: str) -> None:
    tracker_sim.control.post("layout", layout=layout)
    tracker_sim.control.account(unsat_count=12, unsat_limit=100, counts={"seedHnr": 2})
    stats = make_client().account_stats()
    assert stats.class_name == "VIP" and stats.ratio == 2.5 and stats.wedges == 3
    assert stats.unsatisfied_count == 12 and stats.unsatisfied_limit == 100
    assert stats.buckets["seedHnr"].red and stats.bonus_points == 48250.0
    assert stats.vip_until is not None and stats.connectable is True


def test_infinite_ratio_and_no_vip(tracker_sim: TrackerSimHandle,
                                   make_client: MakeClient) -> None:
    tracker_sim.control.account(ratio=None, vip_until=None, class_name="User")
    stats = make_client().account_stats()
    assert stats.ratio is None and stats.vip_until is None and stats.class_name == "User"
    assert stats.unsatisfied_limit == 50


def test_search_filters_and_paging(tracker_sim: TrackerSimHandle,
                                   make_client: MakeClient) -> None:
    client = make_client()
    fantasy = client.search(SearchQuery(category_ids=(41,), per_page=100))
    assert fantasy and all(r.category_id == 41 for r in fantasy)
    vip = client.search(SearchQuery(search_type="VIP", per_page=100))
    assert vip and all(r.vip_free for r in vip)
    free = client.search(SearchQuery(search_type="fl", per_page=100))
    assert free and all(r.free or r.personal_freeleech for r in free)
    german = client.search(SearchQuery(language_ids=(36,)))
    assert [r.language for r in german] == ["GER"]
    by_narrator = client.search(SearchQuery(text="marcus bell", fields=("narrator",)))
    assert len(by_narrator) >= 3 and all("Marcus Bell" in r.narrators for r in by_narrator)
    assert client.search(SearchQuery(text="marcus bell", fields=("title",))) == []
    page = client.search_page(SearchQuery(per_page=10, start=10))
    assert page.total == 64 and len(page.releases) == 10
    ranked = client.search(SearchQuery(sort="seedersDesc", per_page=100))
    assert [r.seeders for r in ranked] == sorted((r.seeders for r in ranked), reverse=True)
    editions = client.search(SearchQuery(text="Pride and Prejudice"))
    assert len(editions) == 3 and len({r.narrators for r in editions}) == 3


def test_nothing_found_is_an_empty_list(tracker_sim: TrackerSimHandle,
                                        make_client: MakeClient) -> None:
    assert make_client().search(SearchQuery(text="no such book anywhere")) == []


def test_malformed_results_keep_the_good_ones(tracker_sim: TrackerSimHandle,
                                              make_client: MakeClient) -> None:
    client = make_client()
    clean = client.search(SearchQuery(text="Ravenhold"))
    tracker_sim.control.post("malformed", enabled=True, broken_every=0)
    damaged = client.search(SearchQuery(text="Ravenhold"))
    assert [r.id for r in damaged] == [r.id for r in clean] and len(clean) == 4
    assert all(r.narrators == ('Elena "Ellie" Marsh',) for r in damaged)
    assert damaged[:3] == clean[:3]  # raw quotes are recovered exactly
    assert damaged[3].series == () and damaged[3].title == clean[3].title  # truncated field

    tracker_sim.control.post("malformed", enabled=True, broken_every=5)
    page = client.search_page(SearchQuery(per_page=20))
    assert len(page.releases) == 16 and page.skipped == 4


def test_search_by_post_json_on_the_simulator(tracker_sim: TrackerSimHandle) -> None:
    cookie = tracker_sim.control.state()["mam_id"]
    body = {"tor": {"text": "neon", "srchIn": ["title"], "searchType": "all",
                    "cat": ["0"], "main_cat": [13], "sortType": "titleAsc"}, "perpage": 5}
    reply = httpx.post(f"{tracker_sim.base_url}/tor/js/loadSearchJSONbasic.php", json=body,
                       cookies={"mam_id": cookie}).json()
    assert [r["title"] for r in reply["data"]] == ["Neon Curse", "Neon Hex", "Neon Hex",
                                                   "Neon Requiem"]


def test_vip_purchase_moves_points_and_expiry(tracker_sim: TrackerSimHandle,
                                              make_client: MakeClient) -> None:
    client = make_client()
    before = client.account_stats()
    result = client.buy_vip(2)
    after = client.account_stats()
    assert result.kind == "VIP" and result.amount == 2
    assert result.points_left == after.bonus_points == before.bonus_points - 2500
    assert after.vip_until == before.vip_until + timedelta(weeks=2)
    assert tracker_sim.control.state()["purchases"] == [
        {"type": "VIP", "amount": 2, "at": tracker_sim.control.state()["purchases"][0]["at"]}]


@pytest.mark.parametrize("weeks", [0, -1, 13, 1.5, True, "2"])
def test_vip_is_bought_in_whole_weeks_only(tracker_sim: TrackerSimHandle,
                                           make_client: MakeClient, weeks: object) -> None:
    with pytest.raises(ValueError):
        make_client().buy_vip(weeks)  # type: ignore[arg-type]
    assert requests_to(tracker_sim, "/json/bonusBuy.php") == 0


@pytest.mark.parametrize(("account", "match"), [
    ({"points": 100}, "Not enough bonus points"),
    ({"vip_days": 80}, "maximum"),
    ({"class_name": "Mouse"}, "class Mouse"),
    ({"class_name": "User", "vip_until": None}, "class User"),
])
def test_refused_vip_purchase(tracker_sim: TrackerSimHandle, make_client: MakeClient,
                              account: dict, match: str) -> None:
    tracker_sim.control.account(**account)
    with pytest.raises(TrackerRefused, match=match):
        make_client().buy_vip(2)
    assert tracker_sim.control.state()["purchases"] == []


def test_simulator_sells_vip_up_to_the_maximum(tracker_sim: TrackerSimHandle,
                                               make_client: MakeClient) -> None:
    cookie = tracker_sim.control.state()["mam_id"]
    reply = httpx.get(f"{tracker_sim.base_url}/json/bonusBuy.php/",
                      params={"spendtype": "VIP", "duration": "max"},
                      cookies={"mam_id": cookie}).json()
    assert reply["success"] and reply["amount"] == 10  # 20 days left + 10 weeks <= 90 days
    client = make_client(MemorySessionStore(), mam_id=tracker_sim.control.state()["mam_id"])
    assert client.account_stats().bonus_points == 48_250 - 10 * 1250


def test_upload_credit_moves_points_and_uploaded(tracker_sim: TrackerSimHandle,
                                                 make_client: MakeClient) -> None:
    client = make_client()
    before = client.account_stats()
    client.buy_upload_credit(3)
    after = client.account_stats()
    assert after.uploaded_bytes == before.uploaded_bytes + 3 * GIB
    assert after.bonus_points == before.bonus_points - 1500
    with pytest.raises(ValueError):
        client.buy_upload_credit(0)


def test_lost_purchase_answer_is_not_repeated(tracker_sim: TrackerSimHandle,
                                              make_client: MakeClient) -> None:
    client = make_client()
    before = client.account_stats()
    tracker_sim.control.post("lose-purchase-answer", count=1)
    with pytest.raises(TrackerPurchaseUncertain, match="NOT repeated"):
        client.buy_vip(1)
    assert requests_to(tracker_sim, "/json/bonusBuy.php") == 1
    assert len(tracker_sim.control.state()["purchases"]) == 1
    after = client.account_stats()  # reading the account back tells what happened
    assert after.bonus_points == before.bonus_points - 1250


def test_purchase_timeout_is_uncertain_and_not_repeated(tracker_sim: TrackerSimHandle,
                                                        make_client: MakeClient) -> None:
    tracker_sim.control.post("delay", seconds=1.5, count=1, path="/json/bonusBuy.php")
    with pytest.raises(TrackerPurchaseUncertain):
        make_client(timeout_s=0.3).buy_upload_credit(1)
    assert requests_to(tracker_sim, "/json/bonusBuy.php") == 1


def test_purchase_server_error_is_uncertain_and_not_repeated(
        tracker_sim: TrackerSimHandle, make_client: MakeClient) -> None:
    tracker_sim.control.fail(500, count=5, path="/json/bonusBuy.php")
    with pytest.raises(TrackerPurchaseUncertain):
        make_client().buy_vip(1)
    assert requests_to(tracker_sim, "/json/bonusBuy.php") == 1


def test_personal_freeleech_via_bonus_store_is_gone(tracker_sim: TrackerSimHandle) -> None:
    cookie = tracker_sim.control.state()["mam_id"]
    reply = httpx.get(f"{tracker_sim.base_url}/json/bonusBuy.php/",
                      params={"spendtype": "personalFL", "torrentid": "1000001"},
                      cookies={"mam_id": cookie})
    assert reply.status_code == 410 and reply.json()["error"] == "Not allowed via API"
    assert reply.headers["x-simulator"] == "MAMcrawler tracker simulator"


def _check_pieces(data: bytes, content: dict[str, bytes]) -> None:
    summary = read_torrent(data)
    info = summary.meta[b"info"]
    assert [path for path, _ in summary.files] == list(content)
    assert [size for _, size in summary.files] == [len(b) for b in content.values()]
    blob, length = b"".join(content.values()), info[b"piece length"]
    expected = b"".join(hashlib.sha1(blob[i:i + length]).digest()  # noqa: S324
                        for i in range(0, len(blob), length))
    assert info[b"pieces"] == expected


def test_torrent_download_matches_content_and_announce(
        tracker_sim_factory: Callable[..., TrackerSimHandle]) -> None:
    announce = "http://127.0.0.1:16969/announce"
    sim = tracker_sim_factory(mam_id="factory-session", announce_url=announce)
    with MamClient(sim.base_url, sim.mam_id, MemorySessionStore(), min_interval_s=0,
                   limiter=MinIntervalLimiter(0)) as client:
        releases = client.search(SearchQuery(text="ember crown", per_page=10))
        multi = next(r for r in releases if r.file_count > 1)
        for release in (releases[0], multi):
            data = client.download_torrent(release.id)
            summary = read_torrent(data)
            assert summary.announce == announce and summary.private
            assert summary.info_hash == sim.simulator.info_hash(int(release.id))
            assert summary.total_size == release.size_bytes
            assert len(summary.files) == release.file_count
            _check_pieces(data, sim.simulator.content_for(int(release.id)))


def test_written_content_is_what_the_torrent_describes(
        tracker_sim: TrackerSimHandle, make_client: MakeClient, tmp_path) -> None:
    tid = 1000002  # a multi-file mp3 edition
    root = tracker_sim.simulator.write_content(tid, tmp_path)
    files = {p.relative_to(tmp_path).as_posix(): p.read_bytes()
             for p in sorted(root.rglob("*")) if p.is_file()}
    data = make_client().download_torrent(tid)
    _check_pieces(data, {path: files[path] for path, _ in read_torrent(data).files})


def test_torrent_from_a_real_directory(tracker_sim: TrackerSimHandle, make_client: MakeClient,
                                       tmp_path) -> None:
    book = tmp_path / "Real Book"
    (book / "disc 1").mkdir(parents=True)
    (book / "disc 1" / "01.mp3").write_bytes(b"ID3" + bytes(range(256)) * 300)
    (book / "02.mp3").write_bytes(b"ID3" + b"\x01" * 50_000)
    reply = tracker_sim.control.post("catalogue", directory=str(book), title="Real Book",
                                     authors=["Real Author"], narrators=["Real Narrator"],
                                     series=[["Real Series", "1"]], free=True)
    client = make_client()
    [release] = client.search(SearchQuery(text="Real Book"))
    assert release.id == str(reply["id"]) and release.free and release.format == "mp3"
    assert release.series[0].position == "1" and release.narrators == ("Real Narrator",)
    data = client.download_torrent(release.id)
    assert read_torrent(data).info_hash == reply["info_hash"]
    content = tracker_sim.simulator.content_for(reply["id"])
    assert content["Real Book/02.mp3"] == (book / "02.mp3").read_bytes()
    _check_pieces(data, content)


def test_wedge_makes_a_torrent_personal_freeleech_once(tracker_sim: TrackerSimHandle,
                                                       make_client: MakeClient) -> None:
    client = make_client()
    paid = next(r for r in client.search(SearchQuery(search_type="nVIP", per_page=100))
                if not r.free)
    read_torrent(client.download_torrent(paid.id, use_wedge=True))
    read_torrent(client.download_torrent(paid.id, use_wedge=True))  # already personal FL
    assert client.account_stats().wedges == 2
    [again] = [r for r in client.search(SearchQuery(text=paid.title)) if r.id == paid.id]
    assert again.personal_freeleech
    read_torrent(client.download_torrent(paid.id))  # no fl flag: no wedge involved
    assert tracker_sim.control.state()["purchases"][0]["type"] == "wedge"


def test_no_wedges_left_is_refused(tracker_sim: TrackerSimHandle,
                                   make_client: MakeClient) -> None:
    tracker_sim.control.account(wedges=0)
    with pytest.raises(TrackerRefused, match="no freeleech wedges"):
        make_client().download_torrent(1000001, use_wedge=True)


def test_lost_wedge_answer_is_uncertain(tracker_sim: TrackerSimHandle,
                                        make_client: MakeClient) -> None:
    tracker_sim.control.post("lose-purchase-answer", count=1)
    with pytest.raises(TrackerPurchaseUncertain):
        make_client().download_torrent(1000001, use_wedge=True)
    assert requests_to(tracker_sim, "/tor/download.php") == 1


def test_download_that_is_not_a_torrent(tracker_sim: TrackerSimHandle,
                                        make_client: MakeClient) -> None:
    with pytest.raises(TrackerBadResponse):
        make_client().download_torrent(999)
    tracker_sim.control.fail("html", path="/tor/download.php")
    with pytest.raises(TrackerAuthError):
        make_client().download_torrent(1000001)


def test_site_events(tracker_sim: TrackerSimHandle, make_client: MakeClient) -> None:
    client = make_client(events_path=SIM_EVENTS_PATH)
    quiet = client.site_events()
    assert quiet.known and not any(e.active for e in quiet.events)
    tracker_sim.control.events(freeleech={"active": True, "hours": 48, "title": "FL weekend"},
                               multiplier={"active": True, "factor": 2})
    events = client.site_events()
    assert events.active("freeleech") and events.active("multiplier")
    assert not events.active("bonus") and events.events[0].ends is not None


@pytest.mark.parametrize("breakage", ["endpoint", "500"])
def test_site_events_fail_soft(tracker_sim: TrackerSimHandle, make_client: MakeClient,
                               breakage: str) -> None:
    if breakage == "endpoint":
        tracker_sim.control.events(endpoint=False)
    else:
        tracker_sim.control.fail(500, count=10, path="/json/simEvents.php")
    events = make_client(events_path=SIM_EVENTS_PATH).site_events()
    assert events.status == "unknown" and events.reason and events.events == ()


@pytest.mark.parametrize("base_url", ["https://www.myanonamouse.net", "https://mam.example"])
def test_without_an_events_endpoint_the_tracker_is_never_asked(base_url: str) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"no request may be sent, got {request.url}")

    with MamClient(base_url, "x", MemorySessionStore(),
                   transport=httpx.MockTransport(refuse), limiter=MinIntervalLimiter(0)) as c:
        assert c.site_events().status == "unknown"


def test_seedbox_update(tracker_sim: TrackerSimHandle, make_client: MakeClient) -> None:
    client = make_client()
    assert client.update_seedbox_ip().changed
    second = client.update_seedbox_ip()
    assert not second.changed and second.ip == "127.0.0.1"
    tracker_sim.control.post("seedbox", ip="10.9.9.9", changed_minutes_ago=5)
    with pytest.raises(TrackerRateLimited):
        client.update_seedbox_ip()
    assert requests_to(tracker_sim, "/json/dynamicSeedbox.php") == 3  # never retried
    tracker_sim.control.post("seedbox", allowed=False)
    with pytest.raises(TrackerAuthError):
        client.update_seedbox_ip()


def test_rate_limiter_spaces_requests(tracker_sim: TrackerSimHandle, make_client: MakeClient,
                                      fake_clock: FakeClock) -> None:
    client = make_client(min_interval_s=2.0)
    client.account_stats()
    client.search(SearchQuery(text="neon"))
    client.account_stats()
    assert fake_clock.sleeps == [2.0, 2.0] and fake_clock.now == 4.0


def test_limiter_is_thread_safe_and_shared(fake_clock: FakeClock) -> None:
    limiter = MinIntervalLimiter(1.5, clock=fake_clock.clock, sleep=fake_clock.sleep)
    slots: list[float] = []
    threads = [threading.Thread(target=lambda: slots.append(limiter.acquire()))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    slots.sort()
    assert len(slots) == 8 and all(b - a >= 1.5 for a, b in zip(slots, slots[1:], strict=False))
    assert shared_limiter("http://127.0.0.1:1/") is shared_limiter("HTTP://127.0.0.1:1")


def test_a_shorter_interval_never_shortens_a_longer_gap(fake_clock: FakeClock) -> None:
    limiter = MinIntervalLimiter(2.0, clock=fake_clock.clock, sleep=fake_clock.sleep)
    slots = [limiter.acquire(10.0), limiter.acquire(2.0), limiter.acquire()]
    assert slots == [0.0, 10.0, 20.0]


def test_honest_user_agent_and_only_the_session_cookie() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"error": "Nothing returned, out of 0"},
                              headers={"set-cookie": "mam_id=next; Path=/"})

    store = MemorySessionStore()
    with MamClient("http://127.0.0.1:1", "first", store, transport=httpx.MockTransport(answer),
                   limiter=MinIntervalLimiter(0)) as client:
        assert client.search(SearchQuery()) == [] and client.search(SearchQuery()) == []
    assert seen[0].headers["user-agent"] == USER_AGENT and "MAMcrawler" in USER_AGENT
    assert [r.headers["cookie"] for r in seen] == ["mam_id=first", "mam_id=next"]
    assert store.load() == "next"


def test_cookies_never_reach_the_logs(tracker_sim: TrackerSimHandle, make_client: MakeClient,
                                      caplog: pytest.LogCaptureFixture) -> None:
    store = MemorySessionStore()
    with caplog.at_level(logging.DEBUG):
        client = make_client(store)
        client.account_stats()
        tracker_sim.control.fail(500, count=1)
        client.account_stats()
        tracker_sim.control.fail(403)
        with pytest.raises(TrackerAuthError):
            client.account_stats()
    for value in (tracker_sim.mam_id, store.load()):
        assert value and value not in caplog.text
    assert "retrying" in caplog.text
