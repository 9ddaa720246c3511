"""Real qBittorrent and opentracker processes for tests, on 127.0.0.1 only.

``QbitProcess`` runs ``qbittorrent-nox`` with its own profile directory and free ports, its
config written before start (loopback only, DHT/PeX/LSD/UPnP off, legal notice accepted,
real WebUI credentials). ``OpenTracker`` runs ``opentracker`` in whitelist mode. Fixtures
start them and always stop them. Waits poll against a deadline, never sleep a fixed time.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote_from_bytes

import pytest
import qbittorrentapi

from mamcrawler.adapters.qbittorrent import QbitClient
from mamcrawler.domain.torrents import TorrentState
from mamcrawler.torrentfile import encode as bencode

T = TypeVar("T")
LOOPBACK = "127.0.0.1"
PIECE_LENGTH = 16 * 1024


def wait_until(check: Callable[[], T], *, timeout_s: float, what: str, every_s: float = 0.05) -> T:
    """Call ``check`` until it returns something truthy; return that. TimeoutError otherwise."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not within {timeout_s:g} s")
        time.sleep(every_s)


def free_port() -> int:
    """A port free on 127.0.0.1 for both TCP and UDP (BitTorrent listens on both)."""
    for _ in range(50):
        with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            tcp.bind((LOOPBACK, 0))
            port = tcp.getsockname()[1]
            try:
                udp.bind((LOOPBACK, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free TCP+UDP port on 127.0.0.1")


def webui_password_setting(password: str, salt: bytes | None = None) -> str:
    """qBittorrent 4.5's ``WebUI\\Password_PBKDF2`` value: PBKDF2-HMAC-SHA512, 100000 rounds."""
    salt = salt or os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 100_000, dklen=64)
    return f"@ByteArray({base64.b64encode(salt).decode()}:{base64.b64encode(key).decode()})"


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


def _config_text(proc: QbitProcess) -> str:
    sections: dict[str, dict[str, str]] = {
        "LegalNotice": {"Accepted": "true"},
        "BitTorrent": {
            "Session\\DHTEnabled": "false",
            "Session\\PeXEnabled": "false",
            "Session\\LSDEnabled": "false",
            "Session\\Port": str(proc.listen_port),
            "Session\\InterfaceAddress": LOOPBACK,
            "Session\\AnnounceIP": LOOPBACK,
            "Session\\MultiConnectionsPerIp": "true",
            "Session\\QueueingSystemEnabled": "false",
            "Session\\DefaultSavePath": str(proc.downloads_dir),
            "Session\\TempPathEnabled": "false",
        },
        "Network": {"PortForwardingEnabled": "false"},
        "Preferences": {
            "WebUI\\Address": LOOPBACK,
            "WebUI\\Port": str(proc.webui_port),
            "WebUI\\LocalHostAuth": "true" if proc.localhost_auth else "false",
            "WebUI\\Username": proc.username,
            "WebUI\\Password_PBKDF2": f'"{webui_password_setting(proc.password)}"',
            "WebUI\\UseUPnP": "false",
            "Connection\\ResolvePeerCountries": "false",
        },
    }
    for section, values in proc.extra_config.items():
        sections.setdefault(section, {}).update(values)
    return "".join(
        f"[{name}]\n" + "".join(f"{k}={v}\n" for k, v in values.items()) + "\n"
        for name, values in sections.items()
    )


def _spawn(command: list[str], log_path: Path, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    # own session, so kill() can take down the whole process group
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def _end(popen: subprocess.Popen[bytes] | None, timeout_s: float, *, crash: bool = False) -> None:
    """SIGTERM and wait (SIGKILL to the group on timeout); ``crash`` goes straight to SIGKILL."""
    if popen is None or popen.poll() is not None:
        return
    if not crash:
        popen.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=timeout_s)
            return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(popen.pid, signal.SIGKILL)
    popen.wait(timeout=10)


def _http_get(port: int, path: str) -> tuple[int, bytes] | None:
    """Status and body from 127.0.0.1:port, or None when nothing answers."""
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=2)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    except OSError:
        return None
    finally:
        conn.close()


@dataclass
class QbitProcess:
    """One ``qbittorrent-nox`` on 127.0.0.1 with its own profile under ``root``.

    ``localhost_auth=True`` makes even 127.0.0.1 log in, so credentials are really checked.
    ``extra_config`` adds qBittorrent.conf entries: {"Preferences": {"WebUI\\\\X": "1"}}.
    """

    root: Path
    username: str = "mamtest"
    password: str = "mamtest-secret"  # noqa: S105 - a throwaway test instance
    localhost_auth: bool = False
    extra_config: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    webui_port: int = field(default_factory=free_port)
    listen_port: int = field(default_factory=free_port)
    _popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.profile_dir = self.root / "profile"
        self.downloads_dir = self.root / "downloads"
        self.config_file = self.profile_dir / "qBittorrent" / "config" / "qBittorrent.conf"
        self.log_file = self.root / "qbittorrent-nox.log"

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.webui_port}"

    @property
    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def start(self, timeout_s: float = 30.0) -> QbitProcess:
        """Start (writing the config on first start) and wait until the WebUI answers."""
        if self.running:
            return self
        if not self.config_file.exists():
            self.config_file.parent.mkdir(parents=True, exist_ok=True)
            self.downloads_dir.mkdir(parents=True, exist_ok=True)
            self.config_file.write_text(_config_text(self))
        command = ["qbittorrent-nox", f"--profile={self.profile_dir}"]
        self._popen = _spawn(command, self.log_file)
        wait_until(self._webui_answers, timeout_s=timeout_s, what=f"qBittorrent at {self.url}")
        return self

    def _webui_answers(self) -> bool:
        if not self.running:
            raise RuntimeError(f"qbittorrent-nox exited early:\n{self.log_tail()}")
        answer = _http_get(self.webui_port, "/api/v2/app/version")
        return answer is not None and answer[0] in (200, 403)  # 403: up, wants a login

    def stop(self, timeout_s: float = 20.0) -> None:
        """Ask qBittorrent to exit cleanly; kill it if it has not within ``timeout_s``."""
        _end(self._popen, timeout_s)
        self._popen = None

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash would end it."""
        _end(self._popen, 0, crash=True)
        self._popen = None

    def restart(self) -> QbitProcess:
        """Stop cleanly and start again on the same profile and ports."""
        self.stop()
        return self.start()

    def client(self, **kwargs: Any) -> QbitClient:
        """Our adapter with this instance's credentials."""
        return QbitClient(LOOPBACK, self.webui_port, self.username, self.password, **kwargs)

    def api(self) -> qbittorrentapi.Client:
        """A raw qbittorrent-api client, for bulk set-up the adapter does not offer."""
        return qbittorrentapi.Client(
            host=self.url, username=self.username, password=self.password,
            FORCE_SCHEME_FROM_HOST=True, REQUESTS_ARGS={"timeout": 120},
        )  # fmt: skip

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_file.exists():
            return ""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class OpenTracker:
    """``opentracker`` on 127.0.0.1 in whitelist mode; ``allow()`` adds info-hashes."""

    root: Path
    port: int = field(default_factory=free_port)
    allowed: list[str] = field(default_factory=list)
    _popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def announce_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/announce"

    def start(self, timeout_s: float = 10.0) -> OpenTracker:
        """Start with the current whitelist and wait until it serves announces."""
        self.root.mkdir(parents=True, exist_ok=True)
        # opentracker chroots here and drops to "nobody", who must still read the list
        self.root.chmod(0o755)
        self._write_whitelist()
        command = ["opentracker", "-i", LOOPBACK, "-p", str(self.port)]
        command += ["-d", str(self.root), "-w", "whitelist"]
        self._popen = _spawn(command, self.root / "opentracker.log", cwd=self.root)
        wait_until(self._listening, timeout_s=timeout_s, what=f"opentracker on {self.port}")
        self._await_accepted(self.allowed, timeout_s)
        return self

    def allow(self, info_hashes: Sequence[str], timeout_s: float = 10.0) -> None:
        """Whitelist more torrents; a running tracker reloads on SIGHUP, we wait for it."""
        self.allowed.extend(h.lower() for h in info_hashes)
        self._write_whitelist()
        if self._popen is not None:
            self._popen.send_signal(signal.SIGHUP)
            self._await_accepted(info_hashes, timeout_s)

    def stop(self) -> None:
        _end(self._popen, 10)
        self._popen = None

    def _write_whitelist(self) -> None:
        path = self.root / "whitelist"
        path.write_text("".join(f"{h}\n" for h in self.allowed))
        path.chmod(0o644)

    def _listening(self) -> bool:
        if self._popen is not None and self._popen.poll() is not None:
            raise RuntimeError("opentracker exited early; see opentracker.log")
        with socket.socket() as sock:
            return sock.connect_ex((LOOPBACK, self.port)) == 0

    def _await_accepted(self, info_hashes: Sequence[str], timeout_s: float) -> None:
        for info_hash in info_hashes:
            wait_until(
                lambda h=info_hash: self._accepts(h),
                timeout_s=timeout_s, what=f"opentracker whitelisting {info_hash}",
            )  # fmt: skip

    def _accepts(self, info_hash: str) -> bool:
        # a "stopped" announce leaves no peer behind but still gets the whitelist verdict
        query = (
            f"info_hash={quote_from_bytes(bytes.fromhex(info_hash))}"
            "&peer_id=-PROBE-000000000000&port=1&uploaded=0&downloaded=0&left=0"
            "&event=stopped&numwant=0&compact=1"
        )
        answer = _http_get(self.port, f"/announce?{query}")
        return answer is not None and b"failure reason" not in answer[1]


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
