"""The one response envelope and the one place where errors become envelopes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from mamcrawler.jobs.registry import UnknownJob

T = TypeVar("T")
log = logging.getLogger("mamcrawler.api")


class Envelope(BaseModel, Generic[T]):
    success: bool = True
    data: T | None = None
    error: str | None = None
    timestamp: datetime = Field(default_factory=lambda: datetime.now(UTC))


class ErrorEnvelope(BaseModel):
    """Every error answer, validation errors (422) included; documented as such."""

    success: Literal[False] = False
    data: None = None
    error: str = Field(description="what went wrong and, where it helps, what to do")
    timestamp: datetime


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class ApiError(Exception):
    """An error a route raises on purpose; becomes an envelope with this status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class NotFound(ApiError):
    def __init__(self, what: str) -> None:
        super().__init__(404, f"{what} not found")


def ok(data: Any = None) -> Envelope:
    return Envelope(data=data)


def error_response(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    body = Envelope(success=False, data=None, error=message)
    return JSONResponse(jsonable_encoder(body), status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            return f"malformed JSON body: {err.get('ctx', {}).get('error', 'cannot be parsed')}"
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {err.get('msg')}")
    return "invalid request: " + "; ".join(parts)


def _no_route(path: str) -> str:
    # No redirect to the path without the slash: its Location would be built from the
    # client's Host header.
    bare = path.rstrip("/")
    hint = f"; without the trailing slash: {bare}" if bare and bare != path else ""
    return f"no such endpoint: {path}{hint} (the API is described at /docs)"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":  # the router's: no such route
            message = _no_route(request.url.path)
        return error_response(exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, _validation_message(exc))

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message)

    @app.exception_handler(UnknownJob)
    async def _unknown_job(_: Request, exc: UnknownJob) -> JSONResponse:
        return error_response(404, str(exc))

    @app.exception_handler(IntegrityError)
    async def _conflict(_: Request, exc: IntegrityError) -> JSONResponse:
        return error_response(409, "conflicts with an existing record (a unique value is taken)")

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal error; the details are in the service log")
