"""Tolerant readers for the loose values the tracker sends.

Numbers arrive as numbers or strings, flags as 0/1/"0"/"1"/booleans, sizes as
human-readable text ("296.0 MiB"), times as "YYYY-MM-DD HH:MM:SS" in UTC, and people and
series as JSON *inside a string* that is HTML-escaped and sometimes malformed.
"""

from __future__ import annotations

import html
import json
import logging
import math
import re
from datetime import UTC, datetime

from mamcrawler.domain.records import SeriesRef
from mamcrawler.domain.series_position import normalize_position

log = logging.getLogger(__name__)

# The site shows binary quantities; its older pages label them KB/MB/GB, so those count
# as binary too.
_UNITS = {
    "": 1, "b": 1, "byte": 1, "bytes": 1,
    "k": 1024, "kb": 1024, "kib": 1024,
    "m": 1024**2, "mb": 1024**2, "mib": 1024**2,
    "g": 1024**3, "gb": 1024**3, "gib": 1024**3,
    "t": 1024**4, "tb": 1024**4, "tib": 1024**4,
    "p": 1024**5, "pb": 1024**5, "pib": 1024**5,
}
_SIZE_PATTERN = re.compile(r"^\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$")
_INFINITY = {"∞", "inf", "infinity", "+inf", "&infin;"}
_TRUE = {"1", "true", "yes", "y", "on", "t"}
# Fallbacks for JSON-in-string values broken by unescaped quotes: a value runs until the
# quote that is followed by the next `"<digits>":` key or the closing brace.
_PERSON_PATTERN = re.compile(r'"(\d+)"\s*:\s*"(.*?)"\s*(?=,\s*"\d+"\s*:|\s*}|\s*$)', re.DOTALL)
_SERIES_PATTERN = re.compile(
    r'"(\d+)"\s*:\s*\[\s*"(.*?)"\s*,\s*"?([^"\]]*)"?\s*\]', re.DOTALL
)
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def to_int(value: object) -> int | None:
    """An int from an int, float or numeric string ("1,234", " 7 "); None if not numeric."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    number = to_float(value)
    if number is None or not math.isfinite(number):
        return None
    return int(number)


def to_float(value: object) -> float | None:
    """A float from a number or numeric string; None if it is not one."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace(",", "").strip())
        except ValueError:
            return None
    return None


def to_finite_float(value: object) -> float | None:
    """Like `to_float`, but "inf", "Infinity" and "NaN" (text or JSON literal) give None.

    For amounts that are spent or compared (bonus points): infinity there is a broken
    reply, not a very large number.
    """
    number = to_float(value)
    return number if number is not None and math.isfinite(number) else None


def to_flag(value: object) -> bool:
    """True for 1, "1", true, "true", "yes"; False for everything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    return False


def clean_text(value: object) -> str:
    """Text with HTML escapes undone (also double escapes) and whitespace collapsed."""
    if value is None:
        return ""
    text = str(value)
    for _ in range(3):  # "&amp;#039;" needs two rounds
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
    return " ".join(text.split())


def parse_size(value: object) -> int | None:
    """Bytes from a byte count or a human size like "5.125 TiB" or "296.0 MiB"."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value) if math.isfinite(value) and value >= 0 else None
    if not isinstance(value, str):
        return None
    match = _SIZE_PATTERN.match(value)
    if not match:
        return None
    factor = _UNITS.get(match.group(2).lower())
    if factor is None:
        return None
    return int(round(float(match.group(1).replace(",", "")) * factor))


def parse_ratio(value: object) -> float | None:
    """The ratio as a float, or None for infinity ("∞": nothing downloaded yet).

    Raises ValueError for anything else, because guessing a ratio could hurt the account.
    """
    if isinstance(value, str) and value.strip().lower() in _INFINITY:
        return None
    number = to_float(value)
    if number is None or math.isnan(number) or number < 0:
        raise ValueError(f"unreadable ratio {value!r}")
    return None if math.isinf(number) else number


def parse_utc(value: object) -> datetime | None:
    """A UTC datetime from "YYYY-MM-DD HH:MM:SS", ISO text or a Unix time; None if absent."""
    if value is None or value == "" or value is False:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.startswith("0000-00-00"):
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _load_info(raw: object) -> object:
    """The decoded JSON-in-string value, or the raw text when it is not valid JSON."""
    if not isinstance(raw, str):
        return raw
    for candidate in (raw, clean_text(raw) if "&quot;" in raw else None):
        if candidate is None:
            continue
        try:
            decoded = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(decoded, str) and decoded.strip()[:1] in "{[":
            return _load_info(decoded)  # JSON encoded twice
        return decoded
    return raw


def _fallback_text(text: str) -> str:
    text = text.replace('\\"', '"').replace("\\/", "/")
    return _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _items(decoded: object) -> list[tuple[str, object]]:
    if isinstance(decoded, dict):
        return [(str(k), v) for k, v in decoded.items()]
    if isinstance(decoded, list):
        return [(str(i), v) for i, v in enumerate(decoded)]
    return []


def parse_people(raw: object) -> tuple[str, ...]:
    """Names from an author/narrator field such as '{"325312": "Hayden Hall"}'.

    Never raises: malformed JSON is read with a fallback pattern, junk gives ().
    """
    try:
        decoded = _load_info(raw)
        if isinstance(decoded, str):
            pairs = [(k, _fallback_text(v)) for k, v in _PERSON_PATTERN.findall(decoded)]
        else:
            pairs = _items(decoded)
        names: list[str] = []
        for _, value in pairs:
            if isinstance(value, list | tuple) and value:
                value = value[0]
            if isinstance(value, dict):
                value = value.get("name")
            name = clean_text(value) if isinstance(value, str | int | float) else ""
            if name and name not in names:
                names.append(name)
        return tuple(names)
    except Exception:  # any junk: keep the rest of the result
        log.debug("unreadable people field skipped", exc_info=True)
        return ()


def _position(value: object) -> str | None:
    """Canonical position text (domain.series_position) from a number or an uploader's
    text, HTML escapes undone first ("1&ndash;3" is "1-3")."""
    return normalize_position(clean_text(value) if isinstance(value, str) else value)


def parse_series(raw: object) -> tuple[SeriesRef, ...]:
    """Series from a field such as '{"126732": ["Rainey Paxton", "3"]}'; never raises."""
    try:
        decoded = _load_info(raw)
        if isinstance(decoded, str):
            pairs: list[tuple[str, object]] = [
                (k, [_fallback_text(n), p]) for k, n, p in _SERIES_PATTERN.findall(decoded)
            ]
        else:
            pairs = _items(decoded)
        refs: list[SeriesRef] = []
        for _, value in pairs:
            name, position = _series_parts(value)
            if name and all(r.name != name for r in refs):
                refs.append(SeriesRef(name=name, position=position))
        return tuple(refs)
    except Exception:  # any junk: keep the rest of the result
        log.debug("unreadable series field skipped", exc_info=True)
        return ()


def _series_parts(value: object) -> tuple[str, str | None]:
    if isinstance(value, list | tuple):
        name = value[0] if value else ""
        position = value[1] if len(value) > 1 else None
    elif isinstance(value, dict):
        name, position = value.get("name", ""), value.get("position")
    else:
        name, position = value, None
    name_text = clean_text(name) if isinstance(name, str | int | float) else ""
    return name_text, _position(position)
