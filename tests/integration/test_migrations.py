"""Migrations: the models and the migrations agree, and an upgrade loses no data."""

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from mamcrawler.store import migrate
from mamcrawler.store.db import make_engine
from mamcrawler.store.models import Base


def test_models_match_migrations(empty_db_url):
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == [], f"models differ from migrations; add a migration: {diff}"


def test_upgrade_from_the_first_schema_keeps_every_row(empty_db_url):
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine, "0001")
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO authors (id, name, followed, created_at, updated_at) "
                          "VALUES (1, 'Brandon Sanderson', true, :t, :t)"), {"t": now})
        conn.execute(text("INSERT INTO series (id, name, followed, created_at, updated_at) "
                          "VALUES (1, 'Mistborn', true, :t, :t)"), {"t": now})
        conn.execute(text(
            "INSERT INTO books (id, title, needs_review, added_at, created_at, updated_at) "
            "VALUES (1, 'The Final Empire', false, :t, :t, :t)"), {"t": now})
        conn.execute(text("INSERT INTO book_authors VALUES (1, 1, 0)"))
        conn.execute(text("INSERT INTO book_series (book_id, series_id, position) "
                          "VALUES (1, 1, '1')"))
        conn.execute(text(
            "INSERT INTO missing_books (title, series_id, position, found_in, found_via, status,"
            " created_at, updated_at) VALUES ('The Well of Ascension', 1, '2', 'series',"
            " 'audnexus', 'missing', :t, :t)"), {"t": now})
        conn.execute(text(
            "INSERT INTO downloads (title, release_source, state, edition, integrity_state,"
            " retries, created_at, updated_at) VALUES ('Old Failure', 'mam', 'failed', 'free',"
            " 'failed', 3, :t, :t)"), {"t": now})
        conn.execute(text("INSERT INTO failed_attempts (title, stage, reason, attempts, at) "
                          "VALUES ('Old Failure', 'grab', 'tracker 503', 3, :t)"), {"t": now})
        # A person already chose to follow Horror before categories were seeded.
        conn.execute(text("INSERT INTO category_settings VALUES (43, 'Horror', 13, true, :t)"),
                     {"t": now})

    migrate.upgrade(engine)

    with engine.connect() as conn:
        def count(table):
            # table names come from the literal list below, never from input
            return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()  # noqa: S608

        assert [count(t) for t in ("authors", "series", "books", "book_authors", "book_series",
                                   "missing_books", "downloads", "failed_attempts")] == [1] * 8
        assert conn.execute(text("SELECT title FROM books")).scalar_one() == "The Final Empire"
        rows = conn.execute(text("SELECT category_id, followed FROM category_settings"))
        followed = {cid: flag for cid, flag in rows}
        assert len(followed) == 39
        assert followed[43] in (True, 1)  # the person's choice survived the seeding
        assert {cid for cid, f in followed.items() if f} == {40, 41, 43, 47, 87}
        series = conn.execute(text("SELECT books_owned, books_missing FROM series_completion"))
        assert series.one() == (1, 1)
        failed = conn.execute(text("SELECT title, retries FROM recent_failed_downloads"))
        assert failed.one() == ("Old Failure", 3)
    assert migrate.is_current(engine)
    engine.dispose()
