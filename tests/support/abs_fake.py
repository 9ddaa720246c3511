"""A contract fake of Audiobookshelf: exactly the endpoints of reference/audiobookshelf.md.

Served over real HTTP on 127.0.0.1 by BackgroundServer. Every /api call needs
``Authorization: Bearer <token>`` (401 otherwise); scans and watcher updates need an admin
token (403 when `admin` is off). It answers the item shapes a real 2.36 server does
(tests.support.abs_answers.py): minified in library item lists, expanded only for
``GET /api/items/{id}?expanded=1``; a numeric series sequence in a PATCH is stored as null,
and a watcher update is answered 200 but ignored while the library's watcher is disabled.
It has one book library with one folder, a real
directory, and "scans" it as ABS does: each folder holding audio becomes an item whose
metadata is read from ``Author/Series/Book N - Title {Narrator}`` by ABS's folder rules,
so tests can check that what we file is read back the way we meant. Scans happen before
the answer (ABS scans after answering; synchronous is simpler to assert on).

Fixture ``abs_fake`` gives an AbsFakeHandle: ``base_url``, ``token``, ``library_id``,
``folder`` (a fresh directory per test), the recorded ``scans``, ``item_scans``,
``watcher_updates``, ``patches`` (bodies as sent) and ``requests``, ``items()`` (as
stored), ``fail(status, ...)``, ``disable_watcher()``, and ``see_folder_as(path)`` to report
its folder under a container path.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from mamcrawler.domain.integrity import AUDIO_EXTENSIONS
from mamcrawler.sim.background import BackgroundServer
from tests.support.abs_answers import expanded, minified, stored_patch

ABS_TOKEN = "abs-test-token-0123456789"
LIBRARY_ID = "lib_fake_books"
SERVER_VERSION = "2.36.0"

_NARRATORS = re.compile(r"^(?P<title>.*) \{(?P<narrators>.*)\}$")
_SEQUENCE = re.compile(
    r"^(?P<label>vol\.? |volume |book )?(?P<seq>\d{0,3}(?:\.\d{1,2})?)(?P<dot>\.?)"
    r"(?: (?P<suffix>.*))?$", re.IGNORECASE)
_YEAR = re.compile(r"^ *\(?([0-9]{4})\)? * - *(.+)")
_NAME_SPLIT = re.compile(r"\s*(?:&|;|\band\b)\s*")


def abs_read_folder(relpath: str) -> dict[str, Any]:
    """What ABS reads from a book folder path relative to its library folder."""
    parts = relpath.strip("/").split("/")
    folder = parts.pop()
    series = parts.pop() if len(parts) > 1 else None
    author = parts.pop() if parts else None
    narrators: list[str] = []
    match = _NARRATORS.match(folder)
    if match:
        folder, narrators = match["title"], split_names(match["narrators"])
    sequence = None
    if series:
        folder, sequence = _take_sequence(folder)
    year = None
    match = _YEAR.match(folder)
    if match:
        year, folder = match.group(1), match.group(2)
    return {"title": folder, "authors": split_names(author or ""), "series": series,
            "sequence": sequence, "narrators": narrators, "publishedYear": year}


def split_names(text: str) -> list[str]:
    """Names split on &, ' and ', ';', then ','."""
    names = []
    for chunk in _NAME_SPLIT.split(text):
        names.extend(p.strip() for p in chunk.split(",") if p.strip())
    return names


def _take_sequence(folder: str) -> tuple[str, str | None]:
    parts = folder.split(" - ")
    for index, part in enumerate(parts):
        match = _SEQUENCE.match(part)
        # "101 Dalmatians" is a title; "101. Dalmatians" and "Book 101" are sequences.
        if match and not (match["suffix"] and not (match["label"] or match["dot"])):
            seq = match["seq"]
            sequence = _number_text(seq)
            if match["suffix"]:
                parts[index] = match["suffix"]
            else:
                del parts[index]
            return " - ".join(parts), sequence
    return folder, None


def _number_text(text: str) -> str:
    value = float(text or 0)
    return str(int(value)) if value == int(value) else repr(value)


@dataclass
class AbsFakeState:
    token: str = ABS_TOKEN
    library_id: str = LIBRARY_ID
    folder: str = "/audiobooks"
    seen_as: str = ""  # the folder's path as this ABS reports it (a container); "" = folder
    admin: bool = True
    watcher_disabled: bool = False  # ABS still answers 200 to a watcher update
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # by item id
    scans: list[dict[str, Any]] = field(default_factory=list)
    item_scans: list[str] = field(default_factory=list)
    watcher_updates: list[dict[str, Any]] = field(default_factory=list)
    patches: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def library_json(self) -> dict[str, Any]:
        return {"id": self.library_id, "name": "Audiobooks", "mediaType": "book",
                "provider": "audible", "displayOrder": 1, "icon": "audiobookshelf",
                "folders": [{"id": "fol_1", "fullPath": self.shown_folder,
                             "libraryId": self.library_id}]}

    @property
    def shown_folder(self) -> str:
        return self.seen_as or self.folder

    def scan_folder(self) -> None:
        """Create an item for every new folder under `folder` that holds audio."""
        root = Path(self.folder)
        known = {item["relPath"] for item in self.items.values()}
        for audio in sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS):
            rel = audio.parent.relative_to(root).as_posix()
            if rel == "." or rel in known or any(p.startswith(".") for p in rel.split("/")):
                continue  # ABS ignores dot folders and files in the library root
            known.add(rel)
            self.add_item(rel, abs_read_folder(rel))

    def add_item(self, relpath: str, meta: dict[str, Any]) -> str:
        item_id = f"li_{len(self.items) + 1:04d}"
        series = ([{"id": f"ser_{meta['series']}", "name": meta["series"],
                    "sequence": meta.get("sequence")}] if meta.get("series") else [])
        self.items[item_id] = {
            "id": item_id, "libraryId": self.library_id, "folderId": "fol_1",
            "path": f"{self.shown_folder.rstrip('/')}/{relpath}", "relPath": relpath,
            "isFile": False, "mediaType": "book",
            "media": {"duration": meta.get("duration", 0.0), "metadata": {
                "title": meta.get("title"), "subtitle": None,
                "authors": [{"id": f"aut_{n}", "name": n} for n in meta.get("authors", [])],
                "narrators": list(meta.get("narrators", [])), "series": series,
                "publishedYear": meta.get("publishedYear"), "asin": meta.get("asin"),
                "isbn": meta.get("isbn"), "genres": [], "description": None}}}
        return item_id


def create_abs_app(state: AbsFakeState) -> Starlette:
    async def guard(request: Request, call_next: Any) -> Response:
        path = request.url.path
        with state.lock:
            state.requests.append((request.method, path))
            failure = _take_failure(state, path)
        if failure is not None:
            headers = {"Retry-After": str(failure["retry_after"])} if failure.get(
                "retry_after") is not None else None
            return PlainTextResponse("Injected failure", failure["status"], headers=headers)
        if path.startswith("/api/") and request.headers.get(
                "authorization") != f"Bearer {state.token}":
            return PlainTextResponse("Unauthorized", 401)
        return await call_next(request)

    return Starlette(routes=_routes(state),
                     middleware=[Middleware(BaseHTTPMiddleware, dispatch=guard)])


def _take_failure(state: AbsFakeState, path: str) -> dict[str, Any] | None:
    for failure in state.failures:
        if failure["count"] > 0 and path.startswith(failure["path"]):
            failure["count"] -= 1
            return failure
    return None


def _routes(state: AbsFakeState) -> list[Route]:
    def library_or_404(request: Request) -> Response | None:
        if request.path_params["library_id"] != state.library_id:
            return PlainTextResponse("Not Found", 404)
        return None

    def admin_only() -> Response | None:
        return None if state.admin else PlainTextResponse("Forbidden", 403)

    async def root(request: Request) -> Response:
        return PlainTextResponse("audiobookshelf fake")

    async def status(request: Request) -> Response:
        return JSONResponse({"app": "audiobookshelf", "serverVersion": SERVER_VERSION,
                             "isInit": True, "language": "en-us", "authMethods": ["local"]})

    async def libraries(request: Request) -> Response:
        return JSONResponse({"libraries": [state.library_json()]})

    async def scan(request: Request) -> Response:
        refused = library_or_404(request) or admin_only()
        if refused:
            return refused
        with state.lock:
            state.scans.append({"library_id": state.library_id,
                                "force": request.query_params.get("force") == "1"})
            state.scan_folder()
        return PlainTextResponse("OK")

    async def scan_item(request: Request) -> Response:
        item_id = request.path_params["item_id"]
        if item_id not in state.items:
            return PlainTextResponse("Not Found", 404)
        refused = admin_only()
        if refused:
            return refused
        with state.lock:
            state.item_scans.append(item_id)
        return JSONResponse({"result": "UPTODATE"})

    async def watcher(request: Request) -> Response:
        refused = admin_only()
        if refused:
            return refused
        body = await request.json()
        if not body.get("libraryId") or not body.get("path") or not body.get("type"):
            return PlainTextResponse("Bad Request", 400)
        if body["type"] == "rename" and not body.get("oldPath"):
            return PlainTextResponse("Bad Request", 400)
        with state.lock:
            state.watcher_updates.append(body)
            if (body["type"] == "add" and body["libraryId"] == state.library_id
                    and not state.watcher_disabled):
                state.scan_folder()
        return PlainTextResponse("OK")

    async def items(request: Request) -> Response:
        refused = library_or_404(request)
        if refused:
            return refused
        limit = int(request.query_params.get("limit") or 0)
        page = int(request.query_params.get("page") or 0)
        everything = [minified(item) for item in state.items.values()]
        chosen = everything[page * limit:(page + 1) * limit] if limit else everything
        return JSONResponse({"results": chosen, "total": len(everything), "limit": limit,
                             "page": page, "sortDesc": False, "mediaType": "book",
                             "minified": True, "collapseseries": False, "include": ""})

    async def get_item(request: Request) -> Response:
        item = state.items.get(request.path_params["item_id"])
        if item is None:
            return PlainTextResponse("Not Found", 404)
        return JSONResponse(expanded(item) if request.query_params.get("expanded") == "1"
                            else item)

    async def search(request: Request) -> Response:
        refused = library_or_404(request)
        if refused:
            return refused
        query = (request.query_params.get("q") or "").casefold()
        found = [{"libraryItem": expanded(item), "matchKey": "title",
                  "matchText": item["media"]["metadata"]["title"]}
                 for item in state.items.values()
                 if query and query in (item["media"]["metadata"]["title"] or "").casefold()]
        return JSONResponse({"book": found, "podcast": [], "narrators": [], "tags": [],
                             "genres": [], "series": [], "authors": []})

    async def series(request: Request) -> Response:
        refused = library_or_404(request)
        if refused:
            return refused
        names = sorted({s["name"] for i in state.items.values()
                        for s in i["media"]["metadata"]["series"]})
        results = [{"id": f"ser_{n}", "name": n} for n in names]
        return JSONResponse({"results": results, "total": len(results), "page": 0})

    async def authors(request: Request) -> Response:
        refused = library_or_404(request)
        if refused:
            return refused
        names = sorted({a["name"] for i in state.items.values()
                        for a in i["media"]["metadata"]["authors"]})
        return JSONResponse({"authors": [{"id": f"aut_{n}", "name": n} for n in names]})

    async def patch_media(request: Request) -> Response:
        item = state.items.get(request.path_params["item_id"])
        if item is None:
            return PlainTextResponse("Not Found", 404)
        body = await request.json()
        with state.lock:
            state.patches.append((item["id"], body))
            meta = item["media"]["metadata"]
            changes = stored_patch(meta, body.get("metadata") or {})
            meta.update(changes)
        return JSONResponse({"updated": bool(changes), "libraryItem": item})

    lib = "/api/libraries/{library_id}"
    return [
        Route("/", root), Route("/status", status), Route("/api/libraries", libraries),
        Route(f"{lib}/scan", scan, methods=["POST"]),
        Route("/api/items/{item_id}/scan", scan_item, methods=["POST"]),
        Route("/api/items/{item_id}", get_item),
        Route("/api/watcher/update", watcher, methods=["POST"]),
        Route(f"{lib}/items", items), Route(f"{lib}/search", search),
        Route(f"{lib}/series", series), Route(f"{lib}/authors", authors),
        Route("/api/items/{item_id}/media", patch_media, methods=["PATCH"]),
    ]


@dataclass
class AbsFakeHandle:
    base_url: str
    state: AbsFakeState

    @property
    def token(self) -> str:
        return self.state.token

    @property
    def library_id(self) -> str:
        return self.state.library_id

    @property
    def folder(self) -> Path:
        return Path(self.state.folder)

    @property
    def scans(self) -> list[dict[str, Any]]:
        return self.state.scans

    @property
    def item_scans(self) -> list[str]:
        return self.state.item_scans

    @property
    def watcher_updates(self) -> list[dict[str, Any]]:
        return self.state.watcher_updates

    @property
    def patches(self) -> list[tuple[str, dict[str, Any]]]:
        return self.state.patches

    @property
    def requests(self) -> list[tuple[str, str]]:
        return self.state.requests

    def items(self) -> list[dict[str, Any]]:
        return list(self.state.items.values())

    def add_item(self, relpath: str, **meta: Any) -> str:
        with self.state.lock:
            return self.state.add_item(relpath, {**abs_read_folder(relpath), **meta})

    def fail(self, status: int, count: int = 1, *, path: str = "",
             retry_after: float | None = None) -> None:
        """The next `count` requests whose path starts with `path` answer `status`."""
        with self.state.lock:
            self.state.failures.append({"status": status, "count": count, "path": path,
                                        "retry_after": retry_after})

    def set_admin(self, admin: bool) -> None:
        self.state.admin = admin

    def disable_watcher(self, disabled: bool = True) -> None:
        """Turn the library's folder watcher off: watcher updates are answered 200 and
        ignored, as a real ABS does (it only logs an error)."""
        self.state.watcher_disabled = disabled

    def see_folder_as(self, path: str) -> None:
        """Report the library folder and its items under `path`, as an ABS in a container
        does, while still scanning the real `folder`."""
        self.state.seen_as = path


@pytest.fixture(scope="session")
def _abs_fake_server() -> Iterator[tuple[BackgroundServer, AbsFakeState]]:
    state = AbsFakeState()
    server = BackgroundServer(create_abs_app(state))
    server.start()
    yield server, state
    server.stop()


@pytest.fixture
def abs_fake(_abs_fake_server, tmp_path) -> AbsFakeHandle:
    """The fake, reset for this test, its library folder a fresh empty directory."""
    server, state = _abs_fake_server
    folder = tmp_path / "abs-library"
    folder.mkdir()
    with state.lock:
        fresh = AbsFakeState(folder=str(folder), lock=state.lock)
        for name in ("items", "scans", "item_scans", "watcher_updates", "patches",
                     "requests", "failures"):
            setattr(state, name, getattr(fresh, name))
        state.folder, state.admin, state.token = fresh.folder, True, ABS_TOKEN
        state.watcher_disabled = False
        state.seen_as = ""
        state.library_id = LIBRARY_ID
    return AbsFakeHandle(server.base_url, state)
