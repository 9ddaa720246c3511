"""Remote path mappings: the same folder seen under another path by qBittorrent or
Audiobookshelf (a container) than by this service.

A mapping is `remote=local` prefix pairs separated by `;`
(`/downloads=/mnt/media/downloads;/data=/srv/data`), the convention the *arr applications
use for remote path mappings. A path is mapped by the pair with the longest prefix that
holds it, whole path components only (`/downloads` holds `/downloads/x`, not
`/downloads2`); a path no pair holds is returned as it is, so an empty map changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PathPair:
    remote: str  # as the other program sees the folder
    local: str  # as this service sees it


def normalise(path: str) -> str:
    """`path` without trailing slashes or repeated slashes ("/" stays "/")."""
    parts = [p for p in path.split("/") if p]
    return "/" + "/".join(parts) if path.startswith("/") else "/".join(parts)


def _under(path: str, prefix: str) -> str | None:
    """The rest of `path` after `prefix` ("" or "/…"), or None when `prefix` does not hold it."""
    if prefix == "/":
        return path if path != "/" else ""
    if path == prefix:
        return ""
    return path[len(prefix):] if path.startswith(prefix + "/") else None


def _join(prefix: str, rest: str) -> str:
    if prefix == "/":
        return rest or "/"
    return prefix + rest


@dataclass(frozen=True)
class PathMap:
    pairs: tuple[PathPair, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def to_local(self, path: str) -> str:
        """Where the other program's `path` is on this machine."""
        return self._map(path, remote_to_local=True)

    def to_remote(self, path: str) -> str:
        """How the other program sees this machine's `path`."""
        return self._map(path, remote_to_local=False)

    def to_remote_or_none(self, path: object | None) -> str | None:
        """`to_remote(str(path))`, None for no path (e.g. an unset folder setting)."""
        return None if path is None or str(path) == "" else self.to_remote(str(path))

    def _map(self, path: str, *, remote_to_local: bool) -> str:
        path = normalise(path)
        best: tuple[int, str] | None = None
        for pair in self.pairs:
            source, target = ((pair.remote, pair.local) if remote_to_local
                              else (pair.local, pair.remote))
            rest = _under(path, source)
            if rest is not None and (best is None or len(source) > best[0]):
                best = (len(source), _join(target, rest))
        return path if best is None else best[1]

    def describe(self) -> str:
        return ";".join(f"{p.remote}={p.local}" for p in self.pairs)


def parse_path_map(text: str | None) -> PathMap:
    """Parse `remote=local;remote=local`; ValueError saying what is wrong with which pair."""
    pairs: list[PathPair] = []
    for raw in (text or "").replace("\n", ";").split(";"):
        entry = raw.strip()
        if not entry:
            continue
        if entry.count("=") != 1:
            raise ValueError(f"{entry!r} is not one remote=local pair (like "
                             "/downloads=/mnt/media/downloads; pairs are separated by ;)")
        remote, local = (normalise(side.strip()) for side in entry.split("="))
        for side, value in (("remote", remote), ("local", local)):
            if not value.startswith("/"):
                raise ValueError(f"in {entry!r} the {side} path {value or '(empty)'!r} is not "
                                 "an absolute path starting with /")
            if any(part in (".", "..") for part in value.split("/")):
                raise ValueError(f"in {entry!r} the {side} path must not contain . or ..")
        for pair in pairs:
            if pair.remote == remote:
                raise ValueError(f"{remote} is mapped twice ({pair.local} and {local})")
            if pair.local == local:
                raise ValueError(f"{local} is the local side of two pairs ({pair.remote} and "
                                 f"{remote}), so its remote path would be ambiguous")
        pairs.append(PathPair(remote, local))
    return PathMap(tuple(pairs))


def missing_reason(what: str, remote: str, local: str, folder: str, var: str) -> str:
    """Why `remote`, as `what` ("qBittorrent saves to") names it, is not usable here, and
    the setting `var` that fixes it: `local` is `remote` mapped, `folder` the remote folder
    to suggest a mapping for."""
    if normalise(remote) == normalise(local):
        return (f"{what} {remote}, which does not exist here; set "
                f"{var}={normalise(folder)}=<the folder on this machine>")
    return (f"{what} {remote}, which is {local} here through {var}, and that does not "
            f"exist; fix {var} so it maps {normalise(folder)} to the folder on this machine")
