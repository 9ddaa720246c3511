"""Real audio for tests, generated with ffmpeg into temporary folders (the generator is
:mod:`mamcrawler.demo.books`, shared with the demo).

Files are small (mono, 22.05 kHz, 32 kbit/s, seconds long) but real: they decode, carry
tags, and can be damaged on purpose. What damage ffmpeg notices (see
adapters/audio/probe.py for the details):

- `corrupt_tail` (last part overwritten with noise, size unchanged): decode errors for
  MP3 and M4B/M4A alike.
- `truncate_tail` (last part cut off): an M4B written with faststart (index first, the
  default here, as audiobook tools do) reports decode errors; one with the index at the
  end (``faststart=False``) cannot even be probed. An MP3 decodes silently; it is caught
  only because LAME's Xing header still declares the full length (``xing=False`` makes
  it undetectable per file: ffprobe then estimates the duration from the size).

Without ffmpeg the tests are skipped with the reason, except under CI=true (they fail).
"""

from __future__ import annotations

import random
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

from mamcrawler.demo import books
from mamcrawler.demo.books import SAMPLE_RATE

__all__ = ["SAMPLE_RATE", "audio_tools", "corrupt_tail", "make_audio", "make_book",
           "make_cover", "skip_or_fail_without", "truncate_tail"]


def skip_or_fail_without(binary: str) -> None:
    """Skip the test when `binary` is not on PATH (fail under CI=true)."""
    # Imported here: importing a sibling plugin at load time keeps pytest from
    # rewriting its asserts (plugins load in name order, and "audio" < "database").
    from tests.support.database import skip_or_fail

    if shutil.which(binary) is None:
        skip_or_fail(f"{binary} is not installed (apt-get install ffmpeg)")


@pytest.fixture
def audio_tools() -> None:
    """Ask for this to skip (or fail under CI) when ffmpeg/ffprobe are missing."""
    skip_or_fail_without("ffmpeg")
    skip_or_fail_without("ffprobe")


def make_audio(path: str | Path, seconds: float, fmt: str | None = None, *,
               tone_hz: float = 440.0, bitrate: str = "32k", noise: bool = False,
               tags: Mapping[str, str] | None = None, faststart: bool = True,
               xing: bool = True) -> Path:
    """Write `seconds` of a sine tone (or pink noise) as mp3/m4b/m4a to `path`."""
    skip_or_fail_without("ffmpeg")
    return books.make_audio(path, seconds, fmt, tone_hz=tone_hz, bitrate=bitrate, noise=noise,
                            tags=tags, faststart=faststart, xing=xing)


def make_book(folder: str | Path, chapters: int = 3, seconds_each: float = 3.0,
              fmt: str = "mp3", **options: object) -> list[Path]:
    """A multi-file book: ``01 - Chapter 1.<fmt>`` ... in `folder`, each a different tone."""
    skip_or_fail_without("ffmpeg")
    return books.make_book(folder, chapters, seconds_each, fmt, **options)


def make_cover(path: str | Path) -> Path:
    """A small real JPEG."""
    skip_or_fail_without("ffmpeg")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
                    "-i", "color=c=navy:s=64x64", "-frames:v", "1", str(path)],
                   check=True, capture_output=True)
    return path


def corrupt_tail(path: str | Path, fraction: float = 0.3, *, seed: int = 7) -> Path:
    """Overwrite the last `fraction` of the file with noise; the size stays the same."""
    path = Path(path)
    data = bytearray(path.read_bytes())
    start = int(len(data) * (1 - fraction))
    rng = random.Random(seed)
    data[start:] = bytes(rng.getrandbits(8) for _ in range(len(data) - start))
    path.write_bytes(bytes(data))
    return path


def truncate_tail(path: str | Path, fraction: float = 0.3) -> Path:
    """Cut the last `fraction` of the file off, as an interrupted download would."""
    path = Path(path)
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(int(size * (1 - fraction)))
    return path
