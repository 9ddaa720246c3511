"""Completion and discovery: who set a follow, when a subject was last checked, and one
missing-book row per book linked to its wanted entry (R18, R19)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from mamcrawler.domain.text import book_key

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SUBJECT_COLUMNS = (
    ("follow_set_by", sa.String(length=10)),
    ("completion_checked_at", sa.DateTime(timezone=True)),
    ("completion_note", sa.Text()),
)
# The summary views of 0003 read these tables; SQLite cannot rebuild a table a view reads,
# so they are dropped first and made again, unchanged, afterwards.
VIEWS = {
    "series_completion": """
CREATE VIEW series_completion AS
SELECT s.id AS series_id,
       s.name AS series_name,
       s.followed AS followed,
       (SELECT COUNT(*) FROM book_series bs WHERE bs.series_id = s.id) AS books_owned,
       (SELECT COUNT(*) FROM missing_books m
         WHERE m.series_id = s.id AND m.status = 'missing') AS books_missing,
       s.known_total AS known_total
FROM series s
""",
    "author_completion": """
CREATE VIEW author_completion AS
SELECT a.id AS author_id,
       a.name AS author_name,
       a.followed AS followed,
       (SELECT COUNT(*) FROM book_authors ba WHERE ba.author_id = a.id) AS books_owned,
       (SELECT COUNT(*) FROM missing_books m
         WHERE m.author_id = a.id AND m.status = 'missing') AS books_missing
FROM authors a
""",
}
missing_books = sa.table(
    "missing_books", sa.column("id", sa.Integer), sa.column("title", sa.String),
    sa.column("author_name", sa.String), sa.column("gap_key", sa.String))


def upgrade() -> None:
    _drop_views()
    for table in ("series", "authors"):
        with op.batch_alter_table(table) as batch:
            for name, kind in SUBJECT_COLUMNS:
                batch.add_column(sa.Column(name, kind, nullable=True))
    with op.batch_alter_table("missing_books") as batch:
        batch.add_column(sa.Column("gap_key", sa.String(length=700), nullable=True))
        batch.add_column(sa.Column("wanted_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("category_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("release_ids", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(op.f("fk_missing_books_wanted_id_wanted_books"),
                                 "wanted_books", ["wanted_id"], ["id"], ondelete="SET NULL")
        batch.create_index(batch.f("ix_missing_books_wanted_id"), ["wanted_id"], unique=False)
    _key_existing_rows()
    for table in ("series", "authors"):
        # Until now only a person could set `followed`: keep it theirs.
        op.execute(f"UPDATE {table} SET follow_set_by = 'person' WHERE followed")  # noqa: S608
    with op.batch_alter_table("missing_books") as batch:
        batch.create_unique_constraint(op.f("uq_missing_books_gap_key"), ["gap_key"])
    _create_views()


def _drop_views() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")


def _create_views() -> None:
    for sql in VIEWS.values():
        op.execute(sql)


def _key_existing_rows() -> None:
    """Give recorded gaps their key; a second row of the same book keeps none (the unique
    key allows several empty ones) so no row is lost."""
    conn = op.get_bind()
    rows = conn.execute(sa.select(missing_books.c.id, missing_books.c.title,
                                  missing_books.c.author_name).order_by(missing_books.c.id))
    taken: set[str] = set()
    for row_id, title, author in rows.all():
        key = book_key(title, author)
        if key in taken:
            continue
        taken.add(key)
        conn.execute(missing_books.update().where(missing_books.c.id == row_id)
                     .values(gap_key=key))


def downgrade() -> None:
    _drop_views()
    with op.batch_alter_table("missing_books") as batch:
        batch.drop_constraint(op.f("uq_missing_books_gap_key"), type_="unique")
        batch.drop_index(batch.f("ix_missing_books_wanted_id"))
        batch.drop_constraint(op.f("fk_missing_books_wanted_id_wanted_books"),
                              type_="foreignkey")
        for name in ("seen_at", "release_ids", "category_id", "reason", "wanted_id", "gap_key"):
            batch.drop_column(name)
    for table in ("series", "authors"):
        with op.batch_alter_table(table) as batch:
            for name, _ in reversed(SUBJECT_COLUMNS):
                batch.drop_column(name)
    _create_views()
