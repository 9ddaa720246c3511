""".torrent files: a small strict bencode decoder and encoder, the info-hash, a summary.

One implementation for the tracker adapter (is this download really a .torrent?), the
qBittorrent adapter (which hash will the client show?), the simulator and the tests.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

Value = int | bytes | list["Value"] | dict[bytes, "Value"]
_MAX_DEPTH = 64
_NUMBER = re.compile(rb"-?(0|[1-9][0-9]*)")


class BencodeError(ValueError):
    """The data is not valid bencode."""


def _int_until(data: bytes, start: int, end_marker: bytes) -> tuple[int, int]:
    end = data.find(end_marker, start)
    if end < 0:
        raise BencodeError(f"unterminated number at {start}")
    text = data[start:end]
    if not _NUMBER.fullmatch(text) or text == b"-0":
        raise BencodeError(f"malformed number at {start}")
    return int(text), end + 1


def _decode(data: bytes, i: int, depth: int) -> tuple[Value, int]:
    if depth > _MAX_DEPTH:
        raise BencodeError("nesting too deep")
    if i >= len(data):
        raise BencodeError("unexpected end of data")
    head = data[i : i + 1]
    if head == b"i":
        return _int_until(data, i + 1, b"e")
    if head.isdigit():
        length, start = _int_until(data, i, b":")
        if length < 0 or start + length > len(data):
            raise BencodeError(f"string at {i} runs past the end")
        return data[start : start + length], start + length
    if head == b"l":
        items: list[Value] = []
        i += 1
        while data[i : i + 1] != b"e":
            item, i = _decode(data, i, depth + 1)
            items.append(item)
        return items, i + 1
    if head == b"d":
        result, _, end = _decode_dict(data, i, depth)
        return result, end
    raise BencodeError(f"unexpected byte {head!r} at {i}")


def _decode_dict(
    data: bytes, i: int, depth: int
) -> tuple[dict[bytes, Value], dict[bytes, tuple[int, int]], int]:
    """A dict, the byte span of each value, and the offset after the dict."""
    result: dict[bytes, Value] = {}
    spans: dict[bytes, tuple[int, int]] = {}
    i += 1
    while data[i : i + 1] != b"e":
        if i >= len(data):
            raise BencodeError("unterminated dictionary")
        key, i = _decode(data, i, depth + 1)
        if not isinstance(key, bytes):
            raise BencodeError("dictionary key is not a string")
        start = i
        result[key], i = _decode(data, i, depth + 1)
        spans[key] = (start, i)
    return result, spans, i + 1


def encode(value: object) -> bytes:
    """Bencode ints, bytes/str, lists/tuples and dicts (keys sorted, as the format asks)."""
    if isinstance(value, bool):
        raise TypeError("cannot bencode a bool; use 0 or 1")
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode("utf-8")
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list | tuple):
        return b"l" + b"".join(encode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode("utf-8") if isinstance(k, str) else k, v)
                       for k, v in value.items())
        return b"d" + b"".join(encode(k) + encode(v) for k, v in items) + b"e"
    raise TypeError(f"cannot bencode {type(value).__name__}")


def info_hash(data: bytes) -> str:
    """The torrent's id as BitTorrent clients show it, lower-case hex.

    The SHA-1 of the bencoded `info` dictionary exactly as encoded (v1 and hybrid), or for
    a v2-only torrent the SHA-256 of it cut to 20 bytes, as qBittorrent does.
    """
    if data[:1] != b"d":
        raise BencodeError("not a bencoded dictionary")
    meta, spans, _ = _decode_dict(data, 0, 0)
    info = meta.get(b"info")
    if not isinstance(info, dict):
        raise BencodeError("no info dictionary")
    start, stop = spans[b"info"]
    if b"pieces" in info:
        return hashlib.sha1(data[start:stop], usedforsecurity=False).hexdigest()
    if info.get(b"meta version") == 2:
        return hashlib.sha256(data[start:stop]).hexdigest()[:40]
    raise BencodeError("the info dictionary has neither v1 pieces nor meta version 2")


def decode(data: bytes) -> Value:
    """The decoded value; BencodeError when `data` is not exactly one bencoded value."""
    value, end = _decode(data, 0, 0)
    if end != len(data):
        raise BencodeError(f"trailing data after offset {end}")
    return value


@dataclass(frozen=True)
class TorrentSummary:
    """The facts of a .torrent that callers check: where it announces and what it holds."""

    info_hash: str  # hex SHA-1 of the bencoded info dictionary (BitTorrent v1)
    name: str
    announce: str | None
    total_size: int
    files: tuple[tuple[str, int], ...]  # (relative path, length)
    private: bool
    meta: dict[bytes, Value]


def read_torrent(data: bytes) -> TorrentSummary:
    """Check that `data` is a v1 .torrent file and summarise it; BencodeError if not."""
    if data[:1] != b"d":
        raise BencodeError("not a bencoded dictionary")
    meta, spans, end = _decode_dict(data, 0, 0)
    if end != len(data):
        raise BencodeError(f"trailing data after offset {end}")
    info = meta.get(b"info")
    if not isinstance(info, dict):
        raise BencodeError("no info dictionary")
    pieces, piece_length = info.get(b"pieces"), info.get(b"piece length")
    name = info.get(b"name")
    if not isinstance(pieces, bytes) or len(pieces) % 20 or not isinstance(piece_length, int):
        raise BencodeError("info dictionary without valid pieces")
    if not isinstance(name, bytes):
        raise BencodeError("info dictionary without a name")
    files = _files(info, name.decode("utf-8", "replace"))
    start, stop = spans[b"info"]
    announce = meta.get(b"announce")
    return TorrentSummary(
        info_hash=hashlib.sha1(data[start:stop], usedforsecurity=False).hexdigest(),
        name=name.decode("utf-8", "replace"),
        announce=announce.decode("utf-8", "replace") if isinstance(announce, bytes) else None,
        total_size=sum(length for _, length in files),
        files=files,
        private=info.get(b"private") == 1,
        meta=meta,
    )


def _files(info: dict[bytes, Value], name: str) -> tuple[tuple[str, int], ...]:
    length = info.get(b"length")
    if isinstance(length, int):
        return ((name, length),)
    entries = info.get(b"files")
    if not isinstance(entries, list) or not entries:
        raise BencodeError("info dictionary has neither length nor files")
    files = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise BencodeError("file entry is not a dictionary")
        path, size = entry.get(b"path"), entry.get(b"length")
        if not isinstance(path, list) or not all(isinstance(p, bytes) for p in path):
            raise BencodeError("file entry without a path")
        if not isinstance(size, int):
            raise BencodeError("file entry without a length")
        parts = [name] + [p.decode("utf-8", "replace") for p in path]  # type: ignore[union-attr]
        files.append(("/".join(parts), size))
    return tuple(files)
