"""Request and response bodies. Inputs forbid unknown fields, NUL bytes and NaN."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# No NUL characters: PostgreSQL refuses them in text columns.
Str = Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00]*$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=300,
                                        pattern=r"^[^\x00]*[^\x00\s][^\x00]*$")]
LongText = Annotated[str, StringConstraints(max_length=20000, pattern=r"^[^\x00]*$")]
Code = Annotated[str, StringConstraints(max_length=20, pattern=r"^[^\x00]*$")]
Count = Annotated[int, Field(ge=0, le=2**31 - 1)]
Seconds = Annotated[float, Field(ge=0, le=10**7)]


class In(BaseModel):
    """Request bodies. In patch bodies a field typed without `| None` may be left out
    (unchanged) but not set to null, because its column cannot be empty."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class AuthorIn(In):
    name: Name
    sort_name: Name | None = None
    followed: bool = False
    asin: Code | None = None


class AuthorPatch(In):
    name: Name = None  # type: ignore[assignment]
    sort_name: Name | None = None
    followed: bool = None  # type: ignore[assignment]
    asin: Code | None = None


class AuthorOut(Out):
    id: int
    name: str
    sort_name: str | None
    followed: bool
    asin: str | None
    follow_set_by: str | None
    completion_checked_at: datetime | None
    completion_note: str | None
    created_at: datetime
    updated_at: datetime


class SeriesIn(In):
    name: Name
    followed: bool = False
    known_total: Count | None = None


class SeriesPatch(In):
    name: Name = None  # type: ignore[assignment]
    followed: bool = None  # type: ignore[assignment]
    known_total: Count | None = None


class SeriesOut(Out):
    id: int
    name: str
    followed: bool
    known_total: int | None
    follow_set_by: str | None
    completion_checked_at: datetime | None
    completion_note: str | None
    created_at: datetime
    updated_at: datetime


class SeriesPosition(In):
    name: Name
    position: Code | None = None


class BookFields(In):
    subtitle: Str | None = None
    asin: Code | None = None
    isbn: Code | None = None
    language: Code | None = None
    year: Annotated[int, Field(ge=0, le=9999)] | None = None
    publisher: Str | None = None
    description: LongText | None = None
    duration_seconds: Seconds | None = None
    abridged: bool | None = None
    format: Code | None = None
    bitrate_kbps: Annotated[int, Field(ge=0, le=100000)] | None = None


class BookIn(BookFields):
    title: Name
    authors: list[Name] = Field(default_factory=list, max_length=50)
    narrators: list[Name] = Field(default_factory=list, max_length=50)
    series: list[SeriesPosition] = Field(default_factory=list, max_length=20)


class BookPatch(BookFields):
    title: Name = None  # type: ignore[assignment]
    authors: list[Name] = Field(None, max_length=50)  # type: ignore[assignment]
    narrators: list[Name] = Field(None, max_length=50)  # type: ignore[assignment]
    series: list[SeriesPosition] = Field(None, max_length=20)  # type: ignore[assignment]


class BookSeriesOut(BaseModel):
    name: str
    position: str | None


class BookOut(Out):
    id: int
    title: str
    subtitle: str | None
    authors: list[str]
    narrators: list[str]
    series: list[BookSeriesOut]
    asin: str | None
    isbn: str | None
    language: str | None
    year: int | None
    publisher: str | None
    description: str | None
    duration_seconds: float | None
    abridged: bool | None
    format: str | None
    bitrate_kbps: int | None
    library_path: str | None
    needs_review: bool
    missing_since: datetime | None  # set while every file of the book is gone
    added_at: datetime
    updated_at: datetime


WantedSource = Literal["manual", "series", "author", "category", "top10", "vip_pending"]
WantedStatus = Literal["wanted", "searching", "queued", "downloading", "done", "abandoned",
                       "cancelled"]


class WantedIn(In):
    title: Name
    author: Name | None = None
    series: Name | None = None
    position: Code | None = None
    narrator: Name | None = None
    asin: Code | None = None
    expected_duration_seconds: Seconds | None = None
    source: WantedSource = "manual"
    priority: Annotated[int, Field(ge=-1000, le=1000)] = 0
    note: LongText | None = None


class WantedPatch(In):
    title: Name = None  # type: ignore[assignment]
    author: Name | None = None
    series: Name | None = None
    position: Code | None = None
    narrator: Name | None = None
    asin: Code | None = None
    expected_duration_seconds: Seconds | None = None
    status: WantedStatus = None  # type: ignore[assignment]
    priority: Annotated[int, Field(ge=-1000, le=1000)] = None  # type: ignore[assignment]
    note: LongText | None = None


class WantedOut(Out):
    id: int
    title: str
    author: str | None
    series: str | None
    position: str | None
    narrator: str | None
    asin: str | None
    expected_duration_seconds: float | None
    source: str
    status: str
    priority: int
    note: str | None
    book_id: int | None
    last_searched_at: datetime | None
    created_at: datetime
    updated_at: datetime


DownloadState = Literal["queued", "grabbing", "downloading", "verifying", "importing",
                        "imported", "failed", "abandoned", "removed", "cancelled"]


Freeleech = Literal["torrent", "site_event", "personal", "vip", "wedge", "none"]


class ReleaseFactsOut(BaseModel):
    """The grabbed release as stored with the download."""

    size_bytes: int | None
    format: str | None
    bitrate_kbps: int | None
    category: str | None
    language: str | None
    # What made it free: a freeleech torrent, a site-wide event, a personal freeleech,
    # VIP, a wedge we spent; none = paid; null = not recorded (older downloads).
    freeleech: Freeleech | None
    cost_reason: str | None  # the reason recorded at the grab, e.g. "freeleech torrent"


class DownloadOut(Out):
    id: int
    wanted_id: int | None
    book_id: int | None
    title: str
    author: str | None
    release_id: str | None
    release_title: str | None
    release_source: str
    info_hash: str | None
    state: str
    reason: str | None
    quality_score: float | None
    score_breakdown: dict | None
    candidates: list | None
    edition: str
    size_bytes: int | None
    integrity_state: str
    integrity_detail: str | None
    retries: int
    next_retry_at: datetime | None
    error: str | None
    completed_at: datetime | None
    imported_at: datetime | None
    created_at: datetime
    updated_at: datetime
    release: ReleaseFactsOut | None = None
