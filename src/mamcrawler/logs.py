"""Logging: readable lines by default, JSON on request, secrets always redacted."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import unquote

MASK = "********"
# Secret-looking things that may appear even when their value is not a known setting,
# e.g. a rotated tracker cookie or a header echoed in an error.
_PATTERNS = [
    re.compile(r"(mam_id=)[^;\s&\"']+", re.IGNORECASE),
    re.compile(r"((?:x-api-key|authorization)[\"']?\s*[:=]\s*[\"']?(?:bearer\s+)?)[^\s,\"']+",
               re.IGNORECASE),
    re.compile(r"((?:api_?key|token|password|apikey)=)[^&\s\"']+", re.IGNORECASE),
    # credentials inside a URL, e.g. a database URL in an error message
    re.compile(r"(\b[a-z][\w+.-]*://[^:/@\s\"']*:)[^@\s\"'/]+(?=@)", re.IGNORECASE),
]


# scheme://user:password@host: the password runs to the last "@" of the URL, which masks at
# least what SQLAlchemy would read as the password.
_URL_PASSWORD = re.compile(r"^([\w+.-]+://[^:/@\s]*:)(.*)@(?=[^@]*$)")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&]*", re.IGNORECASE)


def mask_url(url: str) -> str:
    """`url` with any password in it masked, e.g. postgresql://me:********@db/mc."""
    return _QUERY_PASSWORD.sub(r"\1" + MASK, _URL_PASSWORD.sub(r"\1" + MASK + "@", url))


def url_passwords(url: str | None) -> list[str]:
    """The password in `url` as written and decoded (messages may show either)."""
    match = _URL_PASSWORD.match(url or "")
    if not match or not match.group(2):
        return []
    return list(dict.fromkeys([match.group(2), unquote(match.group(2))]))


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every known secret value and secret-looking token masked."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


class RedactingFilter(logging.Filter):
    """Masks secrets in the final message of every record that passes a handler."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = list(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            # Render the traceback now so it is redacted too.
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = redact(message, self.secrets), None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        })


def setup_logging(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    """Configure the root logger once for the process (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter(secrets))
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s",
                              "%Y-%m-%d %H:%M:%S")
        )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL at INFO; keep that to DEBUG.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
