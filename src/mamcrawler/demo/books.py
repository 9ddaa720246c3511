"""Real, small audio generated with ffmpeg: the demo's audiobooks (and the tests' ones).

Files are mono, 22.05 kHz, 32 kbit/s, seconds long, but real: they decode, carry tags and
pass the integrity check like any download would.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

SAMPLE_RATE = 22050
CODECS = {
    "mp3": ["-c:a", "libmp3lame"],
    "m4b": ["-c:a", "aac"],
    "m4a": ["-c:a", "aac"],
}


class AudioToolMissing(RuntimeError):
    """ffmpeg is not installed."""


def make_audio(path: str | Path, seconds: float, fmt: str | None = None, *,
               tone_hz: float = 440.0, bitrate: str = "32k", noise: bool = False,
               tags: Mapping[str, str] | None = None, faststart: bool = True,
               xing: bool = True) -> Path:
    """Write `seconds` of a sine tone (or pink noise) as mp3/m4b/m4a to `path`."""
    if shutil.which("ffmpeg") is None:
        raise AudioToolMissing("ffmpeg is not installed (apt-get install ffmpeg)")
    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".").lower()
    if fmt not in CODECS:
        raise ValueError(f"make_audio makes {', '.join(CODECS)}, not {fmt!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    source = (f"anoisesrc=d={seconds}:c=pink:r={SAMPLE_RATE}:a=0.2" if noise
              else f"sine=frequency={tone_hz}:duration={seconds}:sample_rate={SAMPLE_RATE}")
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
           "-i", source, "-ac", "1", *CODECS[fmt], "-b:a", bitrate]
    if fmt != "mp3" and faststart:
        cmd += ["-movflags", "+faststart"]
    if fmt == "mp3" and not xing:
        cmd += ["-write_xing", "0"]
    for key, value in (tags or {}).items():
        cmd += ["-metadata", f"{key}={value}"]
    cmd += ["-f", "ipod" if fmt == "m4b" else "mp3" if fmt == "mp3" else "mp4", str(path)]
    subprocess.run(cmd, check=True, capture_output=True)
    return path


def make_book(folder: str | Path, chapters: int = 3, seconds_each: float = 3.0,
              fmt: str = "mp3", **options: object) -> list[Path]:
    """A multi-file book: ``01 - Chapter 1.<fmt>`` ... in `folder`, each a different tone."""
    folder = Path(folder)
    return [make_audio(folder / f"{n:02d} - Chapter {n}.{fmt}", seconds_each, fmt,
                       tone_hz=300 + 40 * n, **options)  # type: ignore[arg-type]
            for n in range(1, chapters + 1)]
