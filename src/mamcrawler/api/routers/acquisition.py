"""Wanted books and downloads, plus the recent-failures summary.

Downloads are read-only resources: the jobs move them, and a person cancels or retries
one through the commands below, which go through the downloads service.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from mamcrawler.services import downloads as download_commands
from mamcrawler.services import wanted as wanted_service
from mamcrawler.store.models import Download, WantedBook

from .. import schemas
from ..crud import Id, crud_router
from ..deps import DbSession, PageParams, runtime
from ..envelope import ApiError, Envelope, NotFound, Page, ok
from .library import _view_page


class FailedDownload(BaseModel):
    download_id: int
    title: str
    author: str | None
    release_title: str | None
    state: str
    error: str | None
    retries: int
    next_retry_at: datetime | None
    failed_at: datetime


summaries = APIRouter(tags=["summaries"])


@summaries.get("/api/downloads/failed", response_model=Envelope[Page[FailedDownload]],
               summary="Recent failed or abandoned downloads, newest first")
def recent_failed(session: DbSession, page: PageParams):
    total, rows = _view_page(session, "recent_failed_downloads", "failed_at DESC", page)
    return ok(Page(items=rows, total=total, limit=page.limit, offset=page.offset))


def _wanted_filters(status: schemas.WantedStatus | None = None,
                    source: schemas.WantedSource | None = None) -> list:
    where = []
    if status:
        where.append(WantedBook.status == status)
    if source:  # "series" also finds "series:<name>"
        where.append((WantedBook.source == source) | WantedBook.source.like(f"{source}:%"))
    return where


def _apply_wanted(session, entry, body):
    for field, value in body.model_dump(exclude_unset=True).items():
        setattr(entry, field, value)
    wanted_service.rekey(entry)


def _download_filters(state: schemas.DownloadState | None = None) -> list:
    return [Download.state == state] if state else []


wanted = crud_router(prefix="/api/wanted", noun="wanted book", model=WantedBook,
                     create=schemas.WantedIn, patch=schemas.WantedPatch, out=schemas.WantedOut,
                     order_by=[WantedBook.priority.desc(), WantedBook.id],
                     filters=_wanted_filters, apply=_apply_wanted,
                     build=lambda session, body: wanted_service.add_wanted(
                         session, body.model_dump()))


def download_out(download: Download) -> schemas.DownloadOut:
    """A download with the facts of its release (size, format, bitrate, freeleech kind)."""
    facts = schemas.ReleaseFactsOut(**download_commands.release_facts(download))
    return schemas.DownloadOut.model_validate(download).model_copy(update={"release": facts})


downloads = crud_router(prefix="/api/downloads", noun="download", model=Download,
                        out=schemas.DownloadOut, order_by=[Download.id.desc()],
                        filters=_download_filters, to_out=download_out, read_only=True)


class DownloadCommandOut(BaseModel):
    download: schemas.DownloadOut
    wanted_id: int | None
    wanted_status: str | None
    message: str


@downloads.post("/{item_id}/cancel", response_model=Envelope[DownloadCommandOut],
                summary="Cancel a download that is not imported yet (its torrent keeps "
                        "seeding)")
def cancel_download(item_id: Id, session: DbSession, request: Request,
                    requeue: bool = Query(False, description="true: the book is wanted "
                                          "again and searched at the next acquisition run; "
                                          "false: the wanted book is cancelled (declined)")):
    return _command(session, request, item_id, download_commands.cancel, requeue=requeue)


@downloads.post("/{item_id}/retry", response_model=Envelope[DownloadCommandOut],
                summary="Search the book of a failed or abandoned download again at the "
                        "next acquisition run")
def retry_download(item_id: Id, session: DbSession, request: Request):
    return _command(session, request, item_id, download_commands.retry)


def _command(session, request: Request, download_id: int, command, **options):
    try:
        result = command(runtime(request).sessions, download_id, now=datetime.now(UTC),
                         **options)
    except download_commands.DownloadNotFound:
        raise NotFound(f"download {download_id}") from None
    except download_commands.DownloadCommandRefused as exc:
        raise ApiError(409, str(exc)) from None
    download = session.get(Download, download_id)  # first read here: after the commit
    return ok(DownloadCommandOut(download=download_out(download),
                                 wanted_id=result.wanted_id, wanted_status=result.wanted_status,
                                 message=result.message))
