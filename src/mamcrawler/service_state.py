"""What a running `serve` tells the install's other processes: DATA_DIR/serve.json.

`serve` writes it when it starts and again when its demo world is ready, and removes it
when it stops. Other commands read it to say whether the service runs and, in demo mode,
to use its tracker simulator and demo world instead of starting their own. It holds the
simulator's session cookie and the demo qBittorrent's password, so like the API key it is
readable by its owner only.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from mamcrawler.config import Settings

if TYPE_CHECKING:  # loaded only when a record names a tracker: `status` stays quick
    from mamcrawler.services.tracker import TrackerEndpoint

FILE = "serve.json"
STARTING, READY, SIMULATOR_ONLY = "starting", "ready", "simulator only"


@dataclass(frozen=True)
class RunningService:
    """A `serve` process that is alive, as it described itself."""

    pid: int
    url: str
    demo_world: str | None  # starting, ready or simulator only; None when not in demo mode
    tracker: TrackerEndpoint | None = None  # the demo's simulator, once ready
    settings_update: dict[str, Any] = field(default_factory=dict)

    def settings_for(self, settings: Settings) -> Settings:
        """`settings` as the service runs with them (its demo world's parts and schedules)."""
        return settings.model_copy(update=self.settings_update) if self.settings_update \
            else settings


def path(settings: Settings) -> Path:
    return settings.data_dir / FILE


def publish(settings: Settings, demo_world: str | None, tracker: TrackerEndpoint | None = None,
            settings_update: dict[str, Any] | None = None) -> None:
    """Say that this process serves `settings` (written whole, owner-only)."""
    record = {"pid": os.getpid(), "url": f"http://{settings.host}:{settings.port}",
              "demo_world": demo_world,
              "tracker": None if tracker is None else {
                  "base_url": tracker.base_url, "cookie": tracker.first_cookie,
                  "min_interval_s": tracker.min_interval_s},
              "settings": {k: _plain(v) for k, v in (settings_update or {}).items()}}
    target = path(settings)
    temporary = target.with_name(f".{FILE}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(record, handle, indent=2)
    os.replace(temporary, target)


def withdraw(settings: Settings) -> None:
    """Remove the record if this process wrote it."""
    record = _read(path(settings))
    if record is not None and record.get("pid") == os.getpid():
        with contextlib.suppress(FileNotFoundError):
            path(settings).unlink()


def running(settings: Settings) -> RunningService | None:
    """The `serve` of this DATA_DIR, if one runs (a record left by a dead one is ignored)."""
    record = _read(path(settings))
    if record is None:
        return None
    pid = record.get("pid")
    if not isinstance(pid, int) or pid == os.getpid() or not _is_mamcrawler(pid):
        return None
    tracker = record.get("tracker")
    endpoint = None if not isinstance(tracker, dict) else _endpoint(tracker)
    update = {name: _revive(name, value) for name, value in (record.get("settings") or {}).items()
              if name in Settings.model_fields}
    return RunningService(pid, str(record.get("url", "")), record.get("demo_world"), endpoint,
                          update)


def _endpoint(tracker: dict) -> TrackerEndpoint:
    from mamcrawler.services.tracker import TrackerEndpoint

    return TrackerEndpoint(
        str(tracker["base_url"]), str(tracker["cookie"]), float(tracker["min_interval_s"]),
        demo=True, simulator=True)


def _read(file: Path) -> dict | None:
    try:
        record = json.loads(file.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _is_mamcrawler(pid: int) -> bool:
    try:
        return b"mamcrawler" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return str(value) if isinstance(value, Path) else value


def _revive(name: str, value: Any) -> Any:
    """A JSON value back in the type of its setting (secrets and paths)."""
    annotation = str(Settings.model_fields[name].annotation)
    if value is None:
        return None
    if "SecretStr" in annotation:
        return SecretStr(str(value))
    return Path(value) if "Path" in annotation else value
