"""Release choice (R9, R14): ranking rules, rejection reasons, and the promises as properties."""

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mamcrawler.domain import quality as q
from mamcrawler.domain.freeness import AccountView, SiteEvent, freeness
from mamcrawler.domain.matching import BookTarget, MatchWeights
from mamcrawler.domain.ratio_guard import GuardPolicy, GuardState, may_grab
from mamcrawler.domain.records import Release
from mamcrawler.domain.release_choice import (
    DEAD,
    DUPLICATE,
    FREE,
    INCOMPLETE,
    NOT_AUDIO,
    PAID,
    RATIO,
    REJECTION_CODES,
    SIZE,
    WEDGE,
    WRONG_BOOK,
    ChoiceContext,
    ChoicePolicy,
    HeldEdition,
    candidates_as_json,
    choose,
    quality_of,
)

MIB, GIB = 2**20, 2**30
HOURS = 3600
NOW = datetime(2025, 6, 1, tzinfo=UTC)
TARGET = BookTarget("The Final Empire", ("Brandon Sanderson",), narrators=("Michael Kramer",),
                    series_name="Mistborn", series_position="1",
                    expected_duration_s=20 * HOURS, language="ENG")
RICH = ChoiceContext("Power User", upload_buffer_bytes=100 * GIB, now=NOW)
FROZEN = GuardState(frozen=True, last_ratio=0.98)


def rel(id="1", **kw):
    """A good paid release of the target: m4b 64 kbps, 20 h at 64 kbps, 10 seeders."""
    base = dict(title="The Final Empire", authors=("Brandon Sanderson",),
                narrators=("Michael Kramer",), format="m4b", tags="64 kbps",
                size_bytes=550 * MIB, seeders=10, added=datetime(2024, 1, 1, tzinfo=UTC))
    base.update(kw)
    return Release(id=id, **base)


def order(choice):
    return [c.release_id for c in choice.candidates]


# ---- quality helpers

@pytest.mark.parametrize(("texts", "kbps"), [
    (("64 kbps",), 64), (("96Kb 2 channel Stereo",), 96), (("128k",), 128),
    (("64 kb/s",), 64), (("32kbit mono",), 32), (("VBR 44.1 kHz",), None), (("",), None),
    (("2 channel Stereo", "Title [128 kbps]"), 128), (("1 kbps",), None), (("24 bit",), None),
])
def test_parse_bitrate(texts, kbps):
    assert q.parse_bitrate(*texts) == kbps


@pytest.mark.parametrize(("raw", "fmt", "rank"), [
    ("m4b", "m4b", 4), ("M4B", "m4b", 4), ("mp3, m4b", "m4b", 4), ("m4a", "m4a", 3),
    ("aac", "aac", 3), ("mp3", "mp3", 2), ("flac", "flac", 1), ("ogg", "ogg", 1),
    ("opus", "opus", 1), ("weird", "weird", 1), ("", None, 0), (None, None, 0),
])
def test_format_ranking(raw, fmt, rank):
    assert q.normalize_format(raw) == fmt
    assert q.format_rank(fmt) == rank


@given(st.sampled_from([None, "m4b", "m4a", "aac", "mp3", "flac", "x"]),
       st.sampled_from([None, "m4b", "m4a", "aac", "mp3", "flac", "x"]),
       st.none() | st.integers(1, 2000), st.none() | st.integers(1, 2000))
def test_quality_of_orders_format_then_bitrate(fa, fb, ba, bb):
    qa, qb = quality_of(fa, ba), quality_of(fb, bb)
    assert 0 <= qa < 100
    if q.format_rank(fa) > q.format_rank(fb):
        assert qa > qb
    elif q.format_rank(fa) == q.format_rank(fb) and (ba or 0) < (bb or 0) <= 128:
        assert qa < qb


@pytest.mark.parametrize(("fmt", "kbps", "held", "better"), [
    ("m4b", 32, HeldEdition("mp3", 128), True),  # format first
    ("mp3", 320, HeldEdition("m4b", 32), False),
    ("m4b", 96, HeldEdition("m4b", 64), True),  # 1.5x
    ("m4b", 95, HeldEdition("m4b", 64), False),
    ("m4b", 64, HeldEdition("m4b", 64), False),  # equal is not better
    ("m4b", None, HeldEdition("m4b", 32), False),
    ("m4b", 128, HeldEdition("M4B", None), False),
    ("m4b", 128, HeldEdition(None, 32), False),  # unknown held copy: never replaced
    ("m4b", 128, HeldEdition("m4b", -64), False),
    ("m4b", -1, HeldEdition("m4b", 32), False),
    ("aac", 64, HeldEdition("m4a", 32), True),
])
def test_better_than_held(fmt, kbps, held, better):
    assert q.better_than_held(fmt, kbps, held, 1.5)[0] is better


@pytest.mark.parametrize(("size", "hours", "fmt", "kbps", "status"), [
    (30 * MIB, 20, "m4b", None, q.TOO_SMALL),  # 3.3 kbps
    (20 * GIB, 20, "m4b", None, q.TOO_LARGE),  # 2,386 kbps
    (20 * GIB, 20, "flac", None, q.TOO_LARGE),
    (3 * GIB, 20, "flac", None, q.OK),
    (300 * MIB, 20, "flac", None, q.TOO_SMALL),
    (550 * MIB, 20, "m4b", 64, q.OK),
    (200 * MIB, 20, "m4b", 64, q.INCOMPLETE),  # 23 kbps of a claimed 64
    (200 * MIB, 20, "m4b", None, q.OK),
    (0, 20, "m4b", 64, q.UNCHECKED),
    (550 * MIB, None, "m4b", 64, q.UNCHECKED),
    (550 * MIB, float("nan"), "m4b", 64, q.UNCHECKED),
    (550 * MIB, float("inf"), "m4b", 64, q.UNCHECKED),
    (550 * MIB, -5, "m4b", 64, q.UNCHECKED),
    (20 * GIB, 20, None, None, q.TOO_LARGE),
])
def test_check_size(size, hours, fmt, kbps, status):
    duration = hours * HOURS if hours else None
    result = q.check_size(size, duration, fmt, kbps, q.DEFAULT_KBPS_BOUNDS, 0.5)
    assert result.status == status
    assert result.rejects is (status not in (q.OK, q.UNCHECKED))


# ---- ranking rules, one at a time

def test_free_beats_a_better_paid_release():
    free = rel("free", free=True, format="mp3", tags="32 kbps", size_bytes=300 * MIB, seeders=1)
    paid = rel("paid", tags="128 kbps", size_bytes=1100 * MIB, seeders=90)
    choice = choose(TARGET, [paid, free], RICH)
    assert order(choice) == ["free", "paid"]
    assert choice.chosen.edition == FREE
    assert "ranked #2: behind #1 on cost" in choice.candidates[1].reasons


@pytest.mark.parametrize(("account", "site_fl", "flags", "edition", "why"), [
    ("User", False, {"free": True}, FREE, "freeleech torrent"),
    ("User", False, {"personal_freeleech": True}, FREE, "personal freeleech"),
    ("VIP", False, {"vip_free": True}, FREE, "VIP-free while VIP lasts"),
    ("elite vip", False, {"vip_free": True}, FREE, "VIP-free"),
    ("Power User", False, {"vip_free": True}, PAID, "paid release affordable"),
    ("User", True, {}, FREE, "site-wide freeleech"),
    ("User", False, {}, PAID, "paid release affordable"),
])
def test_cost_edition(account, site_fl, flags, edition, why):
    events = (SiteEvent("freeleech", ends=NOW + timedelta(days=1)),) if site_fl else ()
    ctx = ChoiceContext(account, events=events, vip_until=NOW + timedelta(days=30), now=NOW,
                        upload_buffer_bytes=100 * GIB)
    candidate = choose(TARGET, [rel(**flags)], ctx).candidates[0]
    assert candidate.edition == edition
    assert any(why in r for r in candidate.reasons)


@pytest.mark.parametrize(("vip_until", "events", "flags", "edition", "why"), [
    (NOW - timedelta(hours=2), (), {"vip_free": True}, PAID, "VIP expired"),
    (None, (), {"vip_free": True}, PAID, "VIP expiry unknown"),
    (NOW + timedelta(days=3), (SiteEvent("freeleech", ends=NOW - timedelta(hours=1)),), {},
     PAID, "not free on the tracker now"),
    (None, (SiteEvent("freeleech", starts=NOW + timedelta(hours=1)),), {}, PAID, "not free"),
    (None, (SiteEvent("freeleech", ends=NOW + timedelta(hours=5)),), {}, FREE,
     "site-wide freeleech (until"),
    (None, (SiteEvent("freeleech"),), {"source": "prowlarr:MAM", "free": True}, PAID,
     "cannot be verified"),
])
def test_time_bound_freeness_is_judged_at_now(vip_until, events, flags, edition, why):
    # issue 9 cases 3 and 8: an ended event and a lapsed VIP no longer make anything free
    ctx = ChoiceContext("VIP", vip_until=vip_until, events=events, now=NOW,
                        upload_buffer_bytes=100 * GIB)
    candidate = choose(TARGET, [rel(**flags)], ctx).candidates[0]
    assert candidate.edition == edition
    assert any(why in r for r in candidate.reasons), candidate.reasons


def test_no_wedge_on_a_prowlarr_release_nor_while_frozen():
    # issue 9 case 1: a non-free 2 GiB Prowlarr release was grabbed as a "wedge" while frozen
    big = rel("big", size_bytes=2 * GIB, tags="128 kbps", source="prowlarr:MAM",
              download_url="http://127.0.0.1/x")
    frozen = GuardState(frozen=True, last_ratio=0.97)
    ctx = ChoiceContext("User", wedges_available=3, guard_state=frozen,
                        upload_buffer_bytes=100 * GIB, now=NOW)
    choice = choose(TARGET, [big], ctx, ChoicePolicy(wedges_enabled=True))
    assert choice.chosen is None and not choice.use_wedge
    assert choice.candidates[0].edition == PAID
    assert choice.candidates[0].rejection_codes == (RATIO,)
    mam = replace(big, source="mam", download_url=None)
    assert choose(TARGET, [mam], ctx).chosen is None  # frozen: a wedge might not take


def test_wedge_only_on_large_paid_releases_with_wedges_left():
    big = rel("big", size_bytes=int(1.2 * GIB), tags="128 kbps")
    small = rel("small", size_bytes=550 * MIB)
    free = rel("free", free=True, size_bytes=int(1.2 * GIB), tags="128 kbps")
    ctx = ChoiceContext("User", wedges_available=2, upload_buffer_bytes=100 * GIB)
    choice = choose(TARGET, [small, big], ctx)
    assert [c.edition for c in choice.candidates] == [WEDGE, PAID]
    assert choice.use_wedge and "spends a wedge" in choice.reason
    assert choose(TARGET, [free, big], ctx).use_wedge is False
    assert choose(TARGET, [free], ctx).candidates[0].edition == FREE
    none_left = ChoiceContext("User", wedges_available=0, upload_buffer_bytes=100 * GIB)
    assert choose(TARGET, [big], none_left).candidates[0].edition == PAID
    disabled = ChoicePolicy(wedges_enabled=False)
    assert choose(TARGET, [big], ctx, disabled).candidates[0].edition == PAID
    low_bar = ChoicePolicy(wedge_min_size_bytes=100 * MIB)
    assert choose(TARGET, [small], ctx, low_bar).candidates[0].edition == WEDGE
    vip_free = rel("vip", vip_free=True, size_bytes=int(1.2 * GIB), tags="128 kbps")
    assert choose(TARGET, [vip_free], ctx).candidates[0].edition == PAID  # not VIP: paid


def test_neither_wedge_nor_paid_while_frozen():
    # a wedge that does not take is a paid download: while frozen it is not risked
    big = rel("big", size_bytes=int(1.2 * GIB), tags="128 kbps")
    ctx = ChoiceContext("User", wedges_available=1, guard_state=FROZEN,
                        upload_buffer_bytes=100 * GIB)
    assert not choose(TARGET, [big], ctx).use_wedge
    thawed = replace(ctx, guard_state=GuardState())
    assert choose(TARGET, [big], thawed).use_wedge
    poor = replace(thawed, upload_buffer_bytes=GIB)  # 1.2 GiB x 1.5 would not be covered
    assert choose(TARGET, [big], poor).chosen is None
    no_wedges = ChoiceContext("User", guard_state=FROZEN, upload_buffer_bytes=100 * GIB)
    choice = choose(TARGET, [big], no_wedges)
    assert choice.chosen is None
    assert choice.candidates[0].rejections == ("paid release skipped: ratio 0.98 ≤ floor 1.00",)
    assert choice.reason == ("nothing chosen: 1 release, all rejected (ratio 1); best: "
                             "paid release skipped: ratio 0.98 ≤ floor 1.00")


@pytest.mark.parametrize(("buffer", "accepted"), [
    (int(550 * MIB * 1.5), True), (int(550 * MIB * 1.5) - 1, False), (0, False), (-GIB, False),
])
def test_paid_needs_the_buffer_with_margin(buffer, accepted):
    ctx = ChoiceContext("User", upload_buffer_bytes=buffer)
    candidate = choose(TARGET, [rel()], ctx).candidates[0]
    assert candidate.accepted is accepted
    verdict = may_grab(rel(), is_free=False, state=GuardState(), policy=GuardPolicy(),
                       account_upload_buffer_bytes=buffer)
    assert verdict.reason in candidate.reasons


def test_paid_of_unknown_size_is_refused():
    candidate = choose(TARGET, [rel(size_bytes=0)], RICH).candidates[0]
    assert candidate.rejections == ("paid release skipped: size unknown, cannot check the "
                                    "ratio cost",)


def test_right_book_beats_format():
    medium = rel("medium", authors=(), tags="128 kbps", size_bytes=1100 * MIB)
    strong = rel("strong", format="mp3")
    assert order(choose(TARGET, [medium, strong], RICH)) == ["strong", "medium"]


def test_preferred_narrator_beats_format():
    other = rel("other", narrators=("Tim Gerard Reynolds",), tags="128 kbps",
                size_bytes=1100 * MIB)
    unknown = rel("unknown", narrators=(), tags="96 kbps", size_bytes=900 * MIB)
    named = rel("named", format="mp3")
    choice = choose(TARGET, [other, unknown, named], RICH)
    assert order(choice) == ["named", "unknown", "other"]
    assert "behind #1 on narrator" in choice.candidates[2].reasons[-1]


def test_unabridged_beats_abridged_of_the_same_grade():
    lenient = ChoicePolicy(weights=MatchWeights(abridged=0.1))
    abridged = rel("abridged", title="The Final Empire (Abridged)", tags="128 kbps",
                   size_bytes=1100 * MIB)
    full = rel("full", format="mp3")
    choice = choose(TARGET, [abridged, full], RICH, lenient)
    assert order(choice) == ["full", "abridged"]
    assert choice.candidates[0].match.grade == choice.candidates[1].match.grade


@pytest.mark.parametrize(("better", "worse"), [
    ({"format": "m4b"}, {"format": "m4a", "seeders": 99}),
    ({"format": "aac"}, {"format": "mp3", "seeders": 99}),
    ({"format": "mp3"}, {"format": "flac", "size_bytes": 3 * GIB, "seeders": 99}),
    ({"format": "flac", "size_bytes": 3 * GIB}, {"format": None, "seeders": 99}),
    ({"tags": "96 kbps", "size_bytes": 850 * MIB}, {"tags": "64 kbps", "seeders": 99}),
    ({"tags": "32 kbps", "size_bytes": 300 * MIB}, {"tags": "", "seeders": 99}),
])
def test_format_then_bitrate(better, worse):
    choice = choose(TARGET, [rel("worse", **worse), rel("better", **better)], RICH)
    assert order(choice) == ["better", "worse"], choice.candidates[1].reasons


def test_bitrate_above_the_cap_does_not_outrank_seeders():
    huge = rel("320", format="mp3", tags="320 kbps", size_bytes=int(2.7 * GIB), seeders=3)
    enough = rel("128", format="mp3", tags="128 kbps", size_bytes=int(1.1 * GIB), seeders=9)
    assert order(choose(TARGET, [huge, enough], RICH)) == ["128", "320"]
    higher_cap = ChoicePolicy(bitrate_cap_kbps=320)
    choice = choose(TARGET, [huge, enough], RICH, higher_cap)
    assert order(choice) == ["320", "128"]
    assert choice.candidates[0].quality_score > choice.candidates[1].quality_score


def test_completeness_breaks_a_format_tie():
    checked = rel("checked", free=True)
    unchecked = rel("unchecked", free=True, size_bytes=0, seeders=99)
    choice = choose(TARGET, [unchecked, checked], RICH)
    assert order(choice) == ["checked", "unchecked"]
    assert "behind #1 on size check" in choice.candidates[1].reasons[-1]


def test_seeders_then_newer_upload_then_id():
    old = datetime(2020, 1, 1, tzinfo=UTC)
    releases = [rel("a", seeders=5, added=old), rel("b", seeders=9, added=old),
                rel("c", seeders=5, added=old + timedelta(days=1)), rel("d", seeders=5, added=None),
                rel("e", seeders=5, added=old)]
    choice = choose(TARGET, releases, RICH)
    assert order(choice) == ["b", "c", "a", "e", "d"]
    assert "behind #1 on seeders" in choice.candidates[1].reasons[-1]


def test_naive_upload_dates_count_as_utc():
    aware = rel("aware", added=datetime(2024, 1, 1, 12, tzinfo=UTC))
    naive = rel("naive", added=datetime(2024, 1, 1, 13))
    assert order(choose(TARGET, [aware, naive], RICH)) == ["naive", "aware"]


# ---- rejection reasons

@pytest.mark.parametrize(("release", "code", "words"), [
    (rel(title="Dune Messiah"), WRONG_BOOK, "wrong book (need medium or better): none match"),
    (rel(authors=("Brian Herbert",)), WRONG_BOOK, "authors mismatch"),
    (rel(language="GER"), WRONG_BOOK, "language mismatch"),
    (rel(format="epub"), NOT_AUDIO, "not an audio format: epub"),
    (rel(size_bytes=30 * MIB), SIZE, "kbps average < 12 kbps: too small"),
    (rel(size_bytes=20 * GIB), SIZE, "> 512 kbps: too large"),
    (rel(tags="128 kbps", size_bytes=300 * MIB), INCOMPLETE, "likely incomplete"),
    (rel(title="The Final Empire [incomplete]"), INCOMPLETE, "release says 'incomplete'"),
    (rel(tags="missing chapters"), INCOMPLETE, "incomplete: release says 'missing chapters'"),
    (rel(seeders=0), DEAD, "dead: 0 seeders < minimum 1"),
    (rel(seeders=-4), DEAD, "dead: 0 seeders < minimum 1"),
])
def test_rejection_reasons(release, code, words):
    choice = choose(TARGET, [release], RICH)
    candidate = choice.candidates[0]
    assert choice.chosen is None
    assert candidate.rejection_codes == (code,)
    assert words in candidate.rejections[0], candidate.reasons
    assert candidate.reasons[: len(candidate.rejections)] == candidate.rejections
    assert candidate.score_breakdown["rejected_for"] == code


def test_rejections_lead_with_the_most_fundamental():
    ctx = ChoiceContext("User", guard_state=FROZEN, library_copy=HeldEdition("m4b", 64))
    candidate = choose(TARGET, [rel(seeders=0, title="Dune Messiah")], ctx).candidates[0]
    assert candidate.rejection_codes == (WRONG_BOOK, DUPLICATE, DEAD, RATIO)
    assert candidate.rejections[0].startswith("wrong book")
    assert candidate.rejections[-1] == "paid release skipped: ratio 0.98 ≤ floor 1.00"


def test_weak_match_accepted_when_policy_allows():
    weak = rel(title="The Final Empire", authors=("Brian Herbert",))
    policy = ChoicePolicy(min_grade="none")
    assert choose(TARGET, [weak], RICH, policy).chosen is not None


def test_seeder_minimum_is_a_policy():
    assert choose(TARGET, [rel(seeders=0)], RICH, ChoicePolicy(min_seeders=0)).chosen
    few = choose(TARGET, [rel(seeders=2)], RICH, ChoicePolicy(min_seeders=3))
    assert few.candidates[0].rejections == ("few seeders: 2 seeders < minimum 3",)


# ---- the library copy (R14)

def test_not_better_than_the_library_copy_is_rejected():
    ctx = ChoiceContext("User", library_copy=HeldEdition("m4b", 64))
    choice = choose(TARGET, [rel(free=True), rel("2", free=True, format="mp3", tags="128k")],
                    ctx)
    assert choice.chosen is None
    assert choice.candidates[0].rejections[0].startswith(
        "not better than the library copy (m4b 64 kbps)")
    assert "duplicate 2" in choice.reason


def test_clearly_better_replaces_the_library_copy():
    ctx = ChoiceContext("User", library_copy=HeldEdition("mp3", 64))
    choice = choose(TARGET, [rel(free=True)], ctx)
    assert choice.chosen.replaces_library_copy and choice.replaces_library_copy
    assert choice.reason.endswith("; replaces the library copy")
    bitrate_ctx = ChoiceContext("User", library_copy=HeldEdition("m4b", 32))
    assert choose(TARGET, [rel(free=True)], bitrate_ctx).replaces_library_copy
    close_ctx = ChoiceContext("User", library_copy=HeldEdition("m4b", 48))
    assert choose(TARGET, [rel(free=True)], close_ctx).chosen is None  # 64 < 1.5 x 48


def test_upgrades_cost_nothing_unless_policy_says_so():
    ctx = ChoiceContext("User", library_copy=HeldEdition("mp3", 64),
                        upload_buffer_bytes=100 * GIB)
    refused = choose(TARGET, [rel()], ctx)
    assert "would cost ratio; policy allows free upgrades only" in refused.candidates[0].reasons[0]
    allowed = choose(TARGET, [rel()], ctx, ChoicePolicy(pay_for_upgrades=True))
    assert allowed.chosen.edition == PAID and allowed.replaces_library_copy


# ---- the Choice, its reason, and its JSON

def test_choice_reason_and_candidates_json():
    releases = [rel("1", free=True, seeders=12), rel("2", title="Dune Messiah"), rel("3")]
    choice = choose(TARGET, releases, RICH)
    assert choice.reason == ("chosen: free m4b 64 kbps, strong match, 12 seeders; "
                             "better than 2 others (1 rejected)")
    rows = candidates_as_json(choice)
    assert json.loads(json.dumps(rows, allow_nan=False)) == rows
    assert [(r["release_id"], r["chosen"], r["accepted"]) for r in rows] \
        == [("1", True, True), ("3", False, True), ("2", False, False)]
    first = rows[0]["score_breakdown"]
    assert first["edition"] == FREE and first["format"] == "m4b" and first["bitrate_kbps"] == 64
    assert first["match_grade"] == "strong" and first["size_check"] == "ok"
    assert first["age_days"] == 517.0 and first["seeders"] == 12
    assert rows[2]["score_breakdown"]["rejected_for"] == "wrong book"
    assert [c.rank for c in choice.candidates] == [1, 2, 3]


def test_empty_search():
    choice = choose(TARGET, [], RICH)
    assert (choice.chosen, choice.candidates, choice.use_wedge) == (None, (), False)
    assert choice.reason == "nothing chosen: no releases found"


def test_format_sniffed_from_the_title_when_missing():
    candidate = choose(TARGET, [rel(format=None, title="The Final Empire [M4B]")], RICH)
    assert candidate.candidates[0].format == "m4b"


@pytest.mark.parametrize("kwargs", [
    {"min_grade": "great"}, {"replace_bitrate_factor": 1.0}, {"min_seeders": -1},
    {"kbps_bounds": {"lossy": (1, 2)}},
])
def test_bad_policy_refused(kwargs):
    with pytest.raises(ValueError):
        ChoicePolicy(**kwargs)


# ---- properties

moments = st.none() | st.datetimes(datetime(1990, 1, 1), datetime(2040, 1, 1),
                                   timezones=st.none() | st.just(UTC))
rarely = st.sampled_from([False, False, False, True])
# Mostly plausible releases of the target, so that every rule is reached often...
plausible = st.builds(
    Release,
    id=st.sampled_from(["1", "2", "3"]),  # the same id from two sources happens
    title=st.sampled_from(["The Final Empire", "Mistborn 1: The Final Empire",
                           "The Final Empire (Mistborn, Book 1)", "The Final Empire (Abridged)",
                           "The Well of Ascension"]),
    authors=st.sampled_from([("Brandon Sanderson",), ("B. Sanderson",), ()]),
    narrators=st.sampled_from([("Michael Kramer",), (), ("Someone Else",)]),
    language=st.sampled_from([None, "ENG"]),
    format=st.sampled_from(["m4b", "mp3", "m4a", "flac", None]),
    tags=st.sampled_from(["64 kbps", "", "128k", "32 kbps", "96Kb 2 channel Stereo"]),
    size_bytes=st.sampled_from([0, 300 * MIB, 550 * MIB, 900 * MIB, 1200 * MIB, 5 * GIB]),
    seeders=st.integers(0, 30), added=moments,
    free=rarely, personal_freeleech=rarely, vip_free=rarely,
)
# ...and junk, for robustness: sizes 0 or negative, odd formats and tags, any text.
junk = st.builds(
    Release,
    id=st.text("0123456789", min_size=1, max_size=3),
    title=st.sampled_from(["", "Dune", "The Final Empire [incomplete]"]) | st.text(max_size=30),
    authors=st.lists(st.sampled_from(["Brandon Sanderson", "Brian Herbert", ""]) | st.text(),
                     max_size=2).map(tuple),
    narrators=st.lists(st.text(max_size=10), max_size=2).map(tuple),
    language=st.none() | st.text(max_size=5),
    format=st.sampled_from([None, "", "M4B", "epub", "mp3 m4b", "?!"]) | st.text(max_size=6),
    size_bytes=st.integers(-10, 10) | st.integers(0, 40 * GIB),
    file_count=st.integers(-1, 500), seeders=st.integers(-3, 50), leechers=st.integers(-3, 5),
    added=moments, free=st.booleans(), personal_freeleech=st.booleans(),
    vip_free=st.booleans(),
    tags=st.sampled_from(["abridged", "44.1 kHz", "missing files", "9999k"]) | st.text(max_size=20),
)
held = st.builds(HeldEdition, st.sampled_from([None, "m4b", "mp3", "aac", "flac", "M4B"]),
                st.none() | st.sampled_from([32, 48, 64, 128]))


def contexts(library=st.none() | st.none() | held):
    return st.builds(
        ChoiceContext,
        account_class=st.sampled_from(["VIP", "Elite VIP", "Power User", "User", ""]),
        events=rarely.map(lambda on: (SiteEvent("freeleech"),) if on else ()),
        vip_until=st.none() | moments, wedges_available=st.sampled_from([0, 0, 1, 3]),
        guard_state=st.builds(GuardState, frozen=st.booleans(),
                              last_ratio=st.none() | st.just(0.9)),
        upload_buffer_bytes=st.sampled_from([-GIB, 0, GIB, 3 * GIB, 100 * GIB]),
        library_copy=library, now=moments,
    )


targets = st.builds(BookTarget, title=st.just("The Final Empire"),
                    authors=st.just(("Brandon Sanderson",)),
                    narrators=st.sampled_from([(), ("Michael Kramer",)]),
                    expected_duration_s=st.sampled_from([20 * HOURS, 20 * HOURS, None, 0, 0.5,
                                                         float("nan"), float("inf")]),
                    language=st.sampled_from([None, "en"]))
policies = st.builds(ChoicePolicy, min_seeders=st.integers(0, 2),
                     wedge_min_size_bytes=st.sampled_from([0, 500 * MIB, GIB]),
                     pay_for_upgrades=st.booleans())
batches = st.lists(plausible | plausible | junk, max_size=8)
# free, so that the library rule is what decides most of the time
upgrade_batches = st.lists(plausible.map(lambda r: replace(r, free=True)) | junk, max_size=8)
PROPERTY = settings(max_examples=150, deadline=None)


def is_free(release, ctx):
    account = AccountView(ctx.account_class, ctx.vip_until)
    now = ctx.now or datetime.max.replace(tzinfo=UTC)
    return freeness(release, account, ctx.events, now).free


@PROPERTY
@given(targets, batches, contexts(), policies)
def test_free_first_whenever_an_acceptable_free_release_exists(target, found, ctx, policy):
    # acceptability of one release does not depend on the others, so a lone choice tells it
    acceptable_free = any(is_free(r, ctx)
                          and choose(target, [r], ctx, policy).chosen for r in found)
    choice = choose(target, found, ctx, policy)
    if acceptable_free:
        assert choice.chosen is not None and choice.chosen.edition == FREE
        assert is_free(choice.chosen.release, ctx)


@PROPERTY
@given(targets, upgrade_batches, contexts(library=held), policies)
def test_never_a_duplicate_of_the_library_copy(target, found, ctx, policy):
    choice = choose(target, found, ctx, policy)
    library = ctx.library_copy
    if library is None or choice.chosen is None:
        return
    chosen = choice.chosen
    held_rank = q.format_rank(q.normalize_format(library.format))
    rank = q.format_rank(chosen.format)
    assert held_rank > 0 and rank >= held_rank
    if rank == held_rank:
        assert chosen.bitrate_kbps and library.bitrate_kbps
        assert chosen.bitrate_kbps >= policy.replace_bitrate_factor * library.bitrate_kbps
    assert chosen.quality_score > library.quality or chosen.bitrate_kbps > 128
    assert chosen.replaces_library_copy and choice.replaces_library_copy


@PROPERTY
@given(st.sampled_from([None, "m4b", "m4a", "mp3", "flac"]), st.sampled_from([None, 32, 64, 96]),
       held, st.sampled_from([1.25, 1.5, 2.0]))
def test_accepted_against_the_library_exactly_when_clearly_better(fmt, kbps, library, factor):
    release = rel(free=True, format=fmt, tags=f"{kbps} kbps" if kbps else "", size_bytes=0)
    choice = choose(TARGET, [release], ChoiceContext("User", library_copy=library),
                    ChoicePolicy(replace_bitrate_factor=factor))
    held_fmt = q.normalize_format(library.format)
    rank, held_rank = q.format_rank(fmt), q.format_rank(held_fmt)
    same_rank_better = bool(kbps and library.bitrate_kbps
                            and kbps >= factor * library.bitrate_kbps)
    better = held_rank > 0 and (rank > held_rank or (rank == held_rank and same_rank_better))
    assert (choice.chosen is not None) is better, choice.candidates[0].reasons
    if better:
        assert choice.chosen.quality_score > library.quality
        assert choice.replaces_library_copy


@PROPERTY
@given(targets, batches, contexts(), policies)
def test_nothing_paid_while_frozen_and_paid_only_when_the_guard_allows(target, found, ctx, policy):
    choice = choose(target, found, ctx, policy)
    chosen = choice.chosen
    if chosen is None:
        return
    free = is_free(chosen.release, ctx)
    if ctx.guard_state.frozen:
        assert free and not choice.use_wedge  # a wedge that does not take would be paid
    if not free and not choice.use_wedge:
        assert chosen.edition == PAID
        assert may_grab(chosen.release, is_free=False, state=ctx.guard_state,
                        account_upload_buffer_bytes=ctx.upload_buffer_bytes,
                        policy=ctx.guard_policy).allowed


paid_only = plausible.map(lambda r: replace(r, free=False, personal_freeleech=False,
                                            vip_free=False))


@PROPERTY
@given(targets, st.lists(paid_only, max_size=6), st.booleans(),
       st.sampled_from([-GIB, 0, 800 * MIB, 2 * GIB, 100 * GIB]))
def test_paid_releases_follow_the_guard(target, found, frozen, buffer):
    state = GuardState(frozen=frozen, last_ratio=0.98 if frozen else 1.3)
    ctx = ChoiceContext("VIP", guard_state=state, upload_buffer_bytes=buffer)
    choice = choose(target, found, ctx)
    if frozen:
        assert choice.chosen is None
        assert all(c.rejection_codes[-1] == RATIO and "ratio 0.98 ≤ floor 1.00" in c.rejections[-1]
                   for c in choice.candidates)
        return
    for candidate in choice.candidates:
        verdict = may_grab(candidate.release, is_free=False, state=state,
                           account_upload_buffer_bytes=buffer, policy=GuardPolicy())
        assert verdict.allowed or verdict.reason in candidate.rejections
        if candidate.accepted:
            assert verdict.allowed and verdict.reason in candidate.reasons
    alone = [choose(target, [r], ctx).chosen for r in found]
    assert (choice.chosen is None) is all(c is None for c in alone)


@PROPERTY
@given(targets, batches, contexts(), policies)
def test_wedges_never_on_free_releases_nor_without_wedges(target, found, ctx, policy):
    choice = choose(target, found, ctx, policy)
    for candidate in choice.candidates:
        if candidate.edition == WEDGE:
            assert not is_free(candidate.release, ctx)
            assert not candidate.release.vip_free
            assert ctx.wedges_available > 0 and policy.wedges_enabled
            assert candidate.release.size_bytes >= policy.wedge_min_size_bytes
    if choice.use_wedge:
        assert choice.chosen.edition == WEDGE
    if ctx.wedges_available == 0:
        assert not choice.use_wedge
        assert all(c.edition != WEDGE for c in choice.candidates)


@PROPERTY
@given(targets, batches, contexts(), policies)
def test_every_release_gets_a_candidate_and_the_shape_holds(target, found, ctx, policy):
    choice = choose(target, found, ctx, policy)
    assert sorted(map(repr, (c.release for c in choice.candidates))) == sorted(map(repr, found))
    assert [c.rank for c in choice.candidates] == list(range(1, len(found) + 1))
    accepted = [c.accepted for c in choice.candidates]
    assert accepted == sorted(accepted, reverse=True)  # accepted ones first
    tiers = [[FREE, WEDGE, PAID].index(c.edition) for c in choice.candidates if c.accepted]
    assert tiers == sorted(tiers)  # free before wedge before paid
    assert choice.chosen is (choice.candidates[0] if any(accepted) else None)
    for c in choice.candidates:
        assert c.accepted is (not c.rejections)
        assert len(c.rejection_codes) == len(c.rejections)
        ranks = [REJECTION_CODES.index(code) for code in c.rejection_codes]
        assert ranks == sorted(ranks)
        assert c.reasons and 0 <= c.quality_score < 100
    assert choice.reason.startswith("chosen: " if choice.chosen else "nothing chosen: ")
    json.dumps(candidates_as_json(choice), allow_nan=False)


@PROPERTY
@given(targets, batches, contexts(), policies, st.randoms(use_true_random=False))
def test_deterministic_and_independent_of_input_order(target, found, ctx, policy, rnd):
    first = choose(target, found, ctx, policy)
    shuffled = list(found)
    rnd.shuffle(shuffled)
    again = choose(target, shuffled, ctx, policy)
    assert [c.release for c in again.candidates] == [c.release for c in first.candidates]
    assert candidates_as_json(again) == candidates_as_json(first)
    assert (again.reason, again.use_wedge) == (first.reason, first.use_wedge)
