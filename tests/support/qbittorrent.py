"""Real qBittorrent and opentracker processes for tests, on 127.0.0.1 only.

The processes themselves (``QbitProcess``, ``OpenTracker``) live in
:mod:`mamcrawler.demo.processes`, which the demo uses too. Here: small real torrents, the
swarm, and fixtures that start processes and always stop them. Waits poll against a
deadline, never sleep a fixed time.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mamcrawler.adapters.qbittorrent import QbitClient
from mamcrawler.demo.processes import (
    LOOPBACK,
    OpenTracker,
    QbitProcess,
    free_port,
    wait_until,
    webui_password_setting,
)
from mamcrawler.domain.torrents import TorrentState
from mamcrawler.torrentfile import encode as bencode

__all__ = [
    "LOOPBACK", "OpenTracker", "QbitProcess", "Swarm", "TinyTorrent", "free_port",
    "make_torrent", "torrent_bytes", "wait_until", "webui_password_setting",
]
PIECE_LENGTH = 16 * 1024


def torrent_bytes(
    name: str, files: Mapping[str, bytes], *, announce: str | None = None, private: bool = True
) -> tuple[bytes, str]:
    """A multi-file v1 .torrent for ``files`` (relative path -> content) under folder
    ``name``; returns the bytes and the info-hash."""
    ordered = sorted(files.items())
    joined = b"".join(content for _, content in ordered)
    pieces = b"".join(
        hashlib.sha1(joined[i : i + PIECE_LENGTH], usedforsecurity=False).digest()
        for i in range(0, len(joined), PIECE_LENGTH)
    )
    info: dict[str, Any] = {
        "name": name,
        "piece length": PIECE_LENGTH,
        "pieces": pieces,
        "files": [{"length": len(c), "path": p.split("/")} for p, c in ordered],
    }
    if private:
        info["private"] = 1
    meta: dict[str, Any] = {"info": info, "created by": "mamcrawler tests"}
    if announce:
        meta["announce"] = announce
    return bencode(meta), hashlib.sha1(bencode(info), usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class TinyTorrent:
    """A small real torrent whose files lie in ``save_path / name``."""

    name: str
    info_hash: str
    data: bytes
    save_path: Path
    files: tuple[Path, ...]


def make_torrent(
    save_path: Path,
    name: str,
    file_sizes: Sequence[int] = (40_000,),
    *,
    announce: str | None = None,
    private: bool = True,
) -> TinyTorrent:
    """Write files of random bytes under ``save_path / name`` and make their torrent."""
    contents = {f"part{i:02d}.bin": os.urandom(size) for i, size in enumerate(file_sizes)}
    folder = save_path / name
    folder.mkdir(parents=True, exist_ok=True)
    for rel, content in contents.items():
        (folder / rel).write_bytes(content)
    data, info_hash = torrent_bytes(name, contents, announce=announce, private=private)
    paths = tuple(folder / rel for rel in sorted(contents))
    return TinyTorrent(name, info_hash, data, save_path, paths)


@dataclass
class Swarm:
    """opentracker + a seeding and a leeching qBittorrent, all on 127.0.0.1."""

    tracker: OpenTracker
    seeder: QbitProcess
    leecher: QbitProcess
    root: Path

    def share(self, name: str, file_sizes: Sequence[int] = (200_000,)) -> TinyTorrent:
        """Make a torrent, whitelist it, and have the seeder hold it complete."""
        announce = self.tracker.announce_url
        torrent = make_torrent(self.root / "seed-data", name, file_sizes, announce=announce)
        self.tracker.allow([torrent.info_hash])
        seeder = self.seeder.client()
        seeder.add_torrent(torrent.data, save_path=str(torrent.save_path))

        def seeding() -> bool:
            held = next((t for t in seeder.torrents() if t.hash == torrent.info_hash), None)
            return held is not None and held.is_complete and held.state is TorrentState.SEEDING

        wait_until(seeding, timeout_s=30, what=f"seeder holding {name} complete")
        return torrent


@pytest.fixture
def qbit_factory(tmp_path: Path) -> Iterator[Callable[..., QbitProcess]]:
    """Start ``QbitProcess(**kwargs)`` instances on demand; all are stopped afterwards."""
    started: list[QbitProcess] = []

    def start(**kwargs: Any) -> QbitProcess:
        proc = QbitProcess(tmp_path / f"qbit{len(started)}", **kwargs)
        started.append(proc)
        return proc.start()

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def qbit_process(qbit_factory: Callable[..., QbitProcess]) -> QbitProcess:
    """A running qbittorrent-nox (localhost needs no login)."""
    return qbit_factory()


@pytest.fixture
def qbit_client(qbit_process: QbitProcess) -> QbitClient:
    """Our adapter pointed at ``qbit_process``."""
    return qbit_process.client()


@pytest.fixture
def tiny_torrent_factory(tmp_path: Path) -> Callable[..., TinyTorrent]:
    """``make(name, file_sizes=(40_000,), announce=None)`` -> TinyTorrent under tmp."""

    def make(name: str, file_sizes: Sequence[int] = (40_000,), **kwargs: Any) -> TinyTorrent:
        return make_torrent(tmp_path / "torrent-data", name, file_sizes, **kwargs)

    return make


@pytest.fixture
def opentracker(tmp_path: Path) -> Iterator[OpenTracker]:
    """A running opentracker (whitelist mode, empty list) on 127.0.0.1."""
    tracker = OpenTracker(tmp_path / "opentracker").start()
    try:
        yield tracker
    finally:
        tracker.stop()


@pytest.fixture
def swarm(
    opentracker: OpenTracker, qbit_factory: Callable[..., QbitProcess], tmp_path: Path
) -> Swarm:
    """opentracker + seeding qbittorrent-nox + leeching qbittorrent-nox; ``share()`` a torrent."""
    return Swarm(opentracker, qbit_factory(), qbit_factory(), tmp_path / "swarm")
