"""Is a finished download a whole, playable book? (R11). Pure.

The shell gathers one FileFacts per file (size, content sniff, ffprobe's declared
duration, a full ffmpeg decode) and `assess` turns them into a verdict with every reason
it failed. A failed verdict marks the download failed and keeps it out of the library.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

AUDIO_EXTENSIONS = frozenset({
    ".m4b", ".m4a", ".mp4", ".aac", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".wma",
    ".wav", ".aif", ".aiff", ".ape", ".wv", ".mka", ".webm", ".caf",
})
# Left behind by torrent clients and browsers while a file is still being written.
INCOMPLETE_EXTENSIONS = frozenset({".!qb", ".part", ".partial", ".crdownload", ".tmp"})
# Nothing in an audiobook needs these; in a torrent they are a classic malware carrier.
PROGRAM_EXTENSIONS = frozenset({
    ".exe", ".msi", ".bat", ".cmd", ".com", ".scr", ".pif", ".dll", ".vbs", ".vbe",
    ".js", ".jse", ".wsf", ".ps1", ".lnk", ".jar", ".apk", ".app", ".dmg",
})


@dataclass(frozen=True)
class IntegrityPolicy:
    """Limits for `assess`. Durations in seconds, sizes in bytes.

    The total may differ from the expected runtime by `duration_tolerance_pct` percent or
    `duration_tolerance_min_s`, whichever is larger: 5 % of a 10 h book is 30 min; a 2 h
    book still gets 5 min, because editions differ by intros and credits.
    A file whose decode ends more than max(`truncation_tolerance_s`,
    `truncation_tolerance_pct` %) before the duration its header declares is truncated.
    Bytes per second of audio outside [`min_bytes_per_s`, `max_bytes_per_s`] (about
    4 kbit/s to 8 Mbit/s) means the size and the duration cannot both be right.
    """

    duration_tolerance_pct: float = 5.0
    duration_tolerance_min_s: float = 300.0
    min_file_bytes: int = 4096
    max_files: int = 500
    audio_extensions: frozenset[str] = AUDIO_EXTENSIONS
    program_extensions: frozenset[str] = PROGRAM_EXTENSIONS
    min_bytes_per_s: float = 500.0
    max_bytes_per_s: float = 1_000_000.0
    truncation_tolerance_s: float = 1.0
    truncation_tolerance_pct: float = 0.5

    def __post_init__(self) -> None:
        if self.duration_tolerance_pct < 0 or self.duration_tolerance_min_s < 0:
            raise ValueError("duration tolerances must not be negative")
        if self.max_files < 1 or self.min_file_bytes < 0:
            raise ValueError("max_files must be at least 1 and min_file_bytes not negative")
        if not 0 <= self.min_bytes_per_s < self.max_bytes_per_s:
            raise ValueError("need 0 <= min_bytes_per_s < max_bytes_per_s")

    def duration_tolerance_s(self, expected_s: float) -> float:
        return max(expected_s * self.duration_tolerance_pct / 100, self.duration_tolerance_min_s)

    def is_audio(self, relpath: str) -> bool:
        return _ext(relpath) in self.audio_extensions


@dataclass(frozen=True)
class FileFacts:
    """What was measured about one file of a download; `relpath` is inside the download.

    For audio files: `content_is_audio` is the content sniff (None = not looked at),
    `declared_duration_s` ffprobe's container duration (`duration_estimated` when ffprobe
    guessed it from the bitrate), `decoded_duration_s` how far a full decode got, and
    `errors` what ffprobe/ffmpeg reported (empty = decoded cleanly). Non-audio files need
    only `relpath` and `size_bytes`.
    """

    relpath: str
    size_bytes: int
    content_is_audio: bool | None = None
    declared_duration_s: float | None = None
    duration_estimated: bool = False
    decoded_duration_s: float | None = None
    errors: tuple[str, ...] = ()
    error_count: int = 0  # all errors reported; `errors` may hold only the first few

    @property
    def duration_s(self) -> float | None:
        """The best known duration: what decoded, else what the header declares."""
        if self.decoded_duration_s is not None:
            return self.decoded_duration_s
        return self.declared_duration_s


@dataclass(frozen=True)
class IntegrityVerdict:
    """`passed` exactly when `reasons` is empty; each reason is a sentence for people."""

    passed: bool
    reasons: tuple[str, ...]
    total_duration_s: float
    audio_files: int
    audio_bytes: int
    expected_duration_s: float | None = None
    tolerance_s: float | None = None
    ignored: tuple[str, ...] = field(default=())  # non-audio extras, not checked

    @property
    def summary(self) -> str:
        head = f"{self.audio_files} audio file(s), {format_duration(self.total_duration_s)}"
        if self.passed:
            return f"integrity passed: {head}"
        return f"integrity failed ({head}): " + "; ".join(self.reasons)


def assess(files: Sequence[FileFacts], expected_duration_s: float | None,
           policy: IntegrityPolicy | None = None) -> IntegrityVerdict:
    """The verdict on one download.

    Passes when: there is at least one audio file and at most `policy.max_files`; no
    half-written or program files are present; every audio file is at least
    `min_file_bytes`, really contains audio, decoded without any error, is not cut short
    of its declared duration, and has a plausible size per second; and the total duration
    is within tolerance of `expected_duration_s` when that is known (> 0). Other files
    (cover.jpg, .nfo, .cue, .txt, ...) are allowed and ignored.
    """
    policy = policy or IntegrityPolicy()
    audio = [f for f in files if policy.is_audio(f.relpath)]
    extras = tuple(f.relpath for f in files if not policy.is_audio(f.relpath))
    reasons = _set_reasons(files, audio, policy)
    for facts in audio:
        reasons.extend(_file_reasons(facts, policy))
    total = sum(f.duration_s or 0.0 for f in audio)
    tolerance = None
    if expected_duration_s and expected_duration_s > 0 and audio:
        tolerance = policy.duration_tolerance_s(expected_duration_s)
        if abs(total - expected_duration_s) > tolerance:
            reasons.append(
                f"total duration {format_duration(total)} is not within "
                f"±{format_duration(tolerance)} of the expected "
                f"{format_duration(expected_duration_s)}: incomplete or a different book")
    return IntegrityVerdict(
        passed=not reasons, reasons=tuple(reasons), total_duration_s=total,
        audio_files=len(audio), audio_bytes=sum(f.size_bytes for f in audio),
        expected_duration_s=expected_duration_s, tolerance_s=tolerance, ignored=extras)


def _set_reasons(files: Sequence[FileFacts], audio: list[FileFacts],
                 policy: IntegrityPolicy) -> list[str]:
    reasons = []
    if not audio:
        reasons.append("no audio files" + (f" (found only {_few(f.relpath for f in files)})"
                                           if files else ""))
    if len(audio) > policy.max_files:
        reasons.append(f"{len(audio)} audio files, more than the {policy.max_files} allowed")
    partial = [f.relpath for f in files if _ext(f.relpath) in INCOMPLETE_EXTENSIONS]
    if partial:
        reasons.append(f"unfinished download files present: {_few(partial)}")
    programs = [f.relpath for f in files if _ext(f.relpath) in policy.program_extensions]
    if programs:
        reasons.append(f"program files do not belong in an audiobook: {_few(programs)}")
    return reasons


def _file_reasons(f: FileFacts, policy: IntegrityPolicy) -> list[str]:
    if f.size_bytes < policy.min_file_bytes:
        return [f"{f.relpath} is only {f.size_bytes} bytes"]
    if f.content_is_audio is False:
        return [f"{f.relpath} does not contain audio despite its name"]
    if f.errors:
        count = max(f.error_count, len(f.errors))
        more = f" (and {count - 1} more errors)" if count > 1 else ""
        return [f"{f.relpath} does not decode cleanly: {f.errors[0]}{more}"]
    if f.decoded_duration_s is None:
        return [f"{f.relpath} was not decoded, so it is not known to play"]
    if f.decoded_duration_s <= 0:
        return [f"{f.relpath} contains no audio (0 s decoded)"]
    reasons = []
    if _truncated(f, policy):
        reasons.append(
            f"{f.relpath} ends at {format_duration(f.decoded_duration_s)} of the "
            f"{format_duration(f.declared_duration_s or 0)} its header declares: truncated")
    rate = f.size_bytes / f.decoded_duration_s
    if not policy.min_bytes_per_s <= rate <= policy.max_bytes_per_s:
        reasons.append(f"{f.relpath} has {rate:,.0f} bytes per second of audio, outside the "
                       f"plausible {policy.min_bytes_per_s:,.0f}-{policy.max_bytes_per_s:,.0f}")
    return reasons


def _truncated(f: FileFacts, policy: IntegrityPolicy) -> bool:
    # A duration ffprobe estimated from the bitrate shrinks with the file, so it proves
    # nothing; a header's frame count or an MP4 index does.
    if f.declared_duration_s is None or f.duration_estimated or f.decoded_duration_s is None:
        return False
    slack = max(policy.truncation_tolerance_s,
                f.declared_duration_s * policy.truncation_tolerance_pct / 100)
    return f.decoded_duration_s < f.declared_duration_s - slack


def format_duration(seconds: float) -> str:
    """``h:mm:ss`` (``m:ss`` under an hour)."""
    whole = int(round(max(seconds, 0.0)))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _ext(relpath: str) -> str:
    return PurePosixPath(relpath.replace("\\", "/")).suffix.lower()


def _few(items: Iterable[str], limit: int = 3) -> str:
    names = list(items)
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
