"""Migration 0010 (completion policies) keeps every row and link, both ways."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from mamcrawler.store import migrate
from mamcrawler.store.db import make_engine

T = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_upgrade_and_downgrade_keep_rows_links_and_order(empty_db_url):
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine, "0009")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO series (id, name, followed, follow_set_by, created_at, "
                          "updated_at) VALUES (1, 'Mistborn', true, 'person', :t, :t)"),
                     {"t": T})
        conn.execute(text("INSERT INTO authors (id, name, followed, follow_set_by, created_at, "
                          "updated_at) VALUES (1, 'Brandon Sanderson', true, 'default', :t, "
                          ":t)"), {"t": T})
        conn.execute(text(
            "INSERT INTO wanted_books (id, title, source, status, priority, dedupe_key, "
            "created_at, updated_at) VALUES (7, 'The Well of Ascension', 'series', 'wanted', "
            "-10, 'well of ascension|', :t, :t)"), {"t": T})
        conn.execute(text(
            "INSERT INTO missing_books (title, series_id, position, found_in, found_via, "
            "status, gap_key, wanted_id, created_at, updated_at) VALUES ('The Well of "
            "Ascension', 1, '2', 'series', 'tracker', 'missing', 'well of ascension|', 7, :t, "
            ":t)"), {"t": T})
        conn.execute(text(
            "INSERT INTO downloads (wanted_id, title, release_source, state, edition, "
            "integrity_state, retries, created_at, updated_at) VALUES (7, 'The Well of "
            "Ascension', 'mam', 'downloading', 'free', 'pending', 0, :t, :t)"), {"t": T})

    migrate.upgrade(engine)
    with engine.connect() as conn:
        series = conn.execute(text("SELECT follow_scope, audiobook_only, unabridged_only, "
                                   "followed_at FROM series")).one()
        assert series[0] is None and series[1] in (True, 1) and series[2] in (True, 1)
        assert series[3] is not None  # a follow made before counts from the upgrade
        assert conn.execute(text("SELECT follow_scope FROM authors")).scalar_one() == "new"
        assert conn.execute(text("SELECT priority FROM wanted_books")).scalar_one() == -100
        gap = conn.execute(text("SELECT wanted_id, wanted_at FROM missing_books")).one()
        assert gap[0] == 7 and gap[1] is not None
        assert conn.execute(text("SELECT wanted_id FROM downloads")).scalar_one() == 7
        conn.execute(text("UPDATE wanted_books SET source = 'series:Mistborn'"))
        conn.commit()

    command.downgrade(migrate.alembic_config(empty_db_url.replace("%", "%%")), "0009")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT source, priority FROM wanted_books")).one() == (
            "series", -10)
        assert conn.execute(text("SELECT wanted_id FROM missing_books")).scalar_one() == 7
        assert conn.execute(text("SELECT wanted_id FROM downloads")).scalar_one() == 7
        assert conn.execute(text("SELECT books_missing FROM series_completion")).scalar_one() \
            == 1
    engine.dispose()
