"""Speech segments (R16): from per-frame flags to padded, merged, bounded segments; and
the modulation test that tells speech from sustained music."""

import math
from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mamcrawler.adapters.audio.vad import (
    SAMPLE_RATE,
    SpeechSegment,
    modulated_frames,
    segments_from_flags,
)

Seg = SpeechSegment


def flags(pattern: str) -> list[bool]:
    return [c == "#" for c in pattern]


@pytest.mark.parametrize(("pattern", "options", "expected"), [
    ("", {}, []),
    ("....", {}, []),
    # One run, padded by one frame each side.
    ("..##..", {"pad_s": 1}, [Seg(1, 5)]),
    # Padding stays inside the window.
    ("##....", {"pad_s": 2}, [Seg(0, 4)]),
    ("....##", {"pad_s": 3}, [Seg(1, 6)]),
    # Close runs merge; far ones stay apart.
    ("##..##", {"pad_s": 0, "merge_gap_s": 2}, [Seg(0, 6)]),
    ("##...##", {"pad_s": 0, "merge_gap_s": 2}, [Seg(0, 2), Seg(5, 7)]),
    ("##..##", {"pad_s": 1, "merge_gap_s": 0}, [Seg(0, 6)]),  # padding touches: merged
    ("##...##", {"pad_s": 1, "merge_gap_s": 0}, [Seg(0, 3), Seg(4, 7)]),
    # A click shorter than min_s is dropped before padding.
    ("#....###", {"pad_s": 0, "min_s": 2}, [Seg(5, 8)]),
    # Too long: cut into equal parts no longer than max_s.
    ("##########", {"pad_s": 0, "max_s": 4}, [Seg(0, 3.333), Seg(3.333, 6.667),
                                               Seg(6.667, 10)]),
    ("########", {"pad_s": 0, "max_s": 4}, [Seg(0, 4), Seg(4, 8)]),
])
def test_segments_from_flags(pattern, options, expected):
    options = {"pad_s": 0, "merge_gap_s": 0, "min_s": 0, **options}
    assert segments_from_flags(flags(pattern), 1.0, **options) == expected


def test_default_frames_are_30_ms():
    assert segments_from_flags(flags("." * 100 + "#" * 100 + "." * 100)) == [Seg(2.7, 6.3)]


@given(st.lists(st.booleans(), max_size=200), st.floats(0, 1), st.floats(0, 1),
       st.floats(0, 0.5), st.floats(0.1, 3))
def test_segments_are_ordered_disjoint_bounded_and_cover_the_speech(
        frames, pad, gap, min_s, max_s):
    frame_s = 0.03
    got = segments_from_flags(frames, frame_s, pad_s=pad, merge_gap_s=gap, min_s=min_s,
                              max_s=max_s)
    total = len(frames) * frame_s
    for seg in got:
        assert 0 <= seg.start_s < seg.end_s <= total + 1e-6
        assert seg.seconds <= max_s + 1e-3
    for a, b in zip(got, got[1:], strict=False):
        assert a.end_s <= b.start_s + 1e-6
    # Every speech frame of a run long enough is inside a segment.
    for index, flag in enumerate(frames):
        run = _run_length(frames, index)
        if flag and run * frame_s >= min_s:
            middle = (index + 0.5) * frame_s
            assert any(s.start_s - 1e-3 <= middle <= s.end_s + 1e-3 for s in got)


def _run_length(frames, index):
    if not frames[index]:
        return 0
    start = index
    while start > 0 and frames[start - 1]:
        start -= 1
    end = index
    while end < len(frames) and frames[end]:
        end += 1
    return end - start


def test_segment_pcm_is_its_slice_of_the_window():
    window = bytes(range(256)) * 250  # 2 s of 16 kHz s16le
    assert Seg(0.5, 1.0).pcm(window) == window[16000:32000]
    assert Seg(1.5, 9.0).pcm(window) == window[48000:]


def _pcm(sample) -> bytes:
    return array("h", (int(sample(i / SAMPLE_RATE)) for i in range(2 * SAMPLE_RATE))).tobytes()


def test_modulation_tells_syllables_from_sustained_sound():
    tone = _pcm(lambda t: 8000 * math.sin(2 * math.pi * 440 * t))
    # Speech-like: a carrier switched on and off four times a second, as syllables are.
    bursts = _pcm(lambda t: 8000 * math.sin(2 * math.pi * 200 * t) * (math.fmod(t, 0.25)
                                                                       < 0.15))
    assert not any(modulated_frames(tone))
    assert all(modulated_frames(bursts))
    assert len(modulated_frames(tone)) == 2000 // 30
