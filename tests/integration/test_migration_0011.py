"""Migration 0011: a book the scan had flagged as gone ("library scan: every file of this
book is gone from …" in review_reason) gets `missing_since`; the reason text goes, another
part's reason stays; a downgrade puts the text back."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from mamcrawler.store import migrate
from mamcrawler.store.db import make_engine

T = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
MARK = "library scan: every file of this book is gone from "
METADATA = "metadata: no source matched well enough to write anything; best x"
BOOKS = [  # id, needs_review, review_reason, library_path
    (1, True, MARK + "/lib/A/Gone", "/lib/A/Gone"),
    (2, True, f"{MARK}/lib/A/Both | {METADATA}", "/lib/A/Both"),
    (3, True, METADATA, "/lib/A/Unsure"),
    (4, False, None, "/lib/A/Fine"),
]


def test_missing_mark_becomes_a_column_and_back(empty_db_url):
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine, "0010")
    with engine.begin() as conn:
        for book_id, flagged, reason, path in BOOKS:
            conn.execute(text(
                "INSERT INTO books (id, title, needs_review, review_reason, library_path, "
                "added_at, created_at, updated_at) VALUES (:id, 'Book', :flagged, :reason, "
                ":path, :t, :t, :t)"),
                {"id": book_id, "flagged": flagged, "reason": reason, "path": path, "t": T})
        conn.execute(text("INSERT INTO library_files (book_id, path, size_bytes, created_at, "
                          "updated_at) VALUES (2, '/lib/A/Both/x.mp3', 10, :t, :t)"), {"t": T})

    migrate.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, needs_review, review_reason, missing_since "
                                 "FROM books ORDER BY id")).all()
        assert [(r[0], bool(r[1]), r[2], r[3] is not None) for r in rows] == [
            (1, False, None, True), (2, True, METADATA, True), (3, True, METADATA, False),
            (4, False, None, False)]
        assert conn.execute(text("SELECT COUNT(*) FROM library_files")).scalar_one() == 1
        assert conn.execute(text("SELECT COUNT(*) FROM books")).scalar_one() == 4

    command.downgrade(migrate.alembic_config(empty_db_url.replace("%", "%%")), "0010")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, needs_review, review_reason FROM books "
                                 "ORDER BY id")).all()
        assert [(r[0], bool(r[1]), r[2]) for r in rows] == [
            (book_id, flagged, reason) for book_id, flagged, reason, _ in BOOKS]
        assert conn.execute(text("SELECT COUNT(*) FROM library_files")).scalar_one() == 1
    engine.dispose()
