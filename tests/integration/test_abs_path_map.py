"""Audiobookshelf in a container (issue 16): the contract fake reports its library folder
and items under /audiobooks while the service files books into the real folder; the push
and the scan find them through ABS_PATH_MAP."""

from __future__ import annotations

import pytest

from mamcrawler.adapters.audiobookshelf import AbsClient
from mamcrawler.services import library
from mamcrawler.services.download_watch import ask_abs_to_scan
from mamcrawler.services.metadata_abs import AbsPusher
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Book
from tests.support.abs_fake import ABS_TOKEN

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
REL = "Wren Calloway/The Night Ferry"


@pytest.fixture
def book(runtime, abs_fake):
    abs_fake.see_folder_as("/audiobooks")
    item_id = abs_fake.add_item(REL)
    with session_scope(runtime.sessions) as session:
        book = library.create_book(session, {
            "title": "The Night Ferry", "authors": ["Wren Calloway"],
            "narrators": ["Dax Ortiz"], "library_path": str(abs_fake.folder / REL)})
        session.flush()
        return book.id, item_id


def pusher(settings, abs_fake, client, **changes) -> AbsPusher:
    return AbsPusher(client, settings.model_copy(update={
        "library_dir": abs_fake.folder, **changes}))


def test_the_push_finds_the_item_through_the_mapping(runtime, settings, abs_fake, book):
    book_id, item_id = book
    assert abs_fake.items()[0]["path"] == f"/audiobooks/{REL}"
    mapped = {"abs_path_map": f"/audiobooks={abs_fake.folder}"}
    with AbsClient(abs_fake.base_url, ABS_TOKEN, min_interval_s=0) as client:
        assert pusher(settings, abs_fake, client, **mapped).push(
            runtime.sessions, book_id, {"narrators"}) is None
    (patched, body), = abs_fake.patches
    assert patched == item_id and body["metadata"] == {"narrators": ["Dax Ortiz"]}


def test_without_the_mapping_the_push_says_why(runtime, settings, abs_fake, book):
    book_id, _ = book
    with AbsClient(abs_fake.base_url, ABS_TOKEN, min_interval_s=0, max_attempts=1) as client:
        note = pusher(settings, abs_fake, client).push(runtime.sessions, book_id, None)
    assert note is not None and "its folders: /audiobooks" in note
    assert "ABS_PATH_MAP=<ABS's folder>=<the folder on this machine>" in note
    assert abs_fake.patches == []


def test_the_scan_after_an_import_finds_the_book_through_the_mapping(runtime, settings,
                                                                     abs_fake):
    abs_fake.see_folder_as("/audiobooks")
    rel = "sub/Wren Calloway/The Lantern Road"
    (abs_fake.folder / rel).mkdir(parents=True)
    (abs_fake.folder / rel / "book.m4b").write_bytes(b"m4b" * 100)
    with session_scope(runtime.sessions) as session:
        book_id = library.create_book(session, {
            "title": "The Lantern Road", "authors": ["Wren Calloway"],
            "library_path": str(abs_fake.folder / rel)}).id
    mapped = settings.model_copy(update={"library_dir": abs_fake.folder / "sub",
                                         "abs_path_map": f"/audiobooks={abs_fake.folder}"})
    with AbsClient(abs_fake.base_url, ABS_TOKEN, min_interval_s=0) as client:
        notes = ask_abs_to_scan(client, mapped, runtime.sessions, [book_id], wait_s=0)
    assert notes == ["Audiobookshelf shows 1 new book, metadata pushed"]
    assert len(abs_fake.scans) == 1
    [item] = abs_fake.items()
    assert item["path"] == f"/audiobooks/{rel}"
    with session_scope(runtime.sessions) as session:
        assert session.get(Book, book_id).abs_item_id == item["id"]
