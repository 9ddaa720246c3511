"""Seeding actions (resume, force-start, share limits, un-force) and our force-starts (R5)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seeding_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("info_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("raw_state", sa.String(length=30), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seeding_actions")),
    )
    with op.batch_alter_table("seeding_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_seeding_actions_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_seeding_actions_info_hash"), ["info_hash"], unique=False
        )
    with op.batch_alter_table("torrents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("forced_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("torrents", schema=None) as batch_op:
        batch_op.drop_column("forced_at")
    with op.batch_alter_table("seeding_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seeding_actions_info_hash"))
        batch_op.drop_index(batch_op.f("ix_seeding_actions_at"))
    op.drop_table("seeding_actions")
