"""Typed settings, read from the environment and the user's ``.env``.

The ``.env`` file is only ever read. Environment variables win over ``.env``; both win over
the defaults below. Names are the plain upper-case field names (``QB_HOST``, ``MAM_ID``...),
the same the user already keeps in their ``.env``.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mamcrawler.domain.metadata_merge import parse_precedence
from mamcrawler.domain.notices import parse_kinds
from mamcrawler.domain.path_map import PathMap, parse_path_map
from mamcrawler.domain.record_match import RecordMatchPolicy, parse_weights
from mamcrawler.logs import mask_url, url_passwords

DEFAULT_ENV_FILE = ".env"

# Default schedules (R2). A schedule is a 5-field crontab ("0 12 * * *") or "every <N>m|h|d".
DEFAULT_SCHEDULES: dict[str, str] = {
    "account_check": "0 12 * * *",
    "torrent_watch": "every 5m",
    "acquisition": "every 15m",
    "download_watch": "every 1m",
    "category_sync": "0 3 * * mon",
    "completion": "0 4 * * sun",
    "metadata_maintenance": "0 5 * * sat",
    "metadata_drift": "0 6 1 * *",
    "retention_cleanup": "30 3 * * *",
    "backup": "15 3 * * *",
}

_EVERY = re.compile(r"^every\s+(\d+)\s*([mhd])$", re.IGNORECASE)


class ConfigError(Exception):
    """A setting is wrong. The message names each variable and how to fix it."""


def parse_schedule(text: str) -> tuple[str, Any]:
    """Parse a schedule string into ("cron", fields) or ("every", seconds).

    Raises ValueError with a message suitable to show the user.
    """
    text = text.strip()
    match = _EVERY.match(text)
    if match:
        amount = int(match.group(1))
        if amount < 1:
            raise ValueError("an interval must be at least 1")
        return "every", amount * {"m": 60, "h": 3600, "d": 86400}[match.group(2).lower()]
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(
            f"{text!r} is neither a 5-field crontab like '0 12 * * *' nor 'every 5m' / 'every 1h'"
        )
    try:
        CronTrigger.from_crontab(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid crontab: {exc}") from None
    return "cron", fields


class Settings(BaseSettings):
    """Every setting of the service. Field name upper-cased = variable name."""

    model_config = SettingsConfigDict(
        env_file=DEFAULT_ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        validate_default=True,
    )

    # The service itself
    host: str = Field("127.0.0.1", description="address to listen on, e.g. 127.0.0.1")
    port: int = Field(8080, ge=1, le=65535, description="port to listen on, 1-65535")
    data_dir: Path = Field(
        Path("./data"), description="folder for the database, generated API key and logs"
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL such as sqlite:///data/mamcrawler.db or "
        "postgresql+psycopg://user@127.0.0.1:5432/mamcrawler; empty = SQLite in DATA_DIR",
    )
    api_key: SecretStr | None = Field(
        None, description="key for the REST API; empty = generated into DATA_DIR/api_key"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="one of DEBUG, INFO, WARNING, ERROR"
    )
    log_format: Literal["text", "json"] = Field("text", description="text or json")
    timezone: str | None = Field(
        None, description="IANA time zone for schedules, e.g. Europe/Berlin; empty = system"
    )
    demo: bool | None = Field(
        None,
        description="true/false; empty = demo mode exactly when MAM_ID is not set",
    )
    shutdown_grace_s: float = Field(
        20, ge=0, le=600, description="seconds a stopping `serve` lets running jobs finish "
        "their current item, 0-600; jobs still running then are recorded interrupted")
    api_max_body_bytes: int = Field(
        1024 * 1024, ge=1024, le=1024**3,
        description="largest request body the API accepts, in bytes, 1024-1073741824; a "
        "larger one is answered 413 without being read")

    # Tracker
    mam_id: SecretStr | None = Field(
        None, description="the mam_id session cookie made on the tracker's Security page"
    )
    mam_url: str = Field(
        "https://www.myanonamouse.net", description="tracker base URL starting with https://"
    )
    mam_min_interval_s: float = Field(
        2.0, ge=0.5, le=3600, description="seconds between tracker requests, at least 0.5"
    )
    mam_username: str | None = Field(None, description="not used; sessions only")
    mam_password: SecretStr | None = Field(None, description="not used; sessions only")

    # VIP keeper (R3)
    vip_renew_threshold_days: float = Field(
        30, ge=1, le=89, description="renew VIP when it ends within this many days (1-89)")
    vip_points_reserve: int = Field(
        1000, ge=0, le=99_999, description="bonus points never spent by the keeper (0-99999)")
    vip_max_days: int = Field(
        90, ge=7, le=90, description="never buy VIP beyond this many days in total (7-90)")
    vip_buy_when_not_vip: bool = Field(
        False, description="true to start VIP for a Power User who has none (default false)")
    vip_price_confirmed_at: datetime | None = Field(
        None,
        description="after a purchase cost other than expected stopped all buying: the UTC "
        "time you checked the bonus store prices on the site, e.g. 2025-06-02T10:00:00Z; "
        "buying resumes for mismatches up to then, at the prices they were charged "
        "(the expected prices from then on); empty = none confirmed")
    points_cap_margin: int = Field(
        25_000, ge=0, le=99_999,
        description="spend points as upload credit once they are this close to the cap; "
        "the room left covers points earned while buying is stopped (a price mismatch "
        "waiting for your confirmation): about 6 days at 4,000 points a day")

    # qBittorrent
    qb_host: str | None = Field(None, description="qBittorrent WebUI host, e.g. 127.0.0.1")
    qb_port: int = Field(8080, ge=1, le=65535, description="qBittorrent WebUI port, 1-65535")
    qb_username: str | None = Field(None, description="qBittorrent WebUI user name")
    qb_password: SecretStr | None = Field(None, description="qBittorrent WebUI password")
    qb_path_map: str = Field(
        "", description="when qBittorrent sees the files under other paths (a container): "
        "remote=local folder pairs separated by ;, e.g. /downloads=/mnt/media/downloads; "
        "empty = the same paths")

    # Audiobookshelf, Prowlarr, metadata sources
    abs_url: str | None = Field(None, description="Audiobookshelf URL, e.g. http://127.0.0.1:13378")
    abs_token: SecretStr | None = Field(None, description="Audiobookshelf API token")
    abs_path_map: str = Field(
        "", description="when Audiobookshelf sees the library under other paths (a "
        "container): remote=local folder pairs separated by ;, e.g. "
        "/audiobooks=/srv/audiobooks; empty = the same paths")
    prowlarr_url: str | None = Field(None, description="Prowlarr URL, e.g. http://127.0.0.1:9696")
    prowlarr_api_key: SecretStr | None = Field(None, description="Prowlarr API key")
    google_books_api_key: SecretStr | None = Field(None, description="Google Books API key")
    hardcover_token: SecretStr | None = Field(None, description="Hardcover API token")

    # Ratio guard, seeding duties, qBittorrent watch (R4, R5)
    qb_category: str = Field(
        "mamcrawler",
        max_length=100,
        description="qBittorrent category the service adds torrents to and watches, e.g. "
        "mamcrawler; empty = watch every torrent in the client",
    )
    ratio_floor: float = Field(
        1.00, gt=0, le=100,
        description="ratio at or below which paid downloads freeze, a number above 0, e.g. 1.00",
    )
    ratio_recovery: float = Field(
        1.05, gt=0, le=100,
        description="ratio above which the guard thaws again; must be above RATIO_FLOOR, "
        "e.g. 1.05",
    )
    guard_upload_slots: int = Field(
        200, ge=1, le=10000,
        description="qBittorrent upload slots (global and per torrent) while the ratio guard "
        "is frozen, 1-10000",
    )
    seed_min_hours: float = Field(
        72, ge=0, le=8760, description="hours each torrent must seed within its window, >= 0"
    )
    seed_window_days: float = Field(
        30, gt=0, le=365, description="days in which the seeding hours must be done, > 0"
    )
    unsat_margin: int = Field(
        10, ge=0, le=1000,
        description="unsatisfied-torrent slots kept free below the tracker's limit, >= 0",
    )
    stalled_recovery_max_attempts: int = Field(
        3, ge=0, le=100,
        description="recovery attempts (reannounce, recheck, force-start) per stalled or "
        "errored torrent, 0-100; 0 = never",
    )

    # Library import and integrity (R11, R12)
    library_dir: Path | None = Field(
        None,
        description="the Audiobookshelf library folder books are filed into, e.g. "
        "/srv/audiobooks; best on the same file system as the downloads so files are "
        "hard-linked, not copied; empty = books are not imported",
    )
    abs_library_id: str | None = Field(
        None,
        description="id of the Audiobookshelf library to scan after an import; empty = the "
        "library whose folder contains LIBRARY_DIR",
    )
    integrity_duration_tolerance_pct: float = Field(
        5, ge=0, le=100,
        description="percent a download's total duration may differ from the book's known "
        "runtime (never less than 5 minutes), 0-100, e.g. 5",
    )
    decode_timeout_s: float = Field(
        1800, ge=10, le=86400,
        description="seconds allowed to decode one audio file fully during the integrity "
        "check, 10-86400, e.g. 1800",
    )

    # Acquisition (R6-R10)
    grab_slots: int = Field(
        3, ge=0, le=100, description="free grabs per acquisition run before event boosts, 0-100")
    paid_grab_slots: int = Field(
        1, ge=0, le=100, description="paid grabs per run (0 while the ratio guard is frozen)")
    acquisition_max_searches: int = Field(
        10, ge=1, le=200, description="wanted books searched per acquisition run, 1-200")
    paid_after_days: float = Field(
        14, ge=0, le=365,
        description="wait this many days after a book is wanted for a free release before "
        "grabbing a paid one (0 = paid at once when the ratio allows)")
    use_wedges: bool = Field(
        False, description="true to spend freeleech wedges you own on large paid releases")
    download_dir: Path | None = Field(
        None, description="folder qBittorrent saves grabs into; on the same file system as "
        "LIBRARY_DIR so books can be hard-linked; empty = qBittorrent's default")

    # Metadata sources (R13, R15)
    audnexus_url: str = Field(
        "https://api.audnex.us", pattern=r"^https?://\S+$",
        description="Audnexus base URL starting with http(s)://, e.g. https://api.audnex.us")
    audible_catalog_url: str = Field(
        "https://api.audible.com", pattern=r"^https?://\S+$",
        description="Audible catalog API used to find ASINs, the host of AUDIBLE_REGION, "
        "e.g. https://api.audible.com (us) or https://api.audible.co.uk (uk)")
    audible_region: Literal["au", "ca", "de", "es", "fr", "in", "it", "jp", "us", "uk"] = Field(
        "us", description="Audible region: one of au ca de es fr in it jp us uk")
    openlibrary_url: str = Field(
        "https://openlibrary.org", pattern=r"^https?://\S+$",
        description="Open Library base URL, e.g. https://openlibrary.org")
    google_books_url: str = Field(
        "https://www.googleapis.com/books/v1", pattern=r"^https?://\S+$",
        description="Google Books API base URL, e.g. https://www.googleapis.com/books/v1")
    hardcover_url: str = Field(
        "https://api.hardcover.app/v1/graphql", pattern=r"^https?://\S+$",
        description="Hardcover GraphQL endpoint, e.g. https://api.hardcover.app/v1/graphql")
    itunes_url: str = Field(
        "https://itunes.apple.com", pattern=r"^https?://\S+$",
        description="iTunes Search base URL, e.g. https://itunes.apple.com")
    metadata_timeout_s: float = Field(
        30, ge=1, le=600,
        description="seconds to wait for the metadata sources of one lookup, 1-600; a "
        "slower source is reported as failed")
    metadata_cache_ttl_s: float = Field(
        86400, ge=0, le=30 * 86400,
        description="seconds a metadata answer is reused, 0-2592000; 0 = no cache")

    # Narrator detection (R16)
    narrator_speech_engine: Literal["pocketsphinx", "whisper", "off"] = Field(
        "pocketsphinx",
        description="speech-to-text for 'narrated by ...' in a book's opening: pocketsphinx "
        "(offline, built in), whisper (needs faster-whisper and WHISPER_MODEL_PATH) or off")
    whisper_model_path: Path | None = Field(
        None, description="local faster-whisper model folder (holding model.bin), used when "
        "NARRATOR_SPEECH_ENGINE=whisper; never downloaded; empty = none")
    narrator_window_s: float = Field(
        120, ge=5, le=1800,
        description="seconds from the start of a book's first audio file to listen to, "
        "5-1800, e.g. 120")

    # Metadata merge (R15, R17)
    metadata_precedence: str = Field(
        "", description="per-field source order replacing the built-in one for the fields "
        "named, e.g. narrators=tags,tracker,audnexus;series_position=audnexus,tracker,folder "
        "(fields: title subtitle authors narrators series series_position year publisher "
        "isbn asin language duration_seconds description abridged); empty = built-in order")
    metadata_match_weights: str = Field(
        "", description="weights of the record match penalties replacing the built-in ones, "
        "e.g. title=4,authors=3,duration=2 (penalties: title authors narrator duration "
        "series_position language abridged); empty = built-in weights")
    maintenance_recent_days: int = Field(
        13, ge=1, le=365, description="metadata_maintenance re-checks books added in the last "
        "this many days, 1-365, e.g. 13")
    metadata_on_import: bool = Field(
        True, description="true to look a newly imported book up in the metadata sources and "
        "detect its narrator right away (R13); false leaves it to metadata_maintenance")

    # Completion and discovery (R7, R18, R19)
    follow_library_by_default: Literal["none", "series", "all"] = Field(
        "all", description="what is followed without being asked: all (every series with a "
        "book in the library, for every missing book, and every author, for their new books), "
        "series (series only) or none; a follow you set yourself always wins")
    completion_language: str = Field(
        "english", max_length=30, description="language of the books completion and "
        "discovery look for, e.g. english (or eng, en); empty = any language; a follow can "
        "name its own")
    allow_omnibus: bool = Field(
        False, description="true to count omnibus editions and box sets: an owned omnibus "
        "then holds the books it contains, and one is wanted when its books are not listed "
        "one by one; false leaves them out and an owned omnibus holds none of its books")
    allow_dramatized: bool = Field(
        False, description="true to let a dramatized (full-cast) edition stand for the "
        "narrated book, as a gap and as a copy in the library; false keeps them apart: "
        "dramatized editions are left out and one in the library does not fill the gap")
    tracker_requests_per_weekly_run: int = Field(
        100, ge=0, le=2000, description="tracker searches one run of completion or "
        "category_sync may send, 0-2000; followed series and authors not reached wait for "
        "the next run, least recently checked first")
    discovery_policy: Literal["followed", "free", "narrator", "all", "record"] = Field(
        "followed", description="which new releases in followed categories become wanted by "
        "themselves, besides those by followed authors or in followed series: followed "
        "(no others), free (those that cost no ratio), narrator (those read by a narrator "
        "you like), all (every one), or record (nothing at all: gaps and finds are only "
        "listed)")
    liked_narrators: str = Field(
        "", max_length=2000, description="narrators you like, comma-separated, for "
        "DISCOVERY_POLICY=narrator, e.g. Tom O'Hanlon, Jim Dale; empty = the narrators of "
        "the books in your library")
    top10_discovery: bool = Field(
        True, description="true to want the ten most snatched new releases of Fantasy (41) "
        "and Science Fiction (47) of each category_sync window")

    # Notifications (R23) and metrics
    notify_urls: SecretStr | None = Field(
        None, description="Apprise URLs to send notifications to, separated by spaces or "
        "commas, e.g. ntfys://ntfy.sh/my-topic or discord://id/token; empty = none")
    notify_off: str = Field(
        "", description="notification kinds switched off, comma-separated, e.g. "
        "download_failed,job_failed_twice (kinds: ratio_emergency ratio_recovered "
        "vip_renewed vip_renewal_failed vip_price_mismatch download_failed "
        "download_abandoned integrity_failed path_missing job_failed_twice "
        "tracker_session_rejected); empty = all on")
    notify_repeat_minutes: int = Field(
        60, ge=0, le=10080, description="minutes before the same notification (kind and "
        "subject) is sent again, 0-10080; 0 = every time")
    metrics_public: bool = Field(
        False, description="true to serve /metrics without the API key (e.g. for a "
        "Prometheus on the same host); default false")

    # Retention (R1)
    retention_days: int = Field(30, ge=1, le=3650, description="days of history to keep, >= 1")

    # Backups (SQLite)
    backup_dir: Path | None = Field(
        None, description="folder for the daily database backups; empty = DATA_DIR/backups")
    backup_keep_days: int = Field(
        7, ge=1, le=3650, description="days daily backups are kept, 1-3650 (the newest one is "
        "always kept)")

    # Schedules (R2)
    schedule_account_check: str = DEFAULT_SCHEDULES["account_check"]
    schedule_torrent_watch: str = DEFAULT_SCHEDULES["torrent_watch"]
    schedule_acquisition: str = DEFAULT_SCHEDULES["acquisition"]
    schedule_download_watch: str = DEFAULT_SCHEDULES["download_watch"]
    schedule_category_sync: str = DEFAULT_SCHEDULES["category_sync"]
    schedule_completion: str = DEFAULT_SCHEDULES["completion"]
    schedule_metadata_maintenance: str = DEFAULT_SCHEDULES["metadata_maintenance"]
    schedule_metadata_drift: str = DEFAULT_SCHEDULES["metadata_drift"]
    schedule_retention_cleanup: str = DEFAULT_SCHEDULES["retention_cleanup"]
    schedule_backup: str = DEFAULT_SCHEDULES["backup"]

    @field_validator("mam_url", "abs_url", "prowlarr_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be a URL starting with http:// or https://")
        return value.rstrip("/")

    @field_validator("vip_price_confirmed_at", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("vip_price_confirmed_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        # A time without a zone is taken as UTC, the zone every stored time is in.
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @field_validator("ratio_recovery")
    @classmethod
    def _recovery_above_floor(cls, value: float, info: ValidationInfo) -> float:
        floor = info.data.get("ratio_floor")
        if floor is not None and value <= floor:
            raise ValueError(
                f"must be above RATIO_FLOOR ({floor:g}), or the ratio guard has no band to "
                "recover in and would flap between frozen and thawed"
            )
        return value

    @field_validator("notify_off")
    @classmethod
    def _notice_kinds(cls, value: str) -> str:
        parse_kinds(value)
        return value.strip()

    @field_validator("qb_path_map", "abs_path_map")
    @classmethod
    def _path_map(cls, value: str) -> str:
        return parse_path_map(value).describe()

    @field_validator("metadata_precedence")
    @classmethod
    def _precedence(cls, value: str) -> str:
        parse_precedence(value)
        return value.strip()

    @field_validator("metadata_match_weights")
    @classmethod
    def _match_weights(cls, value: str) -> str:
        RecordMatchPolicy.from_weights(parse_weights(value))
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}") from exc
        return value or None

    @field_validator(*(f"schedule_{job}" for job in DEFAULT_SCHEDULES), mode="after")
    @classmethod
    def _schedule(cls, value: str) -> str:
        parse_schedule(value)
        return value

    @property
    def is_demo(self) -> bool:
        """Demo mode runs against the built-in tracker simulator with its own database."""
        return self.demo if self.demo is not None else self.mam_id is None

    @property
    def effective_database_url(self) -> str:
        """The database to use. Demo mode never touches the user's real database."""
        if self.is_demo:
            return f"sqlite:///{(self.data_dir / 'demo.db').as_posix()}"
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'mamcrawler.db').as_posix()}"

    @property
    def qb_paths(self) -> PathMap:
        """QB_PATH_MAP: qBittorrent's paths ↔ this machine's."""
        return parse_path_map(self.qb_path_map)

    @property
    def abs_paths(self) -> PathMap:
        """ABS_PATH_MAP: Audiobookshelf's paths ↔ this machine's."""
        return parse_path_map(self.abs_path_map)

    @property
    def effective_backup_dir(self) -> Path:
        return self.backup_dir or self.data_dir / "backups"

    def schedule_for(self, job: str) -> str | None:
        """The configured schedule of `job`, or None when it has no SCHEDULE_ setting."""
        return getattr(self, f"schedule_{job}", None)

    def secret_values(self) -> list[str]:
        """Every secret's plain value, for log redaction; DATABASE_URL's password too."""
        values = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and value.get_secret_value():
                values.append(value.get_secret_value())
        return values + url_passwords(self.database_url)

    def startup_warnings(self) -> list[str]:
        warnings = []
        if self.mam_username or self.mam_password:
            warnings.append(
                "MAM_USERNAME/MAM_PASSWORD are set but not used: MAMcrawler never logs in with a "
                "password. Create a session on the tracker's Security page and set MAM_ID instead."
            )
        if self.is_demo:
            warnings.append(
                "DEMO MODE: no MAM_ID is set, so the service runs against the built-in tracker "
                f"simulator with its own database ({self.effective_database_url})."
            )
        return warnings


@dataclass(frozen=True)
class SettingSource:
    name: str  # the variable name, e.g. QB_PORT
    value: str  # masked for secrets
    source: str  # "default", "env" or ".env"
    secret: bool


def _is_secret(settings: Settings, field: str) -> bool:
    annotation = str(type(settings).model_fields[field].annotation)
    return "SecretStr" in annotation


def prepare_data_dir(settings: Settings) -> Path:
    """Create DATA_DIR for its owner alone (it holds the database with the tracker session
    cookie, and the API key) and prove it writable; ConfigError naming the fix if not."""
    path = settings.data_dir
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(
            "The configuration has errors; the service did not start:\n"
            f"  DATA_DIR={str(path)!r}: cannot be used: {reason}.\n"
            "    Fix: set DATA_DIR (environment or .env) to a folder this user "
            f"({_user()}) can create and write, or give the user write access to it.") from None
    return path


def _user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return "the service's user"


def mask(value: Any) -> str:
    if value is None:
        return ""
    text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    return "********" if text else ""


def describe_sources(settings: Settings, env_file: str | Path | None) -> list[SettingSource]:
    """Each setting's value (secrets masked) and where it came from."""
    file_values = {k.upper(): v for k, v in _read_env_file(env_file).items()}
    environ = {k.upper() for k in os.environ}
    rows = []
    for field in type(settings).model_fields:
        var = field.upper()
        secret = _is_secret(settings, field)
        value = getattr(settings, field)
        shown = mask(value) if secret else ("" if value is None else str(value))
        if field == "database_url" and value:
            shown = mask_url(value)
        source = "env" if var in environ else ".env" if var in file_values else "default"
        rows.append(SettingSource(var, shown, source, secret))
    return rows


def _read_env_file(env_file: str | Path | None) -> dict[str, str | None]:
    if env_file is None or not Path(env_file).is_file():
        return {}
    return dict(dotenv_values(env_file))


def load_settings(env_file: str | Path | None = DEFAULT_ENV_FILE, **overrides: Any) -> Settings:
    """Build the settings or raise ConfigError naming every bad variable and its fix."""
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigError(_explain(exc)) from None


def _explain(exc: ValidationError) -> str:
    lines = ["The configuration has errors; the service did not start:"]
    fields = Settings.model_fields
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "?"
        var = field.upper()
        info = fields.get(field)
        secret = info is not None and "SecretStr" in str(info.annotation)
        shown = "********" if secret else repr(err.get("input"))
        hint = (info.description if info is not None else None) or "see README, Configuration"
        if field.startswith("schedule_"):
            hint = "a 5-field crontab like '0 12 * * *' or an interval like 'every 5m'"
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"  {var}={shown}: {msg}.\n"
                     f"    Fix: set {var} (environment or .env); expected: {hint}.")
    return "\n".join(lines)
