"""A guessed pronunciation for a name the recogniser's dictionary lacks (R16).

Keyphrase spotting can only listen for words it can pronounce, and narrators' names are
often missing from pocketsphinx's dictionary (14 of 55 tried: "podehl", "hardingham",
"kellgren", ...). Most of them read as dictionary words run together ("harding" + "ham",
"kell" + "gren", "dot" + "rice"), so the guess is the fewest dictionary pieces of two or
more letters, with single letters (a plain letter-to-sound table) only where no piece
fits. Pure: the dictionary comes in as a lookup function.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

# One ARPAbet sound per letter, the usual one inside a name.
LETTER_SOUNDS = {
    "a": "AE", "b": "B", "c": "K", "d": "D", "e": "EH", "f": "F", "g": "G", "h": "HH",
    "i": "IH", "j": "JH", "k": "K", "l": "L", "m": "M", "n": "N", "o": "AA", "p": "P",
    "q": "K", "r": "R", "s": "S", "t": "T", "u": "AH", "v": "V", "w": "W", "x": "K S",
    "y": "IY", "z": "Z",
}
PIECE_COST, LETTER_COST = 2, 3
MAX_WORD = 24


def guess_phones(word: str, lookup: Callable[[str], str | None]) -> str | None:
    """Space-separated phones for a lower-case word of letters: its dictionary
    pronunciation when `lookup` has one, else the cheapest split into dictionary pieces
    (two letters or more, cost 2 each) and single letters (cost 3 each). None for an
    empty word, one with other characters than a-z, or one over 24 letters."""
    if not word or len(word) > MAX_WORD or not all(c in LETTER_SOUNDS for c in word):
        return None
    known = lookup(word)
    if known:
        return known

    @cache
    def best(start: int) -> tuple[int, tuple[str, ...]]:
        if start == len(word):
            return 0, ()
        cost, rest = best(start + 1)
        choice = (cost + LETTER_COST, (LETTER_SOUNDS[word[start]], *rest))
        for end in range(start + 2, len(word) + 1):
            phones = lookup(word[start:end])
            if phones:
                cost, rest = best(end)
                choice = min(choice, (cost + PIECE_COST, (phones, *rest)),
                             key=lambda c: c[0])
        return choice

    return " ".join(best(0)[1])
