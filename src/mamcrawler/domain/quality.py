"""Edition quality: format rank, bitrate, one comparable score, and size sanity. Pure.

Format ranking (SPEC R9: m4b > m4a/aac > mp3 > others). Decisions taken here:
- m4b is best because it carries chapters and plays as one book; m4a/aac is the same audio
  without the audiobook wrapper; mp3 is universal but usually a pile of files.
- flac, ogg, opus, wma, wav and anything else audio-like rank as "other", below mp3: the
  spec says so, and for speech a lossless file only costs ratio and disk without being
  heard. A missing or unreadable format ranks lowest (0) but is not rejected.
- ebook and document types (epub, pdf, ...) are not audio at all; callers reject them.

`quality_of` turns (format, bitrate) into a score that orders editions exactly like the
lexicographic rule "format first, then bitrate", so a library copy and a release scored
with it compare consistently.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from mamcrawler.domain.records import Release
from mamcrawler.domain.text import fold

FORMAT_RANKS: dict[str, int] = {"m4b": 4, "m4a": 3, "aac": 3, "mp3": 2}
OTHER_AUDIO = frozenset({"flac", "ogg", "opus", "wma", "wav", "alac", "ape", "aax", "aa", "mka"})
NOT_AUDIO = frozenset({"epub", "pdf", "mobi", "azw", "azw3", "cbz", "cbr", "txt", "doc", "lit"})
OTHER_RANK = 1
UNKNOWN_RANK = 0
LOSSLESS = frozenset({"flac", "wav", "alac", "ape"})

BITRATE_CAP_KBPS = 128  # speech gains nothing audible above this; higher scores no better
_POINTS_PER_RANK = 20.0
_BITRATE_POINTS = 19.0  # < one rank step, so a better format always scores higher

_FORMAT_WORD = re.compile(r"[a-z0-9]+")
_BITRATE = re.compile(r"(?<![\d.])(\d{1,4})(?:\.\d+)?\s*(?:kbps|kb/s|kbit/s|kbits?|kb|k)\b", re.I)
_MIN_KBPS, _MAX_KBPS = 8, 6144  # outside this a "kbps" number is something else
_ABRIDGED = re.compile(r"\babridged\b")
_UNABRIDGED = re.compile(r"\bunabridged\b")
_INCOMPLETE = re.compile(r"\b(incomplete|missing (?:files?|chapters?|parts?|tracks?))\b")


def normalize_format(raw: str | None) -> str | None:
    """The best-ranked file type named in `raw` ("M4B", "mp3, m4b" -> "m4b"), else None.

    A type the module does not know is returned as given (lower-case) so it can be shown
    and ranked as "other"; an empty or missing value is None.
    """
    if not raw:
        return None
    words = _FORMAT_WORD.findall(raw.lower())
    if not words:
        return None
    return max(words, key=lambda word: (format_rank(word), word in OTHER_AUDIO, word))


def format_rank(fmt: str | None) -> int:
    """4 m4b, 3 m4a/aac, 2 mp3, 1 any other type, 0 unknown (None or empty)."""
    if not fmt:
        return UNKNOWN_RANK
    return FORMAT_RANKS.get(fmt.lower(), OTHER_RANK)


def is_audio_format(fmt: str | None) -> bool:
    """False only for types known not to be audio (ebooks, documents); unknown is audio."""
    return not fmt or fmt.lower() not in NOT_AUDIO


def sniff_format(text: str) -> str | None:
    """A ranked audio type named as a word in free text ("... [M4B]"), the best one wins."""
    words = {w for w in _FORMAT_WORD.findall(text.lower()) if w in FORMAT_RANKS}
    return max(words, key=format_rank) if words else None


def parse_bitrate(*texts: str) -> int | None:
    """The first plausible bitrate in kbps written in the texts, in order.

    Understands "64 kbps", "96Kb", "128k", "64 kb/s", "32kbit". Sample rates ("44.1 kHz")
    and bit depths are not read as bitrates. Numbers outside 8-6144 are ignored.
    """
    for text in texts:
        for found in _BITRATE.finditer(text or ""):
            value = int(found.group(1))
            if _MIN_KBPS <= value <= _MAX_KBPS:
                return value
    return None


def quality_of(fmt: str | None, bitrate_kbps: int | float | None,
               cap_kbps: int = BITRATE_CAP_KBPS) -> float:
    """A 0-99 score: 20 points per format rank, up to 19 more for bitrate up to `cap_kbps`.

    Promise: for any two editions, a higher format rank always scores higher; with equal
    rank, a higher bitrate (below the cap) scores higher; an unknown bitrate scores as 0.
    """
    rank = format_rank(normalize_format(fmt))
    rate = bitrate_kbps if bitrate_kbps is not None and bitrate_kbps > 0 else 0
    bitrate_points = _BITRATE_POINTS * min(rate, cap_kbps) / cap_kbps if cap_kbps > 0 else 0
    return round(rank * _POINTS_PER_RANK + bitrate_points, 2)


def edition_text(fmt: str | None, bitrate_kbps: int | float | None) -> str:
    """"m4b 64 kbps", "mp3", "unknown format" — how an edition is named in reasons."""
    name = fmt or "unknown format"
    return f"{name} {bitrate_kbps:g} kbps" if bitrate_kbps else name


@dataclass(frozen=True)
class HeldEdition:
    """The edition of a book the library already holds (R14)."""

    format: str | None
    bitrate_kbps: int | None = None

    @property
    def quality(self) -> float:
        """Scored with `quality_of`, like every release."""
        return quality_of(self.format, self.bitrate_kbps)

    def text(self) -> str:
        return edition_text(normalize_format(self.format), self.bitrate_kbps)


def better_than_held(fmt: str | None, bitrate_kbps: int | None, held: HeldEdition,
                     bitrate_factor: float) -> tuple[bool, str]:
    """Is (fmt, bitrate) clearly better than `held`? Returns the answer and why.

    Clearly better: a higher format rank; or the same rank with both bitrates known and the
    new one at least `bitrate_factor` times the held one. A held copy whose format is
    unknown is never replaced: nothing can be shown to beat it, and guessing would
    re-download the library.
    """
    held_fmt = normalize_format(held.format)
    new_rank, held_rank = format_rank(fmt), format_rank(held_fmt)
    if held_rank == UNKNOWN_RANK:
        return False, "the library copy's format is unknown"
    if new_rank != held_rank:
        better = new_rank > held_rank
        word = "better" if better else "worse"
        return better, f"{fmt or 'unknown format'} is a {word} format than {held_fmt}"
    if not (bitrate_kbps and bitrate_kbps > 0 and held.bitrate_kbps and held.bitrate_kbps > 0):
        return False, "same format and bitrate not known on both sides"
    needed = held.bitrate_kbps * bitrate_factor
    if bitrate_kbps >= needed:
        return True, f"{bitrate_kbps} kbps ≥ {bitrate_factor:g} x {held.bitrate_kbps} kbps"
    return False, f"{bitrate_kbps} kbps < {bitrate_factor:g} x {held.bitrate_kbps} kbps"


DEFAULT_KBPS_BOUNDS: dict[str, tuple[float, float]] = {
    # average kbps a whole book can plausibly have; a 20 h book in 30 MB is 3.3 kbps, in
    # 20 GB 2,222 kbps: both absurd for any family.
    "lossy": (12.0, 512.0),  # speech at 16-32 kbps mono is common, 320 kbps mp3 the top
    "lossless": (100.0, 1600.0),  # 16-bit 48 kHz stereo PCM is 1,536; flac is less
    "unknown": (12.0, 1600.0),
}
OK, UNCHECKED, TOO_SMALL, TOO_LARGE, INCOMPLETE = (
    "ok", "unchecked", "too small", "too large", "incomplete")


@dataclass(frozen=True)
class SizeCheck:
    """Whether a release's size fits the book's duration; `status` is one of OK,
    UNCHECKED (size or duration unknown), TOO_SMALL, TOO_LARGE, INCOMPLETE."""

    status: str
    text: str
    average_kbps: float | None = None

    @property
    def rejects(self) -> bool:
        return self.status not in (OK, UNCHECKED)


def check_size(size_bytes: int, duration_s: float | None, fmt: str | None,
               bitrate_kbps: int | None, bounds: dict[str, tuple[float, float]],
               incomplete_below: float) -> SizeCheck:
    """Compare the average bitrate that size and duration imply with the format's plausible
    range, and with the bitrate the release claims: well under the claim (below
    `incomplete_below` of it) means files are missing."""
    if size_bytes <= 0:
        return SizeCheck(UNCHECKED, "size unknown")
    if not duration_s or not math.isfinite(duration_s) or duration_s <= 0:
        return SizeCheck(UNCHECKED, f"size {size_text(size_bytes)}, duration unknown")
    average = size_bytes * 8 / duration_s / 1000
    low, high = bounds["lossless" if fmt in LOSSLESS else "lossy" if fmt else "unknown"]
    hours = duration_s / 3600
    said = f"size {size_text(size_bytes)} for {hours:.1f} h is {average:.1f} kbps average"
    if average < low:
        return SizeCheck(TOO_SMALL, f"{said} < {low:g} kbps: too small", average)
    if average > high:
        return SizeCheck(TOO_LARGE, f"{said} > {high:g} kbps: too large", average)
    if bitrate_kbps and average < bitrate_kbps * incomplete_below:
        return SizeCheck(INCOMPLETE, f"likely incomplete: {said}, under "
                         f"{incomplete_below:.0%} of the {bitrate_kbps} kbps it claims", average)
    return SizeCheck(OK, f"{said}: sane", average)


def is_abridged(release: Release) -> bool:
    """Title or tags say "abridged" and nowhere "unabridged"."""
    text = fold(f"{release.title} {release.tags}")
    return bool(_ABRIDGED.search(text)) and not _UNABRIDGED.search(text)


def incomplete_marker(text: str) -> str | None:
    """The words by which a release says it is incomplete ("missing chapters"), if any."""
    found = _INCOMPLETE.search(fold(text))
    return found.group(1) if found else None


def size_text(size_bytes: int) -> str:
    """"296.0 MiB", "1.25 GiB"."""
    if size_bytes >= 2**30:
        return f"{size_bytes / 2**30:.2f} GiB"
    return f"{size_bytes / 2**20:.1f} MiB"
