"""What the demo keeps in DATA_DIR/demo/ between starts: the ports its parts listen on
(so the demo client's torrents find their tracker again), and the process ids of a running
demo (so a crashed run's leftovers are ended at the next start)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import time
from pathlib import Path

from .processes import LOOPBACK, free_port

log = logging.getLogger("mamcrawler.demo")

PIDS_FILE = "pids.json"
PORTS_FILE = "ports.json"
PORT_NAMES = ("opentracker", "seeder_webui", "seeder_listen", "client_webui", "client_listen")
# Internal parts rebuilt on every start; the demo client, downloads and library persist.
REBUILT_DIRS = ("opentracker", "seeder")


class DemoAlreadyRunning(Exception):
    """Another live demo uses this folder."""


def rebuild_internal_parts(root: Path) -> None:
    """Forget the tracker's and the seeder's state: the seeder re-adds the catalogue."""
    for name in REBUILT_DIRS:
        shutil.rmtree(root / name, ignore_errors=True)


def ports(root: Path) -> dict[str, int]:
    """The ports of the last start where still free on 127.0.0.1, new ones otherwise."""
    path = root / PORTS_FILE
    try:
        saved = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        saved = {}
    chosen: dict[str, int] = {}
    for name in PORT_NAMES:
        port = saved.get(name)
        ok = isinstance(port, int) and port not in chosen.values() and port_is_free(port)
        chosen[name] = port if ok else _new_port(set(chosen.values()))
    path.write_text(json.dumps(chosen, indent=2) + "\n")
    return chosen


def _new_port(taken: set[int]) -> int:
    while (port := free_port()) in taken:
        continue
    return port


def port_is_free(port: int) -> bool:
    """Free on 127.0.0.1 for TCP (a lingering TIME_WAIT is fine) and UDP."""
    with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind((LOOPBACK, port))
            udp.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def write_pids(root: Path, pids: dict[str, int | None]) -> None:
    record = {"service": os.getpid(), "processes": pids}
    (root / PIDS_FILE).write_text(json.dumps(record, indent=2) + "\n")


def forget_pids(root: Path) -> None:
    (root / PIDS_FILE).unlink(missing_ok=True)


def end_leftovers(root: Path) -> None:
    """End processes a crashed earlier run left behind; refuse when that run still lives."""
    path = root / PIDS_FILE
    try:
        record = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return
    service = record.get("service")
    if isinstance(service, int) and service != os.getpid() and "mamcrawler" in _cmdline(service):
        raise DemoAlreadyRunning(f"another demo (pid {service}) is running from {root}")
    for name, pid in (record.get("processes") or {}).items():
        if isinstance(pid, int) and str(root) in _cmdline(pid):
            log.warning("DEMO: ending the %s (pid %d) a previous run left behind", name, pid)
            _end_group(pid)
    path.unlink(missing_ok=True)


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace")


def _end_group(pid: int, timeout_s: float = 15.0) -> None:
    """SIGTERM the process group `pid` leads (each part runs in its own), SIGKILL if stuck."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.1)


def _alive(pid: int) -> bool:
    """True while `pid` runs; a zombie (ended, not yet reaped) counts as ended."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")
