"""Completion and discovery decisions (R18, R19): pure, so tested by table and property."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamcrawler.domain.bibliography import (
    AUDIBLE,
    TRACKER,
    Listing,
    Subject,
    SubjectKind,
    clean_title,
    collect,
    is_omnibus,
)
from mamcrawler.domain.completion import (
    CompletionPolicy,
    GapAction,
    KnownGap,
    OwnedBook,
    decide,
)
from mamcrawler.domain.discovery import FindKind, Follows, find_key, judge
from mamcrawler.domain.records import Release, SeriesRef

EMBER = Subject(SubjectKind.SERIES, 1, "The Ember Crown Cycle", ("Mara Quill",))
QUILL = Subject(SubjectKind.AUTHOR, 2, "Mara Quill")
POLICY = CompletionPolicy()


def upload(title, position=None, *, series="The Ember Crown Cycle", authors=("Mara Quill",),
           rid="1", language="ENG"):
    refs = (SeriesRef(series, position),) if series else ()
    return Listing(TRACKER, title, authors, refs, language=language, release_id=rid)


def product(title, position=None, *, series="The Ember Crown Cycle", asin="B01",
            language="english", abridged=False):
    refs = (SeriesRef(series, position),) if series else ()
    return Listing(AUDIBLE, title, ("Mara Quill",), refs, language=language,
                   abridged=abridged, asin=asin)


def owned(title, position=None, series="The Ember Crown Cycle"):
    refs = (SeriesRef(series, position),) if series else ()
    return OwnedBook(title, ("Mara Quill",), refs)


def verdicts(subject, listings, library=(), known=None, policy=POLICY):
    bib = collect(subject, listings, language=policy.completion_language,
                  allow_omnibus=policy.allow_omnibus)
    result = decide(subject, bib, library, known or {}, policy)
    return {v.book.title: (v.action, v.reason) for v in result.verdicts}, result


@pytest.mark.parametrize("raw, clean", [
    ("The Ash Throne (The Ember Crown Cycle, Book 2)", "The Ash Throne"),
    ("Harry Potter and the Sorcerer's Stone, Book 1", "Harry Potter and the Sorcerer's Stone"),
    ("The Final Empire (Mistborn #1)", "The Final Empire"),
    ("Mistborn: The Final Empire, Book 1", "Mistborn: The Final Empire"),
    ("Ravenhold: Interlude", "Ravenhold: Interlude"),
    ("Catch-22", "Catch-22"),
    ("Book 2", "Book 2"),
])
def test_clean_title_drops_only_a_trailing_series_label(raw, clean):
    assert clean_title(raw) == clean


def test_omnibus_by_range_or_words_but_not_a_half_position():
    assert is_omnibus("The Ember Crown Cycle: Books 1-3", None, "The Ember Crown Cycle")
    assert is_omnibus("Anything", "1-3")
    assert is_omnibus("The Complete Series Box Set", None)
    assert not is_omnibus("Ravenhold: Interlude", "2.5")
    assert not is_omnibus("The Ember Trilogy, Book 1", "1", "The Ember Trilogy")


def test_editions_and_sources_of_one_book_merge_and_the_tracker_title_wins():
    found, result = verdicts(EMBER, [
        upload("The Ash Throne", "2", rid="11"), upload("The Ash Throne [mp3]", "2", rid="12"),
        product("The Ash Throne, Book 2", "2"), product("The Cinder Court", "3", asin="B03")])
    assert set(found) == {"The Ash Throne", "The Cinder Court"}
    ash = next(v.book for v in result.verdicts if v.book.title == "The Ash Throne")
    assert ash.sources == (TRACKER, AUDIBLE) and ash.release_ids == ("11", "12")
    assert ash.key == "ash throne|mara quill" and ash.asin == "B01"


def test_listings_outside_the_subject_are_left_out_with_the_reason():
    _, result = verdicts(EMBER, [
        upload("Ravenhold", "1", series="Ravenhold Chronicles"),
        upload("The Ember Crown", "1", authors=("Someone Else",)),
        upload("Die Glutkrone", "1", language="GER"),
        product("The Ember Crown (Abridged)", "1", abridged=True),
        upload("The Ember Crown Cycle: Books 1-3", "1-3")])
    assert result.verdicts == ()
    reasons = [s.reason for s in result.skipped]
    assert reasons[0].startswith("not in The Ember Crown Cycle (Ravenhold Chronicles)")
    assert "by another author" in reasons[1]
    assert reasons[2] == "in GER, not english"
    assert reasons[3].startswith("abridged")
    assert "omnibus" in reasons[4]
    allowed = CompletionPolicy(allow_omnibus=True)
    found, _ = verdicts(EMBER, [upload("The Ember Crown Cycle: Books 1-3", "1-3")],
                        policy=allowed)
    assert found["The Ember Crown Cycle: Books 1-3"][0] is GapAction.WANT


def test_each_gap_gets_its_verdict():
    library = [owned("The Ember Crown", "1")]
    known = {"cinder court|mara quill": KnownGap(wanted_status="cancelled"),
             "smoke kingdom|mara quill": KnownGap(wanted_status="abandoned"),
             "sixth|mara quill": KnownGap(wanted_status="done")}
    found, result = verdicts(EMBER, [
        upload("The Ember Crown", "1"), upload("The Ash Throne", "2"),
        upload("The Cinder Court", "3"), upload("The Smoke Kingdom", "4"),
        product("The Glass Crown", "5", asin="B05"), upload("The Sixth", "6")], library, known)
    assert found["The Ember Crown"][0] is GapAction.OWNED
    assert found["The Ash Throne"] == (
        GapAction.WANT, "book 2 of The Ember Crown Cycle: missing from the library, on the "
        "tracker (1 upload)")
    assert found["The Cinder Court"][0] is GapAction.DECLINED
    assert found["The Smoke Kingdom"][0] is GapAction.RECORD
    assert "not on the tracker yet" in found["The Glass Crown"][1]
    assert found["The Sixth"][0] is GapAction.OWNED  # downloaded, filed under another title
    assert result.known_total == 6
    assert result.summary().startswith("series The Ember Crown Cycle: 6 books (2 owned, 1 want")


def test_record_policy_wants_nothing_by_itself():
    found, _ = verdicts(EMBER, [upload("The Ash Throne", "2")],
                        policy=CompletionPolicy(discovery_policy="record"))
    assert found["The Ash Throne"][0] is GapAction.RECORD


def test_position_decides_over_a_similar_title():
    ravenhold = Subject(SubjectKind.SERIES, 3, "Ravenhold Chronicles", ("D. K. Ashcombe",))
    library = [OwnedBook("Ravenhold", ("D. K. Ashcombe",),
                         (SeriesRef("Ravenhold Chronicles", "1"),))]
    listings = [Listing(TRACKER, t, ("D.K. Ashcombe",), (SeriesRef("Ravenhold Chronicles", p),),
                        release_id=p) for t, p in [("Ravenhold", "1"), ("Ravenhold: Interlude",
                                                                         "2.5")]]
    found, _ = verdicts(ravenhold, listings, library)
    assert found["Ravenhold"][0] is GapAction.OWNED
    assert found["Ravenhold: Interlude"][0] is GapAction.WANT


def test_an_owned_omnibus_holds_its_books_only_when_allowed_and_a_title_match_holds():
    library = [owned("The Ember Crown Cycle: Books 1-3", "1-3"),
               OwnedBook("Ember Crown Cycle 4: The Smoke Kingdom", ("Mara Quill",))]
    listings = [upload("The Ash Throne", "2"), upload("The Smoke Kingdom", "4"),
                upload("The Fifth", "5")]
    found, _ = verdicts(EMBER, listings, library)
    assert [found[t][0] for t in ("The Ash Throne", "The Smoke Kingdom", "The Fifth")] == [
        GapAction.WANT, GapAction.OWNED, GapAction.WANT]
    found, _ = verdicts(EMBER, listings, library, policy=CompletionPolicy(allow_omnibus=True))
    assert found["The Ash Throne"][0] is GapAction.OWNED


def test_author_subject_keeps_only_the_authors_books():
    found, result = verdicts(QUILL, [
        upload("The Ash Throne", "2"), upload("Cold Harbour", authors=("Owen Marsh",),
                                              series=None),
        Listing(TRACKER, "A Standalone", ("M. Quill",), release_id="9")])
    assert set(found) == {"The Ash Throne", "A Standalone"}
    assert found["A Standalone"][1] == ("a book by Mara Quill: missing from the library, on "
                                        "the tracker (1 upload)")
    assert [s.reason for s in result.skipped] == ["not by Mara Quill (Owen Marsh)"]


titles = st.sampled_from(["The Ember Crown", "The Ash Throne", "The Cinder Court", "Other",
                          "The Ember Crown [mp3]", "Smoke"])
listing_st = st.builds(
    Listing, source=st.sampled_from([TRACKER, AUDIBLE]), title=titles,
    authors=st.just(("Mara Quill",)),
    series=st.tuples(st.builds(SeriesRef, st.just("The Ember Crown Cycle"),
                               st.sampled_from([None, "1", "2", "3", "1-3"]))),
    release_id=st.sampled_from([None, "1", "2"]))
known_st = st.dictionaries(
    st.sampled_from(["ember crown|mara quill", "ash throne|mara quill", "other|mara quill"]),
    st.builds(KnownGap, status=st.sampled_from([None, "missing", "declined"]),
              wanted_status=st.sampled_from([None, "wanted", "cancelled", "abandoned"])))


@settings(max_examples=60, deadline=None)
@given(st.lists(listing_st, max_size=8), st.lists(titles, max_size=3), known_st,
       st.sampled_from(["followed", "record"]))
def test_properties_of_decide(listings, owned_titles, known, discovery):
    policy = CompletionPolicy(discovery_policy=discovery, allow_omnibus=True)
    library = [owned(t, None, None) for t in owned_titles]
    _, result = verdicts(EMBER, listings, library, known, policy)
    keys = [v.book.key for v in result.verdicts]
    assert len(result.verdicts) + len(result.skipped) <= len(listings)
    for verdict in result.verdicts:
        gap = known.get(verdict.book.key, KnownGap())
        if verdict.action is GapAction.WANT:
            assert verdict.book.on_tracker and policy.wants
            assert gap.status != "declined" and gap.wanted_status != "cancelled"
        if gap.status == "declined" and verdict.action is not GapAction.OWNED:
            assert verdict.action is GapAction.DECLINED
        assert verdict.reason
    assert len(keys) == len(result.verdicts)


def release(title, authors=("Mara Quill",), series=(), **extra):
    values = {"id": "5", "title": title, "authors": authors, "series": series,
              "language": "ENG", "category_id": 41, "category_name": "Audiobooks - Fantasy"}
    values.update(extra)
    return Release(**values)


def test_discovery_wants_only_followed_new_releases_unless_told_otherwise():
    follows = Follows(authors=("Mara Quill",), series=("Deep Lattice",))
    by_author = release("The Smoke Kingdom")
    in_series = release("Lattice Fall", ("Priya V",), (SeriesRef("Deep Lattice", "3"),))
    stranger = release("Random Book", ("Nobody",))
    judged = [judge(r, FindKind.CATEGORY, follows, set(), {}, POLICY)
              for r in (by_author, in_series, stranger)]
    assert [j.action for j in judged] == [GapAction.WANT, GapAction.WANT, None]
    assert judged[0].reason == "new by followed author Mara Quill"
    assert judged[1].reason == "new in followed series Deep Lattice"
    everything = CompletionPolicy(discovery_policy="all")
    assert judge(stranger, FindKind.CATEGORY, follows, set(), {}, everything).action \
        is GapAction.WANT
    assert judge(by_author, FindKind.CATEGORY, follows, {find_key(by_author)}, {},
                 POLICY).reason == "already in the library"
    declined = {find_key(by_author): KnownGap(wanted_status="cancelled")}
    assert judge(by_author, FindKind.CATEGORY, follows, set(), declined, POLICY).action \
        is GapAction.DECLINED
    top = judge(stranger, FindKind.TOP10, follows, set(), {},
                CompletionPolicy(discovery_policy="record"))
    assert (top.action, top.reason) == (GapAction.RECORD, "top-10 new release of Audiobooks "
                                        "- Fantasy; DISCOVERY_POLICY=record, so want it by "
                                        "hand")
    german = release("Der Turm", language="GER")
    assert judge(german, FindKind.TOP10, follows, set(), {}, POLICY).action is None
