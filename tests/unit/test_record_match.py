"""Record matching: a metadata record against a book, by named penalties (title, authors,
narrator, duration, series position, language), graded strong/medium/weak/none."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamcrawler.domain.metadata import SourceRecord
from mamcrawler.domain.record_match import (
    MEDIUM,
    NONE,
    STRONG,
    WEAK,
    BookFacts,
    RecordMatchPolicy,
    best_matches,
    duration_penalty_value,
    match_record,
    parse_weights,
)
from mamcrawler.domain.records import SeriesRef

HOURS_8 = 8 * 3600.0
STONE = BookFacts("Harry Potter and the Sorcerer's Stone", ("J.K. Rowling",), ("Jim Dale",),
                  "Harry Potter", "1", HOURS_8, "English")


def record(title="Harry Potter and the Sorcerer's Stone, Book 1", authors=("J. K. Rowling",),
           **kw) -> SourceRecord:
    return SourceRecord(source=kw.pop("source", "audnexus"), title=title, authors=authors, **kw)


def test_the_same_book_is_a_strong_match_with_every_penalty_named():
    found = match_record(STONE, record(
        narrators=("Jim Dale",), series=(SeriesRef("Harry Potter", "1"),),
        duration_s=HOURS_8 + 30, language="english"))
    assert found.grade == STRONG
    assert found.distance == pytest.approx(0.0, abs=0.02)
    assert [p.name for p in found.penalties] == [
        "title", "authors", "narrator", "series_position", "language", "duration"]
    assert "duration 0.00 (book 480 min, record 480 min)" in found.explain()


@pytest.mark.parametrize(("book_s", "record_s", "penalty"), [
    (HOURS_8, HOURS_8, 0.0),
    (HOURS_8, HOURS_8 + 250, 0.0),  # within 1 % of 8 h (288 s)
    (HOURS_8, HOURS_8 + 2880, 1.0),  # 10 % of 8 h
    (600.0, 600.0 + 60, 0.0),  # a minute is always free
    (600.0, 600.0 + 600, 1.0),  # ten minutes is always full
    (HOURS_8, HOURS_8 + (288 + 2880) / 2, 0.5),
])
def test_duration_penalty_is_free_then_linear_then_full(book_s, record_s, penalty):
    assert duration_penalty_value(book_s, record_s) == pytest.approx(penalty, abs=0.01)
    assert duration_penalty_value(record_s, book_s) == pytest.approx(penalty, abs=0.01)


def test_another_edition_length_lowers_the_grade_but_not_to_none():
    found = match_record(STONE, record(duration_s=HOURS_8 * 0.5))
    assert found.penalty("duration") == 1.0
    assert found.grade == MEDIUM


@pytest.mark.parametrize("other", [
    record(title="Harry Potter and the Chamber of Secrets", series=(SeriesRef("Harry Potter",
                                                                              "2"),)),
    record(authors=("Stephen King",)),  # same title, another author: another book
    record(language="german"),
])
def test_a_critical_mismatch_is_none(other):
    assert match_record(STONE, other).grade == NONE


def test_a_doubtful_record_is_weak_and_says_why():
    doubtful = record(title="Harry Potter and the Philosopher's Stone",
                      narrators=("Stephen Fry",), duration_s=HOURS_8 * 1.3)
    found = match_record(STONE, doubtful)
    assert found.grade == WEAK
    assert "narrator 1.00 (wanted Jim Dale; release has Stephen Fry)" in found.explain()
    assert "duration 1.00 (book 480 min, record 624 min)" in found.explain()


def test_many_differences_add_up_to_none():
    doubtful = record(title="Harry Potter: The Sorcerer's Stone Illustrated", narrators=(
        "Stephen Fry",), series=(SeriesRef("Harry Potter", "7"),), duration_s=HOURS_8 * 2)
    found = match_record(STONE, doubtful)
    assert found.grade == NONE
    assert "series_position 1.00 (wanted #1, release #7)" in found.explain()


def test_a_record_naming_no_narrator_is_not_penalised_for_it():
    assert match_record(STONE, record()).penalty("narrator") is None
    assert match_record(STONE, record(narrators=("Jim Dale",))).penalty("narrator") == 0.0


def test_abridged_counts_only_when_both_sides_say():
    assert match_record(STONE, record(abridged=True)).penalty("abridged") is None
    book = BookFacts(STONE.title, STONE.authors, abridged=False)
    assert match_record(book, record(abridged=True)).penalty("abridged") == 1.0
    assert match_record(book, record(abridged=False)).penalty("abridged") == 0.0


def test_best_match_per_source_prefers_grade_then_distance_then_first_listed():
    wrong = record(title="Quidditch Through the Ages")
    right = record(duration_s=HOURS_8)
    also_right = record(duration_s=HOURS_8, source_id="second")
    found = best_matches(STONE, {"audnexus": [wrong, right, also_right], "itunes": [],
                                 "googlebooks": [wrong]})
    assert set(found) == {"audnexus", "googlebooks"}
    assert found["audnexus"].record is right
    assert found["audnexus"].usable
    assert not found["googlebooks"].usable


def test_weights_come_from_settings_text():
    assert parse_weights("title=5, duration=0") == {"title": 5.0, "duration": 0.0}
    policy = RecordMatchPolicy.from_weights(parse_weights("duration=0"))
    assert match_record(STONE, record(duration_s=1.0), policy).penalty("duration") is None
    for bad in ("title", "title=x", "title=-1"):
        with pytest.raises(ValueError, match="penalty=weight"):
            parse_weights(bad)
    with pytest.raises(ValueError, match="unknown match penalties nope"):
        RecordMatchPolicy.from_weights({"nope": 1.0})


texts = st.text(max_size=40)


@given(texts, st.lists(texts, max_size=3), texts, st.lists(texts, max_size=3),
       st.one_of(st.none(), st.floats(0, 1e6)), st.one_of(st.none(), st.floats(0, 1e6)))
def test_distance_stays_in_range_for_any_text(title, authors, other, other_authors, a, b):
    book = BookFacts(title or "x", tuple(authors), duration_s=a)
    found = match_record(book, record(other, tuple(other_authors), duration_s=b))
    assert 0.0 <= found.distance <= 1.0
    assert found.grade in (STRONG, MEDIUM, WEAK, NONE)
