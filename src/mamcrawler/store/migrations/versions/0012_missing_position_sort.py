"""A missing book's series position gets a numeric sort key, `missing_books.position_sort`,
so lists order "10" after "2" and "1.5" between 1 and 2, as books' series links do (R18)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Positions written so far are canonical text ("2", "1.5", "1-3"): the first number ranks.
# Kept here rather than imported so this revision reads the same whatever the code becomes.
_FIRST_NUMBER = re.compile(r"^\s*(\d{1,4}(?:[.,]\d{1,2})?)")


def upgrade() -> None:
    op.add_column("missing_books", sa.Column("position_sort", sa.Float(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, position FROM missing_books "
                                "WHERE position IS NOT NULL")).all()
    for row_id, position in rows:
        found = _FIRST_NUMBER.match(position)
        if found:
            bind.execute(sa.text("UPDATE missing_books SET position_sort = :rank WHERE id = :id"),
                         {"rank": float(found.group(1).replace(",", ".")), "id": row_id})


def downgrade() -> None:
    op.drop_column("missing_books", "position_sort")
