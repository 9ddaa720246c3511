"""The one table of series positions every caller reads the same way (issue 14)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamcrawler.domain.series_position import (
    is_range,
    normalize_position,
    position_rank,
    position_span,
)

# (raw, canonical text, (first, last)); None where `raw` is no position.
CASES = [
    # numbers
    (3, "3", (3, 3)), (0, "0", (0, 0)), (2.0, "2", (2, 2)), (1.5, "1.5", (1.5, 1.5)),
    (1.50, "1.5", (1.5, 1.5)), (0.5, "0.5", (0.5, 0.5)), (-0.0, "0", (0, 0)),
    (Decimal("2.50"), "2.5", (2.5, 2.5)), (9999, "9999", (9999, 9999)),
    # plain text
    ("1", "1", (1, 1)), ("01", "1", (1, 1)), ("0003", "3", (3, 3)), ("0", "0", (0, 0)),
    ("1.5", "1.5", (1.5, 1.5)), ("2.50", "2.5", (2.5, 2.5)), ("0.5", "0.5", (0.5, 0.5)),
    (".5", "0.5", (0.5, 0.5)), ("00.50", "0.5", (0.5, 0.5)), (" 7 ", "7", (7, 7)),
    ("3.", "3", (3, 3)), ("10", "10", (10, 10)),
    # European decimal comma; a comma list is no position
    ("1,5", "1.5", (1.5, 1.5)), ("1,2", "1.2", (1.2, 1.2)), ("2,25", "2.25", (2.25, 2.25)),
    ("1, 2", None, None), ("1,2,3", None, None), ("1,000", None, None),
    # ranges
    ("1-3", "1-3", (1, 3)), ("1–3", "1-3", (1, 3)), ("1—3", "1-3", (1, 3)),
    ("1 - 3", "1-3", (1, 3)), ("1 to 3", "1-3", (1, 3)), ("01-03", "1-3", (1, 3)),
    ("0.5-2", "0.5-2", (0.5, 2)), ("1,5-2", "1.5-2", (1.5, 2)), ("3-3", "3", (3, 3)),
    ("3-1", None, None), ("1-", None, None), ("-3", None, None),
    # labels
    ("Book 3", "3", (3, 3)), ("book 3", "3", (3, 3)), ("BOOK 03", "3", (3, 3)),
    ("#3", "3", (3, 3)), ("# 3", "3", (3, 3)), ("Book #3", "3", (3, 3)),
    ("Bk. 4", "4", (4, 4)), ("Vol 2", "2", (2, 2)), ("Vol. 2", "2", (2, 2)),
    ("Volume 2.5", "2.5", (2.5, 2.5)), ("No. 4", "4", (4, 4)), ("Nr 4", "4", (4, 4)),
    ("Number 4", "4", (4, 4)), ("Part 2", "2", (2, 2)), ("Books 1-3", "1-3", (1, 3)),
    ("Book", None, None), ("#", None, None),
    # too long to be a position
    ("10000", None, None), (10000, None, None), ("1.125", None, None),
    (0.1 + 0.2, None, None), (1e16, None, None), ("9781781102633", None, None),
    # no position
    ("", None, None), ("   ", None, None), (None, None, None), (True, None, None),
    (False, None, None), (float("nan"), None, None), (float("inf"), None, None),
    (float("-inf"), None, None), (Decimal("NaN"), None, None), (-1, None, None),
    (-1.5, None, None), ("-1", None, None), ("+1", None, None), ("1e3", None, None),
    ("nan", None, None), ("inf", None, None), ("III", None, None), ("iv", None, None),
    ("one", None, None), ("Prequel", None, None), ("Prologue 2", None, None),
    ("1 of 3", None, None), ("2/10", None, None), ("1.5.2", None, None),
    ("３", None, None), (["1"], None, None), ({"position": 1}, None, None),
]


@pytest.mark.parametrize(("raw", "text", "span"), CASES)
def test_one_reading_of_a_position(raw, text, span):
    assert normalize_position(raw) == text
    assert position_span(raw) == (None if span is None else (float(span[0]), float(span[1])))
    assert position_rank(raw) == (None if span is None else float(span[0]))
    assert is_range(raw) is (span is not None and span[0] != span[1])


def test_canonical_text_reads_back_as_itself():
    for raw, text, _span in CASES:
        if text is not None:
            assert normalize_position(text) == text, raw
            assert position_span(text) == position_span(raw), raw


_DECIMAL = st.builds(lambda whole, cents: Decimal(whole) + Decimal(cents) / 100,
                     st.integers(0, 9999), st.integers(0, 99))
_TEXTS = st.one_of(
    st.text(max_size=12),
    st.text("0123456789.,-– #Bbook", max_size=10),
    st.builds(lambda label, a, sep, b: f"{label}{a}{sep}{b}",
              st.sampled_from(["", "Book ", "#", "Vol. ", "books "]),
              st.integers(0, 12000).map(str), st.sampled_from(["", "-", " – ", ",", "."]),
              st.one_of(st.just(""), st.integers(0, 200).map(str))))
_ANY = st.one_of(st.none(), st.booleans(), st.integers(-5, 20000), st.floats(),
                 _DECIMAL, _DECIMAL.map(float), _TEXTS)


@settings(max_examples=500, deadline=None)
@given(_ANY)
def test_normalizing_is_idempotent_and_keeps_the_numbers(raw):
    text = normalize_position(raw)
    assert normalize_position(text) == text
    assert position_span(text) == position_span(raw)
    if text is None:
        assert position_span(raw) is None and position_rank(raw) is None
    else:
        first, last = position_span(raw)
        assert first <= last and is_range(raw) is ("-" in text) is (first < last)


@settings(max_examples=300, deadline=None)
@given(_DECIMAL, _DECIMAL)
def test_rank_orders_as_the_numbers_do(a, b):
    rank_a, rank_b = position_rank(str(a)), position_rank(str(b))
    assert (rank_a < rank_b) is (a < b)
    assert (rank_a == rank_b) is (a == b)
    assert normalize_position(str(a)) == normalize_position(float(a))
    if a < b:
        assert position_rank(f"{a}-{b}") == rank_a
        assert position_span(f"{a} – {b}") == (rank_a, rank_b)
