"""Wanted books and downloads, plus the recent-failures summary.

Downloads are read-only resources: the jobs move them through their lifecycle.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from mamcrawler.services import wanted as wanted_service
from mamcrawler.store.models import Download, WantedBook

from .. import schemas
from ..crud import crud_router
from ..deps import DbSession, PageParams
from ..envelope import Envelope, Page, ok
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
    if source:
        where.append(WantedBook.source == source)
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


downloads = crud_router(prefix="/api/downloads", noun="download", model=Download,
                        out=schemas.DownloadOut, order_by=[Download.id.desc()],
                        filters=_download_filters, read_only=True)
