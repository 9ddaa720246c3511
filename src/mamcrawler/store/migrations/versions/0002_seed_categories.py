"""Seed the tracker's audiobook and radio categories with the default follows (R19)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# (id, name, main category). Main 13 = audiobooks, 16 = radio (reference/mam-api.md).
CATEGORIES = [
    (39, "Action/Adventure", 13), (49, "Art", 13), (50, "Biographical", 13),
    (83, "Business", 13), (51, "Computer/Internet", 13), (97, "Crafts", 13),
    (40, "Crime/Thriller", 13), (41, "Fantasy", 13), (106, "Food", 13),
    (42, "General Fiction", 13), (52, "General Non-Fic", 13), (98, "Historical Fiction", 13),
    (54, "History", 13), (55, "Home/Garden", 13), (43, "Horror", 13), (99, "Humor", 13),
    (84, "Instructional", 13), (44, "Juvenile", 13), (56, "Language", 13),
    (45, "Literary Classics", 13), (57, "Math/Science/Tech", 13), (85, "Medical", 13),
    (87, "Mystery", 13), (119, "Nature", 13), (88, "Philosophy", 13),
    (58, "Pol/Soc/Relig", 13), (59, "Recreation", 13), (46, "Romance", 13),
    (47, "Science Fiction", 13), (53, "Self-Help", 13), (89, "Travel/Adventure", 13),
    (100, "True Crime", 13), (108, "Urban Fantasy", 13), (48, "Western", 13),
    (111, "Young Adult", 13),
    (127, "Comedy", 16), (130, "Drama", 16), (128, "Factual/Documentary", 16),
    (132, "Reading", 16),
]
FOLLOWED_BY_DEFAULT = {47, 41, 87, 40}  # Science Fiction, Fantasy, Mystery, Crime/Thriller

category_settings = sa.table(
    "category_settings",
    sa.column("category_id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("main_category", sa.Integer),
    sa.column("followed", sa.Boolean),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    conn = op.get_bind()
    existing = {row[0] for row in conn.execute(sa.select(category_settings.c.category_id))}
    now = sa.func.current_timestamp()
    rows = [
        {"category_id": cid, "name": name, "main_category": main,
         "followed": cid in FOLLOWED_BY_DEFAULT}
        for cid, name, main in CATEGORIES
        if cid not in existing  # a person's own choices are never overwritten
    ]
    for row in rows:
        conn.execute(category_settings.insert().values(**row, updated_at=now))


def downgrade() -> None:
    ids = [cid for cid, _, _ in CATEGORIES]
    op.execute(category_settings.delete().where(category_settings.c.category_id.in_(ids)))
