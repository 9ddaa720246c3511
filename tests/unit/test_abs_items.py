"""Reading Audiobookshelf items in both shapes the server sends (minified, expanded)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamcrawler.adapters.audiobookshelf import parse_item, parse_series_name, sequence_text
from tests.support.abs_answers import expanded, minified, series_name


@pytest.mark.parametrize(("text", "series"), [
    ("The Expanse #2", (("The Expanse", "2"),)),
    ("A #1, B #3", (("A", "1"), ("B", "3"))),
    ("Name without number", (("Name without number", None),)),
    ("Dune #1.5", (("Dune", "1.5"),)),
    ("Discworld #0", (("Discworld", "0"),)),
    ("Mistborn #1-3", (("Mistborn", "1-3"),)),
    ("The Expanse #2, Standalone", (("The Expanse", "2"), ("Standalone", None))),
    ("Book #1 Club", (("Book #1 Club", None),)),  # the sequence is the last word only
    ("  The Expanse   #2 ", (("The Expanse", "2"),)),
    ("#3", (("#3", None),)),
    ("", ()),
    (None, ()),
    (7, ()),
])
def test_series_name(text, series):
    assert parse_series_name(text) == series


@pytest.mark.parametrize(("value", "text"), [
    ("2", "2"), ("1.5", "1.5"), ("0", "0"), (2, "2"), (0, "0"), (1.5, "1.5"), (2.0, "2"),
    (None, None), ("", None), (True, None), ("01", "1"), ("1,5", "1.5"), ("Prequel", "Prequel"),
    (float("nan"), None),
])
def test_sequence_text(value, text):
    assert sequence_text(value) == text


ITEM = {"id": "li_1", "path": "/audiobooks/James S. A. Corey/The Expanse/Book 2 - Caliban's War",
        "media": {"duration": 3600.5, "metadata": {
            "title": "Caliban's War", "subtitle": None,
            "authors": [{"id": "aut_1", "name": "James S. A. Corey"}],
            "narrators": ["Jefferson Mays", "Kate Reading"],
            "series": [{"id": "ser_1", "name": "The Expanse", "sequence": "2"},
                       {"id": "ser_2", "name": "Expanse Omnibus", "sequence": None}],
            "asin": "B0073FIMFG", "isbn": None}}}


@pytest.mark.parametrize("shape", [minified, expanded, lambda item: item])
def test_every_shape_reads_the_same(shape):
    item = parse_item(shape(ITEM))
    assert item.title == "Caliban's War" and item.authors == ("James S. A. Corey",)
    assert item.narrators == ("Jefferson Mays", "Kate Reading")
    assert item.series == (("The Expanse", "2"), ("Expanse Omnibus", None))
    assert item.duration_s == 3600.5 and item.asin == "B0073FIMFG" and item.isbn is None


def test_the_minified_shape_has_no_lists():
    meta = minified(ITEM)["media"]["metadata"]
    assert "series" not in meta and "authors" not in meta and "narrators" not in meta
    assert meta["seriesName"] == "The Expanse #2, Expanse Omnibus"
    assert meta["narratorName"] == "Jefferson Mays, Kate Reading"


def test_an_expanded_item_trusts_its_list_over_the_string():
    raw = expanded(ITEM)
    raw["media"]["metadata"]["series"] = [{"name": "Dune, Part One", "sequence": "1"}]
    raw["media"]["metadata"]["seriesName"] = "Dune, Part One #1"
    assert parse_item(raw).series == (("Dune, Part One", "1"),)


_name = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
                min_size=1, max_size=12)
_series_name = st.lists(_name, min_size=1, max_size=3).map(" ".join).filter(
    lambda n: "," not in n and "#" not in n)
_sequence = st.one_of(st.none(), st.from_regex(r"\A[0-9]{1,3}(\.[0-9])?\Z"))


@given(st.lists(st.fixed_dictionaries({"name": _series_name, "sequence": _sequence}),
                max_size=4))
def test_what_abs_joins_is_read_back(series):
    """Names without ", " or "#" survive ABS's seriesName, sequences stay text."""
    expected = tuple((s["name"], s["sequence"]) for s in series)
    assert parse_series_name(series_name(series)) == expected
