"""What the simulated year counts as "free while wanted": the goal's denominator is the
books that could have been taken free before they reached the library."""

from dataclasses import replace
from datetime import timedelta

import pytest

from mamcrawler.sim.year.catalogue import GIB, Book, SimRelease
from mamcrawler.sim.year.world import START, World

DAY = timedelta(days=1)
PAID = SimRelease(id="100000", book=0, title="T", author="A", size=GIB, seeders=5,
                  base_leechers=1, burst_leechers=0, listed=START - 100 * DAY)
BOOK = Book(0, "T", "A", wanted_at=START + 10 * DAY, releases=(PAID,))


def world(*, event_day=None, acquired_day=None, vip_days=()):
    w = World(seed=1, days=100)
    w.timeline.freeleech_spans = ([] if event_day is None else
                                  [(START + event_day * DAY, START + (event_day + 2) * DAY)])
    w.acquired.clear()
    if acquired_day is not None:
        w.acquired[0] = (START + acquired_day * DAY, False)
    w.tally.vip_days = set(vip_days)
    return w


@pytest.mark.parametrize("release, setting, while_wanted, any_day", [
    # A site event after the book reached the library was no chance to take it free.
    (PAID, {"event_day": 50, "acquired_day": 24}, False, True),
    (PAID, {"event_day": 20, "acquired_day": 24}, True, True),
    (PAID, {"event_day": 50}, True, True),  # never acquired: wanted all year
    (PAID, {"event_day": 5, "acquired_day": 24}, False, False),  # over before it was wanted
    (PAID, {}, False, False),
    # Free releases that cannot be taken (no seeders) or kept (fail integrity) do not count.
    (replace(PAID, free_always=True), {}, True, True),
    (replace(PAID, free_always=True, seeders=0), {}, False, True),
    (replace(PAID, free_always=True, fails_integrity=True), {}, False, True),
    # Listed only after the book arrived by another release.
    (replace(PAID, free_always=True, listed=START + 30 * DAY), {"acquired_day": 24}, False,
     True),
    (replace(PAID, personal_fl=True), {"acquired_day": 24}, True, True),
    # VIP-free counts on days the account was VIP.
    (replace(PAID, vip_free=True), {"acquired_day": 24, "vip_days": {15}}, True, True),
    (replace(PAID, vip_free=True), {"acquired_day": 24, "vip_days": {2, 60}}, False, True),
    # A release's own freeleech window.
    (replace(PAID, free_window=(START + 12 * DAY, START + 15 * DAY)), {"acquired_day": 24},
     True, True),
    (replace(PAID, free_window=(START + 40 * DAY, START + 45 * DAY)), {"acquired_day": 24},
     False, True),
])
def test_free_while_wanted(release, setting, while_wanted, any_day):
    w = world(**setting)
    book = replace(BOOK, releases=(release,))
    assert w.free_while_wanted(book) is while_wanted
    assert w.ever_free(book) is any_day
