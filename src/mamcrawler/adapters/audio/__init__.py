"""Audio tools adapter: ffprobe/ffmpeg probing, full-decode checks, audio file detection."""

from mamcrawler.adapters.audio.probe import (
    AudioFileNotFound,
    AudioProbe,
    AudioToolError,
    AudioToolMissing,
    AudioToolTimeout,
    AudioUnreadable,
    DecodeResult,
    decode_check,
    inspect_files,
    is_audio_name,
    probe,
    sniff_audio,
    tool_versions,
)

__all__ = [
    "AudioFileNotFound",
    "AudioProbe",
    "AudioToolError",
    "AudioToolMissing",
    "AudioToolTimeout",
    "AudioUnreadable",
    "DecodeResult",
    "decode_check",
    "inspect_files",
    "is_audio_name",
    "probe",
    "sniff_audio",
    "tool_versions",
]
