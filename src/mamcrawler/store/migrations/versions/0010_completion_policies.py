"""Completion policies: each follow's scope, date, language and edition switches; missing
books keep a pre-order's release date, the narrator and runtime, and when a job wanted
them; wanted entries name where they were found ("series:<name>") and the priority of a
gap follows its position (R7, R18)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

FOLLOW_COLUMNS = (
    ("follow_scope", sa.String(length=10), None),
    ("followed_at", sa.DateTime(timezone=True), None),
    ("follow_language", sa.String(length=30), None),
    # a plain "1" (true on both databases): an expression would make SQLite rebuild the
    # table, and dropping the old one would fire the ON DELETE actions of its children
    ("audiobook_only", sa.Boolean(), "1"),
    ("unabridged_only", sa.Boolean(), "1"),
)
MISSING_COLUMNS = (
    ("release_date", sa.Date()),
    ("narrator", sa.String(length=300)),
    ("duration_seconds", sa.Float()),
    ("wanted_at", sa.DateTime(timezone=True)),
)
# Gaps were ranked by kind only (-10 series, -20 author, -30 category, -40 top-10); now a
# series or author gap is ranked by its position below its kind's base (-100 - position,
# down to -199). Entries made before keep their order, at the top of their kind.
PRIORITIES = {"series": (-10, -100, -199), "author": (-20, -200, -299),
              "category": (-30, -300, -300), "top10": (-40, -400, -400)}
# The summary views of 0003 read series, authors and missing_books; SQLite cannot rebuild
# a table a view reads, so they are dropped first and made again, unchanged, afterwards.
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


def upgrade() -> None:
    _drop_views()
    for table in ("series", "authors"):
        with op.batch_alter_table(table) as batch:
            for name, kind, default in FOLLOW_COLUMNS:
                batch.add_column(sa.Column(name, kind, nullable=default is None,
                                           server_default=default))
        # A follow made before now counts from now (its date was not kept).
        op.execute(sa.text(f"UPDATE {table} SET followed_at = CURRENT_TIMESTAMP "  # noqa: S608
                           "WHERE followed"))
    # An author the default followed (FOLLOW_LIBRARY_BY_DEFAULT=all) gets new books only.
    op.execute("UPDATE authors SET follow_scope = 'new' "
               "WHERE followed AND follow_set_by = 'default'")
    with op.batch_alter_table("missing_books") as batch:
        for name, kind in MISSING_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    op.execute("UPDATE missing_books SET wanted_at = updated_at WHERE wanted_id IS NOT NULL")
    _source_length(300)
    for source, (old, new, _) in PRIORITIES.items():
        op.execute(sa.text("UPDATE wanted_books SET priority = :new "
                           "WHERE source = :source AND priority = :old")
                   .bindparams(new=new, source=source, old=old))
    _create_views()


def downgrade() -> None:
    _drop_views()
    for source, (old, high, low) in PRIORITIES.items():
        op.execute(sa.text("UPDATE wanted_books SET priority = :old WHERE (source = :source "
                           "OR source LIKE :named) AND priority BETWEEN :low AND :high")
                   .bindparams(old=old, source=source, named=f"{source}:%", low=low,
                               high=high))
    kind = ("substr(source, 1, instr(source, ':') - 1)" if _is_sqlite()
            else "split_part(source, ':', 1)")
    op.execute(f"UPDATE wanted_books SET source = {kind} WHERE source LIKE '%:%'")  # noqa: S608
    _source_length(20)
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch rebuild of series or authors
    # would drop the old table and cascade to the books, gaps and links that point at it.
    for name, _ in reversed(MISSING_COLUMNS):
        op.drop_column("missing_books", name)
    for table in ("series", "authors"):
        for name, _, _ in reversed(FOLLOW_COLUMNS):
            op.drop_column(table, name)
    _create_views()


def _source_length(length: int) -> None:
    """SQLite does not enforce lengths, and rebuilding wanted_books there would fire the
    foreign keys of downloads and missing books: only PostgreSQL changes the column."""
    if not _is_sqlite():
        op.alter_column("wanted_books", "source", type_=sa.String(length=length),
                        existing_nullable=False)


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _drop_views() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")


def _create_views() -> None:
    for sql in VIEWS.values():
        op.execute(sql)
