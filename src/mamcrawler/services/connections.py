"""Test each configured connection and say, in plain words, what is wrong (R22)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import httpx
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from mamcrawler import USER_AGENT
from mamcrawler.config import Settings
from mamcrawler.database import database_setting
from mamcrawler.store import migrate
from mamcrawler.store.db import make_engine, sqlite_path
from mamcrawler.store.problems import DatabaseProblem, check_url, open_database

TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ConnectionCheck:
    name: str
    ok: bool | None  # None = not checked (not configured), or nothing wrong but a step to do
    detail: str
    todo: bool = False  # a step the person (or `serve`) still has to take, not a fault


def check_database(settings: Settings) -> ConnectionCheck:
    """Whether the database can be reached, with start-up's message and fix when it
    cannot; its schema is the next check."""
    url, setting = settings.effective_database_url, database_setting(settings)
    try:
        check_url(url, setting)
    except DatabaseProblem as exc:
        return ConnectionCheck("database", False, str(exc))
    where = make_url(url).render_as_string(hide_password=True)
    file = sqlite_path(url)
    if file is not None and not file.exists():  # looking must not create it
        return ConnectionCheck("database", None, f"{file} does not exist yet: `mamcrawler db "
                               "upgrade` (or `serve`) creates it", todo=True)
    try:
        open_database(url, setting).dispose()
    except DatabaseProblem as exc:
        return ConnectionCheck("database", False, str(exc))
    return ConnectionCheck("database", True, f"{where}: reachable")


def check_schema(settings: Settings, database: ConnectionCheck) -> ConnectionCheck:
    """Whether the schema is this version's; `database` is the connection check's result."""
    if database.ok is not True:
        if database.todo:
            return ConnectionCheck("schema", None, NOT_MIGRATED, todo=True)
        return ConnectionCheck("schema", None, "not checked: the database is not reachable")
    engine = make_engine(settings.effective_database_url)
    try:
        current = migrate.current_revision(engine)
    except Exception as exc:
        return ConnectionCheck("schema", False, f"cannot be read ({exc.__class__.__name__})")
    finally:
        engine.dispose()
    head = migrate.head_revision()
    if current == head:
        return ConnectionCheck("schema", True, f"revision {current}, this version's")
    if current is None:
        return ConnectionCheck("schema", None, NOT_MIGRATED, todo=True)
    if current in migrate.known_revisions():
        return ConnectionCheck("schema", None, f"at revision {current}, this version needs "
                               f"{head}: run `mamcrawler db upgrade`", todo=True)
    return ConnectionCheck("schema", False, f"at revision {current}, which this version does "
                           "not know: it was made by a newer MAMcrawler; run that version")


NOT_MIGRATED = "not migrated yet — run `mamcrawler db upgrade` (`serve` does it too)"


def _http_check(name: str, url: str, headers: dict[str, str], fix: str,
                transport: httpx.BaseTransport | None = None) -> ConnectionCheck:
    try:
        with httpx.Client(timeout=TIMEOUT_S, transport=transport,
                          headers={"User-Agent": USER_AGENT, **headers}) as client:
            response = client.get(url)
    except httpx.HTTPError as exc:
        return ConnectionCheck(name, False, f"cannot reach {url}: {exc.__class__.__name__}; {fix}")
    if response.status_code in (401, 403):
        return ConnectionCheck(name, False, f"{url} refused the credentials "
                               f"(HTTP {response.status_code}); {fix}")
    if response.status_code >= 400:
        return ConnectionCheck(name, False, f"{url} answered HTTP {response.status_code}; {fix}")
    return ConnectionCheck(name, True, f"{url} answered HTTP {response.status_code}")


def check_audiobookshelf(settings: Settings) -> ConnectionCheck:
    """The token works, and the library books are filed into is known to ABS."""
    if not settings.abs_url:
        return ConnectionCheck("audiobookshelf", None, "not configured (ABS_URL)")
    from mamcrawler.adapters.audiobookshelf import AbsClient, AbsError

    token = settings.abs_token.get_secret_value() if settings.abs_token else ""
    client = AbsClient(settings.abs_url, token, timeout_s=TIMEOUT_S, max_attempts=1)
    try:
        libraries = client.libraries()
        if settings.abs_library_id:
            known = any(lib.id == settings.abs_library_id for lib in libraries)
            where = (f"library {settings.abs_library_id}" if known else
                     f"no library {settings.abs_library_id}; fix ABS_LIBRARY_ID")
            return ConnectionCheck("audiobookshelf", known, f"{settings.abs_url}: {where}")
        if settings.library_dir:
            library_id = client.library_id_for_path(
                settings.abs_paths.to_remote(str(settings.library_dir)))
            return ConnectionCheck("audiobookshelf", True,
                                   f"{settings.abs_url}: LIBRARY_DIR is library {library_id}")
        return ConnectionCheck("audiobookshelf", True,
                               f"{settings.abs_url}: {len(libraries)} libraries")
    except AbsError as exc:
        return ConnectionCheck("audiobookshelf", False, str(exc))
    finally:
        client.close()


def check_audio_tools(settings: Settings) -> ConnectionCheck:
    from mamcrawler.adapters.audio.probe import AudioToolError, tool_versions

    try:
        versions = tool_versions()
    except AudioToolError as exc:
        return ConnectionCheck("audio tools", False, str(exc))
    return ConnectionCheck("audio tools", True, "; ".join(v.split(" Copyright")[0]
                                                          for v in versions.values()))


def check_library_folder(settings: Settings) -> ConnectionCheck:
    """LIBRARY_DIR exists and is writable; say whether hard links can reach it."""
    folder = settings.library_dir
    if folder is None:
        return ConnectionCheck("library folder", None, "not configured (LIBRARY_DIR)")
    if not folder.is_dir():
        return ConnectionCheck("library folder", False, f"{folder} does not exist; create it "
                               "or fix LIBRARY_DIR")
    if not os.access(folder, os.W_OK | os.X_OK):
        return ConnectionCheck("library folder", False, f"{folder} is not writable for this "
                               "user; fix its permissions or LIBRARY_DIR")
    downloads = settings.download_dir
    if downloads is None or not downloads.is_dir():
        return ConnectionCheck("library folder", True, f"{folder}: writable (set DOWNLOAD_DIR "
                               "to learn whether books can be hard-linked)")
    if downloads.stat().st_dev != folder.stat().st_dev:
        return ConnectionCheck("library folder", True, f"{folder}: writable; DOWNLOAD_DIR is on "
                               "another file system, so books will be copied, not hard-linked")
    return ConnectionCheck("library folder", True, f"{folder}: writable; books are hard-linked "
                           "from DOWNLOAD_DIR")


def check_prowlarr(settings: Settings) -> ConnectionCheck:
    if not settings.prowlarr_url:
        return ConnectionCheck("prowlarr", None, "not configured (PROWLARR_URL)")
    key = settings.prowlarr_api_key.get_secret_value() if settings.prowlarr_api_key else ""
    return _http_check("prowlarr", f"{settings.prowlarr_url}/api/v1/system/status",
                       {"X-Api-Key": key},
                       "check PROWLARR_URL and PROWLARR_API_KEY (Settings → General in Prowlarr)")


def check_tracker(settings: Settings, sessions: sessionmaker[Session] | None) -> ConnectionCheck:
    """Read the account once. The rotated cookie is kept in the database as in service, or,
    with `sessions` None (no schema yet), in DATA_DIR until the database takes it over."""
    if settings.is_demo or settings.mam_id is None:
        return ConnectionCheck("tracker", None, "not configured (MAM_ID): demo mode uses the "
                               "built-in simulator")
    from mamcrawler.adapters.mam import TrackerError
    from mamcrawler.services.tracker import TrackerEndpoint, make_client

    endpoint = TrackerEndpoint(settings.mam_url, settings.mam_id.get_secret_value(),
                               settings.mam_min_interval_s, shared_dir=settings.data_dir)
    try:
        with make_client(endpoint, sessions, max_attempts=1) as client:
            stats = client.account_stats()
    except TrackerError as exc:
        return ConnectionCheck("tracker", False, str(exc))
    ratio = "∞" if stats.ratio is None else f"{stats.ratio:.2f}"
    return ConnectionCheck("tracker", True, f"{settings.mam_url}: {stats.username}, class "
                           f"{stats.class_name}, ratio {ratio}")


def check_qbittorrent(settings: Settings) -> ConnectionCheck:
    if not settings.qb_host:
        return ConnectionCheck("qbittorrent", None, "not configured (QB_HOST)")
    from mamcrawler.adapters.qbittorrent import QbitClient, TorrentClientError

    password = settings.qb_password.get_secret_value() if settings.qb_password else ""
    client = QbitClient(settings.qb_host, settings.qb_port, settings.qb_username or "", password)
    try:
        version = client.version()
    except TorrentClientError as exc:
        return ConnectionCheck("qbittorrent", False, str(exc))
    return ConnectionCheck("qbittorrent", True, f"{settings.qb_host}:{settings.qb_port}: {version}")


def check_all(settings: Settings,
              sessions: sessionmaker[Session] | None = None) -> list[ConnectionCheck]:
    """Every connection check, in the order a person would fix them."""
    from .path_checks import check_audiobookshelf_folders, check_qbittorrent_folders

    database = check_database(settings)
    return [database, check_schema(settings, database), check_tracker(settings, sessions),
            check_qbittorrent(settings), *check_qbittorrent_folders(settings),
            check_library_folder(settings), check_audio_tools(settings),
            check_audiobookshelf(settings), *check_audiobookshelf_folders(settings),
            check_prowlarr(settings)]
