"""A book whose files are all gone is marked by `books.missing_since` instead of a review
reason starting "library scan: every file of this book is gone from …" (R1, R13)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The text the scan put before a missing book's folder in review_reason until now; another
# part's reason (the metadata review) followed it after " | ".
MISSING_MARK = "library scan: every file of this book is gone from "
SEPARATOR = " | "


def upgrade() -> None:
    # A plain ADD COLUMN: a batch rebuild of books would drop the old table and cascade
    # to its links, files and sources on SQLite.
    op.add_column("books", sa.Column("missing_since", sa.DateTime(timezone=True),
                                     nullable=True))
    # When it was flagged is not kept; the book's last change is the closest known time.
    op.execute(sa.text("UPDATE books SET missing_since = updated_at "
                       "WHERE review_reason LIKE :mark").bindparams(mark=MISSING_MARK + "%"))
    # The review reason keeps what other parts said; with nothing left, the flag goes.
    after = f"substr(review_reason, {_find('review_reason', ':sep')} + :skip)"
    op.execute(sa.text(f"UPDATE books SET review_reason = {after} "  # noqa: S608
                       f"WHERE review_reason LIKE :mark AND {_find('review_reason', ':sep')} > 0")
               .bindparams(sep=SEPARATOR, skip=len(SEPARATOR), mark=MISSING_MARK + "%"))
    op.execute(sa.text("UPDATE books SET needs_review = false, review_reason = NULL "
                       "WHERE review_reason LIKE :mark").bindparams(mark=MISSING_MARK + "%"))


def downgrade() -> None:
    kept = "CASE WHEN needs_review AND review_reason IS NOT NULL " \
           "THEN :sep || review_reason ELSE '' END"
    op.execute(sa.text(f"UPDATE books SET needs_review = true, review_reason = :mark || "  # noqa: S608
                       f"COALESCE(library_path, '') || {kept} WHERE missing_since IS NOT NULL")
               .bindparams(mark=MISSING_MARK, sep=SEPARATOR))
    op.drop_column("books", "missing_since")


def _find(column: str, needle: str) -> str:
    """SQL for the 1-based position of `needle` in `column` (0: absent)."""
    if op.get_bind().dialect.name == "sqlite":
        return f"instr({column}, {needle})"
    return f"strpos({column}, {needle})"
