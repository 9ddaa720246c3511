"""The item shapes the Audiobookshelf contract fake answers, as a real 2.36 server does.

The fake stores each item in ABS's own ("old JSON") shape: ``media.metadata`` with
``authors [{id, name}]``, ``narrators [names]`` and ``series [{id, name, sequence}]``.
`GET /api/libraries/{id}/items` always answers the *minified* shape (no lists: the
``authorName``, ``narratorName`` and ``seriesName`` strings), `GET /api/items/{id}` the
stored shape, and only ``?expanded=1`` the *expanded* one (the lists and the strings).
A PATCH stores what it is sent, except that ABS keeps a series ``sequence`` only when it
is text: a number is stored as null.
"""

from __future__ import annotations

from typing import Any

_SHARED = ("title", "subtitle", "genres", "publishedYear", "description", "isbn", "asin")


def series_name(series: list[dict[str, Any]]) -> str:
    """ABS's ``seriesName``: "name #sequence" (just "name" without one), joined by ", "."""
    return ", ".join(f"{s['name']} #{s['sequence']}" if s.get("sequence") else s["name"]
                     for s in series)


def _names_lf(names: list[str]) -> str:
    def last_first(name: str) -> str:
        first, _, last = name.rpartition(" ")
        return f"{last}, {first}" if first else last

    return ", ".join(last_first(n) for n in names)


def _strings(meta: dict[str, Any]) -> dict[str, Any]:
    authors = [a["name"] for a in meta.get("authors") or []]
    title = meta.get("title") or ""
    return {"titleIgnorePrefix": title[4:] + ", The" if title.startswith("The ") else title,
            "authorName": ", ".join(authors), "authorNameLF": _names_lf(authors),
            "narratorName": ", ".join(meta.get("narrators") or []),
            "seriesName": series_name(meta.get("series") or [])}


def minified(item: dict[str, Any]) -> dict[str, Any]:
    """The item as `GET /api/libraries/{id}/items` lists it."""
    meta = item["media"]["metadata"]
    shown = {k: meta.get(k) for k in _SHARED}
    shown.update(_strings(meta))
    shown.update({"publishedDate": None, "publisher": None, "language": None,
                  "explicit": False, "abridged": False})
    media = {"id": f"book_{item['id']}", "metadata": shown, "coverPath": None, "tags": [],
             "numTracks": 1, "numAudioFiles": 1, "numChapters": 0,
             "duration": item["media"].get("duration"), "size": 0, "ebookFormat": None}
    return {**{k: v for k, v in item.items() if k != "media"}, "isMissing": False,
            "isInvalid": False, "media": media, "numFiles": 1, "size": 0}


def expanded(item: dict[str, Any]) -> dict[str, Any]:
    """The item as `GET /api/items/{id}?expanded=1` answers it."""
    meta = item["media"]["metadata"]
    shown = {**meta, **_strings(meta)}
    return {**item, "isMissing": False, "isInvalid": False,
            "media": {**item["media"], "metadata": shown, "audioFiles": [], "chapters": []},
            "size": 0}


def stored_patch(meta: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """The metadata fields a PATCH changes, as ABS stores them."""
    stored = dict(patch)
    if isinstance(patch.get("authors"), list):
        stored["authors"] = [{"id": f"aut_{a['name']}", "name": a["name"]}
                             for a in patch["authors"] if isinstance(a, dict)]
    if isinstance(patch.get("series"), list):
        stored["series"] = [{"id": f"ser_{s['name']}", "name": s["name"],
                             "sequence": s.get("sequence") if isinstance(
                                 s.get("sequence"), str) else None}
                            for s in patch["series"] if isinstance(s, dict)]
    return {k: v for k, v in stored.items() if meta.get(k) != v}
