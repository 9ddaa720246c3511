"""Normalisation used for de-duplication."""

import pytest

from mamcrawler.domain.text import book_key, normalize_person, normalize_title


@pytest.mark.parametrize(("a", "b"), [
    ("The Way of Kings", "way of kings"),
    ("The Way of Kings (Unabridged)", "The Way of Kings"),
    ("Mistborn: The Final Empire", "mistborn the final empire"),
    ("Les Misérables", "Les Miserables"),
    ("Pride & Prejudice", "Pride and Prejudice"),
])
def test_same_title(a, b):
    assert normalize_title(a) == normalize_title(b)


@pytest.mark.parametrize(("a", "b"), [
    ("J. R. R. Tolkien", "J.R.R. Tolkien"),
    ("Brandon  Sanderson", "brandon sanderson"),
])
def test_same_person(a, b):
    assert normalize_person(a) == normalize_person(b)


def test_different_books_differ():
    assert book_key("Dune", "Frank Herbert") != book_key("Dune Messiah", "Frank Herbert")
    assert book_key("Dune", "Frank Herbert") != book_key("Dune", "Brian Herbert")
