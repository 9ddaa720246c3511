"""Metadata (R15, R20): per-field sources and protection, corrections, review, refresh."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from mamcrawler.services import metadata_fields, metadata_jobs
from mamcrawler.services.metadata_gather import BookNotFound

from ..crud import Id
from ..deps import DbSession, PageParams, runtime
from ..envelope import ApiError, Envelope, NotFound, Page, ok
from ..schemas import In

router = APIRouter(prefix="/api/metadata", tags=["metadata"])
FieldName = Annotated[str, Path(max_length=50, pattern=r"^[a-z_]+$",
                                description="one of " + ", ".join(metadata_fields.FIELDS))]


class FieldOut(BaseModel):
    field: str
    value: Any
    source: str | None
    protected: bool
    confidence: float | None
    evidence: str | None
    updated_at: datetime | None


class BookMetadataOut(BaseModel):
    book_id: int
    title: str
    needs_review: bool
    review_reason: str | None
    missing_since: datetime | None  # every file gone from its folder since then
    fields: list[FieldOut]


class FieldIn(In):
    value: Any = None
    protect: bool = True


class CorrectionOut(BaseModel):
    id: int
    field: str
    old_value: str | None
    new_value: str | None
    source: str
    at: datetime


class ReviewOut(BaseModel):
    book_id: int
    title: str
    authors: list[str]
    library_path: str | None
    review_reason: str | None
    missing_since: datetime | None


class ChangeOut(BaseModel):
    field: str
    old: str | None
    new: str | None
    source: str
    reason: str


class RefreshOut(BaseModel):
    book_id: int
    changes: list[ChangeOut]
    flagged: bool
    review_reason: str | None
    source_errors: dict[str, str]
    matches: list[str]
    notes: list[str]
    narrator: dict[str, Any] | None
    abs_pushed: bool


def _guard(call, *args, **kwargs):
    """Service errors as API errors: unknown book 404, unknown field or bad value 422."""
    try:
        return call(*args, **kwargs)
    except BookNotFound as exc:
        raise NotFound(f"book {exc.book_id}") from None
    except (metadata_fields.UnknownField, metadata_fields.BadFieldValue) as exc:
        raise ApiError(422, str(exc)) from None


@router.get("/books/{book_id}", response_model=Envelope[BookMetadataOut],
            summary="A book's metadata fields with source, protection, confidence, evidence")
def book_metadata(book_id: Id, session: DbSession):
    return ok(_guard(metadata_fields.field_view, session, book_id))


@router.put("/books/{book_id}/fields/{field}", response_model=Envelope[FieldOut],
            summary="Set a field by hand (protected unless protect is false)")
def set_field(book_id: Id, field: FieldName, body: FieldIn, session: DbSession):
    return ok(_guard(metadata_fields.set_field, session, book_id, field, body.value,
                     protect=body.protect))


@router.delete("/books/{book_id}/fields/{field}/protection", response_model=Envelope[FieldOut],
               summary="Unprotect a field: enrichment and drift may change it again")
def unprotect(book_id: Id, field: FieldName, session: DbSession):
    return ok(_guard(metadata_fields.unprotect, session, book_id, field))


@router.get("/books/{book_id}/corrections", response_model=Envelope[Page[CorrectionOut]],
            summary="A book's metadata corrections, newest first")
def corrections(book_id: Id, session: DbSession, page: PageParams):
    total, items = _guard(metadata_fields.corrections, session, book_id, page.limit,
                          page.offset)
    return ok(Page(items=items, total=total, limit=page.limit, offset=page.offset))


@router.get("/review", response_model=Envelope[Page[ReviewOut]],
            summary="Books flagged for review, with the reasons")
def review(session: DbSession, page: PageParams):
    total, items = metadata_fields.review_list(session, page.limit, page.offset)
    return ok(Page(items=items, total=total, limit=page.limit, offset=page.offset))


@router.post("/books/{book_id}/refresh", response_model=Envelope[RefreshOut],
             summary="Look the book up in the metadata sources now and merge (R15)")
def refresh(book_id: Id, request: Request,
            listen: bool | None = Query(None, description="true: run narrator detection; "
                                        "false: never; empty: when never done")):
    ctx = runtime(request).scheduler.ctx
    outcome = _guard(metadata_jobs.refresh_book, ctx, book_id, listen=listen)
    return ok(RefreshOut(**vars(outcome)))
