"""How the account check carries out the VIP keeper's purchases, against a fake tracker."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from mamcrawler.adapters.mam.models import PurchaseResult
from mamcrawler.domain.records import AccountStats
from mamcrawler.domain.vip_keeper import BuyUploadCredit, BuyVip, VipPolicy
from mamcrawler.services.vip_purchases import carry_out

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def stats(points: float = 20_000, days_left: float = 20) -> AccountStats:
    return AccountStats(username="reader", uid=1, class_name="VIP", ratio=2.0,
                        uploaded_bytes=2 * 2**40, downloaded_bytes=2**40, bonus_points=points,
                        vip_until=NOW + timedelta(days=days_left))


class FakeStore:
    """A bonus store that charges `vip_price` a week and `upload_price` a GB."""

    def __init__(self, points: float, vip_price: int = 1_250, upload_price: int = 500,
                 report_points: bool = True) -> None:
        self.points, self.vip_price, self.upload_price = points, vip_price, upload_price
        self.report_points = report_points
        self.calls: list[tuple[str, int]] = []

    def buy_vip(self, weeks: int) -> PurchaseResult:
        self.calls.append(("vip", weeks))
        self.points -= weeks * self.vip_price
        return PurchaseResult("VIP", weeks, self.points if self.report_points else None)

    def buy_upload_credit(self, gb: int) -> PurchaseResult:
        self.calls.append(("upload", gb))
        self.points -= gb * self.upload_price
        return PurchaseResult("upload", gb, self.points if self.report_points else None)

    def account_stats(self) -> AccountStats:
        return stats(points=self.points)


VIP = BuyVip(weeks=10, cost=12_500, days_after=90.0, reason="renew")
CREDIT = BuyUploadCredit(gb=4, cost=2_000, reason="cap")


def test_each_action_type_goes_to_its_own_store_call():
    store = FakeStore(20_000)
    records = carry_out(store, (VIP, CREDIT), stats(), VipPolicy()).records
    assert store.calls == [("vip", 10), ("upload", 4)]
    assert [r.outcome for r in records] == ["done", "done"]


def test_an_unknown_action_type_is_an_error_before_anything_is_bought():
    store = FakeStore(20_000)
    # the shape of the untyped action of old: a kind, a reason and parameters
    odd = SimpleNamespace(kind="buy_upload_credit", reason="looks like a purchase",
                          params={"gb": 4, "cost": 2_000})
    with pytest.raises(TypeError, match="unknown purchase"):
        carry_out(store, (VIP, odd), stats(), VipPolicy())  # type: ignore[arg-type]
    assert store.calls == []
