"""The `follow` and `completion` commands (R22): what is followed, and the missing books.

They need only the database (no tracker, no runtime), so they also work while the
service runs. `cli.py` registers them with `register`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

follow_app = typer.Typer(help="What completion and discovery follow: series, authors, "
                         "tracker categories.", no_args_is_help=True)
completion_app = typer.Typer(help="Missing books found in followed series and authors, and "
                             "by discovery.", no_args_is_help=True)
_console = Console()
_err = Console(stderr=True)
_settings: Callable = lambda: None  # noqa: E731 - replaced by register()
Stop = Annotated[bool, typer.Option("--stop", help="stop following instead")]


def register(app: typer.Typer, settings: Callable) -> None:
    """Add the commands to `app`; `settings` loads the settings (exits on bad ones)."""
    global _settings
    _settings = settings
    app.add_typer(follow_app, name="follow")
    app.add_typer(completion_app, name="completion")


@contextmanager
def _session() -> Iterator:
    from mamcrawler.store import migrate
    from mamcrawler.store.db import make_engine, make_session_factory, session_scope

    engine = make_engine(_settings().effective_database_url)
    try:
        migrate.upgrade(engine)
        with session_scope(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _follow(kind: str, name: str, stop: bool) -> None:
    from mamcrawler.domain.bibliography import SubjectKind
    from mamcrawler.services.follows import FollowNotFound, set_follow

    try:
        with _session() as session:
            result = set_follow(session, SubjectKind(kind), not stop, name=name)
    except FollowNotFound:
        _err.print(f"[red]no {kind} named {name!r} in the library[/red]", highlight=False)
        raise typer.Exit(2) from None
    verb = "following" if result.followed else "no longer following"
    added = " (added: not in the library yet)" if result.created else ""
    _console.print(f"{verb} {kind} #{result.id} {result.name}{added}", highlight=False)


@follow_app.command("series")
def follow_series(name: Annotated[str, typer.Argument(help="series name")],
                  stop: Stop = False) -> None:
    """Follow a series: its missing books are looked for at each completion run."""
    _follow("series", name, stop)


@follow_app.command("author")
def follow_author(name: Annotated[str, typer.Argument(help="author name")],
                  stop: Stop = False) -> None:
    """Follow an author: their missing books are looked for at each completion run."""
    _follow("author", name, stop)


@follow_app.command("category")
def follow_category(category_id: Annotated[int, typer.Argument(help="tracker category id, "
                                                                    "e.g. 41 (Fantasy)")],
                    stop: Stop = False) -> None:
    """Follow a tracker category: its new releases are judged at each category_sync."""
    from mamcrawler.services.follows import FollowNotFound, set_category_follow

    try:
        with _session() as session:
            row = set_category_follow(session, category_id, not stop)
            line = f"{'following' if row.followed else 'ignoring'} category {row.category_id} " \
                   f"{row.name}"
    except FollowNotFound:
        _err.print(f"[red]unknown category {category_id}; see `mamcrawler follow list`[/red]")
        raise typer.Exit(2) from None
    _console.print(line, highlight=False)


@follow_app.command("list")
def follow_list() -> None:
    """Followed series and authors (owned, missing, last check) and categories."""
    from sqlalchemy import text

    from mamcrawler.store.models import CategorySetting

    table = Table("kind", "name", "set by", "owned", "missing", "last checked")
    table.add_column("last result", overflow="fold", ratio=1)
    with _session() as session:
        for kind, view, table_name, key in (("author", "author_completion", "authors",
                                              "author_id"),
                                             ("series", "series_completion", "series",
                                              "series_id")):
            # view, table and key names are the literals above, never input
            rows = session.execute(text(
                f"SELECT v.*, t.follow_set_by, t.completion_checked_at, t.completion_note "  # noqa: S608
                f"FROM {view} v JOIN {table_name} t ON t.id = v.{key} WHERE t.followed "
                f"ORDER BY 2")).mappings()
            for row in rows:
                checked = row["completion_checked_at"]
                table.add_row(kind, row[f"{kind}_name"], row["follow_set_by"] or "-",
                              str(row["books_owned"]), str(row["books_missing"]),
                              str(checked)[:16] if checked else "never",
                              row["completion_note"] or "")
        categories = ", ".join(f"{c.category_id} {c.name}" for c in session.scalars(
            select(CategorySetting).where(CategorySetting.followed)
            .order_by(CategorySetting.category_id)))
    _console.print(table)
    _console.print(f"categories followed: {categories or 'none'}", highlight=False)


@completion_app.command("missing")
def completion_missing(
    status: Annotated[str, typer.Option(help="missing, declined or filled")] = "missing",
    found_in: Annotated[str | None, typer.Option(help="series, author, category or top10")]
    = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
) -> None:
    """Missing books with why each is missing and whether it is wanted."""
    from mamcrawler.store.models import MissingBook

    table = Table("id", "title", "author", "#", "found in", "via", "wanted")
    table.add_column("reason", overflow="fold", max_width=60)
    with _session() as session:
        query = select(MissingBook).where(MissingBook.status == status)
        if found_in:
            query = query.where(MissingBook.found_in == found_in)
        for row in session.scalars(query.order_by(MissingBook.id).limit(limit)):
            table.add_row(str(row.id), row.title, row.author_name or "", row.position or "",
                          row.found_in, row.found_via,
                          f"#{row.wanted_id}" if row.wanted_id else "-", row.reason or "")
    _console.print(table)


def _command(name: str, missing_id: int) -> None:
    from mamcrawler.services import completion_commands as commands

    try:
        with _session() as session:
            result = getattr(commands, name)(session, missing_id)
    except commands.MissingNotFound:
        _err.print(f"[red]no missing book {missing_id}[/red]")
        raise typer.Exit(2) from None
    except commands.MissingCommandRefused as exc:
        _err.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(1) from None
    _console.print(result.message, highlight=False)


@completion_app.command("decline")
def completion_decline(missing_id: Annotated[int, typer.Argument(help="missing book id")]
                       ) -> None:
    """Decline a missing book: no job wants it again (its wanted entry is cancelled)."""
    _command("decline", missing_id)


@completion_app.command("want")
def completion_want(missing_id: Annotated[int, typer.Argument(help="missing book id")]
                    ) -> None:
    """Want a missing book now (also one declined before)."""
    _command("want", missing_id)
