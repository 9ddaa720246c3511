"""API overhead on a library of the expected size (7,500 books, R1).

Baseline: the same page read with one plain SQL query on the same database.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sqlalchemy import text

from benchmarks.timing import median_seconds, report

BOOKS = int(os.environ.get("BENCH_BOOKS", "7500"))


def _fill(rt) -> None:
    from mamcrawler.services import library
    from mamcrawler.store.db import session_scope

    with session_scope(rt.sessions) as session:
        for i in range(BOOKS):
            library.create_book(session, {
                "title": f"Book {i}", "authors": [f"Author {i % 750}"],
                "narrators": [f"Narrator {i % 300}"],
                "series": [{"name": f"Series {i % 1500}", "position": str(i // 1500 + 1)}],
            })


def main() -> None:
    from fastapi.testclient import TestClient

    from mamcrawler.api.app import create_app
    from mamcrawler.config import load_settings
    from mamcrawler.runtime import Runtime

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(None, data_dir=Path(tmp), api_key="bench-key-0123456789",
                                 demo=False, database_url=f"sqlite:///{tmp}/bench.db")
        rt = Runtime.build(settings)
        _fill(rt)
        offset = BOOKS - 100
        client = TestClient(create_app(rt, start_scheduler=False),
                            headers={"X-Api-Key": "bench-key-0123456789"})

        def raw_page():
            with rt.engine.connect() as conn:
                conn.execute(text("SELECT * FROM books ORDER BY id LIMIT 100 OFFSET :o"),
                             {"o": offset}).all()

        def api_page():
            page = client.get("/api/books", params={"limit": 100, "offset": offset})
            assert len(page.json()["data"]["items"]) == 100

        def api_series_completion():
            assert client.get("/api/series/completion", params={"limit": 100}).status_code == 200

        print(f"  {BOOKS} books, page of 100")
        report([("raw SQL page", median_seconds(raw_page)),
                ("GET /api/books page", median_seconds(api_page)),
                ("GET /api/series/completion", median_seconds(api_series_completion))],
               baseline="raw SQL page")
        rt.close()


if __name__ == "__main__":
    main()
