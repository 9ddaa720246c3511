"""Completion and discovery: missing books (gaps and finds), declining or wanting one,
following series, authors and tracker categories."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import func, select

from mamcrawler.domain.bibliography import SubjectKind
from mamcrawler.services import completion_commands as commands
from mamcrawler.services import follows
from mamcrawler.store.models import CategorySetting, MissingBook

from .. import schemas
from ..crud import Id
from ..deps import MAX_ID, DbSession, PageParams
from ..envelope import ApiError, Envelope, NotFound, Page, ok

router = APIRouter(tags=["completion"])
MissingStatus = Literal["missing", "declined", "filled"]
FoundIn = Literal["series", "author", "category", "top10"]


class MissingOut(schemas.Out):
    id: int
    title: str
    author_name: str | None
    series_id: int | None
    author_id: int | None
    position: str | None
    asin: str | None
    found_in: str
    found_via: str
    status: str
    reason: str | None
    wanted_id: int | None
    category_id: int | None
    release_ids: list | None
    seen_at: datetime | None
    created_at: datetime
    updated_at: datetime


class MissingCommandOut(BaseModel):
    missing: MissingOut
    wanted_id: int | None
    wanted_status: str | None
    message: str


class FollowIn(schemas.In):
    kind: Literal["series", "author"]
    name: schemas.Name
    followed: bool = True


class FollowOut(BaseModel):
    kind: str
    id: int
    name: str
    followed: bool
    created: bool


class CategoryOut(schemas.Out):
    category_id: int
    name: str
    main_category: int
    followed: bool
    updated_at: datetime


class CategoryPatch(schemas.In):
    followed: bool


@router.get("/api/completion/missing", response_model=Envelope[Page[MissingOut]],
            summary="Missing books: gaps of followed series and authors, and discovery finds")
def list_missing(session: DbSession, page: PageParams, status: MissingStatus | None = None,
                 found_in: FoundIn | None = None,
                 series_id: int | None = Query(None, ge=1, le=MAX_ID),
                 author_id: int | None = Query(None, ge=1, le=MAX_ID)):
    where = [column == value for column, value in (
        (MissingBook.status, status), (MissingBook.found_in, found_in),
        (MissingBook.series_id, series_id), (MissingBook.author_id, author_id))
        if value is not None]
    total = session.scalar(select(func.count()).select_from(MissingBook).where(*where))
    rows = session.scalars(select(MissingBook).where(*where)
                           .order_by(MissingBook.series_id, MissingBook.position,
                                     MissingBook.id).limit(page.limit).offset(page.offset))
    return ok(Page(items=[MissingOut.model_validate(r) for r in rows], total=total or 0,
                   limit=page.limit, offset=page.offset))


@router.post("/api/completion/missing/{item_id}/decline",
             response_model=Envelope[MissingCommandOut],
             summary="Decline a missing book: its wanted entry is cancelled and no job wants "
                     "it again")
def decline_missing(item_id: Id, session: DbSession):
    return _command(session, item_id, commands.decline)


@router.post("/api/completion/missing/{item_id}/want",
             response_model=Envelope[MissingCommandOut],
             summary="Want a missing book (also one declined before)")
def want_missing(item_id: Id, session: DbSession):
    return _command(session, item_id, commands.want)


def _command(session, item_id: int, command):
    try:
        result = command(session, item_id)
    except commands.MissingNotFound:
        raise NotFound(f"missing book {item_id}") from None
    except commands.MissingCommandRefused as exc:
        raise ApiError(409, str(exc)) from None
    session.commit()
    row = session.get(MissingBook, item_id)
    return ok(MissingCommandOut(missing=MissingOut.model_validate(row),
                                wanted_id=result.wanted_id, wanted_status=result.wanted_status,
                                message=result.message))


@router.post("/api/completion/follow", response_model=Envelope[FollowOut],
             summary="Follow (or stop following) a series or author by name; an unknown "
                     "name is added so its books are looked for")
def follow(body: FollowIn, session: DbSession):
    try:
        result = follows.set_follow(session, SubjectKind(body.kind), body.followed,
                                    name=body.name)
    except follows.FollowNotFound:
        raise NotFound(f"{body.kind} {body.name!r}") from None
    session.commit()
    return ok(FollowOut(kind=result.kind, id=result.id, name=result.name,
                        followed=result.followed, created=result.created))


@router.get("/api/categories", response_model=Envelope[Page[CategoryOut]],
            summary="Tracker categories and whether each is followed")
def list_categories(session: DbSession, page: PageParams, followed: bool | None = None):
    where = [] if followed is None else [CategorySetting.followed == followed]
    total = session.scalar(select(func.count()).select_from(CategorySetting).where(*where))
    rows = session.scalars(select(CategorySetting).where(*where)
                           .order_by(CategorySetting.category_id)
                           .limit(page.limit).offset(page.offset))
    return ok(Page(items=[CategoryOut.model_validate(r) for r in rows], total=total or 0,
                   limit=page.limit, offset=page.offset))


@router.patch("/api/categories/{item_id}", response_model=Envelope[CategoryOut],
              summary="Follow or ignore one tracker category")
def patch_category(item_id: Id, body: CategoryPatch, session: DbSession):
    try:
        row = follows.set_category_follow(session, item_id, body.followed)
    except follows.FollowNotFound:
        raise NotFound(f"category {item_id}") from None
    session.commit()
    return ok(CategoryOut.model_validate(row))
