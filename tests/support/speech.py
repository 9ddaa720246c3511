"""Spoken audiobook intros for narrator detection tests: festival's `text2wave` says the
text (voice cmu_us_slt_arctic_hts), ffmpeg makes it an mp3/m4b/m4a with tone or silence
around it, like the opening of a real audiobook.

Seen on these machines: pocketsphinx's default model transcribes this voice saying
"Narrated by Michael Kramer." exactly, even right before a tone. A lone short credit for
other names can come out garbled ("Read by Stephen Fry." -> "paid by stephen fry"); in a
longer intro the context helps.

Without text2wave, the voice or ffmpeg the tests are skipped with the reason, except under
CI=true (they fail).
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pytest

from mamcrawler.adapters.audio.speech import PocketsphinxEngine, SpeechEngineMissing
from tests.support.audio import SAMPLE_RATE, skip_or_fail_without

VOICE = "voice_cmu_us_slt_arctic_hts"
_CODECS = {"mp3": ["-c:a", "libmp3lame"], "m4b": ["-c:a", "aac"], "m4a": ["-c:a", "aac"]}
_MUXERS = {"mp3": "mp3", "m4b": "ipod", "m4a": "mp4"}


@pytest.fixture
def speech_tools() -> None:
    """Ask for this to skip (or fail under CI) when text2wave or ffmpeg are missing."""
    skip_or_fail_without("text2wave")
    skip_or_fail_without("ffmpeg")


@pytest.fixture(scope="session")
def pocketsphinx_engine() -> PocketsphinxEngine:
    """One PocketsphinxEngine for the whole session: its decoder is built once."""
    from tests.support.database import skip_or_fail

    try:
        return PocketsphinxEngine()
    except SpeechEngineMissing as exc:
        skip_or_fail(str(exc))
        raise  # not reached: skip_or_fail raises


def say(text: str, wav: str | Path) -> Path:
    """Festival speaking `text` into the WAV file `wav`."""
    from tests.support.database import skip_or_fail

    skip_or_fail_without("text2wave")
    wav = Path(wav)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as handle:
        handle.write(text + "\n")
        handle.flush()
        done = subprocess.run(["text2wave", "-eval", f"({VOICE})", handle.name, "-o", str(wav)],
                              capture_output=True, text=True, check=False)
    # text2wave exits 0 even when the voice is unknown; it only prints a SIOD error.
    if done.returncode != 0 or "SIOD ERROR" in done.stderr or not wav.is_file():
        skip_or_fail(f"festival voice {VOICE} is not usable (apt-get install festival "
                     f"festvox-us-slt-hts): {done.stderr.strip()[:200]}")
    return wav


def spoken_intro(path: str | Path, text: str, *, then_tone_s: float = 5.0,
                 pause_s: float = 0.0, lead_tone_s: float = 0.0, tone_hz: float = 440.0,
                 silent: bool = False, tags: Mapping[str, str] | None = None,
                 lead: str = "tone", tail: str = "tone") -> Path:
    """An audiobook-like file at `path` (mp3, m4b or m4a by its suffix): `lead_tone_s` of
    `lead`, festival saying `text`, `pause_s` of silence, then `then_tone_s` of `tail` (of
    silence when `silent`). `lead` and `tail` name a MUSIC kind: "tone", "chords",
    "pink" or "brown" noise, "jingle". Mono, 22.05 kHz, 32 kbit/s, like
    tests.support.audio."""
    skip_or_fail_without("ffmpeg")
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in _CODECS:
        raise ValueError(f"spoken_intro makes {', '.join(_CODECS)}, not {fmt!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wav = say(text, Path(tmp) / "speech.wav")
        cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-i", str(wav)]
        parts = [("speech", 0)]
        for name, seconds, kind in (("lead", lead_tone_s, lead), ("pause", pause_s, "silence"),
                                    ("tail", then_tone_s, "silence" if silent else tail)):
            if seconds > 0:
                cmd += ["-f", "lavfi", "-i", music(kind, seconds, tone_hz)]
                parts.append((name, len(parts)))
        cmd += ["-filter_complex", _graph(dict(parts)), "-map", "[out]", "-ac", "1",
                *_CODECS[fmt], "-b:a", "32k"]
        if fmt != "mp3":
            cmd += ["-movflags", "+faststart"]
        for key, value in (tags or {}).items():
            cmd += ["-metadata", f"{key}={value}"]
        subprocess.run([*cmd, "-f", _MUXERS[fmt], str(path)], check=True, capture_output=True)
    return path


# Music-like audio an audiobook opens with, as ffmpeg lavfi sources ({s}: seconds, {r}:
# sample rate, {f}: the tone's frequency). Chords: a major triad plus octave, changing every
# 2 s (I-IV-V-vi from A3); a jingle: a bell-like note every 0.25 s, each decaying.
_ROOT = "st(0,220*pow(2,(5*eq(mod(floor(t/2),4),1)+7*eq(mod(floor(t/2),4),2)" \
        "+9*eq(mod(floor(t/2),4),3))/12))"
MUSIC = {
    "silence": "anullsrc=r={r}:cl=mono,atrim=duration={s}",
    "tone": "sine=frequency={f}:duration={s}:sample_rate={r}",
    "chords": "aevalsrc='0.12*(sin(2*PI*" + _ROOT + "*t)+sin(2*PI*ld(0)*1.2599*t)"
              "+sin(2*PI*ld(0)*1.4983*t)+0.5*sin(2*PI*ld(0)*2*t))':s={r}:d={s}",
    "pink": "anoisesrc=color=pink:amplitude=0.25:sample_rate={r}:duration={s}:seed=11",
    "brown": "anoisesrc=color=brown:amplitude=0.5:sample_rate={r}:duration={s}:seed=12",
    "jingle": "aevalsrc='0.4*sin(2*PI*523.25*pow(2,(2*mod(floor(t*4),5)+mod(floor(t*4),3))"
              "/12)*t)*exp(-5*mod(t,0.25))':s={r}:d={s}",
}


def music(kind: str, seconds: float, tone_hz: float = 440.0) -> str:
    """The ffmpeg lavfi source of `seconds` of a MUSIC kind."""
    if kind not in MUSIC:
        raise ValueError(f"no music kind {kind!r}: have {', '.join(MUSIC)}")
    return MUSIC[kind].format(r=SAMPLE_RATE, s=f"{seconds:g}", f=f"{tone_hz:g}")


def _graph(inputs: Mapping[str, int]) -> str:
    """Resample every input alike and concatenate lead, speech, pause, tail in that order."""
    order = [name for name in ("lead", "speech", "pause", "tail") if name in inputs]
    steps = [f"[{inputs[name]}:a]aresample={SAMPLE_RATE},aformat=channel_layouts=mono"
             f"[{name}]" for name in order]
    steps.append("".join(f"[{name}]" for name in order)
                 + f"concat=n={len(order)}:v=0:a=1[out]")
    return ";".join(steps)


def make_silence(path: str | Path, seconds: float) -> Path:
    """`seconds` of digital silence as mp3/m4b/m4a (by the suffix): a book with no speech."""
    skip_or_fail_without("ffmpeg")
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in _CODECS:
        raise ValueError(f"make_silence makes {', '.join(_CODECS)}, not {fmt!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
                    "-i", music("silence", seconds), "-ac", "1", *_CODECS[fmt], "-b:a", "32k",
                    "-f", _MUXERS[fmt], str(path)], check=True, capture_output=True)
    return path
