"""Summary views: series completion, author completion, recent failed downloads (R1)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Plain SQL that both SQLite and PostgreSQL accept. "Missing" counts only open gaps.
SERIES_COMPLETION = """
CREATE VIEW series_completion AS
SELECT s.id AS series_id,
       s.name AS series_name,
       s.followed AS followed,
       (SELECT COUNT(*) FROM book_series bs WHERE bs.series_id = s.id) AS books_owned,
       (SELECT COUNT(*) FROM missing_books m
         WHERE m.series_id = s.id AND m.status = 'missing') AS books_missing,
       s.known_total AS known_total
FROM series s
"""

AUTHOR_COMPLETION = """
CREATE VIEW author_completion AS
SELECT a.id AS author_id,
       a.name AS author_name,
       a.followed AS followed,
       (SELECT COUNT(*) FROM book_authors ba WHERE ba.author_id = a.id) AS books_owned,
       (SELECT COUNT(*) FROM missing_books m
         WHERE m.author_id = a.id AND m.status = 'missing') AS books_missing
FROM authors a
"""

RECENT_FAILED_DOWNLOADS = """
CREATE VIEW recent_failed_downloads AS
SELECT d.id AS download_id,
       d.title AS title,
       d.author AS author,
       d.release_title AS release_title,
       d.state AS state,
       d.error AS error,
       d.retries AS retries,
       d.next_retry_at AS next_retry_at,
       d.updated_at AS failed_at
FROM downloads d
WHERE d.state IN ('failed', 'abandoned')
"""


def upgrade() -> None:
    op.execute(SERIES_COMPLETION)
    op.execute(AUTHOR_COMPLETION)
    op.execute(RECENT_FAILED_DOWNLOADS)


def downgrade() -> None:
    for view in ("recent_failed_downloads", "author_completion", "series_completion"):
        op.execute(f"DROP VIEW IF EXISTS {view}")
