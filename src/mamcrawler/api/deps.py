"""Request dependencies: API key, database session, pagination."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from mamcrawler.runtime import Runtime
from mamcrawler.store.db import session_scope

from .envelope import ApiError

MAX_LIMIT = 500
MAX_ID = 2**31 - 1  # larger ids cannot exist and would overflow SQLite integers


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


KEY_HELP = ("missing or wrong API key: send it as the X-Api-Key header or as "
            "'Authorization: Bearer <key>'")
# Declared so the OpenAPI document names both ways to send the key (Swagger UI's Authorize);
# the key itself is checked by key_accepted, also before the body is read (edges.py).
api_key_header = APIKeyHeader(name="X-Api-Key", scheme_name="ApiKey", auto_error=False,
                              description="the API key: API_KEY, or the one generated into "
                                          "DATA_DIR/api_key")
bearer_token = HTTPBearer(scheme_name="Bearer", auto_error=False,
                          description="the same API key as `Authorization: Bearer <key>`")


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key a request presents: X-Api-Key, else the token of `Authorization: Bearer`."""
    given = headers.get("x-api-key")
    authorization = headers.get("authorization") or ""
    if not given and authorization[:7].lower() == "bearer ":
        given = authorization[7:].strip()
    return given or None


def key_accepted(headers: Mapping[str, str], expected: str) -> bool:
    given = presented_key(headers)
    return given is not None and secrets.compare_digest(given.encode(), expected.encode())


def require_api_key(
    request: Request,
    _key: Annotated[str | None, Security(api_key_header)] = None,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_token)] = None,
) -> None:
    """Accept the key in X-Api-Key or as `Authorization: Bearer <key>`."""
    if not key_accepted(request.headers, runtime(request).api_key):
        raise ApiError(401, KEY_HELP)


def db_session(request: Request) -> Iterator[Session]:
    with session_scope(runtime(request).sessions) as session:
        yield session


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int


def paging(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID, description="items to skip")] = 0,
) -> Paging:
    return Paging(limit, offset)


DbSession = Annotated[Session, Depends(db_session)]
PageParams = Annotated[Paging, Depends(paging)]
