"""Narrator detection (R16) on real audio: festival speaks the intro, ffmpeg makes the book,
pocketsphinx listens."""

import re
import sys
import threading
import time
import types
from concurrent.futures import TimeoutError as FutureTimeout

import pytest

from mamcrawler.adapters.audio.probe import AudioFileNotFound, AudioUnreadable
from mamcrawler.adapters.audio.speech import (
    BYTES_PER_SECOND,
    SpeechEngineMissing,
    Transcript,
    extract_window,
    first_audio_file,
    is_silent,
    make_engine,
    peak_dbfs,
    transcribe,
)
from mamcrawler.adapters.audio.vad import find_speech
from mamcrawler.domain.narrator import NO_SPEECH, NarratorCandidate
from mamcrawler.services.narrator_detection import (
    ENGINE_OFF,
    NO_CREDIT,
    DetectionWorker,
    WorkerBusy,
    detect_narrator,
    listen,
)
from tests.support.audio import make_audio
from tests.support.speech import make_silence, spoken_intro

C = NarratorCandidate
POOL = (C("Kate Reading", "tags"), C("Michael Kramer", "audnexus"),
        C("Michael Page", "tracker"), C("Tim Gerard Reynolds", "openlibrary"))
KRAMER = "Narrated by Michael Kramer."


@pytest.mark.slow
@pytest.mark.usefixtures("speech_tools")
@pytest.mark.parametrize("fmt", ["mp3", "m4b"])
def test_pocketsphinx_hears_the_credit_exactly(tmp_path, pocketsphinx_engine, fmt):
    book = spoken_intro(tmp_path / f"intro.{fmt}", KRAMER, then_tone_s=4)
    transcript = transcribe(extract_window(book), pocketsphinx_engine)
    assert transcript.text == "narrated by michael kramer"
    assert transcript.engine == "pocketsphinx"
    assert [w.text for w in transcript.words] == ["narrated", "by", "michael", "kramer"]
    starts = [w.start_s for w in transcript.words]
    assert starts == sorted(starts) and 0 <= starts[0] < transcript.words[-1].end_s < 4


@pytest.mark.slow
@pytest.mark.usefixtures("speech_tools")
def test_narrated_by_michael_kramer_is_matched_among_several(tmp_path, pocketsphinx_engine):
    book = spoken_intro(tmp_path / "The Way of Kings" / "01 - Prelude.mp3", KRAMER)
    make_audio(tmp_path / "The Way of Kings" / "02 - Chapter 1.mp3", 2)
    result = detect_narrator(first_audio_file(book.parent), POOL, pocketsphinx_engine)
    assert (result.name, result.source) == ("Michael Kramer", "audnexus")
    assert result.confidence == pytest.approx(0.9 * (1 - 0.5 * 0.5))
    assert "speech: heard 'michael kramer' ~ Michael Kramer 100%" in result.evidence
    assert any("'narrated by michael kramer'" in e for e in result.evidence)


@pytest.mark.slow
@pytest.mark.usefixtures("speech_tools")
@pytest.mark.parametrize(("text", "fmt", "options", "expected"), [
    # pocketsphinx heard: "the final empire narrated by michael page"
    ("The Final Empire. Narrated by Michael Page.", "m4b", {"lead_tone_s": 2}, "Michael Page"),
    # heard: "this is audible narrated by kate reading"
    ("This is Audible. Narrated by Kate Reading.", "mp3", {"pause_s": 1}, "Kate Reading"),
    # heard: "this is audible read by ten gerard reynolds" (surname match)
    ("This is Audible. Read by Tim Gerard Reynolds.", "mp3", {}, "Tim Gerard Reynolds"),
])
def test_other_credits_are_matched(tmp_path, pocketsphinx_engine, text, fmt, options,
                                   expected):
    book = spoken_intro(tmp_path / f"intro.{fmt}", text, **options)
    result = detect_narrator(book, POOL, pocketsphinx_engine)
    assert result.name == expected, result.evidence
    assert result.confidence > 0.5


@pytest.mark.slow
@pytest.mark.usefixtures("speech_tools")
def test_decoding_stops_once_the_credit_is_heard(tmp_path, pocketsphinx_engine):
    book = spoken_intro(tmp_path / "intro.mp3", KRAMER, then_tone_s=60)
    heard = listen(book, pocketsphinx_engine, 120)
    assert heard.names == ["michael kramer"]
    seconds = int(re.search(r"\(pocketsphinx, (\d+) s in 1 segment\)", heard.notes[0]).group(1))
    assert seconds <= 5  # the speech segment only: the tone after it is not decoded
    assert heard.decoded_s < 5


@pytest.mark.slow
@pytest.mark.usefixtures("speech_tools")
def test_a_credit_after_20_s_of_chords_is_heard(tmp_path, pocketsphinx_engine):
    # Before speech segments and the second pass: "shop on pop pawnshop", no credit.
    book = spoken_intro(tmp_path / "intro.mp3", "Narrated by Ray Porter.", lead_tone_s=20,
                        lead="chords", then_tone_s=5, tail="jingle")
    segments = find_speech(extract_window(book))
    assert len(segments) == 1 and 19 < segments[0].start_s < 20.5 < segments[0].end_s < 23
    candidates = [C("Scott Brick", "tags"), C("Ray Porter", "tracker")]
    result = detect_narrator(book, candidates, pocketsphinx_engine, authors=["Andy Weir"])
    assert (result.name, result.heard, result.source) == ("Ray Porter", ("Ray Porter",),
                                                          "tracker"), result.evidence
    assert any(e.startswith("speech: confirmed Ray Porter: heard 'narrated by ray porter'")
               for e in result.evidence)
    assert result.confidence > 0.6


@pytest.mark.slow
@pytest.mark.usefixtures("speech_tools")
def test_two_narrators_after_chords_are_both_heard(tmp_path, pocketsphinx_engine):
    # Before: "war war for them and ah if i can sanderson pageant i'm michael kramer and
    # kate reading this suffer", no credit found, the sources left disagreeing.
    book = spoken_intro(tmp_path / "intro.m4b", "This is Audible. The Way of Kings, by "
                        "Brandon Sanderson. Narrated by Michael Kramer and Kate Reading.",
                        lead_tone_s=15, lead="chords", then_tone_s=3, tail="pink")
    result = detect_narrator(book, POOL, pocketsphinx_engine, authors=["Brandon Sanderson"])
    assert set(result.heard) == {"Michael Kramer", "Kate Reading"}, result.evidence
    assert result.name in result.heard
    assert result.confidence > 0.6
    assert any(e.startswith("speech: confirmed Michael Kramer: heard 'narrated by michael "
                            "kramer'") for e in result.evidence)


@pytest.mark.slow
@pytest.mark.usefixtures("speech_tools")
def test_an_author_credit_names_no_narrator(tmp_path, pocketsphinx_engine):
    book = spoken_intro(tmp_path / "intro.mp3", "Project Hail Mary. Written by Andy Weir.",
                        lead_tone_s=5, lead="jingle", then_tone_s=3)
    # Some sources list the author among the narrators; the tags name the real one.
    candidates = [C("Andy Weir", "openlibrary"), C("Ray Porter", "tags")]
    result = detect_narrator(book, candidates, pocketsphinx_engine, authors=["Andy Weir"])
    assert result.heard == ()  # speech credits nobody
    assert result.name is None  # the two sources disagree, speech does not settle it
    assert "speech: Andy Weir not confirmed: heard 'written by andy weir': an author's " \
        "credit" in result.evidence
    assert NO_CREDIT in result.evidence


@pytest.mark.slow
@pytest.mark.usefixtures("speech_tools")
@pytest.mark.parametrize("kind", ["silence", "tone"])
def test_a_book_without_speech_gets_no_narrator(tmp_path, pocketsphinx_engine, kind):
    path = tmp_path / "book.mp3"
    book = make_silence(path, 8) if kind == "silence" else make_audio(path, 8)
    assert is_silent(extract_window(book)) is (kind == "silence")
    for candidates in (POOL, ()):
        result = detect_narrator(book, candidates, pocketsphinx_engine)
        assert (result.name, result.confidence) == (None, 0.0)
        assert NO_SPEECH in result.evidence
    # A narrator from the tags is kept; speech only adds the note.
    tagged = detect_narrator(book, [C("Ray Porter", "tags")], pocketsphinx_engine)
    assert (tagged.name, tagged.confidence, tagged.source) == ("Ray Porter", 0.5, "tags")
    assert NO_SPEECH in tagged.evidence


@pytest.mark.slow
@pytest.mark.usefixtures("speech_tools")
def test_speech_without_a_credit_is_noted(tmp_path, pocketsphinx_engine):
    book = spoken_intro(tmp_path / "intro.mp3", "Chapter one.", then_tone_s=2)
    result = detect_narrator(book, [C("Ray Porter", "tags")], pocketsphinx_engine)
    assert (result.name, result.confidence) == ("Ray Porter", 0.5)
    assert NO_CREDIT in result.evidence


def test_whisper_requested_but_not_installed_says_so(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "faster_whisper", None)  # import fails, as when absent
    (tmp_path / "model.bin").write_bytes(b"")
    with pytest.raises(SpeechEngineMissing, match="faster-whisper not installed"):
        make_engine("whisper", tmp_path)


@pytest.mark.parametrize(("model_path", "message"), [
    (None, "WHISPER_MODEL_PATH is not set"), ("", "WHISPER_MODEL_PATH is not set"),
    ("missing", "not a faster-whisper model folder"),
])
def test_whisper_needs_a_local_model_folder(tmp_path, monkeypatch, model_path, message):
    # Only the package's presence matters before the folder is checked.
    monkeypatch.setitem(sys.modules, "faster_whisper", types.ModuleType("faster_whisper"))
    sys.modules["faster_whisper"].WhisperModel = object  # type: ignore[attr-defined]
    path = None if model_path is None else (tmp_path / model_path if model_path else "")
    with pytest.raises(SpeechEngineMissing, match=message):
        make_engine("whisper", path)


def test_engine_off_and_unknown_engines():
    assert make_engine("off") is None
    with pytest.raises(ValueError, match="pocketsphinx, whisper, off"):
        make_engine("vosk")


@pytest.mark.slow
@pytest.mark.usefixtures("speech_tools")
def test_speech_off_leaves_the_candidates(tmp_path):
    book = spoken_intro(tmp_path / "intro.mp3", KRAMER, then_tone_s=1)
    result = detect_narrator(book, [C("Kate Reading", "tags")], None)
    assert (result.name, result.confidence) == ("Kate Reading", 0.5)
    assert ENGINE_OFF in result.evidence


@pytest.mark.slow
@pytest.mark.usefixtures("audio_tools")
def test_extract_window_gives_16k_mono_pcm_and_clear_errors(tmp_path):
    book = make_audio(tmp_path / "book.m4b", 6)
    assert len(extract_window(book, 0, 2)) == pytest.approx(2 * BYTES_PER_SECOND, abs=64)
    assert len(extract_window(book, 1, 120)) == pytest.approx(5 * BYTES_PER_SECOND, rel=0.02)
    assert extract_window(book, 30, 10) == b""
    assert peak_dbfs(extract_window(book, 0, 1)) > -20
    with pytest.raises(AudioFileNotFound):
        extract_window(tmp_path / "nope.mp3")
    (tmp_path / "page.mp3").write_text("<html>not audio</html>")
    with pytest.raises(AudioUnreadable, match="page.mp3"):
        extract_window(tmp_path / "page.mp3")
    with pytest.raises(ValueError):
        extract_window(book, 0, 0)


def test_first_audio_file_is_the_first_in_natural_order(tmp_path):
    for name in ("10 - End.mp3", "2 - Middle.mp3", "cover.jpg", "CD2/01.mp3", "1 - Start.m4b"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert first_audio_file(tmp_path) == tmp_path / "1 - Start.m4b"
    assert first_audio_file(tmp_path / "10 - End.mp3") == tmp_path / "10 - End.mp3"
    (tmp_path / "empty").mkdir()
    with pytest.raises(AudioFileNotFound, match="no audio file"):
        first_audio_file(tmp_path / "empty")


class GatedEngine:
    """An engine that hears a fixed credit once the test lets it: holds the worker busy."""

    name = "gated"

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def transcribe(self, pcm, *, deadline=None, stop=None):
        self.started.set()
        assert self.release.wait(30)
        return Transcript("narrated by michael kramer", (), self.name, len(pcm) / 32000)


def _until(predicate, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.mark.slow
@pytest.mark.usefixtures("speech_tools")
def test_worker_queue_is_bounded_and_returns_results(tmp_path):
    book = spoken_intro(tmp_path / "book.mp3", "Chapter one.", then_tone_s=1)
    engine = GatedEngine()
    with DetectionWorker(engine, max_pending=2) as worker:
        first = worker.submit(book, POOL)
        assert engine.started.wait(10)
        second = worker.submit(book, [C("Michael Kramer", "tags")])
        with pytest.raises(WorkerBusy, match="already waiting"):
            worker.submit(book, POOL)
        assert worker.pending == 2
        with pytest.raises(FutureTimeout):
            first.result(timeout=0.05)  # the caller is never blocked by a running job
        engine.release.set()
        assert first.result(timeout=10).name == "Michael Kramer"
        assert second.result(timeout=10).confidence == pytest.approx(0.9)
        _until(lambda: worker.pending == 0)
    with pytest.raises(RuntimeError):
        worker.submit(book, POOL)


@pytest.mark.slow
@pytest.mark.usefixtures("speech_tools")
def test_worker_job_gives_up_on_speech_at_its_timeout(tmp_path, pocketsphinx_engine):
    # Noise is no longer decoded (not speech); ~20 s of speech takes pocketsphinx ~3 s.
    book = spoken_intro(tmp_path / "long.mp3", " ".join(
        ["It was a cold morning, and the ship was quiet as the crew slept."] * 4),
        then_tone_s=1)
    with DetectionWorker(pocketsphinx_engine, timeout_s=0.5) as worker:
        started = time.monotonic()
        result = worker.detect(book, [C("Michael Kramer", "tags")], wait_s=30)
        elapsed = time.monotonic() - started
    assert elapsed < 3
    assert (result.name, result.confidence) == ("Michael Kramer", 0.5)
    assert any(e.startswith(("speech skipped: ", "speech cut short: ")) and "time" in e
               for e in result.evidence), result.evidence
