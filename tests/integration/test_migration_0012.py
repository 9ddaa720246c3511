"""Migration 0012: missing books get a numeric position sort key from their text position;
a downgrade drops it and keeps the rows."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from mamcrawler.store import migrate
from mamcrawler.store.db import make_engine

T = datetime(2026, 1, 2, tzinfo=UTC)
POSITIONS = {1: "10", 2: "2", 3: "1.5", 4: "1-3", 5: None, 6: "Prequel", 7: "1,5"}


def test_missing_books_get_a_position_sort_key(empty_db_url):
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine, "0011")
    with engine.begin() as conn:
        for row_id, position in POSITIONS.items():
            conn.execute(text(
                "INSERT INTO missing_books (id, title, position, found_in, found_via, status, "
                "created_at, updated_at) VALUES (:id, 'Gap', :pos, 'series', 'tracker', "
                "'missing', :t, :t)"), {"id": row_id, "pos": position, "t": T})
    migrate.upgrade(engine)
    with engine.connect() as conn:
        ranks = dict(conn.execute(text("SELECT id, position_sort FROM missing_books")).all())
    assert ranks == {1: 10.0, 2: 2.0, 3: 1.5, 4: 1.0, 5: None, 6: None, 7: 1.5}
    command.downgrade(migrate.alembic_config(empty_db_url.replace("%", "%%")), "0011")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM missing_books")).scalar_one() == 7
    engine.dispose()
