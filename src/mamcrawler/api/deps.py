"""Request dependencies: API key, database session, pagination."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from sqlalchemy.orm import Session

from mamcrawler.runtime import Runtime
from mamcrawler.store.db import session_scope

from .envelope import ApiError

MAX_LIMIT = 500
MAX_ID = 2**31 - 1  # larger ids cannot exist and would overflow SQLite integers


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def require_api_key(
    request: Request,
    x_api_key: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    """Accept the key in X-Api-Key or as `Authorization: Bearer <key>`."""
    given = x_api_key
    if not given and authorization and authorization.lower().startswith("bearer "):
        given = authorization[7:].strip()
    expected = runtime(request).api_key
    if not given or not secrets.compare_digest(given.encode(), expected.encode()):
        raise ApiError(401, "missing or wrong API key: send it as the X-Api-Key header "
                            "or as 'Authorization: Bearer <key>'")


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
