"""QbitClient: the one way the service talks to qBittorrent, built on qbittorrent-api.

Every call goes through ``_call``, which turns qbittorrent-api's exceptions into our
TorrentClientError family. Removing a torrent never deletes its data unless asked.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import qbittorrentapi as qbt

from mamcrawler.adapters.qbittorrent.errors import (
    TorrentAddRejected,
    TorrentAlreadyPresent,
    TorrentClientWebUIDisabled,
    translated,
)
from mamcrawler.adapters.qbittorrent.poller import MainDataPoller
from mamcrawler.adapters.qbittorrent.snapshots import snapshot_from_fields, transfer_from_fields
from mamcrawler.domain.torrents import ClientSnapshot, TorrentSnapshot, TransferInfo
from mamcrawler.torrentfile import BencodeError, info_hash

T = TypeVar("T")
Hashes = str | Iterable[str]

_VERSION = re.compile(r"^v?\d+\.\d+")
NO_LIMIT = -1  # qBittorrent's per-torrent share limit value for "no limit"
GLOBAL_LIMIT = -2  # ... and for "follow the global setting"


def base_url(host: str, port: int | str | None) -> str:
    """The WebUI base URL for ``host`` given as "127.0.0.1", "localhost" or "http://host".

    A host without a scheme means plain HTTP (write "https://host" for a TLS WebUI); a port
    written in the host wins over ``port``.
    """
    text = host.strip().rstrip("/")
    if "://" not in text:
        text = f"http://{text}"
    parts = urlsplit(text)
    if not parts.hostname:
        raise ValueError(f"not a host name or URL: {host!r}")
    netloc = parts.netloc
    if parts.port is None and port not in (None, ""):
        netloc = f"{netloc}:{int(port)}"
    return f"{parts.scheme}://{netloc}{parts.path}"


class QbitClient:
    """A qBittorrent WebUI client speaking our words and raising our errors.

    Logs in lazily on the first call and again whenever qBittorrent has forgotten the
    session (after a restart); ``login()`` checks the credentials up front.
    """

    def __init__(
        self,
        host: str,
        port: int | str | None,
        username: str = "",
        password: str = "",
        *,
        timeout_s: float = 10.0,
        verify: bool = True,
        add_confirm_timeout_s: float = 10.0,
    ) -> None:
        self.url = base_url(host, port)
        self._add_confirm_timeout_s = add_confirm_timeout_s
        self._api = qbt.Client(
            host=self.url,
            username=username,
            password=password,
            REQUESTS_ARGS={"timeout": timeout_s},
            VERIFY_WEBUI_CERTIFICATE=verify,
            FORCE_SCHEME_FROM_HOST=True,
            # plain dicts and lists: the attribute-dict wrapping costs ~2x on big polls
            SIMPLE_RESPONSES=True,
            DISABLE_LOGGING_DEBUG_OUTPUT=True,
        )
        self._poller = MainDataPoller(self._maindata)

    def _call(self, action: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with translated(self.url, action):
            return fn(*args, **kwargs)

    def login(self) -> None:
        """Log in now; raises TorrentClientAuthError on bad credentials or a ban."""
        self._call("log in", self._api.auth_log_in)

    def version(self) -> str:
        """Application and Web API version, e.g. "v4.5.2 (Web API 2.8.19)"."""
        app = str(self._call("read the version", self._api.app_version)).strip()
        if not _VERSION.match(app):
            raise TorrentClientWebUIDisabled(
                f"{self.url} answered the version request with {app[:60]!r}, which is not "
                "qBittorrent; check QB_HOST/QB_PORT"
            )
        web_api = str(self._call("read the Web API version", self._api.app_web_api_version))
        return f"{app} (Web API {web_api.strip()})"

    def add_torrent(
        self,
        torrent_bytes: bytes,
        *,
        category: str | None = None,
        tags: Iterable[str] = (),
        save_path: str | None = None,
        paused: bool = False,
    ) -> str:
        """Add a .torrent and return its info-hash once qBittorrent lists it.

        The torrent gets its own share limits of "no limit" (see ``set_share_limits``).

        Raises TorrentAlreadyPresent if the client already has it, TorrentAddRejected if
        the bytes are not a torrent or qBittorrent refuses it.
        """
        try:
            torrent_hash = info_hash(torrent_bytes)
        except BencodeError as exc:
            raise TorrentAddRejected(f"not a valid .torrent file: {exc}") from exc
        try:
            answer = self._call(
                f"add torrent {torrent_hash}",
                self._api.torrents_add,
                torrent_files={f"{torrent_hash}.torrent": torrent_bytes},
                category=category,
                tags=[tags] if isinstance(tags, str) else list(tags) or None,
                save_path=save_path,
                # a given save path must stick, so automatic management stays off then
                use_auto_torrent_management=False if save_path else None,
                is_paused=paused,
                # Its own "no limit" so a global "pause at ratio X" never stops it seeding
                # early (every snatch owes the tracker 72 h of seeding).
                ratio_limit=NO_LIMIT,
                seeding_time_limit=NO_LIMIT,
                inactive_seeding_time_limit=NO_LIMIT,
            )
        except TorrentAddRejected as exc:
            self._raise_if_present(torrent_hash, exc)
            raise
        if str(answer).strip() == "Fails.":
            self._raise_if_present(torrent_hash, None)
            raise TorrentAddRejected(f"qBittorrent at {self.url} refused torrent {torrent_hash}")
        self._await_listed(torrent_hash)
        return torrent_hash

    def _raise_if_present(self, torrent_hash: str, cause: Exception | None) -> None:
        if self._listed(torrent_hash):
            raise TorrentAlreadyPresent(
                f"qBittorrent at {self.url} already has torrent {torrent_hash}", torrent_hash
            ) from cause

    def _listed(self, torrent_hash: str) -> bool:
        found = self._call(
            f"look up torrent {torrent_hash}", self._api.torrents_info, torrent_hashes=torrent_hash
        )
        return bool(found)

    def _await_listed(self, torrent_hash: str) -> None:
        # qBittorrent adds asynchronously: "Ok." comes before the torrent is listed.
        deadline = time.monotonic() + self._add_confirm_timeout_s
        delay = 0.02
        while not self._listed(torrent_hash):
            if time.monotonic() >= deadline:
                raise TorrentAddRejected(
                    f"qBittorrent at {self.url} accepted torrent {torrent_hash} but did not "
                    f"list it within {self._add_confirm_timeout_s:g} s; see qBittorrent's log"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def pause(self, hashes: Hashes) -> None:
        """Pause (qBittorrent 5: stop) the given torrents."""
        self._on_torrents("pause", self._api.torrents_pause, hashes)

    def resume(self, hashes: Hashes) -> None:
        """Resume (qBittorrent 5: start) the given torrents."""
        self._on_torrents("resume", self._api.torrents_resume, hashes)

    def force_start(self, hashes: Hashes, on: bool = True) -> None:
        """Force-start the torrents (run regardless of queue limits); ``on=False`` undoes it."""
        wanted = _hash_list(hashes)
        if wanted:
            self._call(
                "force-start torrents",
                self._api.torrents_set_force_start,
                enable=on,
                torrent_hashes=wanted,
            )

    def set_share_limits(
        self, hashes: Hashes, *, ratio_limit: float, seeding_time_limit_min: int
    ) -> None:
        """Set the torrents' own share limits: -1 = no limit, -2 = follow the global one.

        A torrent's own limit overrides qBittorrent's global "when ratio/seeding time
        reaches ..." setting, so "no limit" keeps it seeding whatever that says. The
        inactive-seeding limit (qBittorrent 4.6+) is set to "no limit" alike when
        ``seeding_time_limit_min`` is -1 and follows the global one otherwise.
        """
        wanted = _hash_list(hashes)
        if wanted:
            self._call(
                "set share limits",
                self._api.torrents_set_share_limits,
                ratio_limit=ratio_limit,
                seeding_time_limit=seeding_time_limit_min,
                inactive_seeding_time_limit=(
                    NO_LIMIT if seeding_time_limit_min == NO_LIMIT else GLOBAL_LIMIT
                ),
                torrent_hashes=wanted,
            )

    def recheck(self, hashes: Hashes) -> None:
        """Re-verify the torrents' data on disk."""
        self._on_torrents("recheck", self._api.torrents_recheck, hashes)

    def reannounce(self, hashes: Hashes) -> None:
        """Announce the torrents to their trackers now."""
        self._on_torrents("reannounce", self._api.torrents_reannounce, hashes)

    def remove(self, hashes: Hashes, *, delete_files: bool = False) -> None:
        """Remove the torrents from the client; their data stays unless ``delete_files``."""
        wanted = _hash_list(hashes)
        if wanted:
            self._call(
                "remove torrents",
                self._api.torrents_delete,
                delete_files=delete_files,
                torrent_hashes=wanted,
            )

    def _on_torrents(self, action: str, fn: Callable[..., Any], hashes: Hashes) -> None:
        wanted = _hash_list(hashes)
        if wanted:  # an empty list must not turn into "all torrents"
            self._call(f"{action} torrents", fn, torrent_hashes=wanted)

    def preferences(self) -> dict[str, Any]:
        """All of qBittorrent's preferences as its Web API names them."""
        return dict(self._call("read preferences", self._api.app_preferences))

    def set_preferences(self, **prefs: Any) -> None:
        """Change preferences (e.g. max_uploads, max_uploads_per_torrent, up_limit, dl_limit).

        qBittorrent silently ignores unknown names, so we refuse them with ValueError.
        """
        if not prefs:
            return
        unknown = sorted(set(prefs) - set(self.preferences()))
        if unknown:
            raise ValueError(f"unknown qBittorrent preference(s): {', '.join(unknown)}")
        self._call("change preferences", self._api.app_set_preferences, prefs=prefs)

    def transfer_info(self) -> TransferInfo:
        """Whole-client speeds, session totals, limits and connection status."""
        return transfer_from_fields(self._call("read transfer info", self._api.transfer_info))

    def category_paths(self) -> dict[str, str]:
        """Each category's save path ("" = qBittorrent's default save path)."""
        categories: Mapping[str, Any] = self._call("read categories", self._api.torrents_categories)
        return {str(name): str(fields.get("savePath") or "") for name, fields in categories.items()}

    def ensure_category(self, name: str, save_path: str = "") -> None:
        """Create the category, or set its save path if it exists with another one."""
        categories: Mapping[str, Any] = self._call("read categories", self._api.torrents_categories)
        current = categories.get(name)
        if current is None:
            self._call(
                f"create category {name!r}",
                self._api.torrents_create_category,
                name=name,
                save_path=save_path,
            )
        elif str(current.get("savePath", "")) != save_path:
            self._call(
                f"change category {name!r}",
                self._api.torrents_edit_category,
                name=name,
                save_path=save_path,
            )

    def torrents(self, category: str | None = None) -> list[TorrentSnapshot]:
        """Every torrent (or those in ``category``; "" = uncategorised), freshly listed."""
        listed = self._call("list torrents", self._api.torrents_info, category=category)
        return [snapshot_from_fields(str(t["hash"]), t) for t in listed]

    def poll(self) -> ClientSnapshot:
        """One incremental poll through sync/maindata; see MainDataPoller."""
        return self._poller.poll()

    @property
    def poller(self) -> MainDataPoller:
        """The incremental poller behind ``poll()`` (rid, last_poll_ok, last_error)."""
        return self._poller

    def full_poll(self) -> ClientSnapshot:
        """Everything listed afresh (torrents/info + transfer/info), without sync state."""
        torrents = tuple(self.torrents())
        return ClientSnapshot(
            taken_at=datetime.now(UTC),
            torrents=torrents,
            transfer=self.transfer_info(),
            full_update=True,
            changed=frozenset(t.hash for t in torrents),
        )

    def _maindata(self, rid: int) -> Mapping[str, Any]:
        return self._call("poll torrents", self._api.sync_maindata, rid=rid)


def _hash_list(hashes: Hashes) -> list[str]:
    if isinstance(hashes, str):
        hashes = [hashes]
    return [h.strip().lower() for h in hashes if h.strip()]
