"""Our service on the simulated world: the real account check, torrent watch and
acquisition services with the policies built from the settings, on a real SQLite store.

The jobs run on the simulated clock at coarser steps than the default schedule, so a year
takes about a minute: the watch every `WATCH_EVERY_H` hours (6; the default schedule:
every 5 minutes; a torrent paused for 6 hours still seeds its 72 hours in 30 days),
acquisition every `ACQUISITION_EVERY_H` hours (3; every 15 minutes) and the account check
daily at noon (as by default). The only stand-in is the download watch:
there are no audio files to verify, so a completed torrent is imported, or fails its
integrity check when the catalogue says it does, and goes back to wanted as
`download_watch` would do it.
"""

from __future__ import annotations

import logging
from datetime import UTC, timedelta
from pathlib import Path

from sqlalchemy import select

from mamcrawler.adapters.mam import TrackerError
from mamcrawler.config import Settings
from mamcrawler.domain.states import DownloadState, WantedStatus
from mamcrawler.policies import Policies
from mamcrawler.services import acquisition
from mamcrawler.services.account import account_check
from mamcrawler.services.torrent_watch import TorrentWatchFailed, watch
from mamcrawler.services.vip_purchases import last_price_mismatch
from mamcrawler.services.wanted import add_wanted
from mamcrawler.store import migrate
from mamcrawler.store.db import make_engine, make_session_factory, session_scope
from mamcrawler.store.models import Download, WantedBook

from .ports import SimQbit, SimTracker
from .world import World

WATCH_EVERY_H = 6
ACQUISITION_EVERY_H = 3
ACCOUNT_CHECK_HOUR = 12
PERSON_CONFIRMS_PRICES_AFTER_H = 48  # a price mismatch stops buying until then

log = logging.getLogger("mamcrawler.sim.year")


class Ours:
    name = "ours"

    def __init__(self, world: World, settings: Settings, workdir: Path) -> None:
        self.world, self.settings = world, settings
        self.engine = make_engine(f"sqlite:///{workdir / 'ours.db'}")
        migrate.upgrade(self.engine)
        self.sessions = make_session_factory(self.engine)
        self.policies = Policies.from_settings(settings)
        self.tracker, self.qbit = SimTracker(world), SimQbit(world, settings.qb_category)
        self.ports = acquisition.Ports(self.tracker, self.qbit)
        self.next_book = 0
        self.book_of: dict[int, int] = {}  # wanted id -> catalogue book
        self.errors: dict[str, int] = {}
        self.price_confirmations = 0

    def close(self) -> None:
        self.engine.dispose()

    def hour(self, h: int) -> None:
        self._new_wanted()
        now = self.world.now
        if h % 24 == ACCOUNT_CHECK_HOUR:
            self._job("account", lambda: account_check(self.tracker, self.sessions,
                                                       self.policies, lambda: self.world.now))
            self._confirm_prices()
        if h % WATCH_EVERY_H == 0:
            self._job("watch", lambda: watch(self.qbit, self.sessions, self.settings,
                                             self.policies, now, self.tracker))
            self._job("import", self._finish_downloads)
        if h % ACQUISITION_EVERY_H == 0:
            self._job("acquisition", lambda: acquisition.run(
                self.ports, self.sessions, self.settings, self.policies.acquisition, now))

    def _job(self, name: str, run) -> None:
        """As the job runner: a failed run is recorded and the schedule goes on."""
        try:
            run()
        except (TrackerError, TorrentWatchFailed) as exc:
            self.errors[name] = self.errors.get(name, 0) + 1
            log.debug("%s failed: %s", name, exc)

    def _new_wanted(self) -> None:
        books = self.world.catalogue.books
        while self.next_book < len(books) and books[self.next_book].wanted_at <= self.world.now:
            book = books[self.next_book]
            with session_scope(self.sessions) as session:
                item = add_wanted(session, {"title": book.title, "author": book.author})[0]
                item.created_at = book.wanted_at  # wanted on the simulated clock
                session.flush()
                self.book_of[item.id] = book.index
            self.next_book += 1

    def _confirm_prices(self) -> None:
        """The person reads the price-mismatch notice and confirms the site's prices."""
        with session_scope(self.sessions) as session:
            mismatch = last_price_mismatch(session)
        if mismatch is None:
            return
        confirmed = self.settings.vip_price_confirmed_at
        at = mismatch.at if mismatch.at.tzinfo else mismatch.at.replace(tzinfo=UTC)
        waited = self.world.now - at >= timedelta(hours=PERSON_CONFIRMS_PRICES_AFTER_H)
        if (confirmed is None or confirmed < at) and waited:
            self.price_confirmations += 1
            self.settings = self.settings.model_copy(
                update={"vip_price_confirmed_at": self.world.now})
            self.policies = Policies.from_settings(self.settings)

    def _finish_downloads(self) -> None:
        """The download watch's part: verify (as the catalogue decides) and import."""
        held = self.world.held
        with session_scope(self.sessions) as session:
            rows = session.scalars(select(Download).where(
                Download.state == DownloadState.DOWNLOADING)).all()
            for row in rows:
                torrent = held.get(row.info_hash or "")
                if torrent is None or not torrent.complete:
                    continue
                wanted = session.get(WantedBook, row.wanted_id)
                if torrent.release.fails_integrity:
                    row.state, row.integrity_state = DownloadState.FAILED, "failed"
                    row.error = "simulated: integrity check failed"
                    wanted.status, wanted.last_searched_at = WantedStatus.WANTED, None
                    continue
                row.state = DownloadState.IMPORTED
                wanted.status = WantedStatus.DONE
                self.world.acquire(self.book_of[row.wanted_id], torrent.release)
