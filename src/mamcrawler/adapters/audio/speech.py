"""Speech-to-text on a book's opening minutes (R16): ffmpeg extracts the window, an engine
transcribes it. Offline: pocketsphinx with the English model inside its wheel by default;
faster-whisper when it is installed and a local model folder is configured.

What was learnt with festival-spoken intros and pocketsphinx 5.1 (default model):

- Building the decoder takes ~0.4 s; decoding runs at ~0.25 x real time for speech, up to
  ~0.4 x for noise/music, ~0.2 x for silence. So silence is detected first (`is_silent`),
  and decoding can stop early once the credit is heard (`stop`).
- Decoding a whole window at once (``full_utt=True``, batch cepstral mean normalisation)
  fails when speech is followed by a tone or music in the same stretch: "narrated by
  michael kramer" + 10 s of tone came out as "i like op pa". Streaming the audio with live
  normalisation, reset to the model's initial values for each window, recognises it, also
  with a tone before the speech.
- The normalisation state otherwise carries over between windows (the same file decoded
  after a noisy one came out differently), hence the reset.
- Webrtc-style voice activity detection marks a steady tone, chords and noise as speech,
  so `vad.find_speech` adds a modulation test before a stretch is decoded; each speech
  segment is then decoded on its own (a credit after a minute of music is heard as well
  as one at second 0).
- Keyphrase spotting (`spot`, pocketsphinx's kws search) confirms "narrated by <a
  candidate>" where open decoding mishears the name ("narrated by rape torture"), at
  ~0.03 x real time. Names missing from the dictionary get a guessed pronunciation
  (`pronounce.guess_phones`).
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import tempfile
import threading
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from mamcrawler.adapters.audio.probe import (
    AudioFileNotFound,
    AudioToolError,
    AudioToolMissing,
    AudioToolTimeout,
    AudioUnreadable,
    _binary,
    _existing,
    _first_line,
    is_audio_name,
)
from mamcrawler.adapters.audio.pronounce import guess_phones
from mamcrawler.domain.narrator_credit import Spotted

SAMPLE_RATE = 16_000
BYTES_PER_SECOND = SAMPLE_RATE * 2  # mono s16le
DEFAULT_WINDOW_S = 120.0
EXTRACT_TIMEOUT_S = 120.0
SILENCE_DBFS = -50.0
CHECK_EVERY_S = 5.0
KWS_THRESHOLD = 1e-30
SPOT_TAIL_BYTES = BYTES_PER_SECOND // 2
MAX_VARIANTS = 4
ENGINES = ("pocketsphinx", "whisper", "off")
_ALTERNATE = re.compile(r"\(\d+\)$")  # pocketsphinx marks alternate pronunciations "word(2)"
_NATURAL = re.compile(r"(\d+)")

StopWhen = Callable[[str], bool]


class SpeechEngineError(AudioToolError):
    """A speech engine could not be set up or could not transcribe."""


class SpeechEngineMissing(SpeechEngineError, AudioToolMissing):
    """The engine's package (or its model) is not installed."""


@dataclass(frozen=True)
class Word:
    """One recognised word and where it was heard, in seconds from the window's start."""

    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Transcript:
    """What an engine heard: lower-case text (may be empty), words with times when the
    engine gives them, the engine's name, and how many seconds of audio were decoded."""

    text: str
    words: tuple[Word, ...]
    engine: str
    audio_s: float


class SpeechEngine(Protocol):
    """Turns 16 kHz mono s16le PCM into a Transcript. `deadline` is a time.monotonic()
    value after which AudioToolTimeout is raised; `stop` is asked with the text so far
    every few seconds of audio and ends decoding early when it says True."""

    name: str

    def transcribe(self, pcm: bytes, *, deadline: float | None = None,
                   stop: StopWhen | None = None) -> Transcript: ...


@runtime_checkable
class KeyphraseSpotter(Protocol):
    """An engine that can also listen for given phrases (PocketsphinxEngine)."""

    def unknown_words(self, phrase: str) -> list[str]: ...

    def guess_words(self, words: Sequence[str]) -> dict[str, str]: ...

    def spot(self, pcm: bytes, phrases: Sequence[str], *, threshold: float = ...,
             deadline: float | None = None) -> list[Spotted]: ...


def extract_window(path: str | Path, start_s: float = 0.0,
                   seconds: float = DEFAULT_WINDOW_S, *, timeout_s: float = EXTRACT_TIMEOUT_S,
                   ffmpeg: str = "ffmpeg") -> bytes:
    """`seconds` of the first audio stream of `path` from `start_s` on, as 16 kHz mono
    s16le PCM (shorter when the file is; empty when it starts after the end).

    Raises AudioFileNotFound, AudioToolMissing, AudioToolTimeout, or AudioUnreadable when
    ffmpeg cannot read the file or it has no audio stream.
    """
    if seconds <= 0 or start_s < 0:
        raise ValueError("need seconds > 0 and start_s >= 0")
    path = _existing(path)
    # -ss before -i seeks in the input (fast). Decode errors on the way are tolerated: this
    # is not the integrity check, and a partly damaged file can still carry the credit.
    cmd = [_binary(ffmpeg), "-hide_banner", "-nostdin", "-v", "error", "-ss", f"{start_s:.3f}",
           "-t", f"{seconds:.3f}", "-i", str(path), "-map", "0:a:0", "-vn", "-sn", "-dn",
           "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "s16le", "pipe:1"]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise AudioToolTimeout(
            f"ffmpeg did not extract {seconds:g} s of {path.name} within {timeout_s:g} s; "
            "the host is slow or the file is on a slow mount") from None
    if done.returncode != 0:
        stderr = done.stderr.decode("utf-8", errors="replace")
        if "matches no streams" in stderr:
            raise AudioUnreadable(f"{path.name} has no audio stream")
        raise AudioUnreadable(f"ffmpeg cannot read {path.name}: {_first_line(stderr)}")
    return done.stdout[:len(done.stdout) // 2 * 2]


def first_audio_file(book: str | Path) -> Path:
    """The file a book starts with: `book` itself when it is a file, else the first audio
    file under the folder in natural order ("2 - x.mp3" before "10 - x.mp3", "CD1/..."
    before "CD2/..."). Raises AudioFileNotFound when there is none."""
    book = Path(book)
    if book.is_file():
        return book
    if not book.is_dir():
        raise AudioFileNotFound(f"{book} does not exist")
    files = [p for p in book.rglob("*") if p.is_file() and is_audio_name(p)]
    if not files:
        raise AudioFileNotFound(f"{book} holds no audio file")
    return min(files, key=lambda p: _natural_key(p.relative_to(book)))


def _natural_key(path: Path) -> tuple[tuple[object, ...], ...]:
    return tuple(tuple(int(t) if t.isdigit() else t.lower() for t in _NATURAL.split(part))
                 for part in path.parts)


def peak_dbfs(pcm: bytes) -> float:
    """The loudest sample of s16le PCM in dB below full scale; -inf for digital silence."""
    samples = array("h", pcm[:len(pcm) // 2 * 2])
    if not samples:
        return -math.inf
    peak = max(max(samples), -min(samples))
    return 20 * math.log10(peak / 32768) if peak else -math.inf


def is_silent(pcm: bytes, threshold_dbfs: float = SILENCE_DBFS) -> bool:
    """True when no sample reaches `threshold_dbfs`: nothing there to transcribe. Cheap
    (no decoding); quiet room tone counts as silence, a tone or music does not."""
    return peak_dbfs(pcm) < threshold_dbfs


def transcribe(pcm: bytes, engine: SpeechEngine, *, deadline: float | None = None,
               stop: StopWhen | None = None) -> Transcript:
    """`engine`'s transcript of s16le PCM (an odd trailing byte is dropped)."""
    return engine.transcribe(pcm[:len(pcm) // 2 * 2], deadline=deadline, stop=stop)


class PocketsphinxEngine:
    """Offline English recognition with pocketsphinx's bundled model.

    The decoder is built once here (~0.4 s) and reused. It is not thread-safe: calls to
    `transcribe` from several threads are serialised by a lock, so share one engine per
    process and run it in one worker thread (see services.narrator_detection).
    """

    name = "pocketsphinx"

    def __init__(self, **decoder_options: object) -> None:
        try:
            from pocketsphinx import Decoder
        except ImportError:
            raise SpeechEngineMissing(
                "pocketsphinx not installed: pip install pocketsphinx (5.x; its English "
                "model ships in the wheel), or set NARRATOR_SPEECH_ENGINE=off") from None
        try:
            self._decoder = Decoder(samprate=SAMPLE_RATE, loglevel="ERROR", **decoder_options)
        except (RuntimeError, ValueError, KeyError) as exc:
            raise SpeechEngineError(f"pocketsphinx decoder could not be built: {exc}") from None
        self._initial_cmn = self._decoder.get_cmn(False)
        self._frame_s = 1.0 / float(self._decoder.config["frate"])
        self._lock = threading.Lock()
        self._kws: tuple[tuple[str, ...], float] | None = None  # the keyphrases loaded

    def transcribe(self, pcm: bytes, *, deadline: float | None = None,
                   stop: StopWhen | None = None) -> Transcript:
        """The transcript of `pcm`, decoded as one utterance in one-second pieces."""
        with self._lock:
            decoded = self._decode(pcm, deadline, stop)
            hyp = self._decoder.hyp()
            words = tuple(self._words())
        text = " ".join((hyp.hypstr if hyp else "").split())
        return Transcript(text, words, self.name, decoded / BYTES_PER_SECOND)

    def _decode(self, pcm: bytes, deadline: float | None, stop: StopWhen | None) -> int:
        decoder = self._decoder
        decoder.set_cmn(self._initial_cmn)  # why: see the module docstring
        decoder.start_utt()
        offset, next_check = 0, CHECK_EVERY_S * BYTES_PER_SECOND
        try:
            while offset < len(pcm):
                if deadline is not None and time.monotonic() > deadline:
                    raise AudioToolTimeout(
                        f"pocketsphinx did not finish within the time allowed (decoded "
                        f"{offset / BYTES_PER_SECOND:.0f} s); raise the detection timeout "
                        "or lower NARRATOR_WINDOW_S")
                decoder.process_raw(pcm[offset:offset + BYTES_PER_SECOND], False, False)
                offset += BYTES_PER_SECOND
                if stop is not None and offset >= next_check:
                    next_check += CHECK_EVERY_S * BYTES_PER_SECOND
                    partial = decoder.hyp()
                    if stop(partial.hypstr if partial else ""):
                        break
        finally:
            decoder.end_utt()
        return min(offset, len(pcm))

    def unknown_words(self, phrase: str) -> list[str]:
        """The words of `phrase` the recogniser's dictionary lacks (it cannot spot those)."""
        with self._lock:
            return [w for w in phrase.split() if self._decoder.lookup_word(w) is None]

    def guess_words(self, words: Sequence[str]) -> dict[str, str]:
        """Add a guessed pronunciation (`pronounce.guess_phones`) for each of `words`
        the dictionary lacks; returns what was added, word -> phones."""
        with self._lock:
            guessed = {w: guess_phones(w, self._decoder.lookup_word) for w in words
                       if self._decoder.lookup_word(w) is None}
            added = {w: p for w, p in guessed.items() if p}
            for index, (word, phones) in enumerate(added.items()):
                # Rebuilding the search costs ~0.15 s: once, with the last word.
                self._decoder.add_word(word, phones, index == len(added) - 1)
            if added:
                self._kws = None  # searches were rebuilt: load the keyphrases again
        return added

    def spot(self, pcm: bytes, phrases: Sequence[str], *, threshold: float = KWS_THRESHOLD,
             deadline: float | None = None) -> list[Spotted]:
        """The `phrases` (lower case, dictionary words only) heard in `pcm` by keyphrase
        spotting, in time order; overlapping detections are all returned. Much cheaper
        than open decoding (~0.03 x real time)."""
        phrases = [p for p in dict.fromkeys(" ".join(p.split()) for p in phrases) if p]
        if not phrases or not pcm:
            return []
        with self._lock:
            self._add_keyphrases([v for p in phrases for v in self._variants(p)], threshold)
            try:
                self._decode(pcm + bytes(SPOT_TAIL_BYTES), deadline, None)
                found = [Spotted(" ".join(_ALTERNATE.sub("", w) for w in seg.word.split()),
                                 round(seg.start_frame * self._frame_s, 3),
                                 round((seg.end_frame + 1) * self._frame_s, 3),
                                 round(min(max(seg.prob, 0.0), 1.0), 4))
                         for seg in self._decoder.seg() or ()]
            finally:
                self._decoder.activate_search()  # back to open decoding
        return sorted(found, key=lambda s: (s.start_s, s.phrase))

    def _variants(self, phrase: str) -> list[str]:
        """`phrase`, and `phrase` with one word in another of its pronunciations ("read"
        is R EH D, "read(2)" R IY D: festival says "reed by", most narrators "red by"),
        earlier words first, at most MAX_VARIANTS in all."""
        words = phrase.split()
        variants = [phrase]
        for index, word in enumerate(words):
            variants += [" ".join([*words[:index], f"{word}({n})", *words[index + 1:]])
                         for n in range(2, 4) if self._decoder.lookup_word(f"{word}({n})")]
        return variants[:MAX_VARIANTS]

    def _add_keyphrases(self, phrases: Sequence[str], threshold: float) -> None:
        """Load `phrases` as the "credits" search and switch to it. A book's segments all
        listen for the same phrases: they are loaded once, not per segment."""
        key = (tuple(phrases), threshold)
        if key == self._kws:
            self._decoder.activate_search("credits")
            return
        handle, name = tempfile.mkstemp(suffix=".kws", prefix="narrator-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.writelines(f"{p} /{threshold:g}/\n" for p in phrases)
            self._decoder.add_kws("credits", name)
        except RuntimeError as exc:
            raise SpeechEngineError(f"pocketsphinx refused the keyphrases: {exc}") from None
        finally:
            os.unlink(name)
        self._kws = key
        self._decoder.activate_search("credits")

    def _words(self) -> list[Word]:
        words = []
        for seg in self._decoder.seg():
            if seg.word.startswith(("<", "[")):  # <s>, <sil>, [NOISE]: not words
                continue
            words.append(Word(_ALTERNATE.sub("", seg.word),
                              round(seg.start_frame * self._frame_s, 3),
                              round((seg.end_frame + 1) * self._frame_s, 3)))
        return words


class WhisperEngine:
    """faster-whisper with a local CTranslate2 model folder (never downloads). Optional:
    used only when the package is importable and WHISPER_MODEL_PATH is set. Calls are
    serialised by a lock, like PocketsphinxEngine."""

    name = "whisper"

    def __init__(self, model_path: str | Path | None, *, device: str = "cpu",
                 compute_type: str = "int8", language: str = "en") -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise SpeechEngineMissing(
                "faster-whisper not installed: pip install faster-whisper and set "
                "WHISPER_MODEL_PATH to a local model folder, or set "
                "NARRATOR_SPEECH_ENGINE=pocketsphinx") from None
        folder = _model_folder(model_path)
        try:
            self._model = WhisperModel(str(folder), device=device, compute_type=compute_type,
                                       local_files_only=True)
        except Exception as exc:  # CTranslate2 raises plain RuntimeError/ValueError/OSError
            raise SpeechEngineError(f"faster-whisper could not load {folder}: {exc}") from None
        self._language = language
        self._lock = threading.Lock()

    def transcribe(self, pcm: bytes, *, deadline: float | None = None,
                   stop: StopWhen | None = None) -> Transcript:
        """The transcript of `pcm`; segments are decoded lazily, so `stop` and `deadline`
        are checked between them."""
        import numpy as np  # a dependency of faster-whisper

        audio = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
        texts: list[str] = []
        words: list[Word] = []
        decoded = 0.0
        with self._lock:
            segments, _ = self._model.transcribe(audio, language=self._language,
                                                 word_timestamps=True, vad_filter=True)
            for segment in segments:
                if deadline is not None and time.monotonic() > deadline:
                    raise AudioToolTimeout("faster-whisper did not finish within the time "
                                           "allowed; raise the detection timeout")
                texts.append(segment.text)
                words += [Word(w.word.strip().lower(), w.start, w.end)
                          for w in segment.words or ()]
                decoded = float(segment.end)
                if stop is not None and stop(" ".join(texts).lower()):
                    break
            else:
                decoded = len(pcm) / BYTES_PER_SECOND
        text = " ".join(" ".join(texts).lower().split())
        return Transcript(text, tuple(words), self.name, decoded)


def _model_folder(model_path: str | Path | None) -> Path:
    if model_path is None or not str(model_path).strip():
        raise SpeechEngineMissing(
            "WHISPER_MODEL_PATH is not set: point it at a local faster-whisper model folder "
            "(with model.bin), or set NARRATOR_SPEECH_ENGINE=pocketsphinx")
    folder = Path(model_path).expanduser()
    if not (folder / "model.bin").is_file():
        raise SpeechEngineMissing(
            f"WHISPER_MODEL_PATH={folder} is not a faster-whisper model folder (no model.bin)")
    return folder


def make_engine(kind: str, model_path: str | Path | None = None) -> SpeechEngine | None:
    """The engine NARRATOR_SPEECH_ENGINE names: "pocketsphinx", "whisper" (needs
    `model_path`), or None for "off". Raises ValueError for another name and
    SpeechEngineMissing when the engine is not installed."""
    kind = (kind or "").strip().lower()
    if kind == "off":
        return None
    if kind == "pocketsphinx":
        return PocketsphinxEngine()
    if kind == "whisper":
        return WhisperEngine(model_path)
    raise ValueError(f"unknown speech engine {kind!r}: use one of {', '.join(ENGINES)}")
