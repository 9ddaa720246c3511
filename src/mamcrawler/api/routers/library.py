"""Books, series and authors, plus the completion summaries."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.orm import selectinload

from mamcrawler.services import follows, library
from mamcrawler.store.models import Author, Book, Series

from .. import schemas
from ..crud import crud_router
from ..deps import DbSession, PageParams
from ..envelope import Envelope, Page, ok


class SeriesCompletion(BaseModel):
    series_id: int
    series_name: str
    followed: bool
    books_owned: int
    books_missing: int
    known_total: int | None


class AuthorCompletion(BaseModel):
    author_id: int
    author_name: str
    followed: bool
    books_owned: int
    books_missing: int


summaries = APIRouter(tags=["summaries"])


def _view_page(session, view: str, order: str, page, where: str = "", params=None):
    """A page of a summary view. `view`, `order` and `where` are constants of this package,
    never request input; values travel as bound parameters."""
    params = dict(params or {}, limit=page.limit, offset=page.offset)
    count_sql = f"SELECT COUNT(*) FROM {view} {where}"  # noqa: S608
    page_sql = f"SELECT * FROM {view} {where} ORDER BY {order} LIMIT :limit OFFSET :offset"  # noqa: S608
    total = session.execute(text(count_sql), params).scalar_one()
    rows = session.execute(text(page_sql), params).mappings()
    return total, [dict(r) for r in rows]


@summaries.get("/api/series/completion", response_model=Envelope[Page[SeriesCompletion]],
               summary="Series completion: owned vs missing books")
def series_completion(session: DbSession, page: PageParams,
                      followed_only: bool = Query(False)):
    where = "WHERE followed = :f" if followed_only else ""
    total, rows = _view_page(session, "series_completion", "series_name", page, where,
                             {"f": True})
    return ok(Page(items=rows, total=total, limit=page.limit, offset=page.offset))


@summaries.get("/api/authors/completion", response_model=Envelope[Page[AuthorCompletion]],
               summary="Author completion: owned vs missing books")
def author_completion(session: DbSession, page: PageParams,
                      followed_only: bool = Query(False)):
    where = "WHERE followed = :f" if followed_only else ""
    total, rows = _view_page(session, "author_completion", "author_name", page, where,
                             {"f": True})
    return ok(Page(items=rows, total=total, limit=page.limit, offset=page.offset))


def _build_book(session, body):
    return library.create_book(session, body.model_dump())


def _apply_book(session, book, body):
    library.update_book(session, book, body.model_dump(exclude_unset=True))


def _book_out(book: Book) -> schemas.BookOut:
    return schemas.BookOut.model_validate(library.book_view(book))


def _book_filters(needs_review: bool | None = None, missing: bool | None = None,
                  q: schemas.Str | None = None) -> list:
    where = []
    if needs_review is not None:
        where.append(Book.needs_review == needs_review)
    if missing is not None:
        where.append(Book.missing_since.is_not(None) if missing
                     else Book.missing_since.is_(None))
    if q:
        where.append(Book.title.ilike(f"%{q}%"))
    return where


def _build_followable(model):
    def build(session, body):
        row = model(**body.model_dump())
        if "followed" in body.model_fields_set:
            follows.mark_person_choice(row)
        return row

    return build


def _apply_followable(session, row, body):
    """A `followed` a person sends is theirs: FOLLOW_LIBRARY_BY_DEFAULT never changes it."""
    changes = body.model_dump(exclude_unset=True)
    for field, value in changes.items():
        setattr(row, field, value)
    if "followed" in changes:
        follows.mark_person_choice(row)


def _followed_filter(model):
    def filters(followed: bool | None = None) -> list:
        return [] if followed is None else [model.followed == followed]

    return filters


books = crud_router(prefix="/api/books", noun="book", model=Book, create=schemas.BookIn,
                    patch=schemas.BookPatch, out=schemas.BookOut, order_by=[Book.id],
                    filters=_book_filters, build=_build_book, apply=_apply_book,
                    to_out=_book_out, eager=[selectinload(Book.authors),
                                             selectinload(Book.narrators),
                                             selectinload(Book.series)])
series = crud_router(prefix="/api/series", noun="series", model=Series, create=schemas.SeriesIn,
                     patch=schemas.SeriesPatch, out=schemas.SeriesOut, order_by=[Series.name],
                     filters=_followed_filter(Series), build=_build_followable(Series),
                     apply=_apply_followable)
authors = crud_router(prefix="/api/authors", noun="author", model=Author,
                      create=schemas.AuthorIn, patch=schemas.AuthorPatch,
                      out=schemas.AuthorOut, order_by=[Author.name],
                      filters=_followed_filter(Author), build=_build_followable(Author),
                      apply=_apply_followable)
