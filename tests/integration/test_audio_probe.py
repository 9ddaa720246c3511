"""ffprobe/ffmpeg on real generated audio: good files pass, damaged ones are caught (R11)."""

import shutil
import time
from pathlib import Path

import pytest

from mamcrawler.adapters.audio import (
    AudioFileNotFound,
    AudioToolMissing,
    AudioToolTimeout,
    AudioUnreadable,
    decode_check,
    inspect_files,
    is_audio_name,
    probe,
    sniff_audio,
    tool_versions,
)
from mamcrawler.domain.integrity import IntegrityPolicy, assess
from tests.support.audio import (
    corrupt_tail,
    make_audio,
    make_book,
    make_cover,
    skip_or_fail_without,
    truncate_tail,
)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("audio_tools")]
FORMATS = ["m4b", "mp3", "m4a"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_probe_reads_duration_codec_and_tags(tmp_path, fmt):
    path = make_audio(tmp_path / f"book.{fmt}", 6, tags={
        "title": "The Final Empire", "artist": "Brandon Sanderson", "composer": "Michael Kramer"})
    info = probe(path)
    assert info.duration_s == pytest.approx(6, abs=0.15)
    assert not info.duration_estimated
    assert info.codec == ("mp3" if fmt == "mp3" else "aac")
    assert info.audio_streams == 1 and info.channels == 1 and info.sample_rate == 22050
    assert 20_000 <= (info.bit_rate or 0) <= 48_000
    assert info.tags["title"] == "The Final Empire"
    assert info.tags["artist"] == "Brandon Sanderson"
    assert info.tags["composer"] == "Michael Kramer"


@pytest.mark.parametrize("fmt", FORMATS)
def test_good_files_decode_cleanly_to_their_length(tmp_path, fmt):
    path = make_audio(tmp_path / f"book.{fmt}", 8, noise=True)
    result = decode_check(path, timeout_s=60)
    assert result.ok, result.errors
    assert result.errors == () and result.error_count == 0 and result.exit_code == 0
    assert result.decoded_duration_s == pytest.approx(8, abs=0.15)


@pytest.mark.parametrize("fmt", ["m4b", "mp3"])
def test_corrupt_tail_is_reported_by_the_decoder(tmp_path, fmt):
    path = corrupt_tail(make_audio(tmp_path / f"book.{fmt}", 8))
    result = decode_check(path, timeout_s=60)
    assert not result.ok
    assert result.errors and result.error_count >= 1
    assert " @ 0x" not in result.errors[0]  # pointers are removed: stable messages


def test_truncated_faststart_m4b_is_reported_by_the_decoder(tmp_path):
    path = truncate_tail(make_audio(tmp_path / "book.m4b", 8))
    result = decode_check(path, timeout_s=60)
    assert not result.ok and result.errors


def test_truncated_m4b_with_index_at_the_end_cannot_be_read(tmp_path):
    path = truncate_tail(make_audio(tmp_path / "book.m4b", 8, faststart=False))
    with pytest.raises(AudioUnreadable, match="moov atom not found"):
        probe(path)


def test_truncated_mp3_decodes_silently_but_is_short_of_its_header(tmp_path):
    path = truncate_tail(make_audio(tmp_path / "book.mp3", 10), fraction=0.3)
    result = decode_check(path, timeout_s=60)
    assert result.ok  # what we found: ffmpeg says nothing
    info = probe(path)
    assert info.duration_s == pytest.approx(10, abs=0.2)  # the Xing header remembers
    assert result.decoded_duration_s == pytest.approx(7, abs=0.3)
    verdict = assess(inspect_files(tmp_path, decode_timeout_s=60), None)
    assert not verdict.passed
    assert "truncated" in verdict.reasons[0]


def test_mp3_without_xing_header_has_an_estimated_duration(tmp_path):
    path = truncate_tail(make_audio(tmp_path / "book.mp3", 10, xing=False), fraction=0.3)
    info = probe(path)
    assert info.duration_estimated
    facts = inspect_files(tmp_path, decode_timeout_s=60)
    # Undetectable per file; the expected runtime of the whole book catches it.
    assert assess(facts, None).passed
    short_book = IntegrityPolicy(duration_tolerance_min_s=1)
    assert "not within" in assess(facts, 10.0, short_book).reasons[0]


@pytest.fixture(scope="module")
def pristine_books(tmp_path_factory):
    """One clean 3-chapter book per format (with cover and .nfo), made once per module."""
    skip_or_fail_without("ffmpeg")
    books = {}
    for fmt in ("m4b", "mp3"):
        folder = tmp_path_factory.mktemp(f"book-{fmt}")
        make_book(folder, chapters=3, seconds_each=5, fmt=fmt)
        make_cover(folder / "cover.jpg")
        (folder / "info.nfo").write_text("Narrated by Michael Kramer")
        books[fmt] = folder
    return books


@pytest.mark.parametrize("fmt", ["m4b", "mp3"])
def test_a_clean_book_passes(pristine_books, fmt):
    verdict = assess(inspect_files(pristine_books[fmt], decode_timeout_s=60), 15.0)
    assert verdict.passed, verdict.reasons
    assert verdict.ignored == ("cover.jpg", "info.nfo")


@pytest.mark.parametrize("damage", [corrupt_tail, truncate_tail])
@pytest.mark.parametrize("fmt", ["m4b", "mp3"])
def test_a_damaged_chapter_fails_the_book(tmp_path, pristine_books, fmt, damage):
    book = Path(shutil.copytree(pristine_books[fmt], tmp_path / "dl"))
    damage(book / f"02 - Chapter 2.{fmt}")
    verdict = assess(inspect_files(book, decode_timeout_s=60), 15.0)
    assert not verdict.passed
    assert len(verdict.reasons) == 1
    assert verdict.reasons[0].startswith(f"02 - Chapter 2.{fmt} ")


def test_inspect_files_measures_the_whole_book(tmp_path):
    make_book(tmp_path / "dl" / "CD1", chapters=2, seconds_each=3, fmt="mp3")
    make_audio(tmp_path / "dl" / "CD2" / "03.m4a", 4)
    make_cover(tmp_path / "dl" / "cover.jpg")
    facts = inspect_files(tmp_path / "dl", decode_timeout_s=60)
    assert [f.relpath for f in facts] == [
        "CD1/01 - Chapter 1.mp3", "CD1/02 - Chapter 2.mp3", "CD2/03.m4a", "cover.jpg"]
    assert facts[3].decoded_duration_s is None and facts[3].content_is_audio is None
    verdict = assess(facts, 10.0)
    assert verdict.passed, verdict.reasons
    assert verdict.total_duration_s == pytest.approx(10, abs=0.3)


def test_single_file_download(tmp_path):
    path = make_audio(tmp_path / "book.m4b", 3)
    facts = inspect_files(path, decode_timeout_s=60)
    assert [f.relpath for f in facts] == ["book.m4b"]
    assert assess(facts, 3.0).passed


def test_content_sniffing(tmp_path):
    mp3 = make_audio(tmp_path / "a.mp3", 2, tags={"title": "x" * 5000})  # a big ID3 tag
    m4b = make_audio(tmp_path / "a.m4b", 2)
    fake = tmp_path / "fake.mp3"
    fake.write_text("<html><body>404 Not Found</body></html>" * 200)
    assert sniff_audio(mp3) == "mpeg" and sniff_audio(m4b) == "mp4"
    assert sniff_audio(fake) is None
    assert is_audio_name("X.M4B") and not is_audio_name("cover.jpg")
    verdict = assess(inspect_files(tmp_path, decode_timeout_s=60), None)
    assert verdict.reasons == ("fake.mp3 does not contain audio despite its name",)


def test_missing_file(tmp_path):
    with pytest.raises(AudioFileNotFound, match="does not exist"):
        probe(tmp_path / "nope.m4b")
    with pytest.raises(FileNotFoundError):
        decode_check(tmp_path / "nope.m4b", timeout_s=5)
    with pytest.raises(AudioFileNotFound):
        inspect_files(tmp_path / "nope", decode_timeout_s=5)


def test_missing_binary_says_what_to_install(tmp_path):
    path = make_audio(tmp_path / "a.mp3", 2)
    with pytest.raises(AudioToolMissing, match="ffmpeg-missing not installed: apt-get install"):
        decode_check(path, timeout_s=5, ffmpeg="ffmpeg-missing")
    with pytest.raises(AudioToolMissing, match="ffprobe-missing not installed"):
        probe(path, ffprobe="ffprobe-missing")
    assert set(tool_versions()) == {"ffmpeg", "ffprobe"}


def test_decode_timeout_kills_ffmpeg(tmp_path):
    path = make_audio(tmp_path / "a.mp3", 2)
    stuck = tmp_path / "stuck-ffmpeg"  # stands in for a decode that takes too long
    stuck.write_text("#!/bin/sh\nexec sleep 60\n")
    stuck.chmod(0o755)
    started = time.monotonic()
    with pytest.raises(AudioToolTimeout, match="raise DECODE_TIMEOUT_S"):
        decode_check(path, timeout_s=0.3, ffmpeg=str(stuck))
    assert time.monotonic() - started < 10


def test_not_media_at_all_is_unreadable(tmp_path):
    path = tmp_path / "a.m4b"
    path.write_bytes(b"\x00\x00\x00\x18ftypM4B " + bytes(4000))
    with pytest.raises(AudioUnreadable, match="cannot read a.m4b"):
        probe(path)
    facts = inspect_files(tmp_path, decode_timeout_s=30)
    assert facts[0].errors and "cannot read" in facts[0].errors[0]

