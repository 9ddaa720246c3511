"""What is settled before a route runs: the API key, checked before any of the body is read;
the body's size, capped; HEAD, answered as GET without the body.

FastAPI reads and parses a route's body before its dependencies run, so a key check in a
dependency alone let anyone without the key make the service read a body of any size.
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .deps import KEY_HELP, key_accepted
from .envelope import error_response


def needs_key(path: str) -> bool:
    """Every route under /api needs the key (the dependency on those routes checks it again
    and declares it in the OpenAPI document)."""
    return path == "/api" or path.startswith("/api/")


class RequestEdges:
    """ASGI middleware; answers 401 and 413 in the envelope without reading the body."""

    def __init__(self, app: ASGIApp, *, api_key: str, max_body_bytes: int) -> None:
        self.app = app
        self.api_key = api_key
        self.max_body_bytes = max_body_bytes
        self.too_large = (f"request body too large: at most {max_body_bytes} bytes are "
                          "accepted (API_MAX_BODY_BYTES)")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "HEAD":  # as GET, whose headers it answers with, body dropped
            scope = {**scope, "method": "GET"}
            send = _without_body(send)
        headers = Headers(scope=scope)
        if needs_key(scope["path"]) and not key_accepted(headers, self.api_key):
            await error_response(401, KEY_HELP)(scope, receive, send)
            return
        declared = _content_length(headers)
        if declared is not None and declared > self.max_body_bytes:
            await error_response(413, self.too_large)(scope, receive, send)
            return
        await self.app(scope, self._capped(receive), send)

    def _capped(self, receive: Receive) -> Receive:
        """`receive` that stops a body sent without a length (chunked) once it is too long;
        FastAPI turns the HTTPException raised while it reads the body into the 413."""
        received = 0

        async def capped() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise HTTPException(413, self.too_large)
            return message

        return capped


def _content_length(headers: Headers) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None  # the server rejects a malformed length before the app sees it


def _without_body(send: Send) -> Send:
    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_head
