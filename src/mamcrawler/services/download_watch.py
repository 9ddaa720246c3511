"""The download_watch job (R11, R12, R14): completed downloads are verified, filed into
the library by hard link, announced to Audiobookshelf, and recorded as books.

The torrent is never touched: it keeps seeding from its own folder. An integrity failure
marks the download failed, keeps it out of the library, and puts the wanted book back on
the list with that release excluded, so the next acquisition run takes the next best.
An import interrupted by a crash is undone by `recover_incomplete` and redone here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from mamcrawler.adapters.audio.probe import AudioToolError, inspect_files
from mamcrawler.adapters.audiobookshelf import AbsClient, AbsError
from mamcrawler.adapters.qbittorrent import QbitClient
from mamcrawler.config import Settings
from mamcrawler.domain.integrity import IntegrityPolicy, IntegrityVerdict, assess
from mamcrawler.domain.naming import library_relpath
from mamcrawler.domain.notices import NoticeKind
from mamcrawler.domain.path_map import missing_reason
from mamcrawler.domain.run_outcome import JobReport
from mamcrawler.domain.states import DownloadState as D
from mamcrawler.domain.states import IllegalTransition, WantedStatus, move_download
from mamcrawler.domain.torrents import TorrentSnapshot
from mamcrawler.store.db import session_scope
from mamcrawler.store.models import Book, Download, FailedAttempt, WantedBook

from . import library, notify
from .abs_library import ScanNotStarted, scan_until_shown
from .completion_store import gaps_filled_by
from .library_import import (
    LibraryImportError,
    import_download,
    recover_incomplete,
)
from .metadata_abs import AbsPusher
from .metadata_jobs import full_scan_on_import
from .reports import never

log = logging.getLogger("mamcrawler.downloads")
WATCHED = (D.DOWNLOADING, D.VERIFYING, D.IMPORTING)


class DownloadWatchNotConfigured(Exception):
    """LIBRARY_DIR is not set: there is nowhere to file books."""


@dataclass
class WatchReport:
    imported: list[str] = field(default_factory=list)
    book_ids: list[int] = field(default_factory=list)  # the books filed by this run
    failed: list[str] = field(default_factory=list)  # downloads failed: integrity, filing
    waiting: int = 0
    missing: int = 0  # complete, but their files are not where the mapped path says
    notes: list[str] = field(default_factory=list)
    rejected: int = 0  # failed integrity: checked and turned away, the job's work done
    errors: list[str] = field(default_factory=list)  # what this run could not do

    def result(self) -> JobReport:
        """A download the run could not check (audio tools) or file counts as failed."""
        return JobReport(self.summary(), done=len(self.imported) + self.rejected,
                         failed=len(self.errors), unit="completed downloads",
                         failures=tuple(self.errors[:3]))

    def summary(self) -> str:
        parts = [f"{len(self.imported)} imported", f"{len(self.failed)} failed",
                 f"{self.waiting} still downloading"]
        if self.missing:
            parts.append(f"{self.missing} waiting for their files")
        details = self.imported + self.failed + list(dict.fromkeys(self.notes))  # once each
        return ", ".join(parts) + (": " + "; ".join(details) if details else "")


def run(qbit: QbitClient, sessions, settings: Settings, now: datetime,
        abs_client: AbsClient | None, integrity: IntegrityPolicy,
        stop: Callable[[], bool] = never) -> WatchReport:
    """One pass over the downloads in flight; `stop` is asked before each completed one
    (True: the others wait for the next run)."""
    if settings.library_dir is None:
        raise DownloadWatchNotConfigured(
            "not configured: set LIBRARY_DIR to the Audiobookshelf library folder books are "
            "filed into")
    report = WatchReport(notes=recover_incomplete(settings.library_dir))
    with session_scope(sessions) as session:
        pending = session.execute(select(Download.id, Download.info_hash).where(
            Download.state.in_(WATCHED), Download.info_hash.is_not(None))).all()
    if not pending:
        return report
    torrents = {t.hash: t for t in qbit.torrents()}
    for download_id, info_hash in pending:
        torrent = torrents.get(info_hash)
        if torrent is None or not torrent.is_complete:
            report.waiting += 1
            continue
        content = local_content(torrent, settings)
        if not content.exists():
            _wait_for_files(sessions, download_id, torrent, content, report)
            continue
        if stop():
            break
        finish(download_id, content, sessions, settings, now, report, integrity)
    if report.book_ids and abs_client is not None:
        report.notes.extend(ask_abs_to_scan(abs_client, settings, sessions, report.book_ids,
                                            stop=stop))
    return report


def remote_content(torrent: TorrentSnapshot) -> str:
    """The torrent's files as qBittorrent sees them."""
    return torrent.content_path or f"{torrent.save_path.rstrip('/')}/{torrent.name}"


def local_content(torrent: TorrentSnapshot, settings: Settings) -> Path:
    """The torrent's files on this machine: qBittorrent's path through QB_PATH_MAP."""
    return Path(settings.qb_paths.to_local(remote_content(torrent)))


def _wait_for_files(sessions, download_id: int, torrent: TorrentSnapshot, content: Path,
                    report: WatchReport) -> None:
    """A complete download whose files are not here is a path problem, not the release's:
    it stays `downloading` with the reason (not failed, never re-grabbed), and the person
    is told once."""
    remote = remote_content(torrent)
    reason = WAITING_FOR_FILES + missing_reason(
        "qBittorrent has the files at", remote, str(content),
        torrent.save_path or str(Path(remote).parent), "QB_PATH_MAP")
    with session_scope(sessions) as session:
        download = session.get(Download, download_id)
        if download.state == D.VERIFYING:  # a crash during the check: back to waiting
            download.state = move_download(download.state, D.DOWNLOADING)
        first, download.error = download.error != reason, reason
        title = download.title
    report.missing += 1
    report.notes.append(f"{title}: {reason}")
    if first:
        log.warning("download %s: %s", download_id, reason)
        notify.send(NoticeKind.PATH_MISSING, f"download waits for its files: {title}",
                    reason, str(download_id))


WAITING_FOR_FILES = "complete, waiting for its files: "


def finish(download_id: int, content: Path, sessions, settings: Settings,
           now: datetime, report: WatchReport, policy: IntegrityPolicy) -> None:
    """Verify, then file one completed download whose files are at `content`."""
    with session_scope(sessions) as session:
        download = session.get(Download, download_id)
        redo = download.state == D.IMPORTING  # a crash interrupted the last attempt
        try:
            download.state = move_download(download.state, D.VERIFYING)
        except IllegalTransition as exc:  # cancelled since it was listed
            report.notes.append(f"{download.title}: skipped, {exc}")
            return
        if (download.error or "").startswith(WAITING_FOR_FILES):
            download.error = None  # found them
        wanted = session.get(WantedBook, download.wanted_id) if download.wanted_id else None
        expected = wanted.expected_duration_seconds if wanted else None
        title = download.title
    try:
        facts = inspect_files(content, decode_timeout_s=settings.decode_timeout_s)
    except AudioToolError as exc:  # our tools, not the download: try again next run
        _back_to(sessions, download_id, D.DOWNLOADING, f"cannot check yet: {exc}")
        report.notes.append(f"{title}: {exc}")
        report.errors.append(f"{title}: cannot check yet: {exc}")
        return
    verdict = assess(facts, expected, policy)
    if not verdict.passed:
        _integrity_failed(sessions, download_id, verdict, now)
        report.failed.append(f"{title}: {verdict.summary}")
        report.rejected += 1
        return
    try:
        book_id, how = _file(sessions, settings, download_id, content, verdict, redo, now)
    except LibraryImportError as exc:
        _import_failed(sessions, download_id, str(exc), now)
        report.failed.append(f"{title}: {exc}")
        report.errors.append(f"{title}: not filed: {exc}")
        return
    report.imported.append(f"{title} (book {book_id}, {how})")
    report.book_ids.append(book_id)
    report.notes.extend(full_scan_on_import(sessions, settings, book_id))


def _back_to(sessions, download_id: int, state: str, note: str) -> None:
    with session_scope(sessions) as session:
        download = session.get(Download, download_id)
        download.state, download.error = move_download(download.state, state), note


def _integrity_failed(sessions, download_id: int, verdict: IntegrityVerdict,
                      now: datetime) -> None:
    with session_scope(sessions) as session:
        download = session.get(Download, download_id)
        download.state = move_download(download.state, D.FAILED)
        download.integrity_state = "failed"
        download.integrity_detail = download.error = verdict.summary
        session.add(FailedAttempt(download_id=download.id, title=download.title,
                                  author=download.author, release_id=download.release_id,
                                  stage="integrity", reason=verdict.summary, at=now))
        _requeue(session, download, "integrity failed; the next-best release will be tried")
    log.warning("download %s failed integrity: %s", download_id, verdict.summary)
    notify.send(NoticeKind.INTEGRITY_FAILED, f"integrity check failed: {download.title}",
                f"{verdict.summary}; the next-best release will be tried", str(download_id))


def _import_failed(sessions, download_id: int, error: str, now: datetime) -> None:
    with session_scope(sessions) as session:
        download = session.get(Download, download_id)
        download.state, download.error = move_download(download.state, D.FAILED), error
        session.add(FailedAttempt(download_id=download.id, title=download.title,
                                  author=download.author, release_id=download.release_id,
                                  stage="import", reason=error, at=now))
    log.warning("download %s could not be filed: %s", download_id, error)
    notify.download_failed(download.title, error, False, download_id)


def _requeue(session, download: Download, note: str) -> None:
    """Put the wanted book back so the next acquisition run searches it at once."""
    if download.wanted_id is None:
        return
    wanted = session.get(WantedBook, download.wanted_id)
    wanted.status, wanted.last_searched_at, wanted.note = WantedStatus.WANTED, None, note


def relpath_for(download: Download):
    info = download.release_info or {}
    series = (info.get("series") or [{}])[0]
    authors = info.get("authors") or [download.author]
    return library_relpath(authors, series.get("name"), series.get("position"),
                           download.title, info.get("narrators") or None)


def _file(sessions, settings: Settings, download_id: int, content: Path,
          verdict: IntegrityVerdict, redo: bool, now: datetime) -> tuple[int, str]:
    """Import by hard link (a copy across file systems) and record the book; returns the
    book id and how the files were filed."""
    with session_scope(sessions) as session:
        download = session.get(Download, download_id)
        download.integrity_state, download.integrity_detail = "passed", verdict.summary
        download.state = move_download(download.state, D.IMPORTING)
        relpath, replaces = relpath_for(download), download.replaces_book_id
    final = Path(settings.library_dir) / relpath
    if redo and final.exists():
        # The last run filed it and crashed before recording it. The folder is complete
        # (an import appears whole or not at all); importing again, even as a replacement,
        # would only file the book over itself.
        where, how = final, "filed by an interrupted earlier run"
    else:
        result = import_download(content, settings.library_dir, relpath, replace=bool(replaces))
        where, how = result.final_dir, filed_how(len(result.linked), len(result.copied))
    with session_scope(sessions) as session:
        download = session.get(Download, download_id)
        book = _record_book(session, download, where, verdict)
        download.state = move_download(download.state, D.IMPORTED)
        download.book_id, download.imported_at = book.id, now
        download.completed_at = download.completed_at or now
        if download.wanted_id:
            wanted = session.get(WantedBook, download.wanted_id)
            wanted.status, wanted.book_id = WantedStatus.DONE, book.id
            wanted.note = f"imported ({how})"
            gaps_filled_by(session, wanted.id, now)
        log.info("imported %s into %s (%s)", download.title, where, how)
        return book.id, how


def filed_how(linked: int, copied: int) -> str:
    """Which happened: hard links (no extra space) or copies (another file system)."""
    def files(n: int) -> str:
        return f"{n} file" + ("" if n == 1 else "s")

    if not copied:
        return f"{files(linked)} hard-linked"
    if not linked:
        return (f"{files(copied)} copied, not hard-linked: the download is on another file "
                "system than LIBRARY_DIR")
    return f"{files(linked)} hard-linked, {copied} copied"


def _record_book(session, download: Download, where: Path, verdict: IntegrityVerdict) -> Book:
    info = download.release_info or {}
    fields = {"format": info.get("format"), "bitrate_kbps": info.get("bitrate_kbps"),
              "library_path": str(where), "duration_seconds": verdict.total_duration_s,
              "quality_score": download.quality_score}
    if download.replaces_book_id:
        book = session.get(Book, download.replaces_book_id)
        if book is not None:
            library.update_book(session, book, fields)
            return book
    people = {"title": download.title,
              "authors": info.get("authors") or list(filter(None, [download.author])),
              "narrators": info.get("narrators") or [],
              "series": [s for s in info.get("series") or [] if s.get("name")]}
    book = library.create_book(session, {**fields, **people})
    session.flush()
    return book


def ask_abs_to_scan(client: AbsClient, settings: Settings, sessions, book_ids: list[int],
                    **wait: Any) -> list[str]:
    """Have Audiobookshelf scan the books just filed, confirm it shows each one, and push
    their metadata (which also records their item); notes say what did not happen, a
    failure is never fatal. `wait` goes to `abs_library.scan_until_shown`."""
    try:
        shown = scan_until_shown(client, sessions, settings, book_ids, **wait)
    except ScanNotStarted as exc:
        log.warning("Audiobookshelf scan not started: %s", exc)
        return [f"Audiobookshelf scan not started: {exc}"]
    except AbsError as exc:
        log.warning("Audiobookshelf items not read after the scan: %s", exc)
        return [f"Audiobookshelf scan started, but its items could not be read: {exc}"]
    notes = []
    if shown.missing:
        log.warning("Audiobookshelf does not show %s after its scan", ", ".join(shown.missing))
        notes.append(
            f"Audiobookshelf does not show {len(shown.missing)} of the books filed after "
            f"scanning ({', '.join(shown.missing[:3])}): check that it reads LIBRARY_DIR "
            "(ABS_PATH_MAP when it runs in a container); their metadata is pushed once "
            "it shows them")
    pusher = AbsPusher(client, settings)
    pushed = [note for book_id, item_id in shown.items.items()
              if (note := pusher.push(sessions, book_id, None, item_id=item_id))]
    if shown.items:
        notes.append(f"Audiobookshelf shows {len(shown.items)} new "
                     + ("book" if len(shown.items) == 1 else "books")
                     + ("" if pushed else ", metadata pushed"))
    return notes + pushed
