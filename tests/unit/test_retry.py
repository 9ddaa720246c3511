"""Retry schedule of failed grabs (R10)."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamcrawler.domain.retry import after_failure

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


@pytest.mark.parametrize(("before", "days"), [(0, 1), (1, 3), (2, 7)])
def test_waits_grow(before, days):
    decision = after_failure(before, NOW)
    assert decision.retry_at == NOW + timedelta(days=days)
    assert not decision.abandoned and decision.attempts == before + 1
    assert f"retry in {days} day" in decision.reason


def test_fourth_failure_abandons():
    decision = after_failure(3, NOW)
    assert decision.abandoned and decision.attempts == 4
    assert "abandoned after 4" in decision.reason


def test_negative_count_is_refused():
    with pytest.raises(ValueError):
        after_failure(-1, NOW)


@given(st.integers(min_value=0, max_value=50))
def test_never_retries_sooner_than_a_day_and_stops_by_the_fourth(before):
    decision = after_failure(before, NOW)
    if before < 3:
        assert decision.retry_at - NOW >= timedelta(days=1)
    else:
        assert decision.abandoned
