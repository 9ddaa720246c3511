"""How runs are judged (JobReport, RunGuard) and which missed runs are caught up."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from mamcrawler.adapters.mam.errors import TrackerBadResponse, TrackerRefused, TrackerUnavailable
from mamcrawler.domain.run_outcome import JobReport
from mamcrawler.jobs import catch_up
from mamcrawler.services.reports import JobStopped, RunGuard


@pytest.mark.parametrize(("report", "outcome", "error"), [
    (JobReport("s", done=4), "success", None),
    (JobReport("s"), "success", None),
    (JobReport("s", done=3, failed=1, unit="books", failures=("book 7: boom",)), "partial",
     "1 of 4 books failed: book 7: boom"),
    (JobReport("s", failed=2, unit="books"), "failed", "all 2 books failed"),
    (JobReport("s", done=3, failed=1, error="The tracker could not be reached"), "failed",
     "The tracker could not be reached"),
])
def test_a_report_says_its_outcome_and_error(report, outcome, error):
    assert (report.outcome, report.error_text()) == (outcome, error)


class Port:
    def __init__(self, *failures):
        self.failures, self.calls = list(failures), 0

    def search(self, text):
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return [text]


def test_a_watched_port_that_goes_down_is_not_asked_again():
    guard = RunGuard()
    port = Port(TrackerBadResponse("odd"), TrackerUnavailable("HTTP 503"))
    watched = guard.watch(port)
    with pytest.raises(TrackerBadResponse):
        watched.search("a")
    assert not guard()  # a bad answer is a failure, not a system down
    with pytest.raises(TrackerUnavailable):
        watched.search("b")
    assert guard() and guard.down.startswith("The tracker could not be reached (HTTP 503)")
    with pytest.raises(TrackerUnavailable):
        watched.search("c")
    assert port.calls == 2 and len(guard.errors) == 2
    judged = guard.judged(JobReport("1 searched", done=1))
    assert judged.outcome == "failed" and judged.error == guard.down


def test_refusals_are_answers_and_stopping_raises_job_stopped():
    guard = RunGuard(threading.Event())
    watched = guard.watch(Port(TrackerRefused("not enough points")))
    with pytest.raises(TrackerRefused):
        watched.search("a")
    assert watched.search("b") == ["b"]
    assert guard.errors == [] and guard.by_requests("done", "requests") == "done"
    assert guard.judged("done") == "done"
    guard.stopping.set()
    assert guard()
    with pytest.raises(JobStopped) as stopped:
        guard.judged(JobReport("2 of 9 books checked"))
    assert stopped.value.summary == "2 of 9 books checked"


NOON = datetime(2026, 12, 2, 12, 0, 3, tzinfo=UTC)


@pytest.mark.parametrize(("schedule", "last", "now", "due"), [
    ("0 12 * * *", None, NOON, True),  # a fresh install
    ("0 12 * * *", NOON - timedelta(days=1), NOON + timedelta(hours=2), True),  # down at noon
    ("0 12 * * *", NOON, NOON + timedelta(hours=23), False),
    ("0 12 * * *", NOON - timedelta(days=1), NOON - timedelta(minutes=1), False),
    ("every 15m", NOON, NOON + timedelta(minutes=14), False),
    ("every 15m", NOON, NOON + timedelta(minutes=16), True),
])
def test_a_run_is_missed_when_a_scheduled_time_passed_since_the_last_success(
        schedule, last, now, due):
    assert catch_up.missed(schedule, last, now, UTC) is due


def test_missed_runs_start_with_account_check_and_are_staggered():
    now = NOON
    slots = catch_up.plan(["torrent_watch", "completion", "account_check", "acquisition"], now,
                          {"torrent_watch": now + timedelta(seconds=20),
                           "completion": now + timedelta(days=3)})
    first, stagger = timedelta(seconds=catch_up.FIRST_S), timedelta(seconds=catch_up.STAGGER_S)
    # torrent_watch runs by its own schedule before its slot would come
    assert slots == [("account_check", now + first), ("completion", now + first + stagger),
                     ("acquisition", now + first + 2 * stagger)]
