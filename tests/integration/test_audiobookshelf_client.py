"""The Audiobookshelf client against the contract fake over real HTTP (R12)."""

import socket

import httpx
import pytest

from mamcrawler import USER_AGENT
from mamcrawler.adapters.audiobookshelf import (
    AbsAuthError,
    AbsBadResponse,
    AbsClient,
    AbsNotFound,
    AbsUnavailable,
)
from mamcrawler.adapters.audiobookshelf.client import parse_retry_after
from mamcrawler.domain.naming import library_relpath
from mamcrawler.services.library_import import import_download


@pytest.fixture
def waits():
    return []


@pytest.fixture
def client(abs_fake, waits):
    with AbsClient(abs_fake.base_url, abs_fake.token, timeout_s=5, min_interval_s=0,
                   sleep=waits.append) as abs_client:
        yield abs_client


def test_status_is_public(abs_fake):
    with AbsClient(abs_fake.base_url, "wrong", min_interval_s=0) as anonymous:
        status = anonymous.status()
    assert status.app == "audiobookshelf" and status.is_init and status.server_version


def test_libraries_and_the_library_for_a_path(client, abs_fake):
    [library] = client.libraries()
    assert library.id == abs_fake.library_id and library.media_type == "book"
    assert library.folders == (str(abs_fake.folder),)
    assert client.library_id_for_path(str(abs_fake.folder / "Author" / "Book")) == library.id
    assert client.library_id_for_path(str(abs_fake.folder)) == library.id
    with pytest.raises(AbsNotFound, match="set ABS_PATH_MAP=") as caught:
        client.library_id_for_path("/somewhere/else")
    assert str(abs_fake.folder) in str(caught.value)
    # A sibling with the same prefix is not inside the folder.
    with pytest.raises(AbsNotFound):
        client.library_id_for_path(f"{abs_fake.folder}-other/Book")


def test_requests_carry_the_token_and_an_honest_user_agent(abs_fake):
    seen = []

    def spy(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"libraries": []})

    with AbsClient("http://127.0.0.1:9", "tok-123", transport=httpx.MockTransport(spy),
                   min_interval_s=0) as abs_client:
        assert abs_client.libraries() == []
    assert seen[0].headers["authorization"] == "Bearer tok-123"
    assert seen[0].headers["user-agent"] == USER_AGENT


def test_import_then_scan_reads_the_book_back(tmp_path, client, abs_fake):
    download = tmp_path / "dl"
    download.mkdir()
    (download / "book.m4b").write_bytes(b"m4b" * 2000)
    relpath = library_relpath("Brandon Sanderson", "Mistborn", "2.5", "The Eleventh Metal",
                              ["Michael Kramer", "Kate Reading"])
    import_download(download, abs_fake.folder, relpath)

    client.scan_library(abs_fake.library_id)
    assert abs_fake.scans == [{"library_id": abs_fake.library_id, "force": False}]
    page = client.items(abs_fake.library_id, limit=10, page=0)
    assert page.total == 1
    [item] = page.items
    assert item.title == "The Eleventh Metal"
    assert item.authors == ("Brandon Sanderson",)
    assert item.series == (("Mistborn", "2.5"),)
    assert item.narrators == ("Michael Kramer", "Kate Reading")
    assert item.path == f"{abs_fake.folder}/{relpath.as_posix()}"


def test_force_scan_and_item_scan(client, abs_fake):
    client.scan_library(abs_fake.library_id, force=True)
    assert abs_fake.scans[-1]["force"] is True
    item_id = abs_fake.add_item("Author/Title")
    assert client.scan_item(item_id) == "UPTODATE"
    assert abs_fake.item_scans == [item_id]


def test_update_media(client, abs_fake):
    item_id = abs_fake.add_item("Robert Jordan/The Wheel of Time/Book 1 - The Eye of the World")
    fields = {"narrators": ["Michael Kramer", "Kate Reading"],
              "series": [{"name": "The Wheel of Time", "sequence": "1"}], "asin": "B002V0QK4C"}
    assert client.update_media(item_id, fields) is True
    assert abs_fake.patches == [(item_id, {"metadata": fields})]
    assert client.update_media(item_id, fields) is False  # nothing changed the second time
    [item] = client.items(abs_fake.library_id).items
    assert item.narrators == ("Michael Kramer", "Kate Reading") and item.asin == "B002V0QK4C"


def test_lists_are_minified_and_one_item_is_expanded(client, abs_fake):
    """As a real ABS: a list has only seriesName ("The Expanse #2"); ?expanded=1 the lists."""
    item_id = abs_fake.add_item("James S. A. Corey/The Expanse/Book 2 - Caliban's War",
                                narrators=["Jefferson Mays"])
    [listed] = client.items(abs_fake.library_id).items
    meta = listed.raw["media"]["metadata"]
    assert "series" not in meta and "narrators" not in meta
    assert meta["seriesName"] == "The Expanse #2"
    assert listed.series == (("The Expanse", "2"),)
    assert listed.authors == ("James S. A. Corey",) and listed.narrators == ("Jefferson Mays",)
    one = client.item(item_id)
    assert one.raw["media"]["metadata"]["series"][0]["sequence"] == "2"
    assert (one.series, one.authors, one.narrators, one.path) == (
        listed.series, listed.authors, listed.narrators, listed.path)
    with pytest.raises(AbsNotFound):
        client.item("li_nope")


def test_a_sequence_is_always_sent_as_text(client, abs_fake):
    item_id = abs_fake.add_item("Frank Herbert/Dune/Book 1 - Dune")
    raw = {"metadata": {"series": [{"name": "Dune", "sequence": 2}]}}
    httpx.patch(f"{abs_fake.base_url}/api/items/{item_id}/media", json=raw,
                headers={"Authorization": f"Bearer {abs_fake.token}"}).raise_for_status()
    assert client.item(item_id).series == (("Dune", None),)  # ABS drops a numeric one

    assert client.update_media(item_id, {"series": [{"name": "Dune", "sequence": 2},
                                                    {"name": "Chronicles", "sequence": 1.5}]})
    assert abs_fake.patches[-1][1]["metadata"]["series"] == [
        {"name": "Dune", "sequence": "2"}, {"name": "Chronicles", "sequence": "1.5"}]
    assert client.item(item_id).series == (("Dune", "2"), ("Chronicles", "1.5"))


def test_an_empty_list_is_sent_and_clears(client, abs_fake):
    item_id = abs_fake.add_item("Author/Title {Unknown}")
    assert client.item(item_id).narrators == ("Unknown",)
    assert client.update_media(item_id, {"narrators": [], "series": []}) is True
    assert abs_fake.patches == [(item_id, {"metadata": {"narrators": [], "series": []}})]
    assert client.item(item_id).narrators == ()


def test_pages(client, abs_fake):
    for n in range(5):
        abs_fake.add_item(f"Author/Book {n}")
    first, last = client.items(abs_fake.library_id, limit=2, page=0), \
        client.items(abs_fake.library_id, limit=2, page=2)
    assert first.total == 5 and len(first.items) == 2 and len(last.items) == 1
    assert last.page == 2


def test_wrong_token_says_to_check_abs_token(abs_fake):
    with AbsClient(abs_fake.base_url, "wrong-token", min_interval_s=0) as abs_client:
        with pytest.raises(AbsAuthError, match="check ABS_TOKEN") as caught:
            abs_client.libraries()
    assert caught.value.status == 401
    assert "wrong-token" not in str(caught.value)


def test_non_admin_token_cannot_scan(client, abs_fake):
    abs_fake.set_admin(False)
    with pytest.raises(AbsAuthError, match="admin") as caught:
        client.scan_library(abs_fake.library_id)
    assert caught.value.status == 403
    assert abs_fake.scans == []


def test_unknown_library_says_to_check_the_id(client, abs_fake):
    with pytest.raises(AbsNotFound, match="check ABS_LIBRARY_ID"):
        client.scan_library("lib_nope")
    with pytest.raises(AbsNotFound):
        client.update_media("li_nope", {"title": "x"})


def test_connection_refused_says_to_check_abs_url():
    with socket.socket() as sock:  # a port that is certainly closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    waits = []
    with AbsClient(f"http://127.0.0.1:{port}", "tok", timeout_s=2, min_interval_s=0,
                   sleep=waits.append) as abs_client:
        with pytest.raises(AbsUnavailable, match="check ABS_URL"):
            abs_client.libraries()
        assert len(waits) == 2  # reads try 3 times
        with pytest.raises(AbsUnavailable, match="connection refused"):
            abs_client.scan_library("lib")
        assert len(waits) == 2  # writes are sent once


def test_reads_retry_5xx_and_429_with_back_off(client, abs_fake, waits):
    abs_fake.fail(500, count=1, path="/api/libraries")
    abs_fake.fail(429, count=1, path="/api/libraries", retry_after=7)
    assert len(client.libraries()) == 1
    assert waits == [1.0, 7.0]  # back-off, then the server's Retry-After


def test_reads_give_up_after_the_attempts(client, abs_fake, waits):
    abs_fake.fail(503, count=5, path="/api/libraries")
    with pytest.raises(AbsUnavailable, match="HTTP 503") as caught:
        client.libraries()
    assert caught.value.status == 503 and waits == [1.0, 2.0]


def test_writes_are_not_retried(client, abs_fake, waits):
    abs_fake.fail(500, count=1, path="/api/libraries")
    with pytest.raises(AbsUnavailable):
        client.scan_library(abs_fake.library_id)
    assert waits == [] and abs_fake.scans == []


def test_a_401_injected_by_the_fake(client, abs_fake):
    abs_fake.fail(401, path="/api/libraries")
    with pytest.raises(AbsAuthError):
        client.libraries()


def test_not_audiobookshelf_answers(client, abs_fake):
    def proxy_page(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>login</html>")

    with AbsClient("http://127.0.0.1:9", "t", transport=httpx.MockTransport(proxy_page),
                   min_interval_s=0) as abs_client:
        with pytest.raises(AbsBadResponse, match="not JSON"):
            abs_client.libraries()

    def teapot(request: httpx.Request) -> httpx.Response:
        return httpx.Response(418, text="I'm a teapot with token t0k3n")

    with AbsClient("http://127.0.0.1:9", "t0k3n", transport=httpx.MockTransport(teapot),
                   min_interval_s=0) as abs_client:
        with pytest.raises(AbsBadResponse, match="HTTP 418") as caught:
            abs_client.libraries()
    assert "t0k3n" not in str(caught.value)


@pytest.mark.parametrize(("header", "seconds"), [
    ("5", 5.0), ("0", 0.0), (None, None), ("soon", None),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
])
def test_parse_retry_after(header, seconds):
    assert parse_retry_after(header) == seconds
