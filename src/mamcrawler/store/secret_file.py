"""A secret kept in a file of DATA_DIR (the generated API key, the sign-in signing key):
made once, readable by the owner only, and the same for every process that starts."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

WAIT_FOR_WRITER_S = 2.0


def read_or_create(path: Path, make: Callable[[], str]) -> tuple[str, bool]:
    """The secret in `path`, else `make()` written there (mode 0600); returns (secret,
    created). Two processes starting together on a fresh DATA_DIR get the same secret:
    only one can create the file (O_EXCL), the other reads what it wrote."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    deadline = time.monotonic() + WAIT_FOR_WRITER_S
    while True:
        stored = _read(path)
        if stored:
            return stored, False
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            if time.monotonic() > deadline:  # an empty file left by a crash: replace it
                path.unlink(missing_ok=True)
            else:
                time.sleep(0.02)  # another process is writing it right now
            continue
        secret = make()
        with os.fdopen(fd, "w") as handle:
            handle.write(secret + "\n")
        return secret, True


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""
