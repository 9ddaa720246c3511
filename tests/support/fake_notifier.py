"""Notices in memory: the `Notifier` port for tests of where and what the service tells."""

from __future__ import annotations

import pytest

from mamcrawler.domain.notices import Notice, NoticeKind


class FakeNotifier:
    """Satisfies `mamcrawler.services.notify.Notifier`; keeps every notice it is given."""

    def __init__(self) -> None:
        self.notices: list[Notice] = []

    def send(self, notice: Notice) -> None:
        self.notices.append(notice)

    def kinds(self) -> list[NoticeKind]:
        return [n.kind for n in self.notices]

    def of(self, kind: NoticeKind) -> list[Notice]:
        return [n for n in self.notices if n.kind == kind]


@pytest.fixture
def fake_notifier() -> FakeNotifier:
    return FakeNotifier()
