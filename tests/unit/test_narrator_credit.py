"""Narrator (R16): credit phrases to spot, verdicts from what was spotted, and how they
combine with open decoding and the candidates."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamcrawler.domain.narrator import NarratorCandidate
from mamcrawler.domain.narrator_credit import (
    AUTHOR,
    CO,
    NARRATOR,
    Confirmation,
    CreditPhrase,
    Spotted,
    authors_heard,
    confirm,
    credit_phrases,
    decide,
)

C = NarratorCandidate
S = Spotted
KRAMER, READING, PAGE = C("Michael Kramer", "tracker"), C("Kate Reading", "tracker"), \
    C("Michael Page", "tags")
PHRASES = credit_phrases([KRAMER, READING, PAGE, C("Brandon Sanderson", "openlibrary")],
                         ["Brandon Sanderson"])


def test_credit_phrases_for_narrators_co_narrators_and_authors():
    phrases = credit_phrases([C("R.C. Bray", "tags"), C("r c bray", "tracker"), C(" ", "x")],
                             ["Andy Weir", ""])
    assert phrases == (
        CreditPhrase("narrated by r c bray", "R.C. Bray", NARRATOR),
        CreditPhrase("read by r c bray", "R.C. Bray", NARRATOR),
        CreditPhrase("performed by r c bray", "R.C. Bray", NARRATOR),
        CreditPhrase("full cast r c bray", "R.C. Bray", NARRATOR),
        CreditPhrase("and r c bray", "R.C. Bray", CO),
        CreditPhrase("written by andy weir", "Andy Weir", AUTHOR),
    )
    assert credit_phrases([], []) == ()


def verdicts(spotted, phrases=PHRASES):
    return {c.name: (c.confirmed, c.confidence) for c in confirm(phrases, spotted)}


@pytest.mark.parametrize(("spotted", "expected"), [
    # Nothing spotted: every candidate rejected, with 0.
    ([], {}),
    # Seen with "This is Audible ... narrated by Michael Kramer and Kate Reading": the
    # co-narrator right after the credit counts.
    ([S("narrated by michael kramer", 4.22, 6.02, 0.99), S("and kate reading", 6.11, 7.05, 0.81)],
     {"Michael Kramer": (True, 0.99), "Kate Reading": (True, 0.81)}),
    # The recogniser also offered "michael page" over the same stretch: the stronger wins.
    ([S("narrated by michael page", 4.22, 5.5, 0.78), S("narrated by michael kramer", 4.22, 6.02,
                                                        0.99)],
     {"Michael Kramer": (True, 0.99)}),
    # Below MIN_PROB nothing counts.
    ([S("narrated by michael kramer", 4.2, 6.0, 0.5)], {}),
    # "and X" with no credit before it ("... by brandon sanderson") confirms nobody.
    ([S("and kate reading", 2.6, 3.9, 0.98)], {}),
    ([S("read by michael kramer", 1.0, 2.0, 0.9), S("and kate reading", 5.0, 6.0, 0.9)],
     {"Michael Kramer": (True, 0.9)}),
    # A chain: "narrated by A and B and C".
    ([S("narrated by michael kramer", 0, 2, 0.9), S("and kate reading", 2.1, 3, 0.8),
      S("and michael page", 3.2, 4, 0.75)],
     {"Michael Kramer": (True, 0.9), "Kate Reading": (True, 0.8), "Michael Page": (True, 0.75)}),
    # An author's credit vetoes the same name's narrator phrase over the same stretch...
    ([S("written by brandon sanderson", 1, 3, 0.8), S("narrated by brandon sanderson", 1.1, 3,
                                                      0.95)], {}),
    # ... but not elsewhere (an author reading their own book).
    ([S("written by brandon sanderson", 1, 3, 0.8), S("narrated by brandon sanderson", 9, 11,
                                                      0.95)],
     {"Brandon Sanderson": (True, 0.95)}),
])
def test_confirm(spotted, expected):
    got = verdicts(spotted)
    names = ["Michael Kramer", "Kate Reading", "Michael Page", "Brandon Sanderson"]
    assert list(got) == names
    assert {n: v for n, v in got.items() if v[0]} == expected
    assert all(v == (False, 0.0) for n, v in got.items() if n not in expected)


def test_an_author_credit_is_the_reason_given():
    found = confirm(PHRASES, [S("written by brandon sanderson", 1, 3, 0.9)])
    sanderson = next(c for c in found if c.name == "Brandon Sanderson")
    assert not sanderson.confirmed
    assert sanderson.reason == "heard 'written by brandon sanderson': an author's credit"
    assert authors_heard(PHRASES, [S("written by brandon sanderson", 1, 3, 0.9)]) == \
        ("Brandon Sanderson",)
    assert authors_heard(PHRASES, [S("written by brandon sanderson", 1, 3, 0.2)]) == ()


def yes(name, p=0.9):
    return Confirmation(name, True, p, f"heard 'narrated by {name.lower()}' ({p:.2f})")


def no(name, reason="no credit for this name heard"):
    return Confirmation(name, False, 0.0, reason)


@pytest.mark.parametrize(("heard", "confirmations", "candidates", "authors", "name", "speech"), [
    # Confirmed wins over a disagreeing source, and open decoding's garbage is set aside.
    (["rape torture"], [yes("Ray Porter"), no("Scott Brick")],
     [C("Scott Brick", "tags"), C("Ray Porter", "tracker")], [], "Ray Porter", ("Ray Porter",)),
    # Confirmed co-narrators are both heard.
    (["michael kramer kincaid reading"], [yes("Michael Kramer"), yes("Kate Reading")],
     [KRAMER, READING, PAGE], [], "Michael Kramer", ("Michael Kramer", "Kate Reading")),
    # Open decoding heard the confirmed name: its co-narrator stays.
    (["michael kramer", "kate reading wow", "julia well"],
     [yes("Michael Kramer"), no("Kate Reading")],
     [KRAMER, C("Kate Reading", "tags")], [], "Michael Kramer",
     ("Michael Kramer", "Kate Reading")),
    # It did not: its names are set aside.
    (["michael page"], [yes("Michael Kramer"), no("Michael Page")], [KRAMER, PAGE], [],
     "Michael Kramer", ("Michael Kramer",)),
    # Nothing confirmed: open decoding still counts...
    (["michael page"], [no("Michael Kramer"), no("Michael Page")], [KRAMER, PAGE], [],
     "Michael Page", ("Michael Page",)),
    # ... unless the name heard is the author whose "written by" was spotted.
    (["andy weir"], [no("Andy Weir", "heard 'written by andy weir': an author's credit"),
                     no("Ray Porter")],
     [C("Andy Weir", "openlibrary"), C("Ray Porter", "tags")], ["Andy Weir"], None, ()),
    # No credit at all: the candidates decide alone, speech names nobody.
    ([], [no("Ray Porter")], [C("Ray Porter", "tags")], [], "Ray Porter", ()),
    ([], [no("Ray Porter"), no("Andy Weir")],
     [C("Ray Porter", "tags"), C("Andy Weir", "openlibrary")], [], None, ()),
    # No candidates: open decoding alone, as before.
    (["simon vance"], [], [], [], "Simon Vance", ("Simon Vance",)),
])
def test_decide(heard, confirmations, candidates, authors, name, speech):
    result = decide(heard, confirmations, candidates, authors_credited=authors, notes=["n"])
    assert result.name == name, result.evidence
    assert result.heard == speech
    assert "n" in result.evidence
    assert 0.0 <= result.confidence <= 1.0


def test_decide_explains_what_it_set_aside():
    result = decide(["rape torture"], [yes("Ray Porter")], [C("Ray Porter", "tags")])
    assert "speech: confirmed Ray Porter: heard 'narrated by ray porter' (0.90)" in \
        result.evidence
    assert "speech: set aside 'rape torture': not among the confirmed narrators" in \
        result.evidence
    assert result.confidence == pytest.approx(0.9)  # tags 0.5 + speech 0.8


_names = st.sampled_from(["Michael Kramer", "Kate Reading", "Michael Page",
                          "Brandon Sanderson"])
_spotted = st.builds(
    lambda verb, name, start, length, prob: S(f"{verb} {name.lower()}", start, start + length,
                                              prob),
    st.sampled_from(["narrated by", "read by", "and", "written by"]), _names,
    st.floats(0, 20), st.floats(0.1, 3), st.floats(0, 1))


@given(st.lists(_spotted, max_size=6))
def test_written_by_alone_never_confirms_anyone(spotted):
    only_authors = [s for s in spotted if s.phrase.startswith("written by")]
    assert not any(c.confirmed for c in confirm(PHRASES, only_authors))
    # And whatever is spotted, a confirmation rests on a phrase heard well enough.
    for verdict in confirm(PHRASES, spotted):
        assert verdict.confirmed == (verdict.confidence >= 0.7)
