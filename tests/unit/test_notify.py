"""Notices (R23): switches per kind, the repeat limit, and a failing sender never stops
the caller."""

from datetime import UTC, datetime, timedelta

import pytest

from mamcrawler.config import ConfigError, load_settings
from mamcrawler.domain.notices import NoticeKind, parse_kinds, too_soon
from mamcrawler.services import notify
from tests.support.fake_notifier import FakeNotifier

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_a_switched_off_kind_is_never_sent():
    fake = FakeNotifier()
    gate = notify.Gate(fake, off=frozenset({NoticeKind.DOWNLOAD_FAILED}))
    with notify.using(gate):
        notify.download_failed("Book", "HTTP 500", abandoned=False, download_id=1)
        notify.download_failed("Book", "HTTP 500", abandoned=True, download_id=1)
    assert fake.kinds() == [NoticeKind.DOWNLOAD_ABANDONED]


def test_repeats_wait_for_the_repeat_time_per_kind_and_subject():
    fake, clock = FakeNotifier(), Clock()
    gate = notify.Gate(fake, repeat_after=timedelta(minutes=60), clock=clock)
    with notify.using(gate):
        notify.job_failed_twice("acquisition", "boom", None)
        notify.job_failed_twice("acquisition", "boom", None)  # held back
        notify.job_failed_twice("completion", "boom", None)  # another subject
        clock.now += timedelta(minutes=61)
        notify.job_failed_twice("acquisition", "boom", None)
    assert [n.key for n in fake.notices] == ["acquisition", "completion", "acquisition"]


def test_a_failing_notifier_is_logged_and_never_raises(caplog):
    class Broken:
        def send(self, notice):
            raise RuntimeError("the notification service is down")

    with notify.using(Broken()):
        notify.guard_changed("frozen", "ratio 0.98 ≤ floor 1.00")
    assert "could not be sent" in caplog.text


def test_outside_a_job_nothing_is_sent_and_nothing_breaks():
    notify.send(NoticeKind.VIP_RENEWED, "VIP renewed", "bought 4 weeks")


def test_guard_transitions_say_which_way():
    fake = FakeNotifier()
    with notify.using(fake):
        notify.guard_changed("frozen", "ratio 0.98 ≤ floor 1.00")
        notify.guard_changed("normal", "ratio 1.06 > recovery 1.05")
    assert fake.kinds() == [NoticeKind.RATIO_EMERGENCY, NoticeKind.RATIO_RECOVERED]
    assert "0.98" in fake.notices[0].body and fake.notices[0].title.startswith("MAMcrawler")


def test_kinds_parse_and_name_the_unknown_one():
    assert parse_kinds("download_failed, job_failed_twice") == {
        NoticeKind.DOWNLOAD_FAILED, NoticeKind.JOB_FAILED_TWICE}
    with pytest.raises(ValueError, match="ratio_emergency"):
        parse_kinds("ratio_emergncy")


def test_notify_off_with_an_unknown_kind_stops_start_up(tmp_path):
    with pytest.raises(ConfigError, match="NOTIFY_OFF"):
        load_settings(None, data_dir=tmp_path, notify_off="vip_renewd")


def test_no_urls_means_no_notifier(tmp_path):
    settings = load_settings(None, data_dir=tmp_path)
    assert isinstance(notify.from_settings(settings), notify.NullNotifier)


def test_too_soon():
    assert too_soon(T0, T0 + timedelta(minutes=5), timedelta(minutes=10))
    assert not too_soon(T0, T0 + timedelta(minutes=10), timedelta(minutes=10))
    assert not too_soon(None, T0, timedelta(minutes=10))
