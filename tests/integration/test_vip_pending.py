"""The VIP-pending list (R7) against the tracker simulator: releases refused only for the
ratio go back to acquisition when they turn free or the ratio affords them, leave the list
when the book is no longer wanted, and are listed by the API with their reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from mamcrawler.domain.ratio_guard import GuardPolicy
from mamcrawler.services.account import walk_vip_pending
from mamcrawler.services.acquisition import due_wanted
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import VipPending, WantedBook

GIB = 2**30




def pending(session, tracker_sim, title, status="wanted", **flags) -> int:
    entry = tracker_sim.control.post("catalogue", title=title, authors=["Ada Marlow"], **flags)
    book = WantedBook(title=title, author="Ada Marlow", status=status,
                      dedupe_key=f"{title.lower()}|ada marlow",
                      last_searched_at=datetime.now(UTC) - timedelta(hours=1))
    session.add(book)
    session.flush()
    session.add(VipPending(release_id=str(entry["id"]), title=title, author="Ada Marlow",
                           size_bytes=GIB, reason="paid: ratio", wanted_id=book.id))
    return book.id


def test_pending_releases_go_back_to_acquisition_when_free_or_affordable(
        tracker_sim, mam, runtime, api):
    sessions = runtime.sessions
    with session_scope(sessions) as s:
        vip_free = pending(s, tracker_sim, "Lantern Vip", vip=True)
        paid = pending(s, tracker_sim, "Lantern Paid")
        cancelled = pending(s, tracker_sim, "Lantern Gone", status="cancelled")
    tracker_sim.control.account(class_name="VIP", vip_days=30, ratio=0.9)
    searches_before = tracker_sim.control.state()["requests"].get(
        "/tor/js/loadSearchJSONbasic.php", 0)
    now = datetime.now(UTC)
    with session_scope(sessions) as s:
        moved = walk_vip_pending(s, mam, mam.account_stats(), (), now, GuardPolicy())
    assert moved == 1
    searches = tracker_sim.control.state()["requests"]["/tor/js/loadSearchJSONbasic.php"]
    assert searches - searches_before == 2  # the cancelled book is not searched
    with session_scope(sessions) as s:
        rows = {p.title: (p.status, p.reason) for p in s.scalars(select(VipPending))}
        assert rows["Lantern Vip"][0] == "wanted"
        assert rows["Lantern Vip"][1].startswith("turned free: VIP-free")
        assert rows["Lantern Paid"][0] == "pending"
        assert rows["Lantern Paid"][1].startswith("still not free; paid release skipped")
        assert rows["Lantern Gone"] == ("dropped", "the book is no longer wanted")
        assert due_wanted(s, now, 10) == [vip_free]  # acquisition takes it at its next run

    # The ratio rises far above the floor: the paid release is affordable now.
    tracker_sim.control.account(class_name="Power User", ratio=50.0)
    with session_scope(sessions) as s:
        assert walk_vip_pending(s, mam, mam.account_stats(), (), now, GuardPolicy()) == 1
        assert set(due_wanted(s, now, 10)) == {vip_free, paid}
        assert cancelled not in due_wanted(s, now, 10)
        note = s.get(WantedBook, paid).note
        assert note.startswith("VIP-pending: the ratio allows it now: paid release affordable")

    listed = api.get("/api/vip-pending", params={"status": "wanted"}).json()["data"]
    assert {p["title"] for p in listed["items"]} == {"Lantern Vip", "Lantern Paid"}
    assert api.get("/api/vip-pending").json()["data"]["total"] == 3
