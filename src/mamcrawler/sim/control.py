"""The simulator's control API for tests and the demo (never part of the real site).

All endpoints take and return JSON; bad input answers 400 ``{"error": ...}``.

- ``GET  /sim/control/state`` everything: cookie, account, events, purchases, requests.
- ``POST /sim/control/reset`` back to the seeded state (first cookie valid again).
- ``POST /sim/control/account`` any of ``ratio`` (number or null for ∞),
  ``uploaded_bytes``, ``downloaded_bytes``, ``points``, ``points_per_hour``, ``class_name``
  (class without purchased VIP), ``vip_until`` ("YYYY-MM-DD HH:MM:SS"/ISO UTC or null),
  ``vip_days`` (VIP ends that many days from now), ``wedges``, ``unsat_count``,
  ``unsat_limit`` (null = by class), ``counts`` ({bucket: n}), ``red`` ({bucket: bool}),
  ``username``, ``connectable``; and the bonus store: ``vip_price`` (points a week),
  ``upload_price`` (points a GB), ``store_max_vip_days`` (the store's VIP limit),
  ``vip_lag_s`` (seconds before a VIP purchase shows in the stats' ``vip_until``; null =
  never; the points are taken at once).
- ``POST /sim/control/session`` ``{"mam_id": str|null}`` a new session (random if null);
  answers ``{"mam_id": value}``.
- ``POST /sim/control/events`` ``{"freeleech"|"bonus"|"multiplier": {"active", "ends",
  "hours", "title", "percent"|"factor"}, "endpoint": bool}``; ``hours`` sets ``ends``.
- ``POST /sim/control/layout`` ``{"layout": "nested"|"flat"}`` account-stats layout.
- ``POST /sim/control/fail`` ``{"status": 403|406|429|500|502|503|"html", "count": N,
  "retry_after": seconds|null, "path": "/jsonLoad.php"}`` fail the next N tracker requests
  (whose path starts with ``path``) without touching state.
- ``POST /sim/control/delay`` ``{"seconds": S, "count": N, "path": prefix}`` answer the
  next N matching requests S seconds late (after applying them).
- ``POST /sim/control/lose-purchase-answer`` ``{"count": N}`` the next N purchases
  (bonus store, wedge downloads) are applied, then the connection drops mid-answer.
- ``POST /sim/control/malformed`` ``{"enabled": bool, "broken_every": N}`` raw quotes and
  truncated JSON-in-string fields; every Nth result of a page unusable (no id/title).
- ``POST /sim/control/catalogue`` add an entry: ``title``, ``authors``, ``narrators``,
  ``series`` ([[name, position]]), ``category``, ``language``, ``filetype``, ``free``,
  ``vip``, ``seeders``, ``leechers``, ``times_completed``, ``tags``, ``description``, and
  optionally ``directory`` (real files on the simulator's machine); answers
  ``{"id": N, "info_hash": hex}``.
- ``GET  /sim/control/catalogue/{id}`` an entry's facts, files and info hash.
- ``POST /sim/control/content/{id}`` ``{"directory": path}`` write the torrent's files
  there for a seeding client; answers ``{"root": path}``.
- ``POST /sim/control/seedbox`` ``{"allowed": bool, "reset": bool, "ip": str,
  "changed_minutes_ago": N}`` session permission and the IP it was last moved to.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mamcrawler.sim.catalogue import new_entry
from mamcrawler.sim.simulator import Fault, TrackerSimulator

TIB = 1024**4
Action = Callable[[TrackerSimulator, dict], object]


class ControlError(ValueError):
    """Bad control input."""


def _time(value: object) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ControlError(f"unreadable time {value!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def set_account(sim: TrackerSimulator, body: dict) -> object:
    account, now = sim.account, sim.now()
    simple = {"uploaded_bytes": "uploaded", "downloaded_bytes": "downloaded",
              "wedges": "wedges", "username": "username", "connectable": "connectable",
              "unsat_limit": "unsat_limit", "class_name": "base_class",
              "points_per_hour": "points_per_hour"}
    for key, attr in simple.items():
        if key in body:
            setattr(account, attr, body[key])
    if "ratio" in body:
        if body["ratio"] is None:
            account.downloaded = 0
        else:
            account.downloaded = account.downloaded or TIB
            account.uploaded = round(float(body["ratio"]) * account.downloaded)
    if "points" in body:
        account.set_points(float(body["points"]), now)
    if "vip_until" in body:
        account.set_vip_until(_time(body["vip_until"]))
    if "vip_days" in body:
        account.set_vip_until(now + timedelta(days=float(body["vip_days"])))
    for key, attr in (("vip_price", "vip_price"), ("upload_price", "upload_price")):
        if key in body:
            if not float(body[key]) > 0:
                raise ControlError(f"{key} must be above 0")
            setattr(account, attr, float(body[key]))
    if "store_max_vip_days" in body:
        account.store_max_vip = timedelta(days=float(body["store_max_vip_days"]))
    if "vip_lag_s" in body:
        lag = body["vip_lag_s"]
        account.vip_lag = None if lag is None else timedelta(seconds=float(lag))
    if "unsat_count" in body:
        account.counts["unsat"] = int(body["unsat_count"])
    account.counts.update({k: int(v) for k, v in (body.get("counts") or {}).items()})
    account.red.update({k: bool(v) for k, v in (body.get("red") or {}).items()})
    return account.stats(now, layout="nested", with_buckets=True)


def set_events(sim: TrackerSimulator, body: dict) -> object:
    for kind in ("freeleech", "bonus", "multiplier"):
        change = body.get(kind)
        if not isinstance(change, dict):
            continue
        event = getattr(sim.events, kind)
        for key in ("active", "title", "percent", "factor"):
            if key in change:
                event[key] = change[key]
        if "ends" in change:
            event["ends"] = _time(change["ends"])
        if "hours" in change:
            event["ends"] = sim.now() + timedelta(hours=float(change["hours"]))
    if "endpoint" in body:
        sim.events.endpoint_enabled = bool(body["endpoint"])
    return sim.events_reply()


def set_layout(sim: TrackerSimulator, body: dict) -> object:
    if body.get("layout") not in ("nested", "flat"):
        raise ControlError("layout must be 'nested' or 'flat'")
    sim.layout = body["layout"]
    return {"layout": sim.layout}


def add_fault(sim: TrackerSimulator, body: dict) -> object:
    status = body.get("status")
    if status != "html" and not (isinstance(status, int) and 400 <= status <= 599):
        raise ControlError("status must be an HTTP error status or 'html'")
    retry = body.get("retry_after")
    sim.faults.append(Fault(status=status, count=int(body.get("count", 1)),
                            retry_after=None if retry is None else str(retry),
                            path=str(body.get("path", ""))))
    return {"pending_faults": len(sim.faults)}


def add_delay(sim: TrackerSimulator, body: dict) -> object:
    sim.delays.append({"seconds": float(body["seconds"]), "count": int(body.get("count", 1)),
                       "path": str(body.get("path", ""))})
    return {"pending_delays": len(sim.delays)}


def lose_purchase_answer(sim: TrackerSimulator, body: dict) -> object:
    sim.lose_purchase_answers += int(body.get("count", 1))
    return {"lose_purchase_answers": sim.lose_purchase_answers}


def set_malformed(sim: TrackerSimulator, body: dict) -> object:
    sim.malformed = bool(body.get("enabled", True))
    sim.broken_every = int(body.get("broken_every", 0))
    return {"malformed": sim.malformed, "broken_every": sim.broken_every}


def add_catalogue_entry(sim: TrackerSimulator, body: dict) -> object:
    if not body.get("title"):
        raise ControlError("title is required")
    facts = {k: body[k] for k in ("free", "vip", "seeders", "leechers", "times_completed",
                                  "tags", "description", "category", "language") if k in body}
    series = tuple((str(s[0]), None if len(s) < 2 else str(s[1]))
                   for s in body.get("series", []))
    if body.get("directory"):
        tid = sim.add_torrent_from_directory(
            body["directory"], title=body["title"], authors=tuple(body.get("authors", ())),
            narrators=tuple(body.get("narrators", ())), series=series,
            filetype=body.get("filetype"), **facts)
    else:
        entry = new_entry(
            sim.next_id(), sim.config.seed, title=body["title"],
            added=sim.now().replace(microsecond=0),
            authors=tuple(body.get("authors") or ("Unknown Author",)),
            narrators=tuple(body.get("narrators", ())), series=series,
            filetype=body.get("filetype", "m4b"), **facts)
        tid = sim.add_entry(entry)
    return {"id": tid, "info_hash": sim.info_hash(tid)}


def set_seedbox(sim: TrackerSimulator, body: dict) -> object:
    if body.get("reset"):
        sim.seedbox.update(ip=None, changed_at=None)
    if "allowed" in body:
        sim.seedbox["allowed"] = bool(body["allowed"])
    if "ip" in body:  # pretend the session was last moved to this IP
        minutes = float(body.get("changed_minutes_ago", 0))
        sim.seedbox.update(ip=body["ip"], changed_at=sim.now() - timedelta(minutes=minutes))
    return {"allowed": sim.seedbox["allowed"], "ip": sim.seedbox["ip"]}


def describe_entry(sim: TrackerSimulator, torrent_id: int) -> dict:
    entry = sim.entry(torrent_id)
    return {
        "id": entry.id, "title": entry.title, "authors": list(entry.authors),
        "narrators": list(entry.narrators), "series": [list(s) for s in entry.series],
        "category": entry.category, "filetype": entry.filetype, "size": entry.size,
        "free": entry.free, "vip": entry.vip, "name": entry.content.name,
        "files": entry.content.relative_paths(), "info_hash": sim.info_hash(torrent_id),
    }


def _post(sim: TrackerSimulator, action: Action) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            body = await request.json() if await request.body() else {}
            if not isinstance(body, dict):
                raise ControlError("the body must be a JSON object")
            with sim.lock:
                result = action(sim, body)
        except (ControlError, ValueError, TypeError, KeyError, OSError) as exc:
            return JSONResponse({"error": f"{type(exc).__name__}: {exc}"}, status_code=400)
        return JSONResponse(result)

    return endpoint


def control_routes(sim: TrackerSimulator) -> list[Route]:
    """The /sim/control/* routes bound to `sim`."""

    async def state(request: Request) -> Response:
        return JSONResponse(sim.snapshot())

    async def entry(request: Request) -> Response:
        try:
            return JSONResponse(describe_entry(sim, int(request.path_params["tid"])))
        except (KeyError, ValueError):
            return JSONResponse({"error": "no such torrent"}, status_code=404)

    def reset(s: TrackerSimulator, body: dict) -> object:
        s.reset()
        return {"mam_id": s.cookie}

    def session(s: TrackerSimulator, body: dict) -> object:
        return {"mam_id": s.set_session(body.get("mam_id"))}

    async def content(request: Request) -> Response:
        body = await request.json()
        try:
            root = sim.write_content(int(request.path_params["tid"]), body["directory"])
        except (KeyError, ValueError, OSError) as exc:
            return JSONResponse({"error": f"{type(exc).__name__}: {exc}"}, status_code=400)
        return JSONResponse({"root": str(root)})

    posts: dict[str, Action] = {
        "reset": reset, "account": set_account, "session": session, "events": set_events,
        "layout": set_layout, "fail": add_fault, "delay": add_delay,
        "lose-purchase-answer": lose_purchase_answer, "malformed": set_malformed,
        "catalogue": add_catalogue_entry, "seedbox": set_seedbox,
    }
    routes = [Route("/sim/control/state", state, methods=["GET"]),
              Route("/sim/control/catalogue/{tid}", entry, methods=["GET"]),
              Route("/sim/control/content/{tid}", content, methods=["POST"])]
    routes += [Route(f"/sim/control/{name}", _post(sim, action), methods=["POST"])
               for name, action in posts.items()]
    return routes
