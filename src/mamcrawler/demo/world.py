"""The full demo: a real local swarm on 127.0.0.1 around the tracker simulator.

`DemoWorld.start(settings)` starts opentracker (whitelist mode), the tracker simulator
announcing to it, a seeding qbittorrent-nox holding a small generated catalogue, and the
user-facing qbittorrent-nox the service downloads with. Everything lives in DATA_DIR/demo/
and, with the demo database, persists between starts (see state.py). `stop()` ends every
process it started; so does interpreter exit, and the parts get SIGTERM from the kernel if
the service dies; a crashed run's leftovers are ended at the next start.

Without the tools it falls back to the tracker-only demo and says what to install.
"""

from __future__ import annotations

import atexit
import ipaddress
import logging
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import SecretStr
from sqlalchemy import select

from mamcrawler.config import Settings
from mamcrawler.domain.naming import library_relpath
from mamcrawler.domain.torrents import TorrentState
from mamcrawler.services.library import create_book
from mamcrawler.services.tracker import TrackerEndpoint
from mamcrawler.services.wanted import add_wanted
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Book

from . import catalogue, serve_simulator, state
from .processes import LOOPBACK, OpenTracker, QbitProcess, wait_until

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from mamcrawler.jobs.scheduler import JobScheduler
    from mamcrawler.sim import TrackerSimulator

log = logging.getLogger("mamcrawler.demo")

REQUIRED_TOOLS = ("qbittorrent-nox", "opentracker", "ffmpeg", "ffprobe")
INSTALL_HINT = "apt-get install qbittorrent-nox opentracker ffmpeg"
DEMO_SCHEDULES = {"acquisition": "every 1m", "torrent_watch": "every 1m",
                  "download_watch": "every 1m"}
SEED_TIMEOUT_S = 60.0


class DemoUnavailable(Exception):
    """The full demo cannot run here; the message says why."""


class DemoStopped(Exception):
    """The demo was stopped before it finished starting."""


def missing_tools() -> list[str]:
    return [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]


@dataclass
class DemoWorld:
    """What the demo started. `full` is False for the tracker-only fallback.

    Started in two halves so the service can answer while the world is built:
    `launch` (quick, in the main thread before any other thread exists: the processes it
    spawns die with this process) and `finish` (slow, in any thread: waits for them,
    generates the books, starts the simulator and seeds). `start` does both.
    """

    tracker: TrackerEndpoint | None
    settings_update: dict[str, Any]
    full: bool
    root: Path | None = None
    ports: dict[str, int] = field(default_factory=dict)
    _processes: tuple[QbitProcess | OpenTracker, ...] = field(default=(), repr=False)
    _stoppers: list[Callable[[], None]] = field(default_factory=list, repr=False)
    _stopped: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def start(cls, settings: Settings) -> DemoWorld:
        """The full demo when the tools are installed, else the tracker-only one."""
        return cls.launch(settings).finish()

    @classmethod
    def launch(cls, settings: Settings) -> DemoWorld:
        """Spawn the demo's processes without waiting for them; call `finish` next."""
        missing = missing_tools()
        if missing:
            log.warning(
                "DEMO MODE against the tracker SIMULATOR only: %s not installed, so no "
                "books will download. To watch books arrive in the demo, install them: %s",
                ", ".join(missing), INSTALL_HINT)
            return cls(None, {}, full=False)
        try:
            return cls._launch_full(settings)
        except Exception as exc:  # the demo must never keep the service from starting
            log.warning("DEMO MODE against the tracker SIMULATOR only: the local swarm did "
                        "not start (%s)", exc)
            return cls(None, {}, full=False)

    @classmethod
    def tracker_only(cls) -> DemoWorld:
        return cls(None, {}, full=False).finish()

    @classmethod
    def _launch_full(cls, settings: Settings) -> DemoWorld:
        root = settings.data_dir.resolve() / "demo"
        root.mkdir(parents=True, exist_ok=True)
        state.end_leftovers(root)
        state.rebuild_internal_parts(root)
        world = cls(None, {}, full=True, root=root)
        atexit.register(world.stop)
        try:
            world._spawn_processes(root, state.ports(root))
        except BaseException:
            world.stop()
            raise
        return world

    def _spawn_processes(self, root: Path, port: dict[str, int]) -> None:
        # Spawned while this process has no other threads (see processes._spawn on
        # die_with_parent); `finish` waits for them.
        opentracker = OpenTracker(root / "opentracker", port=port["opentracker"],
                                  die_with_parent=True)
        seeder = QbitProcess(root / "seeder", username="demo-seeder",
                             webui_port=port["seeder_webui"],
                             listen_port=port["seeder_listen"], die_with_parent=True)
        client = QbitProcess(root / "client", username="demo", webui_port=port["client_webui"],
                             listen_port=port["client_listen"], die_with_parent=True)
        client.config_file.unlink(missing_ok=True)  # rewritten: this start's ports, password
        pids: dict[str, int | None] = {}
        for name, process in (("opentracker", opentracker), ("seeding qBittorrent", seeder),
                              ("demo qBittorrent", client)):
            self._keep(process.stop)
            process.spawn()
            pids[name] = process.pid
            state.write_pids(root, pids)  # at once: a crash now still leaves a record
            log.info("DEMO: started the %s (pid %s)", name, process.pid)
        self._processes = (client, seeder, opentracker)

    def finish(self) -> DemoWorld:
        """Bring the launched world up; on failure fall back to the tracker-only demo.
        Raises DemoStopped when `stop` was called meanwhile."""
        if self.full:
            try:
                self._finish_full()
            except Exception as exc:  # the demo must never keep the service from starting
                if self._stopped:
                    raise DemoStopped("the demo was stopped while starting") from None
                log.warning("DEMO MODE against the tracker SIMULATOR only: the local swarm "
                            "did not start (%s)", exc)
                self._stop_parts()
                if self.root is not None:
                    state.forget_pids(self.root)
                self.full, self.settings_update, self.root = False, {}, None
        if self.tracker is None:
            endpoint, _, stop_simulator = serve_simulator()
            self._keep(stop_simulator)
            self.tracker = endpoint
        return self

    def _finish_full(self) -> None:
        client, seeder, opentracker = self._processes
        for process in (opentracker, seeder, client):
            process.wait_started()
        root = self.root
        assert root is not None
        log.info("DEMO: preparing the demo audiobooks in %s", root / "catalogue")
        editions = catalogue.generate(root / "catalogue")
        endpoint, simulator, stop_simulator = serve_simulator(opentracker.announce_url)
        self._keep(stop_simulator)
        torrents = publish(simulator, editions)
        opentracker.allow(list(torrents))
        seed(seeder, torrents, root / "catalogue")
        keep_announcing(client, opentracker.announce_url)
        self.tracker = endpoint
        self.settings_update = demo_settings(root, client)
        self.ports = {"opentracker": opentracker.port, "seeding qBittorrent": seeder.webui_port,
                      "demo qBittorrent": client.webui_port}

    def _keep(self, stopper: Callable[[], None]) -> None:
        """Remember how to stop a part; stop it at once if the world was stopped."""
        with self._lock:
            if not self._stopped:
                self._stoppers.append(stopper)
                return
        stopper()
        raise DemoStopped("the demo was stopped while starting")

    def welcome(self, sessions: sessionmaker[Session], scheduler: JobScheduler) -> None:
        """Put the first book of a series in the demo library, the demo's wanted books on
        the wanted list, and run completion (which finds the rest of the series) and
        acquisition at once."""
        if not self.full:
            return
        pending = []
        with session_scope(sessions) as session:
            for book in catalogue.CATALOGUE:
                if book.in_library:
                    self._place(session, book)
                if book.wanted:
                    entry, _ = add_wanted(session, {
                        "title": book.title, "author": book.author, "series": book.series,
                        "position": book.position, "narrator": book.narrator,
                        "source": "manual", "note": "put on the wanted list by the demo"})
                    if entry.status != "done":
                        pending.append(book.title)
        scheduler.trigger("completion", trigger="demo")
        scheduler.trigger("acquisition", trigger="demo")
        self._log_banner(pending)

    def _place(self, session: Session, book: catalogue.DemoBook) -> None:
        """The library holds `book` from the start: its files and its record."""
        library = Path(self.settings_update["library_dir"])
        relpath = library_relpath(book.author, book.series, book.position, book.title,
                                  book.narrator)
        catalogue.place_in_library(book, self.root / "catalogue", library, relpath)
        if session.scalar(select(Book.id).where(Book.title == book.title)) is not None:
            return
        create_book(session, {
            "title": book.title, "authors": [book.author], "narrators": [book.narrator],
            "series": [{"name": book.series, "position": book.position}],
            "library_path": str(library / relpath), "format": book.editions[0].fmt,
            "duration_seconds": book.editions[0].seconds})
        log.info("DEMO: the library holds %s, book %s of %s; completion looks for the rest "
                 "of the series (mamcrawler completion --series \"%s\")", book.title,
                 book.position, book.series, book.series)

    def _log_banner(self, pending: list[str]) -> None:
        library = self.settings_update["library_dir"]
        log.info(
            "DEMO MODE, running against a tracker SIMULATOR (not MyAnonamouse) and a local "
            "swarm on 127.0.0.1: opentracker :%s, a seeding qBittorrent :%s, and the demo "
            "qBittorrent WebUI at http://%s:%s (no login from this machine)",
            self.ports["opentracker"], self.ports["seeding qBittorrent"], LOOPBACK,
            self.ports["demo qBittorrent"])
        if pending:
            log.info("DEMO: %d books are on the wanted list (%s) and completion is looking "
                     "for the rest of the series in the library; they are searched now and "
                     "should be in %s within about two minutes. Follow them at /api/downloads "
                     "and /api/books.", len(pending), ", ".join(pending), library)
        else:
            log.info("DEMO: the demo's books arrived in %s on an earlier start; to watch them "
                     "arrive again, stop the service and delete %s and the demo database.",
                     library, self.root)
        spare = catalogue.spare()
        log.info("DEMO: ask for one more book: mamcrawler want \"%s\" --author \"%s\"",
                 spare.title, spare.author)

    def stop(self) -> None:
        """End everything the demo started (safe to call more than once, from any thread)."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._stop_parts()
        if self.root is not None:
            state.forget_pids(self.root)
            log.info("DEMO: stopped the local swarm and the tracker simulator")
        atexit.unregister(self.stop)

    def _stop_parts(self) -> None:
        with self._lock:
            processes, self._processes = self._processes, ()
            stoppers, self._stoppers = self._stoppers, []
        for process in processes:
            process.ask_to_stop()  # all at once; the stoppers below wait for each
        for stop in reversed(stoppers):
            try:
                stop()
            except Exception:  # one stubborn part must not keep the others running
                log.exception("DEMO: stopping a part failed")


def publish(simulator: TrackerSimulator,
            editions: list[catalogue.GeneratedEdition]) -> dict[str, bytes]:
    """Register every edition with the simulator; returns its .torrent by info-hash."""
    torrents: dict[str, bytes] = {}
    for item in editions:
        book, edition = item.book, item.edition
        tid = simulator.add_torrent_from_directory(
            item.folder, title=book.title, authors=(book.author,), narrators=(book.narrator,),
            series=((book.series, book.position),) if book.series else (),
            filetype=edition.fmt, free=edition.free, vip=edition.vip, seeders=edition.seeders,
            description="MAMcrawler demo audiobook: generated tones, not a real book")
        data, info_hash = simulator.torrent(tid)
        torrents[info_hash] = data
    return torrents


def seed(seeder: QbitProcess, torrents: dict[str, bytes], save_path: Path) -> None:
    """Have the seeder hold every edition complete and known to the tracker."""
    client = seeder.client()
    hashes = list(torrents)
    for data in torrents.values():
        client.add_torrent(data, save_path=str(save_path))

    def all_seeding() -> bool:
        states = {t.hash: t.state for t in client.torrents()}
        return all(states.get(h) is TorrentState.SEEDING for h in hashes)

    wait_until(all_seeding, timeout_s=SEED_TIMEOUT_S, what="the demo seeder", every_s=0.2)
    client.reannounce(hashes)  # be known to the tracker before anyone asks


def keep_announcing(client: QbitProcess, announce_url: str) -> None:
    """Torrents the demo client kept from an earlier start announce to this start's tracker
    (the same URL unless its port was taken meanwhile; qBittorrent ignores duplicates)."""
    api = client.api()
    for torrent in api.torrents_info():
        api.torrents_add_trackers(torrent_hash=torrent.hash, urls=[announce_url])


def demo_settings(root: Path, client: QbitProcess) -> dict[str, Any]:
    """Settings that point the service at the demo's parts, all on 127.0.0.1."""
    (root / "downloads").mkdir(parents=True, exist_ok=True)
    (root / "library").mkdir(parents=True, exist_ok=True)
    update: dict[str, Any] = {
        "qb_host": LOOPBACK, "qb_port": client.webui_port, "qb_username": client.username,
        "qb_password": SecretStr(client.password),
        "library_dir": root / "library", "download_dir": root / "downloads",
        # the user's own Audiobookshelf and Prowlarr stay out of the demo
        "abs_url": None, "abs_token": None, "abs_library_id": None,
        "prowlarr_url": None, "prowlarr_api_key": None,
        # the demo's paid book must arrive within minutes, not after PAID_AFTER_DAYS
        "paid_after_days": 0,
    }
    update |= {f"schedule_{job}": every for job, every in DEMO_SCHEDULES.items()}
    assert_loopback(update)
    return update


def assert_loopback(update: dict[str, Any]) -> None:
    """Refuse any demo setting that would reach past this machine."""
    for key, value in update.items():
        if key.endswith("_host") and value is not None:
            host = str(value)
        elif key.endswith("_url") and value is not None:
            host = urlsplit(str(value)).hostname or ""
        else:
            continue
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise DemoUnavailable(f"demo setting {key.upper()} is not a loopback address")
