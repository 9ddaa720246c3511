"""Ask every metadata source at once; one failing or slow source never stops the others.

Each source runs in its own worker thread with its own rate limit, retries and errors.
`query_all` returns when every source has answered or when `timeout_s` has passed,
whichever is first: a source still busy then is reported as timed out and left to
finish in the background (its own HTTP timeout ends it), so it never delays the result.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from mamcrawler.adapters.metadata.base import MetadataSource
from mamcrawler.adapters.metadata.errors import MetadataError
from mamcrawler.domain.metadata import BookQuery, SourceRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueryOutcome:
    """Per source, either its records (possibly none) or why it gave none.

    Every source asked appears in exactly one of `records` and `errors`, in the order
    the sources were given; `elapsed` is the wall time of the whole query in seconds.
    """

    records: dict[str, list[SourceRecord]]
    errors: dict[str, str]
    elapsed: float

    @property
    def all_records(self) -> list[SourceRecord]:
        """Every record of every source that answered, in source order."""
        return [r for records in self.records.values() for r in records]


def query_all(sources: Sequence[MetadataSource], query: BookQuery, *, timeout_s: float,
              clock: Callable[[], float] = time.monotonic) -> QueryOutcome:
    """Look `query` up in all `sources` concurrently, waiting at most `timeout_s`.

    Never raises for a source's failure: a MetadataError becomes its message, any other
    exception "unexpected …" (logged with its traceback), and a source still running at
    the deadline "no answer within … s". Raises ValueError for two sources of one name.
    """
    names = [source.name for source in sources]
    if len(set(names)) != len(names):
        raise ValueError(f"source names must be unique, got {names}")
    started = clock()
    if not sources:
        return QueryOutcome({}, {}, 0.0)
    pool = ThreadPoolExecutor(max_workers=len(sources), thread_name_prefix="metadata")
    try:
        futures = {source.name: pool.submit(source.lookup, query) for source in sources}
        wait(futures.values(), timeout=max(0.0, timeout_s))
    finally:
        # Do not wait for stragglers; they end on their own HTTP timeout.
        pool.shutdown(wait=False, cancel_futures=True)
    records: dict[str, list[SourceRecord]] = {}
    errors: dict[str, str] = {}
    for name, future in futures.items():
        outcome = _outcome(name, future, timeout_s)
        if isinstance(outcome, str):
            errors[name] = outcome
        else:
            records[name] = outcome
    elapsed = clock() - started
    if errors:
        log.info("metadata query for %r: %d of %d sources failed in %.1f s: %s",
                 query.title or query.asin or query.isbn, len(errors), len(sources), elapsed,
                 "; ".join(f"{n}: {e}" for n, e in errors.items()))
    return QueryOutcome(records, errors, elapsed)


def _outcome(name: str, future: Future[list[SourceRecord]],
             timeout_s: float) -> list[SourceRecord] | str:
    if future.cancelled() or not future.done():
        return (f"{name}: no answer within {timeout_s:g} s; the source is slow or "
                "unreachable (METADATA_TIMEOUT_S sets the wait)")
    error = future.exception()
    if error is None:
        result = future.result()
        return list(result) if result is not None else []
    if isinstance(error, MetadataError):
        return str(error)
    log.error("metadata source %s failed unexpectedly", name,
              exc_info=(type(error), error, error.__traceback__))
    return f"{name}: unexpected {type(error).__name__}: {error}"
