"""Compute a torrent's info-hash from its .torrent bytes.

qBittorrent answers an add with a bare "Ok.", so we work the hash out ourselves to return
it and to confirm the torrent arrived.
"""

from __future__ import annotations

import hashlib


class MalformedTorrent(ValueError):
    """The bytes are not a bencoded .torrent with an ``info`` dictionary."""


def info_hash(torrent_bytes: bytes) -> str:
    """The torrent's id as qBittorrent shows it, lower-case hex.

    That is the SHA-1 of the bencoded ``info`` dictionary (v1 and hybrid torrents), or for
    a v2-only torrent the SHA-256 of it cut to 20 bytes, as qBittorrent does.
    """
    info_start, info_end = _info_span(torrent_bytes)
    raw_info = torrent_bytes[info_start:info_end]
    info, _ = _decode(raw_info, 0)
    if not isinstance(info, dict):
        raise MalformedTorrent("the 'info' entry is not a dictionary")
    if b"pieces" in info:
        return hashlib.sha1(raw_info, usedforsecurity=False).hexdigest()
    if info.get(b"meta version") == 2:
        return hashlib.sha256(raw_info).hexdigest()[:40]
    raise MalformedTorrent("the 'info' dictionary has neither v1 pieces nor meta version 2")


def _info_span(data: bytes) -> tuple[int, int]:
    """Start and end offsets of the top-level ``info`` value, exactly as encoded."""
    if not data.startswith(b"d"):
        raise MalformedTorrent("not a bencoded dictionary")
    pos = 1
    try:
        while data[pos : pos + 1] != b"e":
            key, pos = _decode(data, pos)
            start = pos
            _, pos = _decode(data, pos)
            if key == b"info":
                return start, pos
    except (IndexError, ValueError, RecursionError) as exc:
        raise MalformedTorrent(f"broken bencoding at byte {pos}: {exc}") from exc
    raise MalformedTorrent("no 'info' dictionary")


def _decode(data: bytes, pos: int) -> tuple[object, int]:
    """Decode one bencoded value at ``pos``; return it and the offset after it."""
    lead = data[pos : pos + 1]
    if lead == b"i":
        end = data.index(b"e", pos)
        return int(data[pos + 1 : end]), end + 1
    if lead == b"l":
        items: list[object] = []
        pos += 1
        while data[pos : pos + 1] != b"e":
            item, pos = _decode(data, pos)
            items.append(item)
        return items, pos + 1
    if lead == b"d":
        entries: dict[object, object] = {}
        pos += 1
        while data[pos : pos + 1] != b"e":
            key, pos = _decode(data, pos)
            entries[key], pos = _decode(data, pos)
        return entries, pos + 1
    if lead.isdigit():
        colon = data.index(b":", pos)
        start = colon + 1
        end = start + int(data[pos:colon])
        if end > len(data):
            raise ValueError("string runs past the end")
        return data[start:end], end
    raise ValueError(f"unexpected byte {lead!r}")
