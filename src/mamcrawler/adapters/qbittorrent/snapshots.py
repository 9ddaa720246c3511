"""Turn qBittorrent's JSON fields into our neutral records."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from mamcrawler.adapters.qbittorrent.states import normalise_state
from mamcrawler.domain.torrents import TorrentSnapshot, TransferInfo

# qBittorrent reports "never" as -1, 0 or (older builds) the unsigned -1.
_NO_TIME_AT_OR_ABOVE = 2**32 - 1


def snapshot_from_fields(info_hash: str, fields: Mapping[str, Any]) -> TorrentSnapshot:
    """A TorrentSnapshot from one torrent's fields (torrents/info or merged maindata).

    Missing fields take neutral defaults, so a partly known torrent still converts.
    """
    raw_state = str(fields.get("state", "unknown"))
    return TorrentSnapshot(
        hash=info_hash.lower(),
        name=str(fields.get("name", "")),
        state=normalise_state(raw_state),
        raw_state=raw_state,
        category=str(fields.get("category") or ""),
        tags=split_tags(fields.get("tags")),
        progress=float(fields.get("progress", 0.0)),
        size=int(fields.get("size", 0)),
        downloaded=int(fields.get("downloaded", 0)),
        uploaded=int(fields.get("uploaded", 0)),
        ratio=_ratio(fields.get("ratio", 0.0)),
        seeding_time=int(fields.get("seeding_time", 0)),
        completion_on=epoch_to_utc(fields.get("completion_on")),
        added_on=epoch_to_utc(fields.get("added_on")),
        save_path=str(fields.get("save_path", "")),
        content_path=str(fields.get("content_path", "")),
        num_seeds=int(fields.get("num_seeds", 0)),
        num_leechs=int(fields.get("num_leechs", 0)),
        dlspeed=int(fields.get("dlspeed", 0)),
        upspeed=int(fields.get("upspeed", 0)),
        forced=bool(fields.get("force_start", False)),
    )


def transfer_from_fields(fields: Mapping[str, Any]) -> TransferInfo:
    """TransferInfo from transfer/info or from maindata's ``server_state``.

    Only ``server_state`` carries lifetime totals; from transfer/info they stay None.
    """
    return TransferInfo(
        dl_speed=int(fields.get("dl_info_speed", 0)),
        up_speed=int(fields.get("up_info_speed", 0)),
        dl_session=int(fields.get("dl_info_data", 0)),
        up_session=int(fields.get("up_info_data", 0)),
        dl_limit=int(fields.get("dl_rate_limit", 0)),
        up_limit=int(fields.get("up_rate_limit", 0)),
        connection_status=str(fields.get("connection_status", "unknown")),
        alltime_dl=_optional_int(fields.get("alltime_dl")),
        alltime_ul=_optional_int(fields.get("alltime_ul")),
    )


def split_tags(raw: Any) -> tuple[str, ...]:
    """qBittorrent sends tags as one "a, b" string; we keep a sorted tuple of names."""
    if not raw:
        return ()
    if isinstance(raw, str):
        raw = raw.split(",")
    return tuple(sorted({str(t).strip() for t in raw if str(t).strip()}))


def epoch_to_utc(value: Any) -> datetime | None:
    """UTC datetime for an epoch-seconds value, None for qBittorrent's "never" markers."""
    if value is None:
        return None
    seconds = int(value)
    if seconds <= 0 or seconds >= _NO_TIME_AT_OR_ABOVE:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC)


def _ratio(value: Any) -> float:
    ratio = float(value)
    # qBittorrent sends -1 when the ratio exceeds its display maximum (nothing downloaded)
    return math.inf if ratio < 0 else ratio


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)
