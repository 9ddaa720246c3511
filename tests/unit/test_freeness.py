"""Freeness (issue 9 cases 1, 3, 8, 9): only what the tracker says, judged at `now`."""

from datetime import UTC, datetime, timedelta

import pytest

from mamcrawler.domain.freeness import (
    AccountView,
    Freeness,
    SiteEvent,
    freeness,
    possible_cost_bytes,
)
from mamcrawler.domain.records import Release

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
RUNNING = SiteEvent("freeleech", ends=NOW + 5 * HOUR)


def release(**flags) -> Release:
    return Release(id="42", title="A Book", size_bytes=2**30, **flags)


@pytest.mark.parametrize(("flags", "account", "events", "free", "limited"), [
    ({}, AccountView("Power User"), (RUNNING,), True, True),
    ({}, AccountView("Power User"), (SiteEvent("freeleech", ends=NOW - HOUR),), False, False),
    ({}, AccountView("Power User"), (SiteEvent("freeleech", starts=NOW + HOUR),), False, False),
    ({}, AccountView("Power User"), (SiteEvent("bonus"),), False, False),
    ({"free": True}, AccountView("User"), (), True, False),
    ({"personal_freeleech": True}, AccountView("User"), (), True, True),
    ({"vip_free": True}, AccountView("VIP", NOW + 30 * 24 * HOUR), (), True, True),
    ({"vip_free": True}, AccountView(" vip ", NOW + HOUR), (), True, True),
    ({"vip_free": True}, AccountView("VIP", NOW - 2 * HOUR), (), False, False),
    ({"vip_free": True}, AccountView("VIP", None), (), False, False),
    ({"vip_free": True}, AccountView("Elite VIP"), (), True, False),
    ({"vip_free": True}, AccountView("Power User", NOW + HOUR), (), False, False),
    ({}, AccountView("VIP", NOW + HOUR), (), False, False),
    ({"free": True, "source": "prowlarr:MAM"}, AccountView("VIP"), (RUNNING,), False, False),
])
def test_freeness(flags, account, events, free, limited):
    judged = freeness(release(**flags), account, events, NOW)
    assert (judged.free, judged.time_limited) == (free, limited), judged.reason


def test_the_longest_lasting_reason_is_kept():
    vip_long = AccountView("VIP", NOW + 48 * HOUR)
    judged = freeness(release(vip_free=True), vip_long, (RUNNING,), NOW)
    assert judged.ends == NOW + 48 * HOUR and "VIP-free" in judged.reason


@pytest.mark.parametrize(("free", "remaining", "eta", "cost"), [
    (Freeness(True, "torrent"), 100, None, 0),
    (Freeness(True, "event", True, NOW + HOUR), 100, 600.0, 0),
    (Freeness(True, "event", True, NOW + HOUR), 100, 7200.0, 100),
    (Freeness(True, "event", True, NOW + HOUR), 100, None, 100),
    (Freeness(True, "personal", True, None), 100, 5.0, 100),
    (Freeness(False, "paid"), 100, 5.0, 100),
    (Freeness(True, "event", True, None), 0, None, 0),
])
def test_possible_cost_of_a_download_in_flight(free, remaining, eta, cost):
    assert possible_cost_bytes(free, remaining, eta, NOW) == cost
