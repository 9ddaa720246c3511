"""File a verified download into the library, crash-safe, leaving the torrent untouched (R12).

Files are hard-linked into the library when the download and the library share a file
system (no extra space, and the torrent keeps seeding from its own folder), else copied.
Source files are never moved, changed or deleted. Hard links share their content with
the torrent: tools that rewrite audio in place (e.g. ABS's "embed metadata") would change
the seeding copy too, so leave those off for imported books.

Exact sequence of one import of ``<root>/<relpath>`` (token = a fresh random name):

1. take an exclusive lock on ``<root>/.mamcrawler-incoming/<token>.lock`` (held until the
   end; the OS drops it if the process dies);
2. write the journal ``.mamcrawler-incoming/<token>/job.json`` (state "staging");
3. link (or copy and fsync) every file into ``.mamcrawler-incoming/<token>/book/``;
4. rewrite the journal atomically: state "ready", and — only when the book folder already
   exists and ``replace=True`` — the place the old folder goes:
   ``.mamcrawler-replaced/<UTC time>-<token>/<relpath>``;
5. replacing (R14): rename the old folder to that place, then at once rename ``book/`` to
   ``<relpath>``; if the second rename fails the old folder is renamed back.
   Otherwise: one rename of ``book/`` to ``<relpath>``;
6. delete the token folder and its lock.

Folders starting with "." are ignored by Audiobookshelf, so it never sees a half-filed
book. After a crash, `recover_incomplete` undoes whatever was left (step 1-5), restoring
an old edition that was moved aside in step 5, so the next run simply imports again.
Replaced editions stay in ``.mamcrawler-replaced`` (their torrents keep seeding).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePath, PurePosixPath

from mamcrawler.domain.integrity import AUDIO_EXTENSIONS, INCOMPLETE_EXTENSIONS

INCOMING_DIR = ".mamcrawler-incoming"
REPLACED_DIR = ".mamcrawler-replaced"
JOURNAL = "job.json"
CONTENT = "book"
EXTRA_EXTENSIONS = frozenset({
    ".jpg", ".jpeg", ".png", ".webp", ".txt", ".nfo", ".opf", ".cue", ".pdf", ".epub",
})
# A hard link is impossible here, but a copy will do: another file system, links not
# allowed (protected_hardlinks, FAT/exFAT, some network shares), too many links.
_COPY_INSTEAD = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP}

LinkFn = Callable[[Path, Path], None]
CopyFn = Callable[[Path, Path], object]
FileFilter = Callable[[PurePosixPath], bool]


class LibraryImportError(Exception):
    """The book could not be filed; the message says why and what to do."""


class AlreadyInLibrary(LibraryImportError):
    """The book's folder exists already; `path` is that folder."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"{path} already exists in the library, so this book was not filed again. "
            "Import with replace=True to replace that edition (the old folder is kept in "
            f"{REPLACED_DIR}), or remove the folder by hand first.")
        self.path = path


class NothingToImport(LibraryImportError):
    """The download holds no file worth filing."""


@dataclass(frozen=True)
class ImportResult:
    """Where the book now is; which files (relative to it) were hard-linked or copied;
    where the replaced edition went (None when nothing was replaced)."""

    final_dir: Path
    linked: tuple[str, ...]
    copied: tuple[str, ...]
    replaced_dir: Path | None = None
    token: str = ""

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(sorted(self.linked + self.copied))


def default_book_files(relpath: PurePosixPath) -> bool:
    """Audio files and the extras ABS uses (cover images, .txt/.nfo/.opf/.cue, .pdf,
    .epub); never hidden files, half-written files or anything else."""
    if any(part.startswith(".") for part in relpath.parts):
        return False
    suffix = relpath.suffix.lower()
    if suffix in INCOMPLETE_EXTENSIONS:
        return False
    return suffix in AUDIO_EXTENSIONS or suffix in EXTRA_EXTENSIONS


def import_download(
    source: str | Path,
    library_root: str | Path,
    relpath: str | PurePath,
    *,
    book_files_filter: FileFilter | None = None,
    replace: bool = False,
    link: LinkFn = os.link,
    copy: CopyFn = shutil.copy2,
    token: str | None = None,
) -> ImportResult:
    """File `source` (a download folder, or one file) as ``<library_root>/<relpath>``.

    Files chosen by `book_files_filter` (default `default_book_files`; it gets each path
    relative to `source`) keep their relative paths inside the book folder. The book
    appears complete or not at all (see the module docstring for the sequence). Raises
    AlreadyInLibrary when the folder exists and `replace` is False, NothingToImport, or
    LibraryImportError; on any error nothing is left behind. `link` and `copy` are
    replaceable for tests.
    """
    root, rel = _library_root(library_root), checked_relpath(relpath)
    source, final = Path(source), root / rel
    _refuse_overlap(source, final)
    files = _book_files(source, book_files_filter or default_book_files)
    if final.exists() and not replace:
        raise AlreadyInLibrary(final)
    token = token or uuid.uuid4().hex
    incoming = root / INCOMING_DIR
    incoming.mkdir(exist_ok=True)
    with _locked(incoming / f"{token}.lock"):
        work = incoming / token
        work.mkdir()
        try:
            _write_journal(work, {"relpath": rel.as_posix(), "state": "staging",
                                  "source": str(source), "aside": None})
            linked, copied = _populate(files, work / CONTENT, link, copy)
            aside = _aside_path(rel, token) if final.exists() else None
            _write_journal(work, {"relpath": rel.as_posix(), "state": "ready",
                                  "source": str(source), "aside": aside and aside.as_posix()})
            replaced = _swap_in(work / CONTENT, final, aside and root / aside)
        # Errors clean up here; a crash (kill, power cut) leaves the token folder for
        # recover_incomplete, which is why BaseException is not caught.
        except OSError as exc:
            _remove(work, incoming / f"{token}.lock")
            raise LibraryImportError(f"could not file {source} as {final}: {exc}") from exc
        except Exception:
            _remove(work, incoming / f"{token}.lock")
            raise
        _remove(work, incoming / f"{token}.lock")
    return ImportResult(final, tuple(linked), tuple(copied), replaced, token)


def recover_incomplete(library_root: str | Path) -> list[str]:
    """Undo imports a crash interrupted under `library_root`; returns one line per undo.

    Deletes every leftover of ``.mamcrawler-incoming`` whose import is not running (its
    lock is free), after renaming back an old edition that was moved aside but not yet
    replaced. Never touches a finished book folder. Run it before importing (e.g. at the
    start of the download_watch job); the interrupted book is then simply imported again.
    """
    root = Path(library_root)
    incoming = root / INCOMING_DIR
    if not incoming.is_dir():
        return []
    notes = []
    for work in sorted(p for p in incoming.iterdir() if p.is_dir() and not p.is_symlink()):
        lock = incoming / f"{work.name}.lock"
        with _try_lock(lock) as free:
            if not free or not work.exists():
                continue  # an import is running right now, or has just finished
            notes.append(_undo(root, work))
            _remove(work, lock)
    for stale in incoming.glob("*.lock"):
        with _try_lock(stale) as free:
            if free and not (incoming / stale.stem).exists():
                stale.unlink(missing_ok=True)
    return notes


def checked_relpath(relpath: str | PurePath) -> PurePosixPath:
    """`relpath` as a PurePosixPath inside the library: relative, no "." or "..", no
    hidden (dot) segments. Raises LibraryImportError otherwise."""
    rel = PurePosixPath(PurePath(relpath).as_posix())
    bad = (rel.is_absolute() or not rel.parts
           or any(p in ("", ".", "..") or p.startswith(".") for p in rel.parts))
    if bad:
        raise LibraryImportError(f"{str(relpath)!r} is not a folder name inside the library")
    return rel


def _library_root(library_root: str | Path) -> Path:
    root = Path(library_root)
    if not root.is_dir():
        raise LibraryImportError(
            f"the library folder {root} does not exist; create it or set LIBRARY_DIR to the "
            "folder Audiobookshelf reads")
    return root


def _book_files(source: Path, keep: FileFilter) -> list[tuple[Path, PurePosixPath]]:
    if not source.exists():
        raise LibraryImportError(f"the download {source} does not exist (moved or deleted?)")
    if source.is_file():
        found = [(source, PurePosixPath(source.name))]
    else:
        found = [(p, PurePosixPath(p.relative_to(source).as_posix()))
                 for p in sorted(source.rglob("*")) if p.is_file()]
    chosen = [(path, rel) for path, rel in found if keep(rel)]
    if not chosen:
        raise NothingToImport(f"{source} holds no audio or book files to file into the library")
    return chosen


def _refuse_overlap(source: Path, final: Path) -> None:
    src, dst = source.resolve(), final.resolve()
    if src == dst or src in dst.parents or dst in src.parents:
        raise LibraryImportError(
            f"the download {source} and the book folder {final} overlap; keep downloads "
            "outside the library folder (hard links still work on the same file system)")


def _populate(files: list[tuple[Path, PurePosixPath]], dest_root: Path, link: LinkFn,
              copy: CopyFn) -> tuple[list[str], list[str]]:
    linked: list[str] = []
    copied: list[str] = []
    can_link = True
    for path, rel in files:
        dest = dest_root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if can_link:
            try:
                link(path, dest)
                linked.append(rel.as_posix())
                continue
            except OSError as exc:
                if exc.errno not in _COPY_INSTEAD:
                    raise
                can_link = exc.errno != errno.EXDEV  # every other file is across too
        copy(path, dest)
        _fsync(dest)
        copied.append(rel.as_posix())
    for folder in {dest_root, *(dest_root / rel.parent for _, rel in files)}:
        _fsync(folder)
    return linked, copied


def _aside_path(rel: PurePosixPath, token: str) -> PurePosixPath:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return PurePosixPath(REPLACED_DIR, f"{stamp}-{token}", *rel.parts)


def _swap_in(content: Path, final: Path, aside: Path | None) -> Path | None:
    final.parent.mkdir(parents=True, exist_ok=True)
    if aside is not None:
        aside.parent.mkdir(parents=True, exist_ok=True)
        os.rename(final, aside)
        try:
            os.rename(content, final)
        except OSError:
            os.rename(aside, final)  # put the old edition back before reporting
            raise
    else:
        try:
            os.rename(content, final)
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                raise AlreadyInLibrary(final) from None  # it appeared meanwhile
            raise
    _fsync(final.parent)
    return aside


def _undo(root: Path, work: Path) -> str:
    """Put the library back as it was before the import in `work` began; say what was done."""
    journal = _read_journal(work) or {}
    rel = _journal_path(journal.get("relpath"), checked_relpath)
    if rel is None:
        return f"removed unfinished import {work.name} (no readable journal)"
    final, ready = root / rel, journal.get("state") == "ready"
    aside = _journal_path(journal.get("aside"), _checked_aside)
    if ready and aside is not None and not final.exists() and (root / aside).is_dir():
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.rename(root / aside, final)
        except OSError as exc:
            return (f"could not restore the previous edition of {rel} ({exc}); "
                    f"it is still in {root / aside}")
        return f"restored the previous edition of {rel} (its replacement was interrupted)"
    if ready and not (work / CONTENT).exists() and final.exists():
        return f"import of {rel} had finished; removed its leftovers"
    return f"removed unfinished import of {rel}; it will be imported again"


def _journal_path(value: object, check: Callable[[str], PurePosixPath]) -> PurePosixPath | None:
    """A path from the journal, or None when missing or not where it should be."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return check(value)
    except LibraryImportError:
        return None


def _checked_aside(aside: str) -> PurePosixPath:
    rel = PurePosixPath(aside)
    if rel.is_absolute() or ".." in rel.parts or rel.parts[:1] != (REPLACED_DIR,):
        raise LibraryImportError(f"journal names an unexpected place {aside!r}")
    return rel


def _write_journal(work: Path, data: dict[str, object]) -> None:
    data = {"version": 1, "written": datetime.now(UTC).isoformat(), **data}
    tmp = work / f"{JOURNAL}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, work / JOURNAL)


def _read_journal(work: Path) -> dict | None:
    try:
        data = json.loads((work / JOURNAL).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _try_lock(path: Path) -> Iterator[bool]:
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _remove(work: Path, lock: Path) -> None:
    """Delete a token folder (only links and copies: the download is untouched)."""
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(work)
    lock.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    """Flush a file or folder to disk, where the file system allows it."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems (e.g. certain network mounts) refuse fsync on folders
    finally:
        os.close(fd)
