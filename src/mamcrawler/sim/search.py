"""The simulator's search: bracketed GET params or a JSON body, real filtering, and
results rendered with the tracker's quirks (JSON inside strings, HTML escapes, numbers
and flags sometimes as strings, optionally malformed).
"""

from __future__ import annotations

import html
import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from mamcrawler.sim.catalogue import CatalogueEntry, person_id

FIELDS = ("title", "author", "narrator", "series", "description", "filenames")
DEFAULT_FIELDS = ("title", "author", "narrator", "series")
SEARCH_TYPES = {"all", "active", "fl", "fl-VIP", "VIP", "nVIP"}
_SORTS = {
    "title": lambda e: e.title.casefold(), "date": lambda e: (e.added, e.id),
    "seeders": lambda e: e.seeders, "leechers": lambda e: e.leechers,
    "snatched": lambda e: e.times_completed, "size": lambda e: e.size,
    "category": lambda e: e.category,
}


class SearchError(ValueError):
    """A request the tracker would answer with an error message."""


@dataclass(frozen=True)
class SimSearch:
    text: str = ""
    fields: tuple[str, ...] = DEFAULT_FIELDS
    search_type: str = "all"
    categories: frozenset[int] = frozenset()
    main_categories: frozenset[int] = frozenset()
    languages: frozenset[int] = frozenset()
    sort: str = "default"
    start: int = 0
    per_page: int = 25
    dl_link: bool = False


def _ints(values: Iterable[object]) -> frozenset[int]:
    result = set()
    for value in values:
        try:
            number = int(str(value))
        except ValueError:
            raise SearchError(f"invalid id {value!r}") from None
        if number:
            result.add(number)
    return frozenset(result)


def _as_list(value: object) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _truthy(value: object) -> bool:
    return str(value).strip().lower() in {"1", "true", "on", "yes"}


def from_query(items: list[tuple[str, str]]) -> SimSearch:
    """A search from bracketed query parameters (`tor[text]`, `tor[cat][]`, ...)."""
    tor: dict[str, object] = {"srchIn": {}}
    top: dict[str, str] = {}
    for key, value in items:
        if key.startswith("tor[srchIn]["):
            name = key[len("tor[srchIn]["):].rstrip("]")
            if name:
                tor["srchIn"][name] = value  # type: ignore[index]
            else:  # tor[srchIn][]=title style
                tor["srchIn"][value] = "true"  # type: ignore[index]
        elif key.startswith("tor[") and key.endswith("[]"):
            tor.setdefault(key[4:-3], []).append(value)  # type: ignore[union-attr]
        elif key.startswith("tor[") and key.endswith("]"):
            tor[key[4:-1]] = value
        else:
            top[key] = value
    return _build(tor, top)


def from_json(body: object) -> SimSearch:
    """A search from a POSTed JSON body `{"tor": {...}, "perpage": N}`."""
    if not isinstance(body, dict):
        raise SearchError("the search body must be a JSON object")
    tor = body.get("tor") if isinstance(body.get("tor"), dict) else {}
    srch = tor.get("srchIn")
    if isinstance(srch, list):
        tor = {**tor, "srchIn": {name: "true" for name in srch}}
    return _build(tor, {k: v for k, v in body.items() if k != "tor"})


def _build(tor: dict, top: dict) -> SimSearch:
    srch = tor.get("srchIn") or {}
    fields = tuple(f for f in FIELDS if isinstance(srch, dict) and _truthy(srch.get(f, "")))
    search_type = str(tor.get("searchType") or "all")
    if search_type not in SEARCH_TYPES:
        raise SearchError(f"Invalid search type: {search_type}")
    try:
        start = max(0, int(str(tor.get("startNumber") or 0)))
        per_page = int(str(top.get("perpage") or tor.get("perpage") or 25))
    except ValueError:
        raise SearchError("Invalid paging values") from None
    return SimSearch(
        text=str(tor.get("text") or "").strip(),
        fields=fields or DEFAULT_FIELDS,
        search_type=search_type,
        categories=_ints(_as_list(tor.get("cat"))),
        main_categories=_ints(_as_list(tor.get("main_cat"))),
        languages=_ints(_as_list(tor.get("browse_lang"))),
        sort=str(tor.get("sortType") or "default"),
        start=start,
        per_page=min(100, max(5, per_page)),
        dl_link="dlLink" in top or "dlLink" in tor,
    )


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _haystack(entry: CatalogueEntry, fields: tuple[str, ...]) -> str:
    parts = {
        "title": [entry.title], "author": list(entry.authors),
        "narrator": list(entry.narrators), "series": [name for name, _ in entry.series],
        "description": [entry.description], "filenames": entry.content.relative_paths(),
    }
    return _fold(" ".join(" ".join(parts[f]) for f in fields))


def _type_matches(entry: CatalogueEntry, search_type: str, personal: bool) -> bool:
    return {
        "all": True,
        "active": entry.seeders > 0,
        "fl": entry.free or personal,
        "fl-VIP": entry.free or personal or entry.vip,
        "VIP": entry.vip,
        "nVIP": not entry.vip,
    }[search_type]


def matches(entry: CatalogueEntry, query: SimSearch, personal_fl: set[int]) -> bool:
    """Whether `entry` passes every filter of `query`."""
    if query.categories and entry.category not in query.categories:
        return False
    if query.main_categories and entry.main_category not in query.main_categories:
        return False
    if query.languages and entry.language not in query.languages:
        return False
    if not _type_matches(entry, query.search_type, entry.id in personal_fl):
        return False
    haystack = _haystack(entry, query.fields)
    return all(_fold(term.strip('"')) in haystack for term in query.text.split())


def ordered(entries: list[CatalogueEntry], sort: str) -> list[CatalogueEntry]:
    """Entries in the requested order; "default" is newest first."""
    if sort in ("default", "random") or not sort.endswith(("Asc", "Desc")):
        return sorted(entries, key=lambda e: (e.added, e.id), reverse=True)
    base, descending = sort.removesuffix("Asc").removesuffix("Desc"), sort.endswith("Desc")
    key = _SORTS.get(base, _SORTS["date"])
    return sorted(entries, key=lambda e: (key(e), e.id), reverse=descending)


def _escape(text: str) -> str:
    return html.escape(text, quote=True).replace("&#x27;", "&#039;")


def info_string(pairs: list[tuple[int, object]], malformed: bool) -> str:
    """JSON inside a string, names HTML-escaped; `malformed` leaves raw quotes in."""
    if not malformed:
        return json.dumps({str(k): v for k, v in pairs})
    parts = []
    for key, value in pairs:
        if isinstance(value, list):
            parts.append(f'"{key}": ["{value[0]}", "{value[1]}"]')
        else:
            parts.append(f'"{key}": "{value}"')
    return "{" + ", ".join(parts) + "}"


def render(entry: CatalogueEntry, *, personal: bool, malformed: bool, as_strings: bool,
           truncate: bool = False, dl_link: bool = False) -> dict:
    """One search result as the tracker sends it."""
    name = (lambda n: n) if malformed else _escape
    authors = info_string([(person_id(a), name(a)) for a in entry.authors], malformed)
    narrators = info_string([(person_id(n), name(n)) for n in entry.narrators], malformed)
    series = info_string(
        [(person_id(s), [name(s), p or ""]) for s, p in entry.series], malformed
    )
    if truncate:
        series = series[: max(1, len(series) // 2)]
    value = str if as_strings else (lambda v: v)
    result = {
        "id": value(entry.id), "title": _escape(entry.title),
        "author_info": authors, "narrator_info": narrators, "series_info": series,
        "tags": entry.tags, "added": entry.added.strftime("%Y-%m-%d %H:%M:%S"),
        "my_snatched": 0, "language": value(entry.language), "lang_code": entry.lang_code,
        "main_cat": value(entry.main_category), "category": value(entry.category),
        "catname": _escape(entry.category_name), "size": human_size(entry.size),
        "filetype": entry.filetype, "numfiles": value(len(entry.content.files)),
        "seeders": value(entry.seeders), "leechers": value(entry.leechers),
        "times_completed": value(entry.times_completed), "vip": value(int(entry.vip)),
        "free": value(int(entry.free)), "personal_freeleech": value(int(personal)),
        "fl_vip": value(int(entry.vip)),
    }
    if dl_link:
        result["dl"] = f"{entry.id:x}{person_id(entry.title):x}"
    return result


def human_size(size: int, decimals: int = 1) -> str:
    """"296.0 MiB" style, the way the tracker shows sizes."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{value:.{decimals}f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
