"""Follow rules and edition handling in completion (R18): pre-orders, dramatized and
abridged editions, region duplicates and re-releases, positions 0 and 1.5, omnibus
editions, author follows for new books only, and discovery's policies. Pure."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mamcrawler.domain.bibliography import (
    AUDIBLE,
    HARDCOVER,
    TRACKER,
    FollowRules,
    Listing,
    Scope,
    Subject,
    SubjectKind,
    collect,
)
from mamcrawler.domain.completion import CompletionPolicy, GapAction, KnownGap, OwnedBook, decide
from mamcrawler.domain.discovery import FindKind, Follows, judge
from mamcrawler.domain.editions import clean_title, is_dramatized
from mamcrawler.domain.records import Release, SeriesRef
from mamcrawler.services.completion_store import priority_for, source_of

SERIES = "The Ember Crown Cycle"
TODAY = date(2026, 3, 1)
POLICY = CompletionPolicy()


def subject(kind=SubjectKind.SERIES, **rules):
    name = SERIES if kind is SubjectKind.SERIES else "Mara Quill"
    authors = ("Mara Quill",) if kind is SubjectKind.SERIES else ()
    return Subject(kind, 1, name, authors, FollowRules(**rules))


def upload(title, position=None, rid="1", **extra):
    return Listing(TRACKER, title, ("Mara Quill",),
                   (SeriesRef(SERIES, position),) if position is not None else (),
                   language="ENG", release_id=rid, **extra)


def product(title, position=None, asin="B01", source=AUDIBLE, **extra):
    return Listing(source, title, ("Mara Quill",),
                   (SeriesRef(SERIES, position),) if position is not None else (),
                   language="english", asin=asin, **extra)


def judged(listings, library=(), known=None, policy=POLICY, who=None):
    who = who or subject()
    bib = collect(who, listings, language=policy.completion_language,
                  allow_omnibus=policy.allow_omnibus, allow_dramatized=policy.allow_dramatized)
    result = decide(who, bib, library, known or {}, policy, TODAY)
    return {v.book.title: (v.action, v.reason) for v in result.verdicts}, result


@pytest.mark.parametrize("raw, clean", [
    ("The Ash Throne (UK Edition)", "The Ash Throne"),
    ("The Ash Throne (Unabridged) (The Ember Crown Cycle, Book 2)", "The Ash Throne"),
    ("The Ash Throne [Dramatized Adaptation]", "The Ash Throne"),
    ("The Ash Throne (10th Anniversary Edition)", "The Ash Throne"),
])
def test_edition_words_are_not_part_of_the_title(raw, clean):
    assert clean_title(raw) == clean


def test_region_duplicates_and_re_releases_are_one_book_with_every_asin_and_the_first_date():
    found, result = judged([
        product("The Ash Throne", "2", "B02US", released=date(2021, 5, 1)),
        product("The Ash Throne (UK Edition)", "2", "B02UK", released=date(2021, 4, 1)),
        product("The Ash Throne: Anniversary Edition", "2", "B02RE",
                released=date(2025, 1, 1)),
        upload("The Ash Throne", "2")])
    [ash] = result.verdicts
    assert ash.book.asins == ("B02US", "B02UK", "B02RE")
    assert ash.book.release_date == date(2021, 4, 1) and ash.action is GapAction.WANT
    library = [OwnedBook("Ash Throne", ("Mara Quill",), asin="B02UK")]
    assert judged([product("The Ash Throne", "2", "B02US"),
                   product("The Ash Throne", "2", "B02UK")], library)[0][
        "The Ash Throne"][0] is GapAction.OWNED


def test_a_pre_order_is_kept_with_its_date_and_wanted_once_released():
    listings = [product("The Seventh Ember", "7", released=date(2026, 6, 1)),
                upload("The Seventh Ember", "7")]
    found, result = judged(listings)
    assert found["The Seventh Ember"] == (
        GapAction.RECORD, "book 7 of The Ember Crown Cycle: a pre-order, released on "
        "2026-06-01; wanted after release")
    assert result.verdicts[0].book.release_date == date(2026, 6, 1)
    later = decide(subject(), collect(subject(), listings, language="english",
                                      allow_omnibus=False), [], {}, POLICY, date(2026, 6, 2))
    assert later.verdicts[0].action is GapAction.WANT


def test_positions_zero_and_a_half_are_books_of_their_own_ranked_lowest_first():
    found, result = judged([upload("The First Spark", "0", "1"), upload("Embers", "1.5", "2"),
                            upload("The Ember Crown", "1", "3")],
                           [OwnedBook("The Ember Crown", ("Mara Quill",),
                                      (SeriesRef(SERIES, "1"),))])
    assert found["The First Spark"][0] is GapAction.WANT
    assert found["Embers"][0] is GapAction.WANT and found["The Ember Crown"][0] is \
        GapAction.OWNED
    assert priority_for("series", "0") > priority_for("series", "1.5") \
        > priority_for("series", "3") > priority_for("series", None) > priority_for("author", "1")
    assert priority_for("series", "250") == -199 and priority_for("top10", "1") == -400
    assert source_of("series", SERIES) == f"series:{SERIES}" and source_of("top10", None) == \
        "top10"


def test_dramatized_and_narrated_editions_stay_apart_unless_allowed():
    drama = product("The Ash Throne (Dramatized Adaptation)", "2", "B0D")
    full_cast = upload("The Ash Throne", "2", tags="Full Cast 64Kb")
    found, result = judged([drama, full_cast])
    assert found == {} and all("dramatized" in s.reason for s in result.skipped)
    allowed = CompletionPolicy(allow_dramatized=True)
    found, _ = judged([drama, full_cast], policy=allowed)
    assert found["The Ash Throne"][0] is GapAction.WANT
    library = [OwnedBook("The Ash Throne (Dramatized)", ("Mara Quill",),
                         (SeriesRef(SERIES, "2"),), dramatized=True)]
    narrated = [upload("The Ash Throne", "2")]
    assert judged(narrated, library)[0]["The Ash Throne"][0] is GapAction.WANT
    assert judged(narrated, library, policy=allowed)[0]["The Ash Throne"][0] is GapAction.OWNED
    assert is_dramatized("BBC Radio 4 full-cast dramatisation")


def test_abridged_and_print_only_books_follow_the_follows_switches():
    abridged = upload("The Ash Throne (Abridged)", "2")
    print_only = product("The Cinder Court", "3", source=HARDCOVER, audio=False)
    found, result = judged([abridged, print_only])
    assert found == {} and len(result.skipped) == 2
    loose = subject(unabridged_only=False, audiobook_only=False)
    found, _ = judged([abridged, print_only], who=loose)
    assert found["The Ash Throne"][0] is GapAction.WANT
    assert found["The Cinder Court"] == (GapAction.RECORD, "book 3 of The Ember Crown Cycle: "
                                         "no audiobook edition known yet")
    short_copy = [OwnedBook("The Ash Throne", ("Mara Quill",), (SeriesRef(SERIES, "2"),),
                            abridged=True)]
    assert judged([upload("The Ash Throne", "2")], short_copy)[0]["The Ash Throne"][0] is \
        GapAction.WANT
    assert judged([abridged], short_copy, who=loose)[0]["The Ash Throne"][0] is GapAction.OWNED


def test_an_allowed_omnibus_is_wanted_only_for_books_not_listed_one_by_one():
    allowed = CompletionPolicy(allow_omnibus=True)
    omnibus = upload("The Ember Crown Cycle: Books 1-3", "1-3", "9")
    singles = [upload("The Ember Crown", "1", "1"), upload("The Ash Throne", "2", "2")]
    found, _ = judged([*singles, upload("The Cinder Court", "3", "3"), omnibus],
                      policy=allowed)
    assert found["The Ember Crown Cycle: Books 1-3"][0] is GapAction.RECORD
    found, _ = judged([*singles, omnibus], policy=allowed)
    assert found["The Ember Crown Cycle: Books 1-3"][0] is GapAction.WANT
    found, result = judged([*singles, omnibus])
    assert "The Ember Crown Cycle: Books 1-3" not in found
    assert "omnibus" in result.skipped[0].reason


def test_an_author_followed_for_new_books_gets_only_those_released_since():
    since = datetime(2026, 1, 1, tzinfo=UTC)
    author = subject(SubjectKind.AUTHOR, scope=Scope.NEW, since=since)
    found, result = judged([
        product("Old Book", asin="B1", released=date(2020, 1, 1)),
        product("New Book", asin="B2", released=date(2026, 2, 1)),
        upload("Fresh Upload", rid="7", uploaded=datetime(2026, 2, 3, tzinfo=UTC)),
        upload("Old Upload", rid="8", uploaded=datetime(2024, 2, 3, tzinfo=UTC)),
        upload("No Date", rid="9")], who=author)
    assert set(found) == {"New Book", "Fresh Upload"}
    reasons = sorted(s.reason for s in result.skipped)
    assert reasons[0].startswith("on the tracker since 2024-02-03, before you followed")
    assert reasons[1].startswith("release date unknown")
    assert reasons[2].startswith("released 2020-01-01, before you followed Mara Quill")


def test_a_follows_own_language_wins_and_a_removed_entry_counts_as_declined():
    german = Listing(TRACKER, "Die Glutkrone", ("Mara Quill",), (SeriesRef(SERIES, "1"),),
                     language="GER", release_id="5")
    assert judged([german])[0] == {}
    found, _ = judged([german], who=subject(language="german"))
    assert found["Die Glutkrone"][0] is GapAction.WANT
    known = {"die glutkrone|mara quill": KnownGap(status="missing", removed=True)}
    found, _ = judged([german], known=known, who=subject(language="german"))
    assert found["Die Glutkrone"][0] is GapAction.DECLINED
    assert "removed it from the wanted list" in found["Die Glutkrone"][1]


def test_discovery_policies_free_and_narrator():
    follows = Follows(narrators=("Tom O'Hanlon",))
    stranger = Release(id="1", title="Stranger Tides", authors=("Nobody",),
                       narrators=("Tom O'Hanlon",), language="ENG", category_id=41,
                       category_name="Audiobooks - Fantasy")
    free = CompletionPolicy(discovery_policy="free")
    assert judge(stranger, FindKind.CATEGORY, follows, set(), {}, free).action is None
    assert judge(stranger, FindKind.CATEGORY, follows, set(), {}, free,
                 costs_nothing=True).reason.endswith("free for you")
    liked = judge(stranger, FindKind.CATEGORY, follows, set(), {},
                  CompletionPolicy(discovery_policy="narrator"))
    assert (liked.action, liked.reason) == (
        GapAction.WANT, "new in followed category Audiobooks - Fantasy, read by Tom O'Hanlon")
    drama = Release(id="2", title="Stranger Tides (Full Cast Dramatization)",
                    authors=("Nobody",), language="ENG")
    assert judge(drama, FindKind.TOP10, follows, set(), {}, POLICY).reason.startswith(
        "a dramatized edition")
