"""Real .torrent files for the simulator, over generated or on-disk content.

A catalogue entry's files either come from a deterministic generator (small pseudo-random
bytes, the same for the same seed) or from a real directory registered by a test. Either
way :func:`build_torrent` hashes exactly the bytes that :meth:`TorrentContent.read` gives,
so a BitTorrent client seeding the written files serves what the .torrent describes.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mamcrawler.torrentfile import encode as bencode

MIN_PIECE_LENGTH = 16 * 1024
TARGET_PIECES = 1000


@dataclass(frozen=True)
class TorrentContent:
    """The files of one torrent. `name` is the torrent's top-level name; `files` are
    (path inside the torrent, size). A single-file torrent has one file whose path is
    `name` itself; otherwise paths are relative to the folder `name`.
    """

    name: str
    files: tuple[tuple[str, int], ...]
    single_file: bool
    seed_key: str = ""  # generated content: the generator's key
    source_dir: Path | None = None  # on-disk content: the folder holding `name`

    @property
    def total_size(self) -> int:
        return sum(size for _, size in self.files)

    def relative_paths(self) -> list[str]:
        """Paths relative to the save directory (they start with the torrent's name)."""
        if self.single_file:
            return [self.name]
        return [f"{self.name}/{path}" for path, _ in self.files]

    def read(self, index: int) -> bytes:
        """The bytes of file `index`."""
        path, size = self.files[index]
        if self.source_dir is not None:
            return (self.source_dir / self.relative_paths()[index]).read_bytes()
        rng = random.Random(f"{self.seed_key}/{path}")  # noqa: S311 - content, not secrets
        return rng.randbytes(size)

    def content(self) -> dict[str, bytes]:
        """Every file's bytes keyed by its path relative to the save directory."""
        return {rel: self.read(i) for i, rel in enumerate(self.relative_paths())}

    def write_to(self, directory: Path) -> Path:
        """Write the files under `directory`; returns the torrent's root path there."""
        for rel, data in self.content().items():
            target = directory / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return directory / self.name


def generated_content(seed_key: str, name: str, files: list[tuple[str, int]]) -> TorrentContent:
    """Deterministic content: `files` inside folder `name`, or one file when it is alone
    and its path equals `name`."""
    single = len(files) == 1 and files[0][0] == name
    return TorrentContent(name=name, files=tuple(files), single_file=single, seed_key=seed_key)


def directory_content(path: Path) -> TorrentContent:
    """Content taken from a real file or directory (every regular file, sorted)."""
    path = path.resolve()
    if path.is_file():
        return TorrentContent(path.name, ((path.name, path.stat().st_size),), True,
                              source_dir=path.parent)
    if not path.is_dir():
        raise FileNotFoundError(f"no such file or directory: {path}")
    files = tuple(
        (p.relative_to(path).as_posix(), p.stat().st_size)
        for p in sorted(path.rglob("*")) if p.is_file()
    )
    if not files:
        raise ValueError(f"directory {path} has no files")
    return TorrentContent(path.name, files, False, source_dir=path.parent)


def piece_length_for(total: int) -> int:
    """A power of two giving at most about TARGET_PIECES pieces, at least 16 KiB."""
    length = MIN_PIECE_LENGTH
    while total / length > TARGET_PIECES:
        length *= 2
    return length


def _pieces(content: TorrentContent, piece_length: int) -> bytes:
    hashes = []
    carry = b""
    for chunk in _stream(content):
        data = carry + chunk
        whole = len(data) - len(data) % piece_length
        for start in range(0, whole, piece_length):
            hashes.append(hashlib.sha1(data[start : start + piece_length]).digest())  # noqa: S324
        carry = data[whole:]
    if carry:
        hashes.append(hashlib.sha1(carry).digest())  # noqa: S324 - BitTorrent v1 pieces
    return b"".join(hashes)


def _stream(content: TorrentContent) -> Iterator[bytes]:
    for index in range(len(content.files)):
        yield content.read(index)


def info_dict(content: TorrentContent, *, source: str = "MAM-SIM") -> dict:
    """The info dictionary (private, with a `source` tag so hashes differ from MAM's)."""
    piece_length = piece_length_for(content.total_size)
    info: dict = {
        "name": content.name,
        "piece length": piece_length,
        "pieces": _pieces(content, piece_length),
        "private": 1,
        "source": source,
    }
    if content.single_file:
        info["length"] = content.files[0][1]
    else:
        info["files"] = [{"length": size, "path": path.split("/")} for path, size in content.files]
    return info


def build_torrent(content: TorrentContent, announce_url: str, *, created: int,
                  comment: str = "") -> tuple[bytes, str]:
    """The .torrent file bytes and its hex info hash."""
    info = info_dict(content)
    encoded_info = bencode(info)
    meta = {
        "announce": announce_url,
        "comment": comment,
        "created by": "MAMcrawler tracker simulator",
        "creation date": created,
        "info": info,
    }
    return bencode(meta), hashlib.sha1(encoded_info).hexdigest()  # noqa: S324
