"""ffprobe/ffmpeg: what an audio file declares, and whether it really decodes (R11).

What catches a corrupt or truncated file (tried on ffmpeg 5.1 with generated files):

- ffmpeg exits 0 after decode errors: it conceals them and goes on. So a decode fails
  when ffmpeg exits non-zero OR writes any line at ``-v error`` to stderr.
- A tail overwritten with garbage is reported for MP3 ("Header missing") and AAC/M4B
  ("channel element … is not allocated", "Input buffer exhausted …").
- A truncated M4B with its index (moov) at the end does not open at all ("moov atom not
  found"): `probe` raises AudioUnreadable. With the index first (faststart, as audiobook
  tools write), the cut is reported while decoding ("partial file", AAC errors).
- A truncated MP3 decodes SILENTLY: no error, exit 0. It is caught by comparing how far
  the decode got (``-progress``'s out_time) with the duration the file declares: LAME's
  Xing/Info header keeps the full frame count, so a 10 s file cut to 7 s still declares
  10 s. Without such a header ffprobe estimates the duration from the size (then
  `duration_estimated` is set, learnt from its "Estimating duration from bitrate"
  warning), and only the expected-runtime check of the whole book can catch the cut.
- ``-err_detect explode``/``-xerror`` are not used: they stop at the first error (one
  case exited 1 with no message at all), losing the decoded length and the reason text.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mamcrawler.domain.integrity import AUDIO_EXTENSIONS, FileFacts

PROBE_TIMEOUT_S = 60.0
MAX_ERROR_LINES = 5
_INSTALL_HINT = "apt-get install ffmpeg (it provides ffmpeg and ffprobe), or put it on PATH"
_ESTIMATED = "Estimating duration from bitrate"
_POINTER = re.compile(r" @ 0x[0-9a-f]+", re.IGNORECASE)
_MP4_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide")
_MAGIC = (
    (b"fLaC", "flac"), (b"OggS", "ogg"), (b"MAC ", "ape"), (b"wvpk", "wavpack"),
    (b"caff", "caf"), (b"\x1a\x45\xdf\xa3", "matroska"),
    (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "asf"),
)


class AudioToolError(Exception):
    """ffprobe/ffmpeg could not do their job (not a verdict on the file)."""


class AudioToolMissing(AudioToolError):
    """The binary is not installed."""


class AudioToolTimeout(AudioToolError):
    """The tool did not finish in time; the file may be fine but long, or the host slow."""


class AudioFileNotFound(AudioToolError, FileNotFoundError):
    """The file to look at does not exist."""


class AudioUnreadable(AudioToolError):
    """ffprobe cannot read the file as media at all: a verdict on the file (broken)."""


@dataclass(frozen=True)
class AudioProbe:
    """What the file declares. `duration_s` is the container's duration (None if it has
    none); `duration_estimated` means ffprobe guessed it from size and bitrate. Codec,
    bitrate (bit/s), sample rate and channels are the first audio stream's. `tags` are
    the container's tags (lower-case keys), completed by the audio stream's."""

    path: Path
    container: str
    duration_s: float | None
    duration_estimated: bool
    audio_streams: int
    codec: str | None = None
    bit_rate: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    chapters: int = 0
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DecodeResult:
    """A full decode of every audio stream. `ok` exactly when ffmpeg exited 0 and
    reported nothing; `errors` are its first few lines (pointers removed), `error_count`
    all of them; `decoded_duration_s` is how far the decode got (None if unknown)."""

    ok: bool
    decoded_duration_s: float | None
    errors: tuple[str, ...]
    error_count: int
    exit_code: int
    elapsed_s: float


def probe(path: str | Path, *, timeout_s: float = PROBE_TIMEOUT_S,
          ffprobe: str = "ffprobe") -> AudioProbe:
    """Read `path`'s container and streams with ffprobe.

    Raises AudioFileNotFound, AudioToolMissing, AudioToolTimeout, or AudioUnreadable when
    ffprobe cannot read it as media.
    """
    path = _existing(path)
    cmd = [_binary(ffprobe), "-v", "warning", "-hide_banner", "-print_format", "json",
           "-show_format", "-show_streams", "-show_chapters", str(path)]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise AudioToolTimeout(f"ffprobe did not read {path} within {timeout_s:g} s") from None
    stderr = done.stderr.decode("utf-8", errors="replace")
    if done.returncode != 0:
        raise AudioUnreadable(f"ffprobe cannot read {path.name}: {_first_line(stderr)}")
    try:
        data = json.loads(done.stdout)
    except ValueError:
        raise AudioUnreadable(f"ffprobe gave no readable answer for {path.name}") from None
    return _parse_probe(path, data, estimated=_ESTIMATED in stderr)


def decode_check(path: str | Path, timeout_s: float, *, ffmpeg: str = "ffmpeg") -> DecodeResult:
    """Decode every audio stream of `path` to the end, discarding the output.

    Raises AudioFileNotFound, AudioToolMissing, or AudioToolTimeout (the process is
    killed) — a timeout says nothing about the file; raise DECODE_TIMEOUT_S if it recurs.
    """
    path = _existing(path)
    cmd = [_binary(ffmpeg), "-hide_banner", "-nostdin", "-v", "error", "-nostats",
           "-progress", "pipe:1", "-i", str(path), "-map", "0:a", "-f", "null", "-"]
    started = time.monotonic()
    # stderr goes to a file: a badly broken file can log an error per frame, hours long.
    with tempfile.TemporaryFile() as err_file:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=err_file)
        try:
            stdout, _ = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise AudioToolTimeout(
                f"ffmpeg did not finish decoding {path.name} within {timeout_s:g} s; "
                "raise DECODE_TIMEOUT_S for long books on slow machines") from None
        err_file.seek(0)
        lines = _error_lines(err_file.read(1 << 20))
    return DecodeResult(
        ok=proc.returncode == 0 and not lines,
        decoded_duration_s=_out_time_s(stdout.decode("utf-8", errors="replace")),
        errors=tuple(lines[:MAX_ERROR_LINES]) or _exit_reason(proc.returncode),
        error_count=len(lines) or (1 if proc.returncode else 0),
        exit_code=proc.returncode,
        elapsed_s=time.monotonic() - started,
    )


def tool_versions(ffmpeg: str = "ffmpeg", ffprobe: str = "ffprobe") -> dict[str, str]:
    """The first ``-version`` line of each tool; raises AudioToolMissing if one is absent.
    Meant for the CLI's connection check."""
    versions = {}
    for name in (ffmpeg, ffprobe):
        try:
            done = subprocess.run([_binary(name), "-version"], capture_output=True,
                                  timeout=PROBE_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise AudioToolTimeout(f"{name} -version did not answer") from None
        versions[name] = _first_line(done.stdout.decode("utf-8", errors="replace"))
    return versions


def is_audio_name(path: str | Path, extensions: frozenset[str] = AUDIO_EXTENSIONS) -> bool:
    """True when the file name has an audio extension (.m4b, .mp3, ...)."""
    return Path(path).suffix.lower() in extensions


def sniff_audio(path: str | Path) -> str | None:
    """The audio family the first bytes show ("mp4", "mpeg", "flac", "ogg", ...), or None
    when the content is not a known audio format (an HTML page or archive named .mp3)."""
    with open(path, "rb") as handle:
        head = handle.read(64)
        if head[:3] == b"ID3" and len(head) >= 10:
            # Skip the ID3v2 tag (cover art can make it large) to the first audio frame.
            size = _syncsafe(head[6:10]) + 10 + (10 if head[5] & 0x10 else 0)
            handle.seek(size)
            # Some taggers leave zero padding after the tag; ffmpeg skips it, so do we.
            after = handle.read(4096).lstrip(b"\x00")
            return _family(after[:16])
    return _family(head)


def inspect_files(root: str | Path, *, decode_timeout_s: float,
                  audio_extensions: frozenset[str] = AUDIO_EXTENSIONS,
                  probe_timeout_s: float = PROBE_TIMEOUT_S, ffmpeg: str = "ffmpeg",
                  ffprobe: str = "ffprobe") -> list[FileFacts]:
    """FileFacts for every file under `root` (a folder, or one file), sorted by path, for
    `domain.integrity.assess`. Audio files are sniffed, probed and fully decoded; a file
    that cannot be read becomes facts with errors. Tool trouble (AudioToolMissing,
    AudioToolTimeout) is raised instead: it says nothing about the download."""
    root = Path(root)
    if not root.exists():
        raise AudioFileNotFound(f"{root} does not exist")
    paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    base = root.parent if root.is_file() else root
    facts = []
    for path in paths:
        relpath = path.relative_to(base).as_posix()
        if not is_audio_name(path, audio_extensions):
            facts.append(FileFacts(relpath, path.stat().st_size))
            continue
        facts.append(_audio_facts(path, relpath, decode_timeout_s, probe_timeout_s,
                                  ffmpeg, ffprobe))
    return facts


def _audio_facts(path: Path, relpath: str, decode_timeout_s: float, probe_timeout_s: float,
                 ffmpeg: str, ffprobe: str) -> FileFacts:
    size = path.stat().st_size
    if sniff_audio(path) is None:
        return FileFacts(relpath, size, content_is_audio=False)
    try:
        info = probe(path, timeout_s=probe_timeout_s, ffprobe=ffprobe)
    except AudioUnreadable as exc:
        return FileFacts(relpath, size, content_is_audio=True, errors=(str(exc),))
    if not info.audio_streams:
        return FileFacts(relpath, size, content_is_audio=True, errors=("no audio stream",))
    result = decode_check(path, decode_timeout_s, ffmpeg=ffmpeg)
    return FileFacts(relpath, size, content_is_audio=True,
                     declared_duration_s=info.duration_s,
                     duration_estimated=info.duration_estimated,
                     decoded_duration_s=result.decoded_duration_s, errors=result.errors,
                     error_count=result.error_count)


def _family(head: bytes) -> str | None:
    if len(head) >= 12 and head[4:8] in _MP4_BOXES:
        return "mp4"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "mpeg"  # MPEG audio frame or ADTS AAC
    for magic, family in _MAGIC:
        if head.startswith(magic):
            return family
    if head[:4] in (b"RIFF", b"FORM") and head[8:12] in (b"WAVE", b"AIFF", b"AIFC"):
        return "pcm"
    return None


def _syncsafe(raw: bytes) -> int:
    return (raw[0] & 0x7F) << 21 | (raw[1] & 0x7F) << 14 | (raw[2] & 0x7F) << 7 | raw[3] & 0x7F


def _parse_probe(path: Path, data: Mapping[str, Any], *, estimated: bool) -> AudioProbe:
    fmt = data.get("format") or {}
    audio = [s for s in data.get("streams") or [] if s.get("codec_type") == "audio"]
    first = audio[0] if audio else {}
    tags = {str(k).lower(): str(v) for k, v in (first.get("tags") or {}).items()}
    tags.update({str(k).lower(): str(v) for k, v in (fmt.get("tags") or {}).items()})
    return AudioProbe(
        path=path,
        container=str(fmt.get("format_name") or ""),
        duration_s=_number(fmt.get("duration")) or _number(first.get("duration")),
        duration_estimated=estimated,
        audio_streams=len(audio),
        codec=first.get("codec_name"),
        bit_rate=_integer(first.get("bit_rate")) or _integer(fmt.get("bit_rate")),
        sample_rate=_integer(first.get("sample_rate")),
        channels=_integer(first.get("channels")),
        chapters=len(data.get("chapters") or []),
        tags=tags,
    )


def _existing(path: str | Path) -> Path:
    """`path` made absolute: ffmpeg would read a name like "-x.mp3" as an option and
    "concat:a|b" as a protocol; "/dir/..." is always a plain file to it."""
    path = Path(path)
    if not path.is_file():
        raise AudioFileNotFound(f"{path} does not exist or is not a file")
    return path.absolute()


def _binary(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise AudioToolMissing(f"{name} not installed: {_INSTALL_HINT}")
    return found


def _error_lines(raw: bytes) -> list[str]:
    text = raw.decode("utf-8", errors="replace")
    return [_POINTER.sub("", line).strip() for line in text.splitlines() if line.strip()]


def _exit_reason(code: int) -> tuple[str, ...]:
    return (f"ffmpeg exited with status {code}",) if code else ()


def _out_time_s(progress: str) -> float | None:
    """The last ``out_time_us`` of ffmpeg's ``-progress`` output, in seconds."""
    value = None
    for line in progress.splitlines():
        key, _, raw = line.partition("=")
        if key.strip() == "out_time_us":
            number = _integer(raw.strip())
            value = number / 1_000_000 if number is not None and number >= 0 else value
    return value


def _first_line(text: str) -> str:
    lines = [_POINTER.sub("", line).strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "no details"


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number == number and number >= 0 else None  # NaN check


def _integer(value: object) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None
