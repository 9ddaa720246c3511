"""Parsing of tracker replies: every quirk listed in reference/mam-api.md."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamcrawler.adapters.mam import SearchQuery, TrackerBadResponse, TrackerRefused
from mamcrawler.adapters.mam.errors import TrackerAuthError, scrub
from mamcrawler.adapters.mam.parse import (
    parse_account_stats,
    parse_purchase,
    parse_search,
    parse_search_page,
    parse_seedbox,
    parse_site_events,
)
from mamcrawler.adapters.mam.transport import parse_retry_after, rotated_cookie
from mamcrawler.adapters.mam.values import (
    parse_people,
    parse_ratio,
    parse_series,
    parse_size,
    parse_utc,
    to_flag,
    to_int,
)
from mamcrawler.domain.records import SeriesRef
from mamcrawler.sim.torrents import bencode, build_torrent, generated_content
from mamcrawler.torrentfile import BencodeError, decode, read_torrent

KIB, MIB, GIB, TIB = 1024, 1024**2, 1024**3, 1024**4

# The example result from reference/mam-api.md, verbatim.
REFERENCE_RESULT = json.loads(r"""
{"id":1173876,"title":"When We Meet Again",
 "author_info":"{\"325312\": \"Hayden Hall\"}",
 "narrator_info":"{\"44239\": \"Curtis Michael Holland\"}",
 "series_info":"{\"126732\": [\"Rainey Paxton\", \"3\"]}",
 "tags":"96Kb 2 channel Stereo","added":"2025-08-17 04:03:33","my_snatched":0,
 "language":1,"lang_code":"ENG","main_cat":13,"category":46,"catname":"Audiobooks - Romance",
 "size":"296.0 MiB","filetype":"m4b","numfiles":1,"seeders":26,"leechers":0,
 "times_completed":28,"vip":1,"free":0,"personal_freeleech":0,"fl_vip":1}
""")


@pytest.mark.parametrize(("raw", "expected"), [
    ("5.125 TiB", int(5.125 * TIB)),
    ("296.0 MiB", 296 * MIB),
    ("1,234.5 KiB", round(1234.5 * KIB)),
    ("12 GB", 12 * GIB),
    ("  7.0 mib ", 7 * MIB),
    ("512 B", 512),
    ("0", 0),
    (1024, 1024),
    (1.5, 1),
    ("", None),
    ("abc", None),
    ("1.5 XB", None),
    (None, None),
    (-5, None),
])
def test_sizes(raw: object, expected: int | None) -> None:
    assert parse_size(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    (2.5, 2.5), ("2.50", 2.5), ("1,234.5", 1234.5), (0, 0.0), ("0.99", 0.99),
    ("∞", None), (" ∞ ", None), ("Inf", None), ("infinity", None), (float("inf"), None),
])
def test_ratio(raw: object, expected: float | None) -> None:
    assert parse_ratio(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "", None, "-1", "nan", [], {}])
def test_unreadable_ratio_is_refused_not_guessed(raw: object) -> None:
    with pytest.raises(ValueError):
        parse_ratio(raw)


@pytest.mark.parametrize(("raw", "expected"), [
    (1, True), ("1", True), (True, True), ("true", True), ("yes", True), (" 1 ", True),
    (0, False), ("0", False), (False, False), ("", False), (None, False), ("false", False),
    ("no", False), ([], False),
])
def test_flags(raw: object, expected: bool) -> None:
    assert to_flag(raw) is expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("1,234", 1234), ("7", 7), (7.9, 7), ("x", None), (None, None), (True, 1), ("1e999", None),
])
def test_ints(raw: object, expected: int | None) -> None:
    assert to_int(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("2025-08-17 04:03:33", datetime(2025, 8, 17, 4, 3, 33, tzinfo=UTC)),
    ("2025-08-17T04:03:33Z", datetime(2025, 8, 17, 4, 3, 33, tzinfo=UTC)),
    ("2025-08-17T06:03:33+02:00", datetime(2025, 8, 17, 4, 3, 33, tzinfo=UTC)),
    (1_700_000_000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
    ("0000-00-00 00:00:00", None), (None, None), ("", None), ("garbage", None),
])
def test_times_are_utc(raw: object, expected: datetime | None) -> None:
    assert parse_utc(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ('{"325312": "Hayden Hall"}', ("Hayden Hall",)),
    ('{"1": "A", "2": "B"}', ("A", "B")),
    ('{"1": "Tom O&#039;Hanlon"}', ("Tom O'Hanlon",)),
    ('{"1": "Smith &amp; Jones"}', ("Smith & Jones",)),
    ('{"1": "Elena &quot;Ellie&quot; Marsh"}', ('Elena "Ellie" Marsh',)),
    ('{"1": "&amp;#039;Double&amp;#039;"}', ("'Double'",)),
    ('{"1": "Caf\\u00e9 Owner"}', ("Café Owner",)),
    ('{"1": "Elena "Ellie" Marsh", "2": "Bo"}', ('Elena "Ellie" Marsh', "Bo")),
    ('{"1": "Jo "Jojo" Ray"}', ('Jo "Jojo" Ray',)),
    ('{"1": "Caf\\u00e9 "Q" Owner"}', ('Café "Q" Owner',)),
    ("{&quot;1&quot;: &quot;Ann&quot;}", ("Ann",)),
    (json.dumps('{"1": "Ann"}'), ("Ann",)),
    ({"1": "Ann"}, ("Ann",)),
    ('{"1": "Ann", "2": "Ann"}', ("Ann",)),
    ('{"1": "  Spaced   Out  "}', ("Spaced Out",)),
    ('{"1": ["Listed", "x"]}', ("Listed",)),
    ("", ()), (None, ()), ("[]", ()), ("{}", ()), ("garbage", ()), ('{"1": "Trunc', ()),
    (12, ()),
])
def test_people_fields(raw: object, expected: tuple[str, ...]) -> None:
    assert parse_people(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ('{"126732": ["Rainey Paxton", "3"]}', (SeriesRef("Rainey Paxton", "3"),)),
    ('{"1": ["S", ""]}', (SeriesRef("S", None),)),
    ('{"1": ["S", 2.5]}', (SeriesRef("S", "2.5"),)),
    ('{"1": ["S", 3]}', (SeriesRef("S", "3"),)),
    ('{"1": ["S", 3.0]}', (SeriesRef("S", "3"),)),
    ('{"1": ["A &amp; B", "1-3"]}', (SeriesRef("A & B", "1-3"),)),
    ('{"1": ["S", "01"]}', (SeriesRef("S", "1"),)),
    ('{"1": ["S", "1&ndash;3"]}', (SeriesRef("S", "1-3"),)),
    ('{"1": ["S", "Book 2,5"]}', (SeriesRef("S", "2.5"),)),
    ('{"1": ["S", "Prequel"]}', (SeriesRef("S", None),)),
    ('{"1": ["S", true]}', (SeriesRef("S", None),)),
    ('{"1": ["One", "1"], "2": ["Two", "4"]}', (SeriesRef("One", "1"), SeriesRef("Two", "4"))),
    ('{"1": ["The "Lost" Tapes", "2"]}', (SeriesRef('The "Lost" Tapes', "2"),)),
    ('{"1": ["The "Lost" Tapes", "2"], "2": ["B", "1"]}',
     (SeriesRef('The "Lost" Tapes', "2"), SeriesRef("B", "1"))),
    ('{"1": "Just a name"}', (SeriesRef("Just a name", None),)),
    ('{"1": ["Neon', ()), ("", ()), (None, ()), ("[[[", ()),
])
def test_series_fields(raw: object, expected: tuple[SeriesRef, ...]) -> None:
    assert parse_series(raw) == expected


def _stats(layout: str) -> dict:
    buckets = {
        "sSat": {"name": "Seeding & satisfied", "count": 312, "red": False, "size": "1.2 TiB"},
        "seedHnr": {"name": "H&R", "count": "2", "red": "1", "size": 5 * GIB},
        "unsat": {"name": "Unsatisfied", "count": "7", "red": 0, "size": "2.4 GiB",
                  "limit": "150"},
        "inactHnr": {"name": "Inactive H&R", "count": 0, "red": True, "size": 0},
    }
    base = {
        "username": "SimMouse", "uid": "424242", "classname": "VIP", "ratio": "2.50",
        "uploaded": "5.125 TiB", "downloaded": "2.05 TiB", "uploaded_bytes": "5634997092352",
        "downloaded_bytes": 2253998836940, "seedbonus": "48,250.5", "wedges": "3",
        "vip_until": "2025-10-01 12:00:00", "connectable": "yes",
    }
    return base | ({"snatch_summary": buckets} if layout == "nested" else buckets)


@pytest.mark.parametrize("layout", ["nested", "flat"])
def test_account_stats_both_layouts(layout: str) -> None:
    stats = parse_account_stats(_stats(layout))
    assert (stats.username, stats.uid, stats.class_name) == ("SimMouse", 424242, "VIP")
    assert stats.ratio == 2.5
    assert (stats.uploaded_bytes, stats.downloaded_bytes) == (5634997092352, 2253998836940)
    assert stats.bonus_points == 48250.5 and stats.wedges == 3 and stats.connectable is True
    assert stats.vip_until == datetime(2025, 10, 1, 12, tzinfo=UTC)
    assert stats.unsatisfied_count == 7 and stats.unsatisfied_limit == 150
    assert stats.buckets["seedHnr"].red and stats.buckets["seedHnr"].count == 2
    assert stats.buckets["seedHnr"].size_bytes == 5 * GIB
    assert stats.buckets["sSat"].size_bytes == round(1.2 * TIB) and not stats.buckets["sSat"].red
    assert stats.buckets["inactHnr"].red and stats.buckets["sSat"].limit is None


@pytest.mark.parametrize(("changes", "check"), [
    ({"ratio": "∞", "downloaded_bytes": 0}, lambda s: s.ratio is None),
    ({"ratio": 0.98}, lambda s: s.ratio == 0.98),
    ({"vip_until": None, "classname": "Power User"}, lambda s: s.vip_until is None),
    ({"uploaded_bytes": None}, lambda s: s.uploaded_bytes == int(5.125 * TIB)),
    ({"connectable": "no"}, lambda s: s.connectable is False),
    ({"connectable": None}, lambda s: s.connectable is None),
    ({"ratio": None, "downloaded_bytes": 0}, lambda s: s.ratio is None),
    ({"ratio": None, "downloaded_bytes": 100, "uploaded_bytes": 250},
     lambda s: s.ratio == 2.5),
    ({"wedges": None}, lambda s: s.wedges == 0),
])
def test_account_stats_quirks(changes: dict, check) -> None:
    assert check(parse_account_stats(_stats("nested") | changes))


@pytest.mark.parametrize("payload", [
    {"error": "Not logged in"}, [], "text", _stats("nested") | {"ratio": "abc"},
    _stats("nested") | {"seedbonus": None}, _stats("nested") | {"uploaded_bytes": None,
                                                                "uploaded": "lots"},
])
def test_account_stats_unusable(payload: object) -> None:
    with pytest.raises(TrackerBadResponse):
        parse_account_stats(payload)


def test_stats_without_snatch_summary_have_no_buckets() -> None:
    payload = {k: v for k, v in _stats("flat").items() if not isinstance(v, dict)}
    stats = parse_account_stats(payload)
    assert stats.buckets == {} and stats.unsatisfied_limit is None
    assert stats.unsatisfied_count is None  # unknown, never 0


@pytest.mark.parametrize("unsat", [{"limit": 150}, {"count": None, "limit": 150},
                                   {"count": "n/a", "limit": 150}, {"count": -3, "limit": 150},
                                   {"count": "inf", "limit": 150}])
def test_an_unreadable_unsatisfied_count_is_unknown_not_zero(unsat: dict) -> None:
    # issue 9 case 5: these were read as 0, giving a capacity of 140 instead of none
    payload = _stats("nested")
    payload["snatch_summary"] = {**payload["snatch_summary"], "unsat": unsat}
    stats = parse_account_stats(payload)
    assert stats.unsatisfied_count is None and stats.unsatisfied_limit == 150


def test_reference_search_result() -> None:
    [release] = parse_search({"perpage": 5, "start": 0, "total": 1, "found": 1,
                              "data": [REFERENCE_RESULT]})
    assert release.id == "1173876" and release.title == "When We Meet Again"
    assert release.authors == ("Hayden Hall",)
    assert release.narrators == ("Curtis Michael Holland",)
    assert release.series == (SeriesRef("Rainey Paxton", "3"),)
    assert (release.category_id, release.category_name) == (46, "Audiobooks - Romance")
    assert (release.language, release.format, release.file_count) == ("ENG", "m4b", 1)
    assert release.size_bytes == 296 * MIB
    assert (release.seeders, release.leechers, release.snatches) == (26, 0, 28)
    assert release.added == datetime(2025, 8, 17, 4, 3, 33, tzinfo=UTC)
    assert release.vip_free and not release.free and not release.personal_freeleech


def test_numbers_and_flags_as_strings() -> None:
    stringy = {k: str(v) for k, v in REFERENCE_RESULT.items()}
    stringy |= {"free": "1", "personal_freeleech": "1", "fl_vip": "0", "title": "A &amp; B"}
    [release] = parse_search({"data": [stringy], "total": "1"})
    assert release.seeders == 26 and release.category_id == 46 and release.file_count == 1
    assert release.free and release.personal_freeleech and not release.vip_free
    assert release.title == "A & B"


@pytest.mark.parametrize("error", ["Nothing returned, out of 0", "Nothing returned, out of 5812",
                                   " Nothing returned"])
def test_nothing_returned_is_empty(error: str) -> None:
    assert parse_search({"error": error}) == []


@pytest.mark.parametrize("payload", [
    {"error": "Invalid search"}, {"message": "Search is disabled"}, {"data": "x", "total": 3},
    [], None,
])
def test_other_search_errors(payload: object) -> None:
    with pytest.raises(TrackerBadResponse):
        parse_search(payload)


def test_search_without_data_and_no_total_is_empty() -> None:
    assert parse_search({"total": 0}) == []


def test_one_bad_result_keeps_the_others(caplog: pytest.LogCaptureFixture) -> None:
    good2 = REFERENCE_RESULT | {"id": "7", "title": "Second"}
    data = [REFERENCE_RESULT, {"id": "n/a", "title": "Broken"}, "junk", {"title": "no id"},
            REFERENCE_RESULT | {"id": 9, "title": ""}, good2]
    with caplog.at_level(logging.WARNING):
        page = parse_search_page({"data": data, "total": 6, "perpage": 25})
    assert [r.id for r in page.releases] == ["1173876", "7"]
    assert page.skipped == 4 and page.total == 6
    assert "skipped" in caplog.text


def test_damaged_fields_do_not_drop_a_result() -> None:
    damaged = REFERENCE_RESULT | {"added": "yesterday", "size": "big", "seeders": "many",
                                  "series_info": '{"1": ["Broken', "filetype": None}
    [release] = parse_search({"data": [damaged]})
    assert release.added is None and release.size_bytes == 0 and release.seeders == 0
    assert release.series == () and release.format is None and release.authors


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)
junk_info = st.one_of(
    st.text(max_size=60),
    st.text(alphabet='{}[]":,\\&;#0123456789 ab', max_size=60),
    st.builds(lambda v: json.dumps(v), json_values),
    json_values,
)


@settings(max_examples=300, deadline=None)
@given(authors=junk_info, narrators=junk_info, series=junk_info)
def test_junk_info_fields_never_raise_or_lose_results(authors: object, narrators: object,
                                                      series: object) -> None:
    junk = REFERENCE_RESULT | {"id": 2, "author_info": authors, "narrator_info": narrators,
                               "series_info": series}
    releases = parse_search({"data": [REFERENCE_RESULT, junk, REFERENCE_RESULT | {"id": 3}]})
    assert [r.id for r in releases] == ["1173876", "2", "3"]
    assert releases[0].authors == ("Hayden Hall",) and releases[2].series
    assert all(isinstance(name, str) and name for name in releases[1].authors)


@settings(max_examples=200, deadline=None)
@given(junk=st.lists(json_values, max_size=5))
def test_junk_results_never_lose_good_ones(junk: list) -> None:
    releases = parse_search({"data": [REFERENCE_RESULT, *junk, REFERENCE_RESULT | {"id": 5}]})
    ids = [r.id for r in releases]
    assert ids[0] == "1173876" and ids[-1] == "5"


def test_vip_purchase_reply() -> None:
    result = parse_purchase({"success": True, "type": "VIP", "amount": 4, "seedbonus": 43250},
                            "VIP")
    assert (result.kind, result.amount, result.points_left) == ("VIP", 4.0, 43250.0)


def test_upload_purchase_reply() -> None:
    result = parse_purchase({"success": "true", "type": "upload", "amount": "2",
                             "seedbonus": "42250.0", "uploaded": "5.127 TiB",
                             "downloaded": "2.05 TiB", "ratio": "2.5"}, "upload")
    assert result.uploaded_bytes == round(5.127 * TIB) and result.ratio == 2.5
    assert result.points_left == 42250.0


@pytest.mark.parametrize("payload", [
    {"success": False, "error": "Not enough bonus points"}, {"success": 0}, {},
])
def test_refused_purchase(payload: dict) -> None:
    with pytest.raises(TrackerRefused):
        parse_purchase(payload, "VIP")


@pytest.mark.parametrize(("msg", "changed"), [
    ("Completed", True), ("completed", True), ("No change", False), ("NO CHANGE", False),
    ("no Change", False),
])
def test_seedbox_messages_case_insensitive(msg: str, changed: bool) -> None:
    update = parse_seedbox({"Success": True, "msg": msg, "ip": "10.0.0.1", "ASN": 64512,
                            "AS": "Example"})
    assert update.changed is changed and update.ip == "10.0.0.1" and update.asn == "64512"


def test_seedbox_failure() -> None:
    with pytest.raises(TrackerRefused, match="too recent"):
        parse_seedbox({"Success": False, "msg": "Last change too recent"})


def test_site_events() -> None:
    now = datetime(2025, 9, 1, 12, tzinfo=UTC)
    events = parse_site_events({
        "freeleech": {"active": True, "ends": "2025-09-02 00:00:00", "title": "FL weekend"},
        "bonus": {"active": "1", "ends": "2025-08-31 00:00:00", "percent": 30},
        "multiplier": {"active": False, "factor": 2},
    }, now)
    assert events.known and events.active("freeleech") and not events.active("bonus")
    freeleech = events.events[0]
    assert freeleech.ends == datetime(2025, 9, 2, tzinfo=UTC) and freeleech.title == "FL weekend"
    assert events.events[1].factor == 30 and not events.active("multiplier")


@pytest.mark.parametrize("payload", [{}, {"status": "ok"}, [], "html"])
def test_site_events_unreadable(payload: object) -> None:
    with pytest.raises(TrackerBadResponse):
        parse_site_events(payload)


@pytest.mark.parametrize(("headers", "expected"), [
    (["mam_id=abc123; Path=/; HttpOnly"], "abc123"),
    (["other=1", "mam_id=new; expires=Thu, 01 Jan 2099 00:00:00 GMT; path=/"], "new"),
    (["mam_id=deleted; Max-Age=0"], None),
    (["mam_id=gone; Max-Age=0"], None),
    (["mam_id=; Path=/"], None),
    (["broken;;;=="], None),
    ([], None),
])
def test_rotated_cookie(headers: list[str], expected: str | None) -> None:
    assert rotated_cookie(headers) == expected


def test_retry_after() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    later = (now + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(later, now=lambda: now) == 90.0


def test_errors_never_show_the_cookie() -> None:
    secret = "S3cr3tC00kieValue"
    text = f"<html><b>Invalid</b> mam_id={secret}; other {secret}</html>"
    cleaned = scrub(text, [secret])
    assert secret not in cleaned and "<b>" not in cleaned
    assert secret not in scrub(f"Cookie: mam_id={secret}")
    message = str(TrackerAuthError("HTTP 403: " + scrub(text, [secret])))
    assert secret not in message and "Security" in message and "MAM_ID" in message


def test_search_query_maps_to_bracketed_params() -> None:
    query = SearchQuery(text="ember crown", fields=("title", "narrator"), search_type="fl-VIP",
                        category_ids=(41, 47), language_ids=(1,), sort="seedersDesc", start=50,
                        per_page=25)
    params = query.to_params()
    assert ("tor[text]", "ember crown") in params and ("tor[searchType]", "fl-VIP") in params
    assert ("tor[srchIn][title]", "true") in params and ("tor[srchIn][narrator]", "true") in params
    assert ("tor[srchIn][author]", "true") not in params
    assert [v for k, v in params if k == "tor[cat][]"] == ["41", "47"]
    assert ("tor[main_cat][]", "13") in params and ("tor[browse_lang][]", "1") in params
    assert ("tor[startNumber]", "50") in params and ("perpage", "25") in params
    assert ("tor[cat][]", "0") in SearchQuery().to_params()


@pytest.mark.parametrize("bad", [
    {"fields": ("title", "isbn")}, {"search_type": "free"}, {"sort": "best"}, {"per_page": 4},
    {"per_page": 101}, {"start": -1},
])
def test_search_query_validation(bad: dict) -> None:
    with pytest.raises(ValueError):
        SearchQuery(**bad)


def test_bencode_round_trip_and_torrent_summary() -> None:
    content = generated_content("k", "Book", [("a.mp3", 40_000), ("b.mp3", 3)])
    data, info_hash = build_torrent(content, "http://127.0.0.1:1/announce", created=1)
    summary = read_torrent(data)
    assert summary.info_hash == info_hash and summary.private
    assert summary.files == (("Book/a.mp3", 40_000), ("Book/b.mp3", 3))
    assert summary.announce == "http://127.0.0.1:1/announce"
    assert decode(bencode({"a": [1, b"x", {"b": -2}]})) == {b"a": [1, b"x", {b"b": -2}]}


@pytest.mark.parametrize("data", [
    b"", b"<html>login</html>", b'{"error": "x"}', b"i01e", b"i-0e", b"ie", b"5:abc",
    b"d3:fooi1e", b"li1e", b"i1ei2e", b"d1:a", b"di1ei2ee", b"x",
])
def test_bencode_rejects_junk(data: bytes) -> None:
    with pytest.raises(BencodeError):
        decode(data)
    with pytest.raises(BencodeError):
        read_torrent(data)


def test_torrent_without_info_is_rejected() -> None:
    with pytest.raises(BencodeError):
        read_torrent(bencode({"announce": "x"}))
