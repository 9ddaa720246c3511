"""Matching (R9 "right book"): a distance made of named penalties, graded."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamcrawler.domain.matching import (
    MEDIUM,
    NONE,
    STRONG,
    WEAK,
    BookTarget,
    MatchThresholds,
    MatchWeights,
    canonical_language,
    grade_rank,
    is_abridged,
    match,
    person_similarity,
    release_position,
)
from mamcrawler.domain.records import Release, SeriesRef

W = MatchWeights()
SANDERSON = ("Brandon Sanderson",)
FINAL_EMPIRE = BookTarget("The Final Empire", SANDERSON, series_name="Mistborn",
                          series_position="1", language="English")
DUNE = BookTarget("Dune", ("Frank Herbert",))
HOBBIT = BookTarget("The Hobbit", ("J. R. R. Tolkien",))


def rel(title, authors=SANDERSON, **kw):
    return Release(id="1", title=title, authors=authors, **kw)


@pytest.mark.parametrize(("target", "release"), [
    (FINAL_EMPIRE, rel("The Final Empire")),
    (FINAL_EMPIRE, rel("Mistborn 1: The Final Empire")),
    (FINAL_EMPIRE, rel("Mistborn: The Final Empire")),
    (FINAL_EMPIRE, rel("The Final Empire (Mistborn, Book 1)")),
    (FINAL_EMPIRE, rel("Mistborn Book 1 - The Final Empire [Unabridged] M4B")),
    (FINAL_EMPIRE, rel("Mistborn 1 The Final Empire")),
    (FINAL_EMPIRE, rel("The Final Empire", series=(SeriesRef("Mistborn", "01"),))),
    (FINAL_EMPIRE, rel("The Final Empire", language="ENG")),
    (FINAL_EMPIRE, rel("The Final Empire", language="en")),
    (FINAL_EMPIRE, rel("The Final Empire", ("Sanderson, Brandon",))),
    (FINAL_EMPIRE, rel("The Final Empire", ("B. Sanderson",))),
    (FINAL_EMPIRE, rel("The Final Emprie")),  # a typo on the tracker
    (FINAL_EMPIRE, rel("THE FINAL EMPIRE (Unabridged)")),
    (BookTarget("Leviathan Wakes: The Expanse, Book 1", ("James S. A. Corey",),
                series_name="The Expanse"), rel("Leviathan Wakes", ("James S.A. Corey",))),
    (BookTarget("Sapiens", ("Yuval Noah Harari",)),
     rel("Sapiens: A Brief History of Humankind", ("Yuval Noah Harari",))),
    (HOBBIT, rel("The Hobbit", ("J.R.R. Tolkien",))),
    (HOBBIT, rel("The Hobbit", ("JRR Tolkien",))),
    (HOBBIT, rel("Hobbit, The", ("J. R. R. Tolkien",))),
    (HOBBIT, rel("The Hobbit", ("John Ronald Reuel Tolkien",))),
    (DUNE, rel("Dune", ("Frank Herbert", "Scott Brick"))),  # any author overlap counts
    (BookTarget("Les Misérables", ("Victor Hugo",)), rel("Les Miserables", ("Victor Hugo",))),
])
def test_strong_matches(target, release):
    result = match(target, release, W)
    assert result.grade == STRONG, result.explain()
    assert result.distance <= MatchThresholds().strong


@pytest.mark.parametrize(("target", "release", "worst"), [
    (FINAL_EMPIRE, rel("The Final Empire (Abridged)"), "abridged"),
    (FINAL_EMPIRE, rel("The Final Empire", tags="abridged 64kbps"), "abridged"),
    (FINAL_EMPIRE, rel("The Final Empire", authors=()), "authors"),
    (FINAL_EMPIRE, rel("The Final Empire", series=(SeriesRef("Mistborn", "2"),)),
     "series_position"),
])
def test_medium_matches_name_the_penalty(target, release, worst):
    result = match(target, release, W)
    assert result.grade == MEDIUM, result.explain()
    assert max(result.penalties, key=lambda p: p.value * p.weight).name == worst


@pytest.mark.parametrize(("target", "release", "capped_by"), [
    # a different book by the same author
    (DUNE, rel("Dune Messiah", ("Frank Herbert",)), "title"),
    (FINAL_EMPIRE, rel("The Well of Ascension", series=(SeriesRef("Mistborn", "2"),)), "title"),
    (FINAL_EMPIRE, rel("Mistborn 2: The Well of Ascension"), "title"),
    # the same title by another author (same surname, too)
    (DUNE, rel("Dune", ("Brian Herbert",)), "authors"),
    (FINAL_EMPIRE, rel("The Final Empire", ("Brian Sanderson",)), "authors"),
    (FINAL_EMPIRE, rel("The Final Empire", ("Robin Hobb",)), "authors"),
    (FINAL_EMPIRE, rel("The Final Empire", language="German"), "language"),
    (FINAL_EMPIRE, rel(""), "title"),
    # an omnibus holds the book, but is not it
    (FINAL_EMPIRE, rel("The Final Empire / The Well of Ascension / The Hero of Ages"), "title"),
    (FINAL_EMPIRE, rel("The Final Empire; The Well of Ascension; The Hero of Ages"), "title"),
])
def test_other_books_do_not_match(target, release, capped_by):
    result = match(target, release, W)
    assert result.grade == NONE, result.explain()
    assert result.capped_by == capped_by
    assert f"{capped_by} mismatch" in result.explain()


def test_dropping_a_subtitle_costs_a_little_and_a_series_label_nothing():
    sapiens = BookTarget("Sapiens", ("Yuval Noah Harari",))
    subtitled = rel("Sapiens: A Brief History of Humankind", ("Yuval Noah Harari",))
    assert match(sapiens, subtitled, W).penalty("title") == pytest.approx(0.05 * 100 / 40)
    assert match(sapiens, subtitled, MatchWeights(subtitle_cost=0)).penalty("title") == 0.0
    prefixed = rel("Mistborn: The Final Empire")
    assert match(FINAL_EMPIRE, prefixed, W).penalty("title") == 0.0  # the wanted series
    no_series = BookTarget("The Final Empire", SANDERSON)
    assert match(no_series, prefixed, W).penalty("title") == pytest.approx(0.125)
    labelled = rel("Mistborn: The Final Empire", series=(SeriesRef("Mistborn", "1"),))
    assert match(no_series, labelled, W).penalty("title") == 0.0  # the release's own series
    edition = rel("The Final Empire: Unabridged Edition")
    assert match(no_series, edition, W).penalty("title") == 0.0


def test_critical_rule_can_be_switched_off():
    release = rel("Dune", ("Brian Herbert",))
    relaxed = MatchThresholds(critical=())
    result = match(DUNE, release, W, relaxed)
    assert result.capped_by is None
    assert result.grade == WEAK  # 3 / (4 + 3 + 2) = 0.33
    assert result.distance == pytest.approx(3 / 9)


def test_narrator_is_only_a_soft_preference():
    wanted = BookTarget("The Final Empire", SANDERSON, narrators=("Michael Kramer",))
    named = match(wanted, rel("The Final Empire", narrators=("Michael Kramer",)), W)
    other = match(wanted, rel("The Final Empire", narrators=("Tim Gerard Reynolds",)), W)
    unknown = match(wanted, rel("The Final Empire"), W)
    assert (named.penalty("narrator"), unknown.penalty("narrator"), other.penalty("narrator")) \
        == (0.0, 0.5, 1.0)
    assert named.distance < unknown.distance < other.distance
    assert other.grade == STRONG  # soft: a different narrator is still the right book
    no_preference = match(FINAL_EMPIRE, rel("The Final Empire", narrators=("Anyone",)), W)
    assert no_preference.penalty("narrator") is None


def test_unchecked_aspects_are_left_out_not_counted_as_perfect():
    result = match(BookTarget("The Final Empire"), rel("The Final Empire"), W)
    assert [p.name for p in result.penalties] == ["title", "abridged"]
    assert result.penalty("authors") is None
    assert result.penalty("series_position") is None
    assert result.penalty("language") is None


@pytest.mark.parametrize(("title", "tags", "abridged"), [
    ("The Final Empire (Abridged)", "", True),
    ("The Final Empire", "Abridged, 64 kbps", True),
    ("The Final Empire (Unabridged)", "", False),
    ("The Final Empire", "unabridged", False),
    ("The Final Empire [Abridged]", "unabridged", False),  # said both: not penalised
    ("Abridgement of history", "", False),
])
def test_abridged(title, tags, abridged):
    release = rel(title, tags=tags)
    assert is_abridged(release) is abridged
    assert match(FINAL_EMPIRE, release, W).penalty("abridged") == (1.0 if abridged else 0.0)


@pytest.mark.parametrize(("release", "position"), [
    (rel("X", series=(SeriesRef("Mistborn", "1"),)), "1"),
    (rel("X", series=(SeriesRef("Mistborn", "01"),)), "1"),
    (rel("X", series=(SeriesRef("Mistborn", "2.50"),)), "2.5"),
    (rel("X", series=(SeriesRef("Mistborn", "1 – 3"),)), "1-3"),
    (rel("X", series=(SeriesRef("Mistborn", "1,5"),)), "1.5"),
    (rel("X", series=(SeriesRef("Mistborn", "Book 2"),)), "2"),
    (rel("X", series=(SeriesRef("Mistborn", "Prequel"),)), "prequel"),
    (rel("X", series=(SeriesRef("The Cosmere", "7"), SeriesRef("Mistborn", "1"))), "1"),
    (rel("X", series=(SeriesRef("Mistborn", None),)), None),
    (rel("The Final Empire (Mistborn, Book 3)"), "3"),
    (rel("Mistborn 2 - The Well of Ascension"), "2"),
    (rel("The Final Empire"), None),
])
def test_release_position(release, position):
    assert release_position(FINAL_EMPIRE, release) == position


def test_series_position_penalised_only_when_both_known():
    base = BookTarget("The Final Empire", SANDERSON, series_name="Mistborn")
    assert match(base, rel("X", series=(SeriesRef("Mistborn", "2"),)), W) \
        .penalty("series_position") is None
    same = match(FINAL_EMPIRE, rel("The Final Empire", series=(SeriesRef("Mistborn", "1.0"),)), W)
    assert same.penalty("series_position") == 0.0
    comma = match(FINAL_EMPIRE, rel("The Final Empire", series=(SeriesRef("Mistborn", "1,0"),)), W)
    assert comma.penalty("series_position") == 0.0  # a decimal comma: the same book 1
    box = match(FINAL_EMPIRE, rel("The Final Empire", series=(SeriesRef("Mistborn", "1-3"),)), W)
    assert box.penalty("series_position") == 1.0


@pytest.mark.parametrize(("a", "b", "score"), [
    ("Brandon Sanderson", "brandon  sanderson", 1.0),
    ("Brandon Sanderson", "Sanderson, Brandon", 1.0),
    ("J. R. R. Tolkien", "JRR Tolkien", 1.0),
    ("J. R. R. Tolkien", "John Ronald Reuel Tolkien", 0.9),
    ("J. Tolkien", "John Ronald Reuel Tolkien", 0.9),
    ("Ursula K. Le Guin", "Ursula Le Guin", 0.95),
    ("Fyodor Dostoevsky", "Fyodor Dostoyevsky", 0.95),
    ("Tolkien", "J.R.R. Tolkien", 0.8),
    ("Martin Luther King, Jr.", "Martin Luther King", 1.0),
    ("Frank Herbert", "Brian Herbert", 0.0),
    ("Brandon Sanderson", "Brian Sanderson", 0.0),
    ("J. K. Rowling", "R. Rowling", 0.0),
    ("Jo Walton", "John Walton", 0.0),
    ("Brandon Sanderson", "Robin Hobb", 0.0),
    ("", "Robin Hobb", 0.0),
])
def test_person_similarity(a, b, score):
    assert person_similarity(a, b) == score
    assert person_similarity(b, a) == score


@pytest.mark.parametrize(("raw", "code"), [
    ("English", "eng"), ("en", "eng"), ("ENG", "eng"), ("Deutsch", "ger"), ("de", "ger"),
    ("Klingon", "klingon"), ("", None), (None, None),
])
def test_canonical_language(raw, code):
    assert canonical_language(raw) == code


def test_explain_names_every_penalty_with_numbers():
    result = match(FINAL_EMPIRE, rel("The Final Empire (Abridged)", language="ENG"), W)
    text = result.explain()
    assert text.startswith("medium match (distance 0.18): ")
    for name in ("title 0.00", "authors 0.00", "language 0.00", "abridged 1.00"):
        assert name in text
    assert result.as_dict() == {"title": 0.0, "authors": 0.0, "language": 0.0, "abridged": 1.0}


def test_weights_change_the_distance():
    release = rel("The Final Empire (Abridged)")
    assert match(FINAL_EMPIRE, release, MatchWeights(abridged=0)).grade == STRONG
    assert match(FINAL_EMPIRE, release, MatchWeights(abridged=20)).grade == NONE


@pytest.mark.parametrize("kwargs", [
    {"title": 0}, {"authors": -1}, {"title_floor": 100}, {"subtitle_cost": 2},
])
def test_bad_weights_refused(kwargs):
    with pytest.raises(ValueError, match="must|need"):
        MatchWeights(**kwargs)


def test_bad_thresholds_refused():
    with pytest.raises(ValueError, match="strong <= medium"):
        MatchThresholds(strong=0.3, medium=0.2)


def test_grade_rank_orders_best_first():
    assert [grade_rank(g) for g in (STRONG, MEDIUM, WEAK, NONE)] == [0, 1, 2, 3]


names = st.sampled_from(["Brandon Sanderson", "B. Sanderson", "Frank Herbert", "", "Ö'Brien"])
words = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
maybe = st.none() | st.sampled_from(["1", "2", "01", "x", "", "1-3"])


@given(
    st.builds(BookTarget, title=words, authors=st.lists(names, max_size=2).map(tuple),
              narrators=st.lists(names, max_size=2).map(tuple),
              series_name=st.none() | words, series_position=maybe,
              language=st.none() | st.sampled_from(["en", "ENG", "de", ""])),
    st.builds(Release, id=st.just("1"), title=words,
              authors=st.lists(names, max_size=2).map(tuple),
              narrators=st.lists(names, max_size=2).map(tuple),
              series=st.lists(st.builds(SeriesRef, name=words, position=maybe),
                              max_size=2).map(tuple),
              language=st.none() | st.sampled_from(["ENG", "GER", ""]), tags=words),
)
def test_distance_and_grade_are_consistent(target, release):
    result = match(target, release, W)
    thresholds = MatchThresholds()
    assert 0.0 <= result.distance <= 1.0
    assert all(0.0 <= p.value <= 1.0 for p in result.penalties)
    assert result.penalties[0].name == "title"
    if result.capped_by:
        assert result.grade == NONE
        assert result.penalty(result.capped_by) >= thresholds.mismatch
    elif result.grade == STRONG:
        assert result.distance <= thresholds.strong
    elif result.grade == NONE:
        assert result.distance > thresholds.weak
    assert result.explain()


@given(st.text(min_size=1, max_size=40).filter(lambda t: any(c.isalnum() for c in t)))
def test_a_title_matches_itself(title):
    result = match(BookTarget(title, SANDERSON), rel(title), W)
    assert result.penalty("title") == 0.0
