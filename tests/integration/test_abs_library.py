"""After an import the service makes Audiobookshelf show the book (issue 14): it never
relies on a watcher update (ABS answers 200 with its watcher off and does nothing), scans
the item or the library, polls with a bounded wait for the folder to appear, and says
which did not. A full push clears what ABS read wrongly."""

from __future__ import annotations

import pytest

from mamcrawler.adapters.audiobookshelf import AbsClient
from mamcrawler.services import library
from mamcrawler.services.download_watch import ask_abs_to_scan
from mamcrawler.services.metadata_abs import AbsPusher
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Book

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


class Clock:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now, self.sleeps = 0.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def client(abs_fake):
    with AbsClient(abs_fake.base_url, abs_fake.token, min_interval_s=0,
                   max_attempts=1) as abs_client:
        yield abs_client


@pytest.fixture
def settings_for(settings, abs_fake):
    return settings.model_copy(update={"library_dir": abs_fake.folder})


def file_book(runtime, abs_fake, rel: str, *, audio: bool = True, **fields) -> int:
    folder = abs_fake.folder / rel
    folder.mkdir(parents=True)
    if audio:
        (folder / "book.m4b").write_bytes(b"m4b" * 100)
    with session_scope(runtime.sessions) as session:
        book = library.create_book(session, {"title": rel.rsplit("/", 1)[-1],
                                             "library_path": str(folder), **fields})
        session.flush()
        return book.id


def item_of(runtime, book_id: int) -> str | None:
    with session_scope(runtime.sessions) as session:
        return session.get(Book, book_id).abs_item_id


def test_a_new_book_is_scanned_shown_and_pushed_with_the_watcher_off(
        runtime, settings_for, abs_fake, client):
    abs_fake.disable_watcher()
    book_id = file_book(runtime, abs_fake, "Wren Calloway/The Night Ferry",
                        authors=["Wren Calloway"], narrators=["Dax Ortiz"])
    clock = Clock()
    notes = ask_abs_to_scan(client, settings_for, runtime.sessions, [book_id],
                            sleep=clock.sleep, clock=clock)
    assert notes == ["Audiobookshelf shows 1 new book, metadata pushed"]
    assert abs_fake.watcher_updates == [] and len(abs_fake.scans) == 1
    [item] = abs_fake.items()
    assert item_of(runtime, book_id) == item["id"] and clock.sleeps == []
    assert client.item(item["id"]).narrators == ("Dax Ortiz",)


def test_a_book_abs_does_not_show_is_named_after_a_bounded_wait(
        runtime, settings_for, abs_fake, client):
    shown = file_book(runtime, abs_fake, "Author/Readable")
    unread = file_book(runtime, abs_fake, "Author/Unreadable", audio=False)
    clock = Clock()
    notes = ask_abs_to_scan(client, settings_for, runtime.sessions, [shown, unread],
                            wait_s=30, sleep=clock.sleep, clock=clock)
    assert notes[0].startswith("Audiobookshelf does not show 1 of the books filed")
    assert str(abs_fake.folder / "Author/Unreadable") in notes[0]
    assert "ABS_PATH_MAP" in notes[0]
    assert notes[1] == "Audiobookshelf shows 1 new book, metadata pushed"
    assert clock.now == pytest.approx(30) and clock.sleeps[:4] == [1, 2, 4, 8]
    assert max(clock.sleeps) <= 10 and len(clock.sleeps) == 6  # 1+2+4+8+10+5
    assert item_of(runtime, shown) is not None and item_of(runtime, unread) is None
    assert len(abs_fake.scans) == 1


def test_a_stopping_process_does_not_wait(runtime, settings_for, abs_fake, client):
    unread = file_book(runtime, abs_fake, "Author/Unreadable", audio=False)
    clock = Clock()
    [note] = ask_abs_to_scan(client, settings_for, runtime.sessions, [unread],
                             sleep=clock.sleep, clock=clock, stop=lambda: True)
    assert note.startswith("Audiobookshelf does not show 1 of the books") and clock.now == 0


def test_a_replaced_book_gets_its_item_scanned_not_the_library(
        runtime, settings_for, abs_fake, client):
    book_id = file_book(runtime, abs_fake, "Author/Replaced")
    item_id = abs_fake.add_item("Author/Replaced")
    with session_scope(runtime.sessions) as session:
        session.get(Book, book_id).abs_item_id = item_id
    notes = ask_abs_to_scan(client, settings_for, runtime.sessions, [book_id])
    assert notes == ["Audiobookshelf shows 1 new book, metadata pushed"]
    assert abs_fake.item_scans == [item_id] and abs_fake.scans == []


def test_an_item_abs_lost_is_found_by_a_library_scan(runtime, settings_for, abs_fake, client):
    book_id = file_book(runtime, abs_fake, "Author/Moved")
    with session_scope(runtime.sessions) as session:
        session.get(Book, book_id).abs_item_id = "li_gone"
    clock = Clock()
    notes = ask_abs_to_scan(client, settings_for, runtime.sessions, [book_id],
                            sleep=clock.sleep, clock=clock)
    assert notes == ["Audiobookshelf shows 1 new book, metadata pushed"]
    assert len(abs_fake.scans) == 1 and clock.sleeps == []
    assert item_of(runtime, book_id) == abs_fake.items()[0]["id"]


def test_abs_refusing_the_scan_is_a_note(runtime, settings_for, abs_fake, client):
    book_id = file_book(runtime, abs_fake, "Author/Title")
    abs_fake.set_admin(False)
    [note] = ask_abs_to_scan(client, settings_for, runtime.sessions, [book_id])
    assert note.startswith("Audiobookshelf scan not started:") and "admin" in note


@pytest.mark.parametrize(("known", "after"), [([], ()), (["Ray Porter"], ("Ray Porter",))])
def test_a_full_push_clears_a_wrong_narrator(runtime, settings_for, abs_fake, client,
                                             known, after):
    """ABS read the narrator "Unknown" (a tag, a folder); the service knows better."""
    rel = "Dennis E. Taylor/Bobiverse/Book 1 - We Are Legion {Unknown}"
    item_id = abs_fake.add_item(rel)
    assert client.item(item_id).narrators == ("Unknown",)
    with session_scope(runtime.sessions) as session:
        book_id = library.create_book(session, {
            "title": "We Are Legion", "authors": ["Dennis E. Taylor"], "narrators": known,
            "series": [{"name": "Bobiverse", "position": "1"}],
            "library_path": str(abs_fake.folder / rel)}).id
    assert AbsPusher(client, settings_for).push(runtime.sessions, book_id, None) is None
    [(_, body)] = abs_fake.patches
    assert body["metadata"]["narrators"] == known  # sent even when empty
    item = client.item(item_id)
    assert item.narrators == after and item.series == (("Bobiverse", "1"),)
