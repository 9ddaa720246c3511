"""Where the speech is in a window of 16 kHz mono s16le PCM (R16), so that each stretch of
speech is decoded on its own and music is not decoded at all.

Two tests per 30 ms frame, both needed:

- webrtcvad (mode 3, the strictest) says "voice". Alone it is fooled: with festival intros
  and ffmpeg-made lead-ins it marked 60-100 % of chords, pink/brown noise and a jingle as
  speech.
- The frame's second is *modulated*: the 10 ms energies within one second around it span
  at least `MODULATION_DB` between their 10th and 90th percentile. Speech stops and starts
  with its syllables (measured 18-62 dB); sustained chords (2-5 dB), noise (5-9 dB) and a
  decaying-note jingle (9 dB) do not.

The frames then become segments (`segments_from_flags`, pure): runs of speech frames,
padded, merged across short pauses, dropped when too short, cut when too long.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

SAMPLE_RATE = 16_000
FRAME_MS = 30
FRAME_BYTES = SAMPLE_RATE * 2 * FRAME_MS // 1000
FRAME_S = FRAME_MS / 1000
ENERGY_MS = 10
MODULATION_DB = 15.0
VAD_MODE = 3
PAD_S = 0.3
MERGE_GAP_S = 0.6
MIN_SPEECH_S = 0.3
MAX_SEGMENT_S = 20.0


@dataclass(frozen=True)
class SpeechSegment:
    """A stretch of speech, in seconds from the window's start."""

    start_s: float
    end_s: float

    @property
    def seconds(self) -> float:
        return self.end_s - self.start_s

    def pcm(self, window: bytes) -> bytes:
        """This segment's bytes of the s16le `window`."""
        start = int(round(self.start_s * SAMPLE_RATE)) * 2
        end = int(round(self.end_s * SAMPLE_RATE)) * 2
        return window[start:end]


def segments_from_flags(flags: Sequence[bool], frame_s: float = FRAME_S, *,
                        pad_s: float = PAD_S, merge_gap_s: float = MERGE_GAP_S,
                        min_s: float = MIN_SPEECH_S,
                        max_s: float = MAX_SEGMENT_S) -> list[SpeechSegment]:
    """Speech segments from per-frame speech flags: each run of speech frames becomes
    [start - pad, end + pad] (within the window); runs whose padded gap is at most
    `merge_gap_s` merge; runs shorter than `min_s` before padding are dropped (clicks);
    a segment longer than `max_s` is cut into equal parts no longer than `max_s`. Sorted,
    non-overlapping, inside [0, len(flags) x frame_s]."""
    if frame_s <= 0 or max_s <= 0:
        raise ValueError("need frame_s > 0 and max_s > 0")
    total = len(flags) * frame_s
    runs = [(a * frame_s, b * frame_s) for a, b in _runs(flags) if (b - a) * frame_s >= min_s]
    merged: list[list[float]] = []
    for start, end in runs:
        start, end = max(0.0, start - pad_s), min(total, end + pad_s)
        if merged and start - merged[-1][1] <= merge_gap_s:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [part for start, end in merged for part in _cut(start, end, max_s)]


def _runs(flags: Sequence[bool]) -> list[tuple[int, int]]:
    runs, start = [], None
    for index, flag in enumerate(flags):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            runs.append((start, index))
            start = None
    if start is not None:
        runs.append((start, len(flags)))
    return runs


def _cut(start: float, end: float, max_s: float) -> list[SpeechSegment]:
    parts = max(1, math.ceil((end - start) / max_s - 1e-9))
    step = (end - start) / parts
    return [SpeechSegment(round(start + i * step, 3), round(start + (i + 1) * step, 3))
            for i in range(parts)]


def modulated_frames(pcm: bytes, frame_ms: int = FRAME_MS, *,
                     threshold_db: float = MODULATION_DB) -> list[bool]:
    """Per `frame_ms` frame of s16le PCM: does the second around it rise and fall like
    speech (10th-to-90th percentile of 10 ms energies >= `threshold_db`)?"""
    energies = _energies_db(pcm)
    per_frame = frame_ms // ENERGY_MS
    half = 1000 // ENERGY_MS // 2
    flags = []
    for frame in range(len(pcm) // (SAMPLE_RATE * 2 * frame_ms // 1000)):
        centre = frame * per_frame + per_frame // 2
        around = sorted(energies[max(0, centre - half):centre + half])
        spread = around[len(around) * 9 // 10] - around[len(around) // 10] if around else 0.0
        flags.append(spread >= threshold_db)
    return flags


def _energies_db(pcm: bytes) -> list[float]:
    samples = array("h", pcm[:len(pcm) // 2 * 2])
    size = SAMPLE_RATE * ENERGY_MS // 1000
    out = []
    for start in range(0, len(samples) - size + 1, size):
        chunk = samples[start:start + size]
        out.append(10 * math.log10(sum(x * x for x in chunk) / size + 1.0))
    return out


def voiced_frames(pcm: bytes, mode: int = VAD_MODE) -> list[bool]:
    """webrtcvad's verdict per 30 ms frame of 16 kHz s16le PCM (a short tail is dropped)."""
    try:
        import webrtcvad
    except ImportError:
        from mamcrawler.adapters.audio.speech import SpeechEngineMissing

        raise SpeechEngineMissing("webrtcvad not installed: pip install "
                                  "webrtcvad-wheels") from None
    vad = webrtcvad.Vad(mode)
    return [vad.is_speech(pcm[i:i + FRAME_BYTES], SAMPLE_RATE)
            for i in range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES)]


def find_speech(pcm: bytes, **options: float) -> list[SpeechSegment]:
    """The speech segments of a window of 16 kHz mono s16le PCM (see the module
    docstring); `options` go to `segments_from_flags`."""
    voiced = voiced_frames(pcm)
    modulated = modulated_frames(pcm)
    flags = [v and m for v, m in zip(voiced, modulated, strict=False)]
    return segments_from_flags(flags, FRAME_S, **options)
