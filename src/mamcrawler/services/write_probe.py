"""Can the service still write? /health asks: a full or read-only disk makes every write
fail while reads, and so the database's `SELECT 1`, still work.

The probe writes a small file in DATA_DIR and in the folder of a SQLite database (where its
journal goes) and removes it again. PostgreSQL's disk is the server's: only reaching it is
checked there.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from mamcrawler.config import Settings
from mamcrawler.store.db import sqlite_path

PROBE_BYTES = 4096  # one block: a full file system refuses it at once


def folders(settings: Settings) -> list[tuple[str, Path]]:
    """(what to call it, folder) for every folder the service must be able to write in."""
    found = [("DATA_DIR", settings.data_dir)]
    database = sqlite_path(settings.effective_database_url)
    if database is not None and database.parent.absolute() != settings.data_dir.absolute():
        found.append(("the database's folder", database.parent))
    return found


def write_problem(settings: Settings) -> str | None:
    """None when a small file can be written in each of `folders`, else what failed, e.g.
    "cannot write in DATA_DIR (data): No space left on device"."""
    for name, folder in folders(settings):
        try:
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-probe-") as probe:
                probe.write(bytes(PROBE_BYTES))
                probe.flush()
        except OSError as exc:
            return f"cannot write in {name} ({folder}): {exc.strerror or exc}"
    return None
