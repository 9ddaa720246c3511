"""The metadata body pushed to Audiobookshelf (`PATCH /api/items/{id}/media`)."""

import pytest

from mamcrawler.services.metadata_abs import abs_metadata

VIEW = {"title": "We Are Legion", "subtitle": None, "authors": ["Dennis E. Taylor"],
        "narrators": [], "series": [], "year": None, "description": "", "asin": None,
        "isbn": None}


def test_a_full_push_sends_known_empty_lists_and_leaves_unknown_fields_out():
    body = abs_metadata(VIEW)
    assert body == {"title": "We Are Legion", "authors": [{"name": "Dennis E. Taylor"}],
                    "narrators": [], "series": []}


def test_title_and_authors_are_never_cleared():
    body = abs_metadata({**VIEW, "title": "", "authors": []})
    assert "title" not in body and "authors" not in body


@pytest.mark.parametrize(("position", "sequence"), [
    ("1", "1"), ("1.5", "1.5"), ("0", "0"), (2, "2"), (2.5, "2.5"), (None, None), ("", None),
])
def test_a_sequence_is_text(position, sequence):
    view = {**VIEW, "series": [{"name": "Bobiverse", "position": position}]}
    for body in (abs_metadata(view), abs_metadata(view, {"series_position"})):
        assert body["series"] == [{"name": "Bobiverse", "sequence": sequence}]


def test_a_change_push_sends_the_changed_fields_even_when_empty():
    body = abs_metadata({**VIEW, "asin": None, "year": 2016}, {"narrators", "asin", "year"})
    assert body == {"narrators": [], "asin": None, "publishedYear": "2016"}
