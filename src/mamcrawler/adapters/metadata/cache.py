"""An in-process TTL cache for metadata answers, and a source wrapper that uses it.

Sources are slow, rate-limited and answer the same question the same way for days, so a
drift run over the whole library should not ask twice. Only answers are cached, never
failures: a source that was down is asked again next time.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from mamcrawler.adapters.metadata.base import MetadataSource
from mamcrawler.domain.metadata import BookQuery, SourceRecord

_MISSING = object()


class TTLCache:
    """A thread-safe mapping whose entries expire `ttl_s` after being stored.

    Holds at most `max_entries`; when full, the least recently used entry goes first.
    """

    def __init__(self, max_entries: int = 4096, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The live value stored under `key`, else `default` (expired entries are dropped)."""
        with self._lock:
            entry = self._entries.get(key, _MISSING)
            if entry is _MISSING:
                return default
            expires, value = entry
            if self._clock() >= expires:
                del self._entries[key]
                return default
            self._entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any, ttl_s: float) -> None:
        """Store `value` for `ttl_s` seconds; a TTL of 0 or less stores nothing."""
        if ttl_s <= 0:
            return
        with self._lock:
            self._entries[key] = (self._clock() + ttl_s, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class CachedSource:
    """`source` with its answers kept in `cache` for `ttl_s` seconds.

    Keys are (source name, query) and (source name, "id", id), so one cache can serve
    every source, each with its own TTL. Errors pass through and are not cached.
    """

    def __init__(self, source: MetadataSource, cache: TTLCache, ttl_s: float) -> None:
        self.source = source
        self.name = source.name
        self.cache = cache
        self.ttl_s = ttl_s

    def lookup(self, query: BookQuery) -> list[SourceRecord]:
        """The cached answer for `query`, else the source's (then cached)."""
        key = (self.name, query)
        cached = self.cache.get(key, _MISSING)
        if cached is not _MISSING:
            return list(cached)
        records = self.source.lookup(query)
        self.cache.put(key, tuple(records), self.ttl_s)
        return list(records)

    def by_id(self, source_id: str) -> SourceRecord | None:
        """The cached record for `source_id`, else the source's (then cached).

        Raises AttributeError when the wrapped source cannot fetch by id.
        """
        fetch = self.source.by_id  # type: ignore[attr-defined]
        key = (self.name, "id", source_id)
        cached = self.cache.get(key, _MISSING)
        if cached is not _MISSING:
            return cached
        record = fetch(source_id)
        self.cache.put(key, record, self.ttl_s)
        return record

    def close(self) -> None:
        close = getattr(self.source, "close", None)
        if close is not None:
            close()
