"""Issue 9 through the acquisition service: the real service, store and plan, with the
tracker and qBittorrent as in-memory port fakes (fast; the swarm tests cover the real
parts). Each test is one reproduced case."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from mamcrawler.adapters.mam import TrackerError
from mamcrawler.adapters.mam.models import SiteEvent
from mamcrawler.domain.records import Release, SnatchBucket
from mamcrawler.policies import Policies
from mamcrawler.services import acquisition
from mamcrawler.services.wanted import add_wanted
from mamcrawler.store.db import make_engine, make_session_factory, session_scope
from mamcrawler.store.models import Download, RatioGuardState, VipPending, WantedBook
from tests.support.fake_tracker import GIB, account

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
BOOKS = [("Salt and Cinder", "Ivo Marsh"), ("The Glass Orchard", "Ivo Marsh"),
         ("North of the Bells", "Ivo Marsh")]


@pytest.fixture
def world(make_settings, db_url, fake_tracker, fake_torrent_client):
    # paid grabs at once: these cases are about the guard, not waiting for free
    settings = make_settings(database_url=db_url, use_wedges=True, qb_category="mamcrawler",
                             paid_after_days=0)
    engine = make_engine(db_url)
    sessions = make_session_factory(engine)

    class World:
        tracker, torrents = fake_tracker, fake_torrent_client
        db = sessions

        def want(self, title, author):
            with session_scope(sessions) as s:
                return add_wanted(s, {"title": title, "author": author})[0].id

        def freeze(self, ratio=0.97):
            with session_scope(sessions) as s:
                s.add(RatioGuardState(id=1, frozen=True, since=NOW, last_ratio=ratio))

        def run(self, now=NOW, **overrides):
            run_settings = settings.model_copy(update=overrides)
            ports = acquisition.Ports(self.tracker, self.torrents, self.prowlarr)
            return acquisition.run(ports, sessions, run_settings,
                                   Policies.from_settings(run_settings).acquisition, now).summary

        def downloads(self):
            with session_scope(sessions) as s:
                return [(d.release_id, d.edition, d.state, d.reason)
                        for d in s.scalars(select(Download).order_by(Download.id))]

        def wanted_notes(self):
            with session_scope(sessions) as s:
                return [w.note for w in s.scalars(select(WantedBook).order_by(WantedBook.id))]

        def vip_pending(self):
            with session_scope(sessions) as s:
                return [(p.release_id, p.reason) for p in s.scalars(select(VipPending))]

        prowlarr = None

    yield World()
    engine.dispose()


def paid(rid, title, author="Ivo Marsh", **kw):
    values = {"id": rid, "title": title, "authors": (author,), "format": "m4b",
              "size_bytes": 2 * GIB, "seeders": 9, "tags": "64 kbps"}
    values.update(kw)
    return Release(**values)


class FakeProwlarr:
    def __init__(self, releases):
        self.releases, self.downloads = releases, []

    def search(self, text):
        return [r for r in self.releases if r.title.casefold() in text.casefold()]

    def download_torrent(self, url):
        from tests.support.fake_tracker import torrent_bytes

        self.downloads.append(url)
        return torrent_bytes(url, 2 * GIB)


def test_case1_prowlarr_release_is_not_grabbed_as_a_wedge_while_frozen(world):
    world.want(*BOOKS[0])
    world.freeze()
    world.tracker.stats = account(ratio=0.97, wedges=2)
    world.tracker.search_error = TrackerError("the tracker answered 503")
    world.prowlarr = FakeProwlarr([paid("p-1", BOOKS[0][0], source="prowlarr:MAM",
                                        download_url="http://127.0.0.1:9/t/1")])
    summary = world.run()
    assert "0 grabbed" in summary
    assert world.downloads() == [] and world.prowlarr.downloads == []


def test_case2_one_wedge_is_one_wedge_grab_and_it_is_read_back(world):
    for title, author in BOOKS:
        world.tracker.releases.append(paid(f"m-{len(world.tracker.releases)}", title))
        world.want(title, author)
    world.tracker.stats = account(wedges=1, uploaded_bytes=900 * GIB)
    summary = world.run()
    grabs = world.tracker.grabs()
    assert [g[2] for g in grabs] == [True, False], grabs  # one wedge, then the paid slot
    editions = [d[1] for d in world.downloads()]
    assert editions == ["wedge", "paid"], summary
    assert "wedge verified" in world.downloads()[0][3]
    assert ("release", "m-0") in world.tracker.calls


def test_case2_a_wedge_that_does_not_take_is_recorded_paid(world):
    for title, author in BOOKS:
        world.tracker.releases.append(paid(f"m-{len(world.tracker.releases)}", title))
        world.want(title, author)
    world.tracker.stats = account(wedges=3, uploaded_bytes=900 * GIB)
    world.tracker.wedges_take = False
    summary = world.run()
    [download] = world.downloads()  # its cost took the paid slot: nothing more this run
    assert download[1] == "paid" and "wedge not verified" in download[3]
    assert [g[2] for g in world.tracker.grabs()] == [True]
    assert "not verified" in summary
    notes = world.wanted_notes()[1:]
    assert all("no paid slot" in n and "wedges paused" in n for n in notes), notes
    world.run(now=NOW + timedelta(days=1, minutes=1))  # wedges stay paused for a week
    assert [g[2] for g in world.tracker.grabs()] == [True]


def test_case3_an_ended_event_does_not_make_a_paid_release_free(world):
    world.tracker.releases.append(paid("m-1", BOOKS[0][0]))
    world.want(*BOOKS[0])
    world.freeze()
    world.tracker.stats = account(ratio=0.97)
    world.tracker.events = (SiteEvent("freeleech", active=True,
                                      ends=NOW - timedelta(minutes=10)),)
    world.run()
    assert world.downloads() == []
    later = NOW + timedelta(days=1, minutes=1)  # searched again a day later
    world.tracker.events = (SiteEvent("freeleech", active=True, ends=later + timedelta(hours=5)),)
    world.run(now=later)
    [(rid, edition, *_)] = world.downloads()
    assert (rid, edition) == ("m-1", "free")


@pytest.mark.parametrize("bucket", [SnatchBucket("unsat", count=None, limit=150),
                                    SnatchBucket("unsat", count=5, limit=None)])
def test_case5_unreadable_unsatisfied_numbers_stop_grabs(world, bucket):
    world.tracker.releases.append(paid("m-1", BOOKS[0][0], free=True))
    world.want(*BOOKS[0])
    world.tracker.stats = account(buckets={"unsat": bucket})
    summary = world.run()
    assert world.downloads() == [] and "no new grabs" in summary
    assert not any(c[0] == "search" for c in world.tracker.calls)  # no slot, no search


def test_case8_lapsed_vip_does_not_make_vip_releases_free(world):
    world.tracker.releases.append(paid("m-1", BOOKS[0][0], vip_free=True))
    world.want(*BOOKS[0])
    world.freeze()
    world.tracker.stats = account(class_name="VIP", ratio=0.97,
                                  vip_until=NOW - timedelta(hours=2))
    world.run()
    assert world.downloads() == []
    assert "VIP expired" in " ".join(world.wanted_notes()) or world.vip_pending()


def test_case9_free_download_under_an_ending_event_counts_against_the_buffer(world):
    world.tracker.releases.append(paid("fl-1", BOOKS[0][0], size_bytes=4 * GIB))
    # found only through Prowlarr: paid whatever the event, so the buffer decides
    world.prowlarr = FakeProwlarr([paid("p-2", BOOKS[1][0], source="prowlarr:MAM",
                                        download_url="http://127.0.0.1:9/t/2")])
    ends = NOW + timedelta(hours=1)
    world.tracker.events = (SiteEvent("freeleech", active=True, ends=ends),)
    # buffer: 300 / 1.0 - 297 = 3 GiB, just enough for a 2 GiB paid grab (x 1.5)
    world.tracker.stats = account(uploaded_bytes=300 * GIB, downloaded_bytes=297 * GIB)
    world.want(*BOOKS[0])
    world.run(grab_slots=1, paid_grab_slots=0)
    [(rid, edition, *_)] = world.downloads()
    assert (rid, edition) == ("fl-1", "free")
    [torrent] = world.torrents.torrents()
    world.torrents.put(torrent.hash, "downloading", size=4 * GIB, progress=0.25, dlspeed=1)
    world.want(*BOOKS[1])
    summary = world.run(now=NOW + timedelta(minutes=1))
    assert len(world.downloads()) == 1, summary  # the 3 GiB left may be charged
    assert "3.00 GiB in flight may cost ratio" in summary
    world.torrents.put(torrent.hash, "downloading", dlspeed=100 * 2**20)  # done in 31 s
    with_speed = world.run(now=NOW + timedelta(minutes=2))
    assert "0 searched" in with_speed and "0.00 GiB in flight may cost ratio" in with_speed


def test_case11_a_dead_paid_release_is_not_vip_pending(world):
    world.tracker.releases.append(paid("dead", BOOKS[0][0], seeders=0))
    world.want(*BOOKS[0])
    world.freeze()
    world.tracker.stats = account(ratio=0.97)
    world.run()
    assert world.vip_pending() == []
    world.tracker.releases = [replace(world.tracker.releases[0], id="alive", seeders=4)]
    world.run(now=NOW + timedelta(days=1, minutes=1))
    [(rid, reason)] = world.vip_pending()
    assert rid == "alive" and "≤ floor 1.00" in reason


def test_a_release_handed_back_and_refused_again_is_pending_again(world):
    world.tracker.releases.append(paid("again", BOOKS[0][0]))
    world.want(*BOOKS[0])
    world.freeze()
    world.tracker.stats = account(ratio=0.97)
    world.run()
    assert [rid for rid, _ in world.vip_pending()] == ["again"]
    with session_scope(world.db) as s:  # the daily walk hands it back (an event, say)
        s.scalars(select(VipPending)).one().status = "wanted"
    world.run(now=NOW + timedelta(days=1, minutes=1))
    with session_scope(world.db) as s:
        assert [(p.release_id, p.status) for p in s.scalars(select(VipPending))] == [
            ("again", "pending")]


def test_a_cancelled_release_is_not_chosen_again_for_its_book(world):
    from mamcrawler.services import downloads

    world.tracker.releases += [paid("m-1", BOOKS[0][0], free=True, seeders=50),
                               paid("m-2", BOOKS[0][0], free=True, seeders=3)]
    world.want(*BOOKS[0])
    world.run()
    with session_scope(world.db) as s:
        [first] = s.scalars(select(Download)).all()
        assert first.release_id == "m-1"
        first_id = first.id
    downloads.cancel(world.db, first_id, requeue=True, now=NOW)
    world.run(now=NOW + timedelta(minutes=5))
    assert [(d[0], d[2]) for d in world.downloads()] == [("m-1", "cancelled"),
                                                          ("m-2", "downloading")]


@pytest.mark.parametrize("change", ["cancel", "delete"])
def test_a_book_cancelled_or_deleted_during_the_run_is_not_grabbed(world, change):
    """The run searches every due book before it grabs; a person may cancel or delete one
    of them meanwhile (the wanted API does not wait for the job)."""
    world.tracker.releases += [paid("c-1", BOOKS[0][0], free=True),
                               paid("c-2", BOOKS[1][0], free=True)]
    first, _ = world.want(*BOOKS[0]), world.want(*BOOKS[1])
    search = world.tracker.search

    def search_then_change(query):
        found = search(query)
        if BOOKS[1][0] in query.text:  # the last search: the first book is decided by now
            with session_scope(world.db) as s:
                item = s.get(WantedBook, first)
                if change == "delete":
                    s.delete(item)
                else:
                    item.status = "cancelled"
        return found

    world.tracker.search = search_then_change
    world.run()
    assert [d[0] for d in world.downloads()] == ["c-2"]
    with session_scope(world.db) as s:
        item = s.get(WantedBook, first)
        assert (item is None) if change == "delete" else item.status == "cancelled"
