"""`config check` for the folders qBittorrent and Audiobookshelf name (issue 16): each is
mapped through QB_PATH_MAP / ABS_PATH_MAP, and the check says whether it exists here and
can be read and written, or which mapping would make it reachable."""

from __future__ import annotations

import os
from pathlib import Path

from mamcrawler.config import Settings
from mamcrawler.domain.path_map import PathMap, missing_reason

from .connections import TIMEOUT_S, ConnectionCheck


def folder_check(name: str, what: str, remote: str, paths: PathMap, var: str,
                 library_dir: Path | None = None, needed: bool = True) -> ConnectionCheck:
    """`remote`, a folder as another program names it, looked at here through `paths`.
    A missing folder that is not `needed` is reported, not failed."""
    local = paths.to_local(remote)
    if not Path(local).is_dir():
        return ConnectionCheck(name, False if needed else None,
                               missing_reason(what, remote, local, remote, var))
    where = f"{what} {remote}" + (f" ({local} here through {var})" if local != remote else "")
    readable = os.access(local, os.R_OK | os.X_OK)
    writable = os.access(local, os.W_OK | os.X_OK)
    access = ("readable and writable" if readable and writable else "readable, not writable"
              if readable else "not readable for this user: fix its permissions")
    detail = f"{where}: exists here, {access}"
    if library_dir is not None and library_dir.is_dir() and readable:
        same = Path(local).stat().st_dev == library_dir.stat().st_dev
        detail += ("; books are hard-linked into LIBRARY_DIR" if same else
                   "; on another file system than LIBRARY_DIR: books are copied")
    return ConnectionCheck(name, readable, detail)


def check_qbittorrent_folders(settings: Settings) -> list[ConnectionCheck]:
    """qBittorrent's default save path, QB_CATEGORY's, and DOWNLOAD_DIR as it sees them."""
    if not settings.qb_host:
        return []
    from mamcrawler.adapters.qbittorrent import QbitClient, TorrentClientError

    password = settings.qb_password.get_secret_value() if settings.qb_password else ""
    client = QbitClient(settings.qb_host, settings.qb_port, settings.qb_username or "", password)
    try:
        default = str(client.preferences().get("save_path") or "")
        category = client.category_paths().get(settings.qb_category, "")
    except TorrentClientError:
        return []  # the qbittorrent check says what is wrong
    paths, checks = settings.qb_paths, []
    used = settings.download_dir is None  # DOWNLOAD_DIR set: every grab is saved there
    if default:
        checks.append(folder_check("qbittorrent default folder", "qBittorrent saves to",
                                   default, paths, "QB_PATH_MAP", settings.library_dir, used))
    if category:
        checks.append(folder_check("qbittorrent category folder", "qBittorrent saves "
                                   f"category {settings.qb_category} to", category, paths,
                                   "QB_PATH_MAP", settings.library_dir, used))
    if settings.download_dir is not None:
        checks.append(download_dir_check(settings))
    return checks


def download_dir_check(settings: Settings) -> ConnectionCheck:
    """DOWNLOAD_DIR is this machine's path: it must exist here; qBittorrent is told its
    path through QB_PATH_MAP."""
    local = settings.download_dir
    remote = settings.qb_paths.to_remote(str(local))
    if not local.is_dir():
        return ConnectionCheck("download folder", False, f"DOWNLOAD_DIR {local} does not "
                               "exist here; create it or fix DOWNLOAD_DIR")
    return folder_check("download folder", "DOWNLOAD_DIR: qBittorrent saves to", remote,
                        settings.qb_paths, "QB_PATH_MAP", settings.library_dir)


def check_audiobookshelf_folders(settings: Settings) -> list[ConnectionCheck]:
    """Each folder of the Audiobookshelf libraries, as ABS names it, looked at here."""
    if not settings.abs_url:
        return []
    from mamcrawler.adapters.audiobookshelf import AbsClient, AbsError

    token = settings.abs_token.get_secret_value() if settings.abs_token else ""
    try:
        with AbsClient(settings.abs_url, token, timeout_s=TIMEOUT_S, max_attempts=1) as client:
            libraries = client.libraries()
    except AbsError:
        return []  # the audiobookshelf check says what is wrong
    checks = []
    for library in libraries:
        needed = settings.abs_library_id in (None, library.id)
        for folder in library.folders:
            checks.append(folder_check(f"audiobookshelf folder of {library.name}",
                                       "Audiobookshelf reads", folder, settings.abs_paths,
                                       "ABS_PATH_MAP", needed=needed))
    return checks
