"""The dashboard's pages (R21), served by the same app as the API, and its sign-in."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from mamcrawler import __version__
from mamcrawler.api.deps import MAX_ID, DbSession
from mamcrawler.logs import redact

from . import auth, views
from .formatting import FILTERS

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters.update(FILTERS)
STATIC_PATH = "/assets"

# (path, label, template): the main menu, in order.
PAGES = [("/", "Overview", "overview.html"), ("/queue", "Queue", "queue.html"),
         ("/library", "Library", "library.html"), ("/history", "History", "history.html"),
         ("/jobs", "Jobs", "jobs.html"), ("/settings", "Settings", "settings.html")]

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[auth.WebSession, Depends(auth.require_login)]


def render(request: Request, template: str, session: auth.WebSession | None,
           status: int = 200, **context) -> HTMLResponse:
    rt = request.app.state.runtime
    page = {"request": request, "pages": PAGES, "path": request.url.path,
            "csrf": auth.csrf_token(request, session) if session else "",
            "signed_in": bool(session and session.signed_in), "demo": rt.settings.is_demo,
            "version": __version__, "message": request.query_params.get("msg", "")[:300],
            "now": datetime.now(UTC)}
    response = templates.TemplateResponse(request, template, page | context,
                                          status_code=status)
    response.headers["Cache-Control"] = "no-store"
    auth.remember(request, response)
    return response


def back(path: str, message: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?msg={quote(message)}", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str = Query("/", max_length=500)):
    session = auth.ensure(request)
    if session.signed_in:
        return RedirectResponse(auth.safe_next(next), status_code=303)
    return render(request, "login.html", session, next=auth.safe_next(next), error=None)


@router.post("/login")
def login(request: Request, api_key: Annotated[str, Form(max_length=500)] = "",
          csrf: Annotated[str, Form(max_length=200)] = "",
          next: Annotated[str, Form(max_length=500)] = "/"):
    session = auth.current(request)
    if session is None:
        raise auth.CsrfRejected("your browser did not keep the sign-in cookie; reload the page")
    auth.check_form(request, session, csrf)
    if not auth.key_matches(request, api_key.strip()):
        return render(request, "login.html", session, status=401, next=auth.safe_next(next),
                      error="That is not the API key. It is API_KEY in your settings, or "
                            "the file DATA_DIR/api_key.")
    response = RedirectResponse(auth.safe_next(next), status_code=303)
    auth.remember(request, response, auth.new_session(True))  # a fresh id: no fixation
    return response


@router.post("/logout")
def logout(request: Request, session: SignedIn,
           csrf: Annotated[str, Form(max_length=200)] = ""):
    auth.check_form(request, session, csrf)
    response = RedirectResponse("/login", status_code=303)
    auth.forget(response)
    return response


@router.get("/")
def overview(request: Request, session: SignedIn, db: DbSession):
    return render(request, "overview.html", session, **views.overview(request, db))


@router.get("/queue")
def queue(request: Request, session: SignedIn, db: DbSession):
    return render(request, "queue.html", session, **views.queue(request, db))


@router.get("/library")
def library(request: Request, session: SignedIn, db: DbSession,
            book: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None):
    return render(request, "library.html", session, **views.library_page(request, db, book))


@router.get("/history")
def history(request: Request, session: SignedIn, db: DbSession):
    return render(request, "history.html", session, **views.history(request, db))


@router.get("/jobs")
def jobs(request: Request, session: SignedIn, db: DbSession):
    return render(request, "jobs.html", session, **views.jobs(request, db))


@router.get("/settings")
def settings(request: Request, session: SignedIn, db: DbSession):
    return render(request, "settings.html", session, checks=None,
                  **views.settings(request, db))


@router.post("/settings/check")
def connection_checks(request: Request, session: SignedIn, db: DbSession,
                      csrf: Annotated[str, Form(max_length=200)] = ""):
    from mamcrawler.services.connections import check_all

    auth.check_form(request, session, csrf)
    rt = request.app.state.runtime
    secrets = rt.settings.secret_values() + [rt.api_key]
    checks = [(c.name, c.ok, c.todo, redact(c.detail, secrets))
              for c in check_all(rt.settings, rt.sessions)]
    return render(request, "settings.html", session, checks=checks,
                  **views.settings(request, db))


def install(app: FastAPI) -> None:
    """Add the pages, their assets and their error pages to `app`."""
    from . import actions

    app.mount(STATIC_PATH, StaticFiles(directory=HERE / "static"), name="assets")
    app.include_router(router)
    app.include_router(actions.router)

    @app.exception_handler(auth.LoginRequired)
    async def _login(request: Request, exc: auth.LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)

    @app.exception_handler(auth.CsrfRejected)
    async def _csrf(request: Request, exc: auth.CsrfRejected) -> Response:
        return render(request, "error.html", auth.current(request), status=403,
                      title="Form refused", detail=str(exc))
