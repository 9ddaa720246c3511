"""The tracker simulator as an ASGI app. It is NOT MyAnonamouse and never claims to be:
every response carries ``X-Simulator: MAMcrawler tracker simulator`` and ``/`` shows a
banner saying so.

Endpoints (shapes and quirks as in reference/mam-api.md):

- ``GET /jsonLoad.php[?snatch_summary]`` account stats; buckets nested under
  ``snatch_summary`` by default, at top level with numbers as strings in the "flat" layout.
- ``GET|POST /tor/js/loadSearchJSONbasic.php`` search (bracketed params or JSON body).
- ``GET /tor/download.php?tid=ID[&fl]`` a real .torrent announcing to the configured
  tracker; ``fl`` spends a wedge and makes the torrent personal freeleech.
- ``GET /json/bonusBuy.php[/]?spendtype=VIP&duration=N|max`` and ``spendtype=upload&amount=GB``;
  ``spendtype=personalFL`` answers 410 "Not allowed via API".
- ``GET /json/dynamicSeedbox.php`` session IP update (once an hour).
- ``GET /json/simEvents.php`` the simulator's own machine-readable event status::

      {"simulator": "MAMcrawler tracker simulator", "updated": "YYYY-MM-DD HH:MM:SS",
       "freeleech": {"active": bool, "ends": "YYYY-MM-DD HH:MM:SS"|null, "title": str},
       "bonus": {"active": bool, "ends": ...|null, "percent": int, "title": str},
       "multiplier": {"active": bool, "ends": ...|null, "factor": float, "title": str}}

  Times are UTC; an event whose ``ends`` has passed reports ``active: false``.
- ``/sim/control/*`` the test control API (see control.py).

Session rules: requests without a ``mam_id`` cookie get the HTML login page (200,
text/html); a cookie other than the newest issued one gets 403. Every delivered answer
to a valid request (status below 500, not 403) carries ``Set-Cookie: mam_id=<new>`` and
from then on ONLY the new value is accepted. Answers that are injected failures, dropped
or deliberately delayed do not rotate: their new cookie would never reach the client.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Awaitable, Callable

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mamcrawler.sim.account import StoreRefusal
from mamcrawler.sim.control import control_routes
from mamcrawler.sim.search import SearchError, from_json, from_query, matches, ordered, render
from mamcrawler.sim.simulator import BANNER, Fault, SimConfig, TrackerSimulator

Handler = Callable[[TrackerSimulator, Request], Awaitable[Response]]
EVENTS_PATH = "/json/simEvents.php"
_FAULT_TEXT = {
    403: "Invalid session - IP mismatch (simulated failure)",
    406: "Account blocked or unsatisfied torrent limit reached (simulated failure)",
    429: "Too many requests (simulated failure)",
}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><title>{html.escape(title)} - {BANNER}</title></head>"
        f"<body><p><strong>{BANNER}</strong>: a test double, not MyAnonamouse.</p>"
        f"{body}</body></html>", status_code=status)


def login_page() -> HTMLResponse:
    return _page("Login", "<h1>Not logged in</h1><p>Send a valid mam_id session cookie.</p>")


class _SimulatorHeader:
    """Adds the X-Simulator header to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      (b"x-simulator", BANNER.encode())]
            await send(message)

        await self.app(scope, receive, send_marked if scope["type"] == "http" else send)


class _LostAnswer(Response):
    """Starts a JSON answer, sends part of it, then closes: the client never gets it."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", b"512")]})
        await send({"type": "http.response.body", "body": b'{"success": tr', "more_body": True})
        # Returning without finishing makes the server close the connection mid-body.


def _fault_response(fault: Fault) -> Response:
    if fault.status == "html":
        return login_page()
    status = int(fault.status)
    text = _FAULT_TEXT.get(status, f"Server error {status} (simulated failure)")
    headers = {"Retry-After": fault.retry_after} if status == 429 and fault.retry_after else None
    return PlainTextResponse(text, status_code=status, headers=headers)


def _is_purchase(request: Request) -> bool:
    path = request.url.path.rstrip("/")
    return path == "/json/bonusBuy.php" or (
        path == "/tor/download.php" and "fl" in request.query_params)


def tracker_route(sim: TrackerSimulator, handler: Handler) -> Callable:
    """Wrap `handler` with the session rules, rotation and injected faults."""

    async def endpoint(request: Request) -> Response:
        path = request.url.path.rstrip("/")
        sim.count_request(path)
        fault = sim.take_fault(path)
        if fault is not None:
            return _fault_response(fault)
        cookie = request.cookies.get("mam_id")
        if not cookie:
            return login_page()
        with sim.lock:
            valid = cookie == sim.cookie
        if not valid:
            return PlainTextResponse(
                "Invalid session: this mam_id was replaced by a newer one or has expired "
                "(the simulator accepts only the newest cookie)", status_code=403)
        lose = _is_purchase(request) and sim.take_lost_answer()
        response = await handler(sim, request)
        if lose:
            return _LostAnswer()
        delay = sim.take_delay(path)
        if delay:
            await asyncio.sleep(delay)
            return response
        if response.status_code < 500 and response.status_code != 403:
            response.set_cookie("mam_id", sim.rotate(), path="/", httponly=True, samesite="lax")
        return response

    return endpoint


async def stats(sim: TrackerSimulator, request: Request) -> Response:
    with sim.lock:
        reply = sim.account.stats(sim.now(), layout=sim.layout,
                                  with_buckets="snatch_summary" in request.query_params)
    return JSONResponse(reply)


async def search(sim: TrackerSimulator, request: Request) -> Response:
    try:
        if request.method == "POST":
            query = from_json(await request.json())
        else:
            query = from_query(request.query_params.multi_items())
    except (SearchError, ValueError) as exc:
        return JSONResponse({"error": "Error in search", "message": str(exc)})
    with sim.lock:
        entries = list(sim.catalogue.values())
        personal, malformed, broken = set(sim.personal_fl), sim.malformed, sim.broken_every
    found = ordered([e for e in entries if matches(e, query, personal)], query.sort)
    if not found:
        return JSONResponse({"error": f"Nothing returned, out of {len(entries)}"})
    page = found[query.start : query.start + query.per_page]
    data = []
    for index, entry in enumerate(page):
        item = render(entry, personal=entry.id in personal, malformed=malformed,
                      as_strings=entry.id % 3 == 0, truncate=malformed and index % 4 == 3,
                      dl_link=query.dl_link)
        if broken and index % broken == broken - 1:
            item = {**item, "id": "", "title": None}  # unusable: the client must skip it
        data.append(item)
    return JSONResponse({"perpage": query.per_page, "start": query.start, "total": len(found),
                         "found": len(found), "data": data})


async def download(sim: TrackerSimulator, request: Request) -> Response:
    try:
        tid = int(request.query_params.get("tid", ""))
        sim.entry(tid)
    except (ValueError, KeyError):
        return _page("Not found", "<p>No such torrent.</p>", status=404)
    if "fl" in request.query_params:
        with sim.lock:
            if tid not in sim.personal_fl:
                if sim.account.wedges < 1:
                    return JSONResponse({"success": False,
                                         "error": "You have no freeleech wedges left"})
                sim.account.wedges -= 1
                sim.personal_fl.add(tid)
                sim.record_purchase("wedge", tid)
    body, _ = await run_in_threadpool(sim.torrent, tid)
    return Response(body, media_type="application/x-bittorrent",
                    headers={"Content-Disposition": f'attachment; filename="{tid}.torrent"'})


async def bonus_buy(sim: TrackerSimulator, request: Request) -> Response:
    params = request.query_params
    spendtype = params.get("spendtype", "")
    if spendtype == "personalFL":
        return JSONResponse({"success": False, "error": "Not allowed via API"}, status_code=410)
    with sim.lock:
        now = sim.now()
        try:
            if spendtype == "VIP":
                reply = sim.account.buy_vip(params.get("duration", ""), now)
            elif spendtype == "upload":
                reply = sim.account.buy_upload(params.get("amount", ""), now)
            else:
                raise StoreRefusal(f"Unknown or unavailable spendtype {spendtype!r}")
        except StoreRefusal as refusal:
            return JSONResponse({"success": False, "error": str(refusal)})
        sim.record_purchase(spendtype, reply["amount"])
    return JSONResponse(reply)


async def seedbox(sim: TrackerSimulator, request: Request) -> Response:
    ip = request.client.host if request.client else "127.0.0.1"
    with sim.lock:
        state, now = sim.seedbox, sim.now()
        if not state["allowed"]:
            return JSONResponse({"Success": False, "msg": "Invalid session - IP mismatch"},
                                status_code=403)
        reply = {"Success": True, "msg": "No change", "ip": ip, "ASN": 64512,
                 "AS": "Simulated Loopback Networks"}
        if state["ip"] != ip:
            changed = state["changed_at"]
            if changed is not None and (now - changed).total_seconds() < 3600:
                return JSONResponse({"Success": False, "msg": "Last change too recent"},
                                    status_code=429)
            state.update(ip=ip, changed_at=now)
            reply["msg"] = "Completed"
    return JSONResponse(reply)


async def events(sim: TrackerSimulator, request: Request) -> Response:
    if not sim.events.endpoint_enabled:
        return _page("Not found", "<p>No such page.</p>", status=404)
    return JSONResponse(sim.events_reply())


async def banner(request: Request) -> Response:
    return _page("Home", (
        f"<h1>{BANNER}</h1><p>This server imitates the JSON endpoints of a private audiobook "
        "tracker so MAMcrawler can be tested and demonstrated without touching the real "
        "site. Nothing here is real: accounts, torrents and people are invented.</p>"))


def create_tracker_app(config: SimConfig) -> Starlette:
    """The simulator app; its TrackerSimulator is at ``app.state.simulator``."""
    sim = TrackerSimulator(config)
    tracker_paths: list[tuple[str, Handler, list[str]]] = [
        ("/jsonLoad.php", stats, ["GET"]),
        ("/tor/js/loadSearchJSONbasic.php", search, ["GET", "POST"]),
        ("/tor/download.php", download, ["GET"]),
        ("/json/bonusBuy.php", bonus_buy, ["GET"]),
        ("/json/bonusBuy.php/", bonus_buy, ["GET"]),
        ("/json/dynamicSeedbox.php", seedbox, ["GET"]),
        (EVENTS_PATH, events, ["GET"]),
    ]
    routes = [Route("/", banner)]
    routes += [Route(path, tracker_route(sim, handler), methods=methods)
               for path, handler, methods in tracker_paths]
    routes += control_routes(sim)
    app = Starlette(routes=routes, middleware=[Middleware(_SimulatorHeader)])
    app.state.simulator = sim
    return app


def run_tracker(host: str, port: int, mam_id: str,
                announce_url: str = "http://127.0.0.1:6969/announce", *, seed: int = 1,
                points_per_hour: float = 0.0, log_level: str = "info") -> None:
    """Serve the simulator with uvicorn until interrupted (blocks)."""
    app = create_tracker_app(SimConfig(mam_id=mam_id, announce_url=announce_url, seed=seed,
                                       points_per_hour=points_per_hour))
    print(f"{BANNER} (not MyAnonamouse) on http://{host}:{port}/")  # noqa: T201
    uvicorn.run(app, host=host, port=port, log_level=log_level)
