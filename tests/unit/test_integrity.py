"""Integrity verdicts (R11) from measured file facts."""

import pytest

from mamcrawler.domain.integrity import FileFacts, IntegrityPolicy, assess, format_duration

HOUR = 3600.0


def good(relpath="book.m4b", seconds=HOUR, size=None, declared=None, estimated=False):
    """Facts of a cleanly decoded file at 32 kbit/s."""
    return FileFacts(relpath, size if size is not None else int(seconds * 4000),
                     content_is_audio=True,
                     declared_duration_s=declared if declared is not None else seconds,
                     duration_estimated=estimated, decoded_duration_s=seconds)


def test_a_clean_book_passes_with_extras_ignored():
    files = [good("01.mp3", HOUR), good("02.mp3", HOUR), FileFacts("cover.jpg", 50_000),
             FileFacts("info.nfo", 900), FileFacts("book.cue", 300), FileFacts("notes.txt", 10)]
    verdict = assess(files, expected_duration_s=2 * HOUR)
    assert verdict.passed, verdict.reasons
    assert verdict.reasons == ()
    assert verdict.total_duration_s == 2 * HOUR
    assert verdict.audio_files == 2
    assert verdict.ignored == ("cover.jpg", "info.nfo", "book.cue", "notes.txt")
    assert verdict.summary == "integrity passed: 2 audio file(s), 2:00:00"


def test_unknown_runtime_skips_the_duration_check():
    assert assess([good(seconds=60)], expected_duration_s=None).passed
    assert assess([good(seconds=60)], expected_duration_s=0).passed


@pytest.mark.parametrize(("expected", "total", "passes"), [
    (10 * HOUR, 10 * HOUR * 1.049, True),   # 5 % of 10 h = 30 min
    (10 * HOUR, 10 * HOUR * 0.951, True),
    (10 * HOUR, 10 * HOUR * 0.94, False),
    (10 * HOUR, 10 * HOUR * 1.06, False),
    (HOUR, HOUR - 299, True),               # 5 % of 1 h is 3 min, but at least 5 min
    (HOUR, HOUR - 301, False),
])
def test_total_duration_tolerance(expected, total, passes):
    verdict = assess([good(seconds=total)], expected)
    assert verdict.passed is passes
    if not passes:
        assert "not within" in verdict.reasons[0]
        assert "incomplete or a different book" in verdict.reasons[0]


def test_tolerance_is_configurable():
    strict = IntegrityPolicy(duration_tolerance_pct=1, duration_tolerance_min_s=0)
    assert not assess([good(seconds=HOUR * 0.98)], HOUR, strict).passed
    assert strict.duration_tolerance_s(10 * HOUR) == 360


def test_no_audio_fails():
    verdict = assess([FileFacts("cover.jpg", 5000), FileFacts("readme.txt", 10)], HOUR)
    assert not verdict.passed
    assert verdict.reasons == ("no audio files (found only cover.jpg, readme.txt)",)
    assert assess([], None).reasons == ("no audio files",)


def test_decode_errors_fail_with_the_first_error():
    broken = FileFacts("02.mp3", 40_000, content_is_audio=True, declared_duration_s=10,
                       decoded_duration_s=7, errors=("[mp3float] Header missing",),
                       error_count=12)
    verdict = assess([good("01.mp3", 10), broken], None)
    assert not verdict.passed
    assert verdict.reasons == (
        "02.mp3 does not decode cleanly: [mp3float] Header missing (and 11 more errors)",)
    assert verdict.summary.startswith("integrity failed (2 audio file(s), 0:17): 02.mp3")


def test_truncation_against_the_declared_duration():
    cut = good("book.mp3", seconds=7.0, size=40_000, declared=10.0)
    verdict = assess([cut], None)
    assert verdict.reasons == ("book.mp3 ends at 0:07 of the 0:10 its header declares: "
                               "truncated",)
    # An estimated duration shrinks with the file: it proves nothing.
    assert assess([good("book.mp3", 7.0, size=40_000, declared=10.0, estimated=True)],
                  None).passed
    # Encoder delay and padding are not truncation.
    assert assess([good("book.m4b", 10.03, size=40_000, declared=10.0)], None).passed
    assert assess([good("book.m4b", 3585.0, declared=HOUR)], None).passed  # 0.5 % of 1 h
    assert not assess([good("book.m4b", 3500.0, declared=HOUR)], None).passed


@pytest.mark.parametrize(("facts", "reason"), [
    (FileFacts("a.mp3", 100, content_is_audio=True, decoded_duration_s=1), "is only 100 bytes"),
    (FileFacts("a.mp3", 90_000, content_is_audio=False), "does not contain audio"),
    (FileFacts("a.mp3", 90_000, content_is_audio=True), "was not decoded"),
    (FileFacts("a.mp3", 90_000, content_is_audio=True, decoded_duration_s=0.0),
     "contains no audio"),
    (FileFacts("a.mp3", 90_000_000, content_is_audio=True, decoded_duration_s=10.0),
     "bytes per second"),
    (FileFacts("a.mp3", 9_000, content_is_audio=True, decoded_duration_s=10 * HOUR),
     "bytes per second"),
])
def test_implausible_files(facts, reason):
    verdict = assess([facts], None)
    assert not verdict.passed
    assert reason in verdict.reasons[0]


def test_partial_and_program_files_fail():
    verdict = assess([good("01.mp3", 10), FileFacts("02.mp3.!qB", 5000),
                      FileFacts("player.exe", 5000), FileFacts("Setup.LNK", 10)], None)
    assert verdict.reasons == (
        "unfinished download files present: 02.mp3.!qB",
        "program files do not belong in an audiobook: player.exe, Setup.LNK",
    )


def test_too_many_files():
    policy = IntegrityPolicy(max_files=3)
    files = [good(f"{n:02d}.mp3", 10) for n in range(4)]
    assert assess(files, None, policy).reasons == ("4 audio files, more than the 3 allowed",)


def test_extensions_are_case_insensitive_and_paths_nested():
    verdict = assess([good("CD1/01.MP3", 10), good("CD2/01.M4B", 10)], None)
    assert verdict.passed and verdict.audio_files == 2


def test_policy_rejects_nonsense():
    with pytest.raises(ValueError, match="tolerances"):
        IntegrityPolicy(duration_tolerance_pct=-1)
    with pytest.raises(ValueError, match="max_files"):
        IntegrityPolicy(max_files=0)
    with pytest.raises(ValueError, match="bytes_per_s"):
        IntegrityPolicy(min_bytes_per_s=10, max_bytes_per_s=5)


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0:00"), (59.6, "1:00"), (3599, "59:59"), (3600, "1:00:00"), (36_000 + 61, "10:01:01"),
    (-5, "0:00"),
])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text
