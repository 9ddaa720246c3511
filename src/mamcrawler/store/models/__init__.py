"""All models, imported in one place so Alembic and the app see the whole schema."""

from .account import (
    AccountDecision,
    AccountSnapshot,
    RatioGuardEvent,
    RatioGuardState,
    RulesSnapshot,
)
from .acquisition import (
    CategorySetting,
    Download,
    FailedAttempt,
    TrackedTorrent,
    VipPending,
    WantedBook,
)
from .base import Base, utcnow
from .library import (
    Author,
    Book,
    BookAuthor,
    BookNarrator,
    BookSeries,
    FieldSource,
    LibraryFile,
    MetadataCorrection,
    MissingBook,
    Narrator,
    Series,
)
from .system import AppState, JobLock, JobSetting, RequestLog, SchedulerLease, TaskRun
from .torrents import SeedingAction, TorrentRecoveryAttempt

__all__ = [
    "AccountDecision", "AccountSnapshot", "AppState", "Author", "Base", "Book", "BookAuthor",
    "BookNarrator", "BookSeries", "CategorySetting", "Download", "FailedAttempt", "FieldSource",
    "JobLock", "JobSetting", "LibraryFile", "MetadataCorrection", "MissingBook", "Narrator",
    "RatioGuardEvent", "RatioGuardState", "RequestLog", "RulesSnapshot", "SchedulerLease",
    "SeedingAction",
    "Series", "TaskRun",
    "TorrentRecoveryAttempt", "TrackedTorrent", "VipPending", "WantedBook", "utcnow",
]
