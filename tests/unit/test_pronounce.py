"""Guessed pronunciations for names the recogniser's dictionary lacks (R16)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamcrawler.adapters.audio.pronounce import LETTER_SOUNDS, guess_phones

DICTIONARY = {"harding": "HH AA R D IH NG", "ham": "HH AE M", "kell": "K EH L",
              "gren": "G R EH N", "dot": "D AA T", "rice": "R AY S", "porter": "P AO R T ER",
              "do": "D UW", "tri": "T R AY"}


@pytest.mark.parametrize(("word", "phones"), [
    ("porter", "P AO R T ER"),  # known: the dictionary's own
    ("hardingham", "HH AA R D IH NG HH AE M"),
    ("kellgren", "K EH L G R EH N"),
    ("dotrice", "D AA T R AY S"),  # fewest pieces: "dot"+"rice", not "do"+"tri"+...
    ("hobb", "HH AA B B"),  # no piece fits: letter by letter
    ("hamx", "HH AE M K S"),
    ("", None), ("o'neil", None), ("x" * 25, None),
])
def test_guess_phones(word, phones):
    assert guess_phones(word, DICTIONARY.get) == phones


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=24))
def test_every_word_of_letters_gets_known_phones(word):
    phones = guess_phones(word, DICTIONARY.get).split()
    known = {p for v in [*DICTIONARY.values(), *LETTER_SOUNDS.values()] for p in v.split()}
    assert phones and set(phones) <= known
