"""Narrator (R16): credits found in transcripts, and the choice among candidates."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamcrawler.domain.narrator import (
    NO_SPEECH,
    NarratorCandidate,
    find_credit,
    looks_like_name,
    match_narrator,
)
from mamcrawler.domain.text import fold

C = NarratorCandidate
POOL = (C("Kate Reading", "tags"), C("Michael Kramer", "tracker"),
        C("Michael Page", "audnexus"), C("Tim Gerard Reynolds", "openlibrary"))


@pytest.mark.parametrize(("text", "names"), [
    ("narrated by michael kramer", ["michael kramer"]),
    ("Narrated by Michael Kramer.", ["michael kramer"]),
    ("narrated by michael kramer and kate reading", ["michael kramer", "kate reading"]),
    ("narrated by michael kramer & kate reading", ["michael kramer", "kate reading"]),
    ("narrated by michael kramer with kate reading", ["michael kramer", "kate reading"]),
    # What pocketsphinx made of a festival intro: context words around the credit.
    ("this is audible the way of kings by brandon sanderson narrated by michael kramer and "
     "kate reading prelude to the storm like archive", ["michael kramer", "kate reading"]),
    ("his stubble are in the clan written by brandon sanderson narrated by michael kramer "
     "chapter one", ["michael kramer"]),
    ("the way of kings by brandon sanderson narrated by michael kramer kincaid reading",
     ["michael kramer kincaid reading"]),
    ("read by tim gerard reynolds", ["tim gerard reynolds"]),
    ("this is audible read by ten gerard reynolds", ["ten gerard reynolds"]),
    ("read to you by simon vance", ["simon vance"]),
    ("performed by ray porter chapter one", ["ray porter"]),
    ("voiced by scott brick", ["scott brick"]),
    ("narration by r c bray", ["r c bray"]),
    ("narrating by kate reading", ["kate reading"]),  # a recogniser's ending of "narrated"
    ("the narrator is scott brick", ["scott brick"]),
    ("narrators are michael kramer and kate reading", ["michael kramer", "kate reading"]),
    ("narrated by alpha bravo charlie delta echo", ["alpha bravo charlie delta"]),
    ("narrated by michael kramer this is a story", ["michael kramer"]),
    ("narrated by michael kramer narrated by michael kramer", ["michael kramer"]),
    ("narrated by narrated by ray porter", ["ray porter"]),
    ("performed by a full cast simon vance and julia whelan", ["simon vance", "julia whelan"]),
    ("performed by the full cast including kate reading", ["kate reading"]),
    ("performed by a full cast", []),
    ("paid by stephen fry", []),  # "read by" misheard: no credit
    ("written by brandon sanderson", []),
    ("narrated by the author", []),
    ("narrated by", []),
    ("the letter was read by the king", []),
    ("", []),
])
def test_find_credit(text, names):
    assert find_credit(text) == names


@pytest.mark.parametrize(("heard", "ok"), [
    ("simon vance", True), ("tim gerard reynolds", True), ("smith", False),
    ("a b", False), ("michael the", False), ("one two three four", False), ("r2 d2", False),
])
def test_looks_like_name(heard, ok):
    assert looks_like_name(heard) is ok


def test_heard_name_picks_its_candidate_among_disagreeing_sources():
    result = match_narrator(["michael kramer"], POOL)
    assert (result.name, result.source) == ("Michael Kramer", "tracker")
    # tracker + speech 0.9, times (1 - 0.5 x a rival source's 0.5)
    assert result.confidence == pytest.approx(0.675)
    assert "speech: heard 'michael kramer' ~ Michael Kramer 100%" in result.evidence
    assert any(e.startswith("rival: ") for e in result.evidence)


@pytest.mark.parametrize(("heard", "expected", "similarity"), [
    (["michael page"], "Michael Page", "100%"),
    (["kate reading"], "Kate Reading", "100%"),
    (["tim gerard reynolds"], "Tim Gerard Reynolds", "100%"),
    (["ten gerard reynolds"], "Tim Gerard Reynolds", "60%"),  # first name misheard
    (["michael kramer kincaid reading"], "Michael Kramer", "100%"),  # extra words after
])
def test_near_misses_among_several_candidates(heard, expected, similarity):
    result = match_narrator(heard, POOL)
    assert result.name == expected
    assert any(e.endswith(f"~ {expected} {similarity}") for e in result.evidence)


def test_the_same_surname_with_another_first_name_is_not_the_same_person():
    result = match_narrator(["michael page"], [C("Jimmy Page", "tags"), C("Elliot Page", "x")])
    # two candidates with the surname: the fallback cannot choose, the sources disagree
    assert result.name is None
    assert "speech: heard 'michael page', not among the candidates" in result.evidence


def test_agreeing_sources_raise_confidence():
    one = match_narrator([], [C("Michael Kramer", "tags")])
    two = match_narrator([], [C("Michael Kramer", "tags"), C("Kramer, Michael", "audnexus")])
    heard = match_narrator(["michael kramer"], [C("Michael Kramer", "tags"),
                                                C("Kramer, Michael", "audnexus")])
    assert (one.confidence, two.confidence, heard.confidence) == pytest.approx((0.5, 0.75, 0.95))
    assert heard.name == "Michael Kramer" and heard.source == "tags"


def test_initials_match_the_spelt_out_candidate():
    result = match_narrator(["r c bray"], [C("R.C. Bray", "tags"), C("Ray Porter", "tracker")])
    assert (result.name, result.confidence) == ("R.C. Bray", pytest.approx(0.675))


def test_co_narrators_of_one_source_are_not_rivals():
    result = match_narrator([], [C("Michael Kramer", "tags"), C("Kate Reading", "tags")])
    assert (result.name, result.confidence) == ("Michael Kramer", 0.5)


def test_names_heard_together_are_co_narrators():
    result = match_narrator(["michael kramer", "kate reading"],
                            [C("Kate Reading", "tags"), C("Michael Kramer", "tracker")])
    assert result.name == "Kate Reading"  # equal scores: the first candidate listed wins
    assert result.confidence == pytest.approx(0.9)


def test_disagreeing_sources_without_speech_give_no_answer():
    result = match_narrator([], POOL, notes=[NO_SPEECH])
    assert (result.name, result.confidence, result.source) == (None, 0.0, None)
    assert NO_SPEECH in result.evidence
    assert any(e.startswith("sources disagree: ") for e in result.evidence)


def test_the_majority_of_sources_wins_with_less_confidence():
    result = match_narrator([], [C("Ray Porter", "tags"), C("Scott Brick", "tracker"),
                                 C("Scott Brick", "audnexus")])
    assert result.name == "Scott Brick"
    assert result.confidence == pytest.approx(0.75 * 0.75)


def test_a_heard_name_without_candidates_is_returned_with_low_confidence():
    result = match_narrator(["simon vance"], [])
    assert (result.name, result.confidence, result.source) == ("Simon Vance", 0.35, "speech")


def test_a_heard_name_loses_to_any_candidate_but_lowers_its_confidence():
    # pocketsphinx heard Festival's "Ray Porter" as "rape torture"
    result = match_narrator(["rape torture"], [C("Ray Porter", "tags")])
    assert (result.name, result.source) == ("Ray Porter", "tags")
    assert result.confidence == pytest.approx(0.5 * (1 - 0.5 * 0.35))


def test_what_does_not_look_like_a_name_is_not_returned():
    result = match_narrator(["smith"], [])
    assert result.name is None
    assert "speech: heard 'smith', not a name" in result.evidence


def test_nothing_at_all():
    result = match_narrator([], [], notes=[NO_SPEECH])
    assert (result.name, result.confidence) == (None, 0.0)
    assert result.evidence == (NO_SPEECH,)
    assert match_narrator([], []).evidence == ("no candidates",)


def test_blank_candidates_are_ignored():
    assert match_narrator([], [C("  ", "tags"), C("", "x")]).name is None


_WORDS = st.sampled_from(["michael", "kramer", "kate", "reading", "page", "and", "the", "by",
                          "narrated", "j", "r", "tolkien", "smith", ",", ".", "jr", "ä"])
_NAMES = st.one_of(st.lists(_WORDS, max_size=5).map(" ".join), st.text(max_size=30))


@given(heard=st.lists(_NAMES, max_size=4),
       candidates=st.lists(st.builds(C, _NAMES, st.sampled_from(["tags", "tracker", "x"])),
                           max_size=5),
       notes=st.lists(st.text(max_size=10), max_size=2))
def test_match_narrator_is_total(heard, candidates, notes):
    result = match_narrator(heard, candidates, notes=notes)
    assert 0.0 <= result.confidence <= 1.0
    if result.name is None:
        assert result.confidence == 0.0
    elif result.source == "speech":
        words = result.name.casefold().split()  # casefold: "ß".title() is "Ss"
        assert any(fold(h).casefold().split()[:len(words)] == words for h in heard)
    else:
        assert result.name in {" ".join(c.name.split()) for c in candidates}
        assert result.source in {c.source for c in candidates}


@given(st.one_of(st.text(max_size=200),
                 st.lists(_WORDS, max_size=30).map(" ".join)))
def test_find_credit_is_total(text):
    names = find_credit(text)
    assert len(names) == len(set(names))
    assert all(1 <= len(n.split()) <= 4 for n in names)
