"""Real qBittorrent and opentracker processes on 127.0.0.1 only, for the demo and the tests.

``QbitProcess`` runs ``qbittorrent-nox`` with its own profile directory and free ports, its
config written before start (loopback only, DHT/PeX/LSD/UPnP off, legal notice accepted,
real WebUI credentials, the options two instances on one address need to form a swarm).
``OpenTracker`` runs ``opentracker`` in whitelist mode. Waits poll against a deadline.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import hashlib
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote_from_bytes

import qbittorrentapi

from mamcrawler.adapters.qbittorrent import QbitClient

T = TypeVar("T")
LOOPBACK = "127.0.0.1"
_PR_SET_PDEATHSIG = 1


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


def _pdeathsig_setter() -> Callable[[], None] | None:
    """A function for the child (before exec) that asks the kernel for SIGTERM when the
    parent dies, even by SIGKILL. Resolved here, in the parent: the child only calls it."""
    if sys.platform != "linux":
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _spawn(command: list[str], log_path: Path, cwd: Path | None = None, *,
           die_with_parent: bool = False) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session, so ``_end`` can take down the whole group.

    ``die_with_parent`` (Linux) ends the child when the process that started it dies.
    The kernel ties this to the starting *thread*, and ``preexec_fn`` is unsafe when other
    threads run, so only a single-threaded caller that lives as long as the child (the
    service's main thread during start-up) should ask for it.
    """
    preexec = _pdeathsig_setter() if die_with_parent else None
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=preexec,
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


def _ask_to_end(popen: subprocess.Popen[bytes] | None) -> None:
    if popen is not None and popen.poll() is None:
        popen.terminate()


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
    ``die_with_parent`` see ``_spawn``.
    """

    root: Path
    username: str = "mamcrawler"
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16), repr=False)
    localhost_auth: bool = False
    extra_config: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    webui_port: int = field(default_factory=free_port)
    listen_port: int = field(default_factory=free_port)
    die_with_parent: bool = False
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

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self.running and self._popen is not None else None

    def start(self, timeout_s: float = 30.0) -> QbitProcess:
        """Start (writing the config on first start) and wait until the WebUI answers."""
        if not self.running:
            self.spawn()
        return self.wait_started(timeout_s)

    def spawn(self) -> QbitProcess:
        """Start the process without waiting for it (see ``wait_started``)."""
        if not self.config_file.exists():
            self.config_file.parent.mkdir(parents=True, exist_ok=True)
            self.downloads_dir.mkdir(parents=True, exist_ok=True)
            self.config_file.write_text(_config_text(self))
        command = ["qbittorrent-nox", f"--profile={self.profile_dir}"]
        self._popen = _spawn(command, self.log_file, die_with_parent=self.die_with_parent)
        return self

    def wait_started(self, timeout_s: float = 30.0) -> QbitProcess:
        """Wait until the WebUI of a spawned process answers; stop it if it does not."""
        try:
            wait_until(self._webui_answers, timeout_s=timeout_s, what=f"qBittorrent at {self.url}")
        except BaseException:
            self.stop()
            raise
        return self

    def _webui_answers(self) -> bool:
        if not self.running:
            raise RuntimeError(f"qbittorrent-nox exited early:\n{self.log_tail()}")
        answer = _http_get(self.webui_port, "/api/v2/app/version")
        return answer is not None and answer[0] in (200, 403)  # 403: up, wants a login

    def ask_to_stop(self) -> None:
        """Send SIGTERM without waiting; ``stop()`` then waits (lets several end at once)."""
        _ask_to_end(self._popen)

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
    die_with_parent: bool = False
    _popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def announce_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/announce"

    @property
    def pid(self) -> int | None:
        running = self._popen is not None and self._popen.poll() is None
        return self._popen.pid if running and self._popen is not None else None

    def start(self, timeout_s: float = 10.0) -> OpenTracker:
        """Start with the current whitelist and wait until it serves announces."""
        return self.spawn().wait_started(timeout_s)

    def spawn(self) -> OpenTracker:
        """Start the process without waiting for it (see ``wait_started``)."""
        self.root.mkdir(parents=True, exist_ok=True)
        # opentracker chroots here and drops to "nobody", who must still read the list
        self.root.chmod(0o755)
        self._write_whitelist()
        command = ["opentracker", "-i", LOOPBACK, "-p", str(self.port)]
        command += ["-d", str(self.root), "-w", "whitelist"]
        self._popen = _spawn(command, self.root / "opentracker.log", cwd=self.root,
                             die_with_parent=self.die_with_parent)
        return self

    def wait_started(self, timeout_s: float = 10.0) -> OpenTracker:
        """Wait until a spawned tracker serves announces; stop it if it does not."""
        try:
            wait_until(self._listening, timeout_s=timeout_s, what=f"opentracker on {self.port}")
            self._await_accepted(self.allowed, timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def allow(self, info_hashes: Sequence[str], timeout_s: float = 10.0) -> None:
        """Whitelist more torrents; a running tracker reloads on SIGHUP, we wait for it."""
        self.allowed.extend(h.lower() for h in info_hashes)
        self._write_whitelist()
        if self._popen is not None:
            self._popen.send_signal(signal.SIGHUP)
            self._await_accepted(info_hashes, timeout_s)

    def ask_to_stop(self) -> None:
        """Send SIGTERM without waiting; ``stop()`` then waits."""
        _ask_to_end(self._popen)

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
