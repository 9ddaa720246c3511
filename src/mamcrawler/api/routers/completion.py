"""Completion and discovery: missing books (gaps and finds), declining or wanting one,
following series and authors (with each follow's policy) and tracker categories, how
complete a series or author is, and the VIP-pending list."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from mamcrawler.domain.bibliography import Scope, SubjectKind
from mamcrawler.services import completion_commands as commands
from mamcrawler.services import follows
from mamcrawler.services.completion_view import completion_view
from mamcrawler.store.models import CategorySetting, MissingBook, VipPending

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
    release_date: date | None
    narrator: str | None
    duration_seconds: float | None
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
    """A follow and its policy; a policy field left out keeps its value (a new follow:
    everything, your language, audiobook and unabridged editions only)."""

    kind: Literal["series", "author"]
    name: schemas.Name
    followed: bool = True
    scope: Literal["all", "new"] | None = None  # "new": an author's books released from now
    language: str | None = Field(None, max_length=30)  # "": back to COMPLETION_LANGUAGE
    audiobook_only: bool | None = None
    unabridged_only: bool | None = None


class FollowOut(BaseModel):
    kind: str
    id: int
    name: str
    followed: bool
    created: bool
    scope: str
    followed_at: datetime | None
    language: str | None
    audiobook_only: bool
    unabridged_only: bool


class EntryOut(BaseModel):
    title: str
    position: str | None
    reason: str | None
    book_id: int | None
    missing_id: int | None
    wanted_id: int | None
    wanted_status: str | None
    release_date: date | None
    asin: str | None


class CompletionOut(BaseModel):
    follow: FollowOut
    follow_set_by: str | None
    checked_at: datetime | None
    note: str | None
    have: list[EntryOut]
    missing: list[EntryOut]
    wanted: list[EntryOut]
    declined: list[EntryOut]


class VipPendingOut(schemas.Out):
    id: int
    release_id: str
    title: str
    author: str | None
    size_bytes: int | None
    status: str
    reason: str | None
    wanted_id: int | None
    created_at: datetime
    updated_at: datetime


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
                           .order_by(MissingBook.series_id,
                                     MissingBook.position_sort.is_(None),
                                     MissingBook.position_sort, MissingBook.id)
                           .limit(page.limit).offset(page.offset))
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
    choice = follows.FollowChoice(Scope(body.scope) if body.scope else None, body.language,
                                  body.audiobook_only, body.unabridged_only)
    try:
        result = follows.set_follow(session, SubjectKind(body.kind), body.followed,
                                    name=body.name, choice=choice)
    except follows.FollowNotFound:
        raise NotFound(f"{body.kind} {body.name!r}") from None
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None
    session.commit()
    return ok(_follow_out(result))


def _follow_out(result: follows.FollowResult) -> FollowOut:
    return FollowOut(**dataclasses.asdict(result))


@router.get("/api/completion/series/{item_id}", response_model=Envelope[CompletionOut],
            summary="How complete a series is: books held, missing, wanted and declined, "
                    "with positions, and its follow policy")
def series_completion(item_id: Id, session: DbSession):
    return _completion(session, SubjectKind.SERIES, item_id)


@router.get("/api/completion/authors/{item_id}", response_model=Envelope[CompletionOut],
            summary="How complete an author is: books held, missing, wanted and declined, "
                    "and the follow policy")
def author_completion(item_id: Id, session: DbSession):
    return _completion(session, SubjectKind.AUTHOR, item_id)


def _completion(session, kind: SubjectKind, item_id: int):
    try:
        view = completion_view(session, kind, item_id)
    except follows.FollowNotFound:
        raise NotFound(f"{kind} {item_id}") from None
    lists = {name: [EntryOut(**dataclasses.asdict(e)) for e in getattr(view, name)]
             for name in ("have", "missing", "wanted", "declined")}
    return ok(CompletionOut(follow=_follow_out(view.follow), follow_set_by=view.follow_set_by,
                            checked_at=view.checked_at, note=view.note, **lists))


@router.get("/api/vip-pending", response_model=Envelope[Page[VipPendingOut]],
            summary="Releases refused only for the ratio, waiting to become free or "
                    "affordable (pending), handed back to acquisition (wanted) or dropped")
def list_vip_pending(session: DbSession, page: PageParams,
                     status: Literal["pending", "wanted", "dropped"] | None = None):
    where = [] if status is None else [VipPending.status == status]
    total = session.scalar(select(func.count()).select_from(VipPending).where(*where))
    rows = session.scalars(select(VipPending).where(*where).order_by(VipPending.id.desc())
                           .limit(page.limit).offset(page.offset))
    return ok(Page(items=[VipPendingOut.model_validate(r) for r in rows], total=total or 0,
                   limit=page.limit, offset=page.offset))


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
