"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("points_before", sa.Float(), nullable=True),
        sa.Column("points_after", sa.Float(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_decisions")),
    )
    with op.batch_alter_table("account_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_decisions_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_account_decisions_kind"), ["kind"], unique=False)

    op.create_table(
        "account_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ratio", sa.Float(), nullable=True),
        sa.Column("uploaded_bytes", sa.BigInteger(), nullable=False),
        sa.Column("downloaded_bytes", sa.BigInteger(), nullable=False),
        sa.Column("bonus_points", sa.Float(), nullable=False),
        sa.Column("class_name", sa.String(length=50), nullable=True),
        sa.Column("vip_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unsatisfied_count", sa.Integer(), nullable=True),
        sa.Column("unsatisfied_limit", sa.Integer(), nullable=True),
        sa.Column("wedges", sa.Integer(), nullable=True),
        sa.Column("upload_rate_bps", sa.Float(), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_snapshots")),
    )
    with op.batch_alter_table("account_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_snapshots_taken_at"), ["taken_at"], unique=False
        )

    op.create_table(
        "app_state",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_app_state")),
    )
    op.create_table(
        "authors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("sort_name", sa.String(length=300), nullable=True),
        sa.Column("followed", sa.Boolean(), nullable=False),
        sa.Column("asin", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authors")),
        sa.UniqueConstraint("name", name=op.f("uq_authors_name")),
    )
    op.create_table(
        "books",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("subtitle", sa.String(length=500), nullable=True),
        sa.Column("asin", sa.String(length=20), nullable=True),
        sa.Column("isbn", sa.String(length=20), nullable=True),
        sa.Column("language", sa.String(length=20), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("publisher", sa.String(length=300), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("abridged", sa.Boolean(), nullable=True),
        sa.Column("format", sa.String(length=20), nullable=True),
        sa.Column("bitrate_kbps", sa.Integer(), nullable=True),
        sa.Column("quality_score", sa.Float(), nullable=True),
        sa.Column("library_path", sa.String(length=1000), nullable=True),
        sa.Column("abs_item_id", sa.String(length=100), nullable=True),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_books")),
    )
    with op.batch_alter_table("books", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_books_added_at"), ["added_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_books_asin"), ["asin"], unique=False)
        batch_op.create_index(batch_op.f("ix_books_isbn"), ["isbn"], unique=False)
        batch_op.create_index(batch_op.f("ix_books_needs_review"), ["needs_review"], unique=False)

    op.create_table(
        "category_settings",
        sa.Column("category_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("main_category", sa.Integer(), nullable=False),
        sa.Column("followed", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("category_id", name=op.f("pk_category_settings")),
    )
    op.create_table(
        "job_locks",
        sa.Column("job_name", sa.String(length=50), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job_name", name=op.f("pk_job_locks")),
    )
    op.create_table(
        "job_settings",
        sa.Column("job_name", sa.String(length=50), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job_name", name=op.f("pk_job_settings")),
    )
    op.create_table(
        "narrators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_narrators")),
        sa.UniqueConstraint("name", name=op.f("uq_narrators_name")),
    )
    op.create_table(
        "ratio_guard_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_state", sa.String(length=10), nullable=False),
        sa.Column("to_state", sa.String(length=10), nullable=False),
        sa.Column("ratio", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratio_guard_events")),
    )
    with op.batch_alter_table("ratio_guard_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ratio_guard_events_at"), ["at"], unique=False)

    op.create_table(
        "ratio_guard_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("frozen", sa.Boolean(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_ratio", sa.Float(), nullable=True),
        sa.Column("saved_preferences", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratio_guard_state")),
    )
    op.create_table(
        "request_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("system", sa.String(length=30), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_logs")),
    )
    with op.batch_alter_table("request_logs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_logs_at"), ["at"], unique=False)

    op.create_table(
        "rules_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("freeleech_active", sa.Boolean(), nullable=False),
        sa.Column("bonus_active", sa.Boolean(), nullable=False),
        sa.Column("multiplier", sa.Float(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rules_snapshots")),
        sa.UniqueConstraint("version", name=op.f("uq_rules_snapshots_version")),
    )
    op.create_table(
        "series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("followed", sa.Boolean(), nullable=False),
        sa.Column("known_total", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series")),
        sa.UniqueConstraint("name", name=op.f("uq_series_name")),
    )
    op.create_table(
        "task_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_name", sa.String(length=50), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_runs")),
    )
    with op.batch_alter_table("task_runs", schema=None) as batch_op:
        batch_op.create_index("ix_task_runs_job_started", ["job_name", "started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_runs_started_at"), ["started_at"], unique=False)

    op.create_table(
        "book_authors",
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["authors.id"],
            name=op.f("fk_book_authors_author_id_authors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["books.id"],
            name=op.f("fk_book_authors_book_id_books"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("book_id", "author_id", name=op.f("pk_book_authors")),
    )
    with op.batch_alter_table("book_authors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_book_authors_author_id"), ["author_id"], unique=False)

    op.create_table(
        "book_narrators",
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("narrator_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["books.id"],
            name=op.f("fk_book_narrators_book_id_books"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["narrator_id"],
            ["narrators.id"],
            name=op.f("fk_book_narrators_narrator_id_narrators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("book_id", "narrator_id", name=op.f("pk_book_narrators")),
    )
    with op.batch_alter_table("book_narrators", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_book_narrators_narrator_id"), ["narrator_id"], unique=False
        )

    op.create_table(
        "book_series",
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.String(length=20), nullable=True),
        sa.Column("position_sort", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["book_id"], ["books.id"], name=op.f("fk_book_series_book_id_books"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.id"],
            name=op.f("fk_book_series_series_id_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("book_id", "series_id", name=op.f("pk_book_series")),
    )
    with op.batch_alter_table("book_series", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_book_series_series_id"), ["series_id"], unique=False)

    op.create_table(
        "field_sources",
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=50), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["books.id"],
            name=op.f("fk_field_sources_book_id_books"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("book_id", "field", name=op.f("pk_field_sources")),
    )
    op.create_table(
        "library_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.String(length=2000), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("mtime", sa.Float(), nullable=True),
        sa.Column("format", sa.String(length=20), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("bitrate_kbps", sa.Integer(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=True),
        sa.Column("unreadable_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["books.id"],
            name=op.f("fk_library_files_book_id_books"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_files")),
        sa.UniqueConstraint("path", name=op.f("uq_library_files_path")),
    )
    with op.batch_alter_table("library_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_library_files_book_id"), ["book_id"], unique=False)

    op.create_table(
        "metadata_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=50), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["books.id"],
            name=op.f("fk_metadata_corrections_book_id_books"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metadata_corrections")),
    )
    with op.batch_alter_table("metadata_corrections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_metadata_corrections_at"), ["at"], unique=False)
        batch_op.create_index("ix_metadata_corrections_book_at", ["book_id", "at"], unique=False)

    op.create_table(
        "missing_books",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("author_name", sa.String(length=300), nullable=True),
        sa.Column("series_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.String(length=20), nullable=True),
        sa.Column("asin", sa.String(length=20), nullable=True),
        sa.Column("found_in", sa.String(length=50), nullable=False),
        sa.Column("found_via", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["authors.id"],
            name=op.f("fk_missing_books_author_id_authors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.id"],
            name=op.f("fk_missing_books_series_id_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_missing_books")),
    )
    with op.batch_alter_table("missing_books", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_missing_books_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_missing_books_series_id"), ["series_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_missing_books_status"), ["status"], unique=False)

    op.create_table(
        "wanted_books",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("author", sa.String(length=300), nullable=True),
        sa.Column("series", sa.String(length=300), nullable=True),
        sa.Column("position", sa.String(length=20), nullable=True),
        sa.Column("narrator", sa.String(length=300), nullable=True),
        sa.Column("asin", sa.String(length=20), nullable=True),
        sa.Column("expected_duration_seconds", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=700), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("last_searched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("book_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["books.id"],
            name=op.f("fk_wanted_books_book_id_books"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wanted_books")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_wanted_books_dedupe_key")),
    )
    with op.batch_alter_table("wanted_books", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wanted_books_status"), ["status"], unique=False)

    op.create_table(
        "downloads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wanted_id", sa.Integer(), nullable=True),
        sa.Column("book_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("author", sa.String(length=300), nullable=True),
        sa.Column("release_id", sa.String(length=50), nullable=True),
        sa.Column("release_title", sa.String(length=500), nullable=True),
        sa.Column("release_source", sa.String(length=20), nullable=False),
        sa.Column("info_hash", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("quality_score", sa.Float(), nullable=True),
        sa.Column("score_breakdown", sa.JSON(), nullable=True),
        sa.Column("candidates", sa.JSON(), nullable=True),
        sa.Column("edition", sa.String(length=10), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("integrity_state", sa.String(length=10), nullable=False),
        sa.Column("integrity_detail", sa.Text(), nullable=True),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("next_retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("save_path", sa.String(length=2000), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replaces_book_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"], ["books.id"], name=op.f("fk_downloads_book_id_books"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["replaces_book_id"],
            ["books.id"],
            name=op.f("fk_downloads_replaces_book_id_books"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["wanted_id"],
            ["wanted_books.id"],
            name=op.f("fk_downloads_wanted_id_wanted_books"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_downloads")),
    )
    with op.batch_alter_table("downloads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_downloads_info_hash"), ["info_hash"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_downloads_next_retry_at"), ["next_retry_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_downloads_state"), ["state"], unique=False)
        batch_op.create_index("ix_downloads_state_retry", ["state", "next_retry_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_downloads_wanted_id"), ["wanted_id"], unique=False)

    op.create_table(
        "vip_pending",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("author", sa.String(length=300), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("wanted_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["wanted_id"],
            ["wanted_books.id"],
            name=op.f("fk_vip_pending_wanted_id_wanted_books"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vip_pending")),
        sa.UniqueConstraint("release_id", name=op.f("uq_vip_pending_release_id")),
    )
    with op.batch_alter_table("vip_pending", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vip_pending_status"), ["status"], unique=False)

    op.create_table(
        "failed_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("download_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("author", sa.String(length=300), nullable=True),
        sa.Column("release_id", sa.String(length=50), nullable=True),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["download_id"],
            ["downloads.id"],
            name=op.f("fk_failed_attempts_download_id_downloads"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_attempts")),
    )
    with op.batch_alter_table("failed_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_failed_attempts_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_failed_attempts_download_id"), ["download_id"], unique=False
        )

    op.create_table(
        "torrents",
        sa.Column("info_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("raw_state", sa.String(length=30), nullable=True),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("uploaded_bytes", sa.BigInteger(), nullable=False),
        sa.Column("downloaded_bytes", sa.BigInteger(), nullable=False),
        sa.Column("seeding_seconds", sa.BigInteger(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recovery_attempts", sa.Integer(), nullable=False),
        sa.Column("last_recovery_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("download_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["download_id"],
            ["downloads.id"],
            name=op.f("fk_torrents_download_id_downloads"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("info_hash", name=op.f("pk_torrents")),
    )
    with op.batch_alter_table("torrents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_torrents_download_id"), ["download_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_torrents_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("torrents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_torrents_state"))
        batch_op.drop_index(batch_op.f("ix_torrents_download_id"))

    op.drop_table("torrents")
    with op.batch_alter_table("failed_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_failed_attempts_download_id"))
        batch_op.drop_index(batch_op.f("ix_failed_attempts_at"))

    op.drop_table("failed_attempts")
    with op.batch_alter_table("vip_pending", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vip_pending_status"))

    op.drop_table("vip_pending")
    with op.batch_alter_table("downloads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_downloads_wanted_id"))
        batch_op.drop_index("ix_downloads_state_retry")
        batch_op.drop_index(batch_op.f("ix_downloads_state"))
        batch_op.drop_index(batch_op.f("ix_downloads_next_retry_at"))
        batch_op.drop_index(batch_op.f("ix_downloads_info_hash"))

    op.drop_table("downloads")
    with op.batch_alter_table("wanted_books", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wanted_books_status"))

    op.drop_table("wanted_books")
    with op.batch_alter_table("missing_books", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_missing_books_status"))
        batch_op.drop_index(batch_op.f("ix_missing_books_series_id"))
        batch_op.drop_index(batch_op.f("ix_missing_books_author_id"))

    op.drop_table("missing_books")
    with op.batch_alter_table("metadata_corrections", schema=None) as batch_op:
        batch_op.drop_index("ix_metadata_corrections_book_at")
        batch_op.drop_index(batch_op.f("ix_metadata_corrections_at"))

    op.drop_table("metadata_corrections")
    with op.batch_alter_table("library_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_files_book_id"))

    op.drop_table("library_files")
    op.drop_table("field_sources")
    with op.batch_alter_table("book_series", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_book_series_series_id"))

    op.drop_table("book_series")
    with op.batch_alter_table("book_narrators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_book_narrators_narrator_id"))

    op.drop_table("book_narrators")
    with op.batch_alter_table("book_authors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_book_authors_author_id"))

    op.drop_table("book_authors")
    with op.batch_alter_table("task_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_runs_started_at"))
        batch_op.drop_index("ix_task_runs_job_started")

    op.drop_table("task_runs")
    op.drop_table("series")
    op.drop_table("rules_snapshots")
    with op.batch_alter_table("request_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_logs_at"))

    op.drop_table("request_logs")
    op.drop_table("ratio_guard_state")
    with op.batch_alter_table("ratio_guard_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ratio_guard_events_at"))

    op.drop_table("ratio_guard_events")
    op.drop_table("narrators")
    op.drop_table("job_settings")
    op.drop_table("job_locks")
    op.drop_table("category_settings")
    with op.batch_alter_table("books", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_books_needs_review"))
        batch_op.drop_index(batch_op.f("ix_books_isbn"))
        batch_op.drop_index(batch_op.f("ix_books_asin"))
        batch_op.drop_index(batch_op.f("ix_books_added_at"))

    op.drop_table("books")
    op.drop_table("authors")
    op.drop_table("app_state")
    with op.batch_alter_table("account_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_snapshots_taken_at"))

    op.drop_table("account_snapshots")
    with op.batch_alter_table("account_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_decisions_kind"))
        batch_op.drop_index(batch_op.f("ix_account_decisions_at"))

    op.drop_table("account_decisions")
