"""Conflict resolution (R15): per-field precedence, protected fields, normalised equality,
drift (R17), and the properties: protection holds, source order does not matter, a
second merge changes nothing."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamcrawler.domain.metadata import SourceRecord
from mamcrawler.domain.metadata_merge import (
    DEFAULT_PRECEDENCE,
    FIELDS,
    book_fields,
    clean_title,
    clean_value,
    merge,
    parse_precedence,
    rank,
    record_fields,
    same_value,
)
from mamcrawler.domain.records import SeriesRef

AUDNEXUS = SourceRecord(
    source="audnexus", title="The Final Empire, Book 1", authors=("Brandon Sanderson",),
    narrators=("Michael Kramer",), series=(SeriesRef("Mistborn", "1"),), duration_s=88000,
    language="english", year=2006, description="Audible's blurb", asin="B002UZMLXM")


def changes(result):
    return {c.field: (c.new, c.source) for c in result.changes}


def test_default_orders_are_the_issues():
    def before(field, a, b):
        return rank(DEFAULT_PRECEDENCE, field, a) < rank(DEFAULT_PRECEDENCE, field, b)

    assert before("narrators", "tags", "tracker") and before("narrators", "tracker", "audnexus")
    assert before("series_position", "audnexus", "tracker")
    assert before("series_position", "tracker", "folder")
    assert before("description", "audnexus", "googlebooks")
    assert before("description", "googlebooks", "openlibrary")
    assert set(DEFAULT_PRECEDENCE) == set(FIELDS)


def test_narrators_follow_tags_over_tracker_over_audnexus():
    records = {"audnexus": AUDNEXUS, "tracker": {"narrators": ["Kate Reading"]},
               "tags": {"narrators": ["Tag Reader"]}}
    assert changes(merge({}, {}, records))["narrators"] == (("Tag Reader",), "tags")
    del records["tags"]
    assert changes(merge({}, {}, records))["narrators"] == (("Kate Reading",), "tracker")


def test_every_change_names_its_source_and_reason():
    result = merge({"title": "Final Empire", "narrators": ("Someone",)},
                   {"title": "folder", "narrators": "tags"}, {"audnexus": AUDNEXUS})
    title = next(c for c in result.changes if c.field == "title")
    assert (title.old, title.new, title.source) == ("Final Empire", "The Final Empire",
                                                    "audnexus")
    assert "audnexus outranks folder" in title.reason
    assert "precedence for title: audnexus > " in title.reason
    assert result.sources["narrators"] == "tags"  # tags are silent: their value holds
    assert "narrators" not in changes(result)


def test_a_protected_field_is_kept_and_the_disagreement_noted():
    result = merge({"title": "My Title"}, {"title": "user"}, {"audnexus": AUDNEXUS},
                   protected={"title"})
    assert "title" not in changes(result)
    assert result.sources["title"] == "user"
    assert "title is protected: kept My Title although audnexus says The Final Empire" in (
        result.notes)


@pytest.mark.parametrize(("field", "a", "b"), [
    ("title", "The Final Empire", "the final  EMPIRE"),
    ("authors", ("J.K. Rowling",), ("J. K. Rowling",)),
    ("authors", ("A", "B"), ("B", "A")),
    ("series_position", "1", "1.0"),
    ("series_position", "01", 1),
    ("series_position", "1,5", "Book 1.5"),
    ("series_position", "1 - 3", "1-3"),
    ("language", "en", "English"),
    ("isbn", "978-1-78110-263-3", "9781781102633"),
    ("duration_seconds", 100.0, 100.4),
    ("description", "One  two\nthree", "one two three"),
])
def test_equal_after_normalisation_is_not_a_change(field, a, b):
    assert same_value(field, a, b)
    series = {"series": "S"}  # a position needs a series to belong to
    result = merge({field: a, **series}, {}, {"audnexus": {field: b, **series}})
    assert field not in changes(result)
    assert result.sources[field] == "audnexus"  # the value's source is now known


@pytest.mark.parametrize(("raw", "kept"), [
    ("02", "2"), (2.0, "2"), ("Book 1,5", "1.5"), ("1 – 3", "1-3"),
    (" Prequel ", "Prequel"), ("x" * 30, "x" * 20), ("", None), (True, None),
])
def test_a_position_is_canonical_or_kept_as_written(raw, kept):
    # A person may write "Prequel": the text is theirs; numbers read as domain.series_position.
    assert clean_value("series_position", raw) == kept


def test_a_silent_setter_keeps_its_rank_an_unknown_one_does_not():
    held = merge({"narrators": ("Tracker Voice",)}, {"narrators": "tracker"},
                 {"audnexus": AUDNEXUS})
    assert "narrators" not in changes(held)  # tracker outranks audnexus and is not asked
    unknown = merge({"narrators": ("Somebody",)}, {}, {"audnexus": AUDNEXUS})
    assert changes(unknown)["narrators"] == (("Michael Kramer",), "audnexus")


def test_drift_the_setter_now_says_otherwise():
    result = merge({"description": "old blurb"}, {"description": "audnexus"},
                   {"audnexus": AUDNEXUS, "googlebooks": {"description": "Google's"}})
    change = next(c for c in result.changes if c.field == "description")
    assert change.new == "Audible's blurb"
    assert "audnexus set the old value and now says otherwise" in change.reason


def test_a_series_position_only_counts_for_the_series_the_book_is_in():
    records = {"audnexus": {"series": "Mistborn", "series_position": "1"},
               "tracker": {"series": "Cosmere", "series_position": "7"},
               "folder": {"series_position": "3"}}
    result = merge({}, {}, records)
    assert changes(result)["series"] == ("Mistborn", "audnexus")
    assert changes(result)["series_position"] == ("1", "audnexus")
    without = merge({}, {}, {"tracker": {"series_position": "7"}})
    assert "series_position" not in changes(without)  # no series to hold a position


def test_records_are_read_into_fields_with_titles_cleaned():
    fields = record_fields(AUDNEXUS)
    assert fields["title"] == "The Final Empire"
    assert fields["series"] == "Mistborn" and fields["series_position"] == "1"
    assert fields["duration_seconds"] == 88000.0
    assert "source" not in fields


@pytest.mark.parametrize(("title", "series", "clean"), [
    ("The Final Empire (Mistborn, Book 1)", (), "The Final Empire"),
    ("Leviathan Wakes: The Expanse, Book 1", ("The Expanse",), "Leviathan Wakes"),
    ("Dune (Unabridged)", (), "Dune"),
    ("Catch-22", (), "Catch-22"),
    ("Book 1", (), "Book 1"),
    ("Mistborn #2", (), "Mistborn #2"),
])
def test_clean_title(title, series, clean):
    assert clean_title(title, series) == clean


def test_book_view_becomes_fields():
    view = {"title": "T", "authors": ["A"], "narrators": [], "series": [
        {"name": "S", "position": "02"}, {"name": "Other", "position": "9"}], "year": 2001}
    assert book_fields(view) == {"title": "T", "authors": ("A",), "series": "S",
                                 "series_position": "2", "year": 2001}


def test_precedence_text_overrides_only_the_fields_named():
    parsed = parse_precedence("narrators=tracker, tags ; description=googlebooks")
    assert parsed["narrators"] == ("tracker", "tags")
    assert parsed["description"] == ("googlebooks",)
    assert parsed["title"] == DEFAULT_PRECEDENCE["title"]
    assert parse_precedence("") == DEFAULT_PRECEDENCE
    for bad, message in (("narator=tags", "unknown field 'narator'"),
                         ("narrators", "is not field=source"),
                         ("narrators=", "list source names"),
                         ("narrators=ta gs", "list source names")):
        with pytest.raises(ValueError, match=message):
            parse_precedence(bad)


SOURCES = ("audnexus", "tracker", "tags", "folder", "googlebooks", "openlibrary", "speech",
           "zzz_other")
VALUES = {
    "title": st.sampled_from(["Dune", "dune", "Dune Messiah", "The Final Empire"]),
    "subtitle": st.sampled_from(["A Novel", "a novel", "Part One"]),
    "authors": st.sampled_from([("Frank Herbert",), ("F. Herbert",), ("Brian Herbert",
                                                                      "Kevin J. Anderson")]),
    "narrators": st.sampled_from([("Scott Brick",), ("Simon Vance",), ("Scott Brick",
                                                                       "Euan Morton")]),
    "series": st.sampled_from(["Dune", "Dune Chronicles", "Mistborn"]),
    "series_position": st.sampled_from(["1", "1.0", "2", "2.5"]),
    "year": st.sampled_from([1965, 2006, 2019]),
    "publisher": st.sampled_from(["Macmillan", "Tor"]),
    "isbn": st.sampled_from(["9780441013593", "978-0-441-01359-3", "0441013597"]),
    "asin": st.sampled_from(["B002V1OF70", "B00B7NPRY8"]),
    "language": st.sampled_from(["en", "english", "ger"]),
    "duration_seconds": st.sampled_from([3600.0, 3600.5, 7200.0]),
    "description": st.sampled_from(["A desert planet.", "a desert  planet.", "Spice."]),
    "abridged": st.booleans(),
}
field_values = st.fixed_dictionaries({}, optional=VALUES)
states = st.tuples(
    field_values,
    st.dictionaries(st.sampled_from(FIELDS), st.sampled_from(SOURCES + ("user",))),
    st.dictionaries(st.sampled_from(SOURCES), field_values, max_size=6),
    st.sets(st.sampled_from(FIELDS)),
    st.sampled_from([DEFAULT_PRECEDENCE, parse_precedence(
        "title=tags,audnexus;narrators=audnexus;series_position=folder,tracker")]),
)


@settings(max_examples=300, deadline=None)
@given(states)
def test_protected_fields_never_change_whatever_the_sources_say(state):
    now, held, records, protected, precedence = state
    result = merge(now, held, records, precedence, protected)
    assert not {c.field for c in result.changes} & protected
    for name in protected & set(held):
        assert result.sources[name] == held[name]


@settings(max_examples=300, deadline=None)
@given(states, st.randoms(use_true_random=False))
def test_the_order_sources_are_listed_in_does_not_matter(state, random):
    now, held, records, protected, precedence = state
    shuffled = list(records.items())
    random.shuffle(shuffled)
    assert merge(now, held, dict(shuffled), precedence, protected) == merge(
        now, held, records, precedence, protected)


@settings(max_examples=300, deadline=None)
@given(states)
def test_merging_twice_changes_nothing_the_second_time(state):
    now, held, records, protected, precedence = state
    first = merge(now, held, records, precedence, protected)
    applied = {**now, **first.changed()}
    second = merge(applied, first.sources, records, precedence, protected)
    assert second.changes == ()
    assert second.sources == first.sources
