"""Torrent recovery attempts: each reannounce/recheck/force-start on a stuck torrent (R5)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "torrent_recovery_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("info_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("torrent_state", sa.String(length=20), nullable=False),
        sa.Column("raw_state", sa.String(length=30), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_torrent_recovery_attempts")),
    )
    with op.batch_alter_table("torrent_recovery_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_torrent_recovery_attempts_at"), ["at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_torrent_recovery_attempts_info_hash"), ["info_hash"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("torrent_recovery_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_torrent_recovery_attempts_info_hash"))
        batch_op.drop_index(batch_op.f("ix_torrent_recovery_attempts_at"))
    op.drop_table("torrent_recovery_attempts")
