"""The dashboard's forms: each checks the CSRF token, calls the service the API route calls,
and sends the browser back to the page with what happened."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse

from mamcrawler.api.deps import MAX_ID, DbSession
from mamcrawler.domain.states import WantedStatus
from mamcrawler.jobs.registry import UnknownJob
from mamcrawler.services import downloads as download_commands
from mamcrawler.services import metadata_fields
from mamcrawler.services import wanted as wanted_service
from mamcrawler.services.metadata_gather import BookNotFound
from mamcrawler.store.models import WantedBook

from . import auth
from .pages import SignedIn, back

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Form(max_length=200)]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
JobName = Annotated[str, Path(max_length=50, pattern=r"^[a-z_]+$")]
Text = Annotated[str, Form(max_length=500)]


@router.post("/queue/wanted")
def add_wanted(request: Request, session: SignedIn, db: DbSession, title: Text,
               csrf: Token = "", author: Text = ""):
    auth.check_form(request, session, csrf)
    if not title.strip():
        return back("/queue", "A title is needed to add a wanted book.")
    entry, created = wanted_service.add_wanted(db, {"title": title.strip(),
                                                    "author": author.strip() or None})
    db.commit()
    verb = "added to" if created else "already on"
    return back("/queue", f"“{entry.title}” {verb} the wanted list.")


@router.post("/queue/wanted/{item_id}/decline")
def decline_wanted(request: Request, session: SignedIn, db: DbSession, item_id: ItemId,
                   csrf: Token = ""):
    auth.check_form(request, session, csrf)
    entry = db.get(WantedBook, item_id)
    if entry is None:
        return back("/queue", f"Wanted book {item_id} does not exist.")
    entry.status, entry.note = WantedStatus.CANCELLED, "declined on the dashboard"
    db.commit()
    return back("/queue", f"“{entry.title}” removed (declined): no job wants it again.")


@router.post("/queue/downloads/{item_id}/{command}")
def download_command(request: Request, session: SignedIn, item_id: ItemId,
                     command: Annotated[str, Path(pattern=r"^(retry|cancel)$")],
                     csrf: Token = ""):
    auth.check_form(request, session, csrf)
    rt = request.app.state.runtime
    options = {"requeue": False} if command == "cancel" else {}
    call = download_commands.cancel if command == "cancel" else download_commands.retry
    try:
        result = call(rt.sessions, item_id, now=datetime.now(UTC), **options)
    except download_commands.DownloadNotFound:
        return back("/queue", f"Download {item_id} does not exist.")
    except download_commands.DownloadCommandRefused as exc:
        return back("/queue", str(exc))
    return back("/queue", result.message)


@router.post("/library/books/{item_id}/fields")
def set_field(request: Request, session: SignedIn, db: DbSession, item_id: ItemId,
              field: Annotated[str, Form(max_length=50)], value: Annotated[str, Form(
                  max_length=20000)] = "", csrf: Token = "", protect: Token = ""):
    auth.check_form(request, session, csrf)
    path = f"/library?book={item_id}"
    try:
        metadata_fields.set_field(db, item_id, field, _form_value(field, value),
                                  protect=bool(protect))
        db.commit()
    except BookNotFound:
        return back("/library", f"Book {item_id} does not exist.")
    except (metadata_fields.UnknownField, metadata_fields.BadFieldValue) as exc:
        return back_to(path, str(exc))
    state = "set and protected" if protect else "set"
    return back_to(path, f"{field} {state}.")


def _form_value(field: str, value: str):
    """A form sends text; people fields take a comma-separated list."""
    value = value.strip()
    if field in ("authors", "narrators"):
        return [v.strip() for v in value.split(",") if v.strip()]
    if field == "abridged":
        return value.lower() in ("1", "true", "yes", "on")
    return value or None


def back_to(path_with_query: str, message: str) -> RedirectResponse:
    return RedirectResponse(f"{path_with_query}&msg={quote(message)}", status_code=303)


@router.post("/jobs/{name}/{command}")
def job_command(request: Request, session: SignedIn, name: JobName,
                command: Annotated[str, Path(pattern=r"^(run|pause|resume)$")],
                csrf: Token = ""):
    auth.check_form(request, session, csrf)
    scheduler = request.app.state.runtime.scheduler
    try:
        if command == "run":
            scheduler.trigger(name, trigger="dashboard")
        else:
            scheduler.set_paused(name, command == "pause")
    except UnknownJob as exc:
        return back("/jobs", str(exc))
    said = {"run": "started", "pause": "paused", "resume": "resumed"}[command]
    return back("/jobs", f"{name} {said}.")


@router.post("/autonomous")
def autonomous(request: Request, session: SignedIn,
               on: Annotated[str, Form(pattern=r"^(true|false)$")], csrf: Token = ""):
    auth.check_form(request, session, csrf)
    request.app.state.runtime.scheduler.set_all_paused(on != "true")
    return back("/jobs", "Every job resumed." if on == "true" else "Every job paused.")
