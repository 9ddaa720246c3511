"""The `follow` and `completion` commands (R22): what is followed (with each follow's
policy), running completion with a progress bar, and the missing books.

All but `completion` itself need only the database (no tracker, no runtime), so they also
work while the service runs. `cli.py` registers them with `register`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

follow_app = typer.Typer(help="What completion and discovery follow: series, authors, "
                         "tracker categories.", no_args_is_help=True)
completion_app = typer.Typer(help="Run completion now (every followed series and author, or "
                             "the ones named), or list and act on the missing books it found.")
_console = Console()
_err = Console(stderr=True)
_settings: Callable = lambda: None  # noqa: E731 - replaced by register()
_runtime: Callable | None = None  # replaced by register()
_database: Callable | None = None  # replaced by register()
Stop = Annotated[bool, typer.Option("--stop", help="stop following instead")]
Language = Annotated[str | None, typer.Option(
    help="language of the books to look for, e.g. german; \"\" = your COMPLETION_LANGUAGE")]
AnyFormat = Annotated[bool | None, typer.Option(
    "--audiobook-only/--any-edition", help="leave out books known in print only (default) "
    "or record them too")]
Abridged = Annotated[bool | None, typer.Option(
    "--unabridged-only/--abridged-ok", help="leave out abridged editions (default) or take "
    "them")]


def register(app: typer.Typer, settings: Callable, runtime: Callable | None = None,
             database: Callable | None = None) -> None:
    """Add the commands to `app`; `settings` loads the settings (exits on bad ones),
    `runtime(settings)` builds the runtime `completion` runs the job with, `database(settings)`
    opens the database, schema up to date (exits with the problem and its fix)."""
    global _settings, _runtime, _database
    _settings, _runtime, _database = settings, runtime, database
    app.add_typer(follow_app, name="follow")
    app.add_typer(completion_app, name="completion")


@contextmanager
def _session() -> Iterator:
    from mamcrawler.store.db import make_session_factory, session_scope

    engine = _database(_settings())
    try:
        with session_scope(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _follow(kind: str, name: str, stop: bool, choice) -> None:
    from mamcrawler.domain.bibliography import SubjectKind
    from mamcrawler.services.follows import FollowNotFound, set_follow

    try:
        with _session() as session:
            result = set_follow(session, SubjectKind(kind), not stop, name=name,
                                choice=choice)
    except FollowNotFound:
        _err.print(f"[red]no {kind} named {escape(repr(name))} in the library[/red]",
                   highlight=False)
        raise typer.Exit(2) from None
    verb = "following" if result.followed else "no longer following"
    added = " (added: not in the library yet)" if result.created else ""
    _console.print(f"{verb} {kind} #{result.id} {result.name}{added}", highlight=False)
    if result.followed:
        _console.print(f"  {_policy_text(result)}", highlight=False)


def _policy_text(result) -> str:
    scope = (f"books released since {result.followed_at:%Y-%m-%d}" if result.scope == "new"
             and result.followed_at else "every book" if result.kind == "author"
             else "every missing position")
    editions = ", ".join(filter(None, ["audiobook editions only" if result.audiobook_only
                                       else "", "unabridged only" if result.unabridged_only
                                       else "abridged too"]))
    return f"{scope}; {result.language or 'your language'}; {editions}"


def _choice(new_only: bool | None, language: str | None, audiobook_only: bool | None,
            unabridged_only: bool | None):
    from mamcrawler.domain.bibliography import Scope
    from mamcrawler.services.follows import FollowChoice

    scope = None if new_only is None else Scope.NEW if new_only else Scope.ALL
    return FollowChoice(scope, language, audiobook_only, unabridged_only)


@follow_app.command("series")
def follow_series(name: Annotated[str, typer.Argument(help="series name")],
                  stop: Stop = False, language: Language = None,
                  audiobook_only: AnyFormat = None, unabridged_only: Abridged = None) -> None:
    """Follow a series: its missing books are looked for at each completion run."""
    _follow("series", name, stop, _choice(None, language, audiobook_only, unabridged_only))


@follow_app.command("author")
def follow_author(
    name: Annotated[str, typer.Argument(help="author name")], stop: Stop = False,
    new_only: Annotated[bool | None, typer.Option(
        "--new-only/--everything", help="only books released from now on, or every book "
        "(default)")] = None,
    language: Language = None, audiobook_only: AnyFormat = None,
    unabridged_only: Abridged = None,
) -> None:
    """Follow an author: their missing books are looked for at each completion run."""
    _follow("author", name, stop, _choice(new_only, language, audiobook_only,
                                          unabridged_only))


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
        _err.print(f"[red]{escape(str(exc))}[/red]", highlight=False)
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


@completion_app.callback(invoke_without_command=True)
def completion_run(
    ctx: typer.Context,
    series: Annotated[list[str] | None, typer.Option(
        "--series", help="check only this followed series (repeatable)")] = None,
    author: Annotated[list[str] | None, typer.Option(
        "--author", help="check only this followed author (repeatable)")] = None,
) -> None:
    """Run completion now, with a progress bar: every followed series and author (least
    recently checked first, within the tracker request budget), or only those named; then
    show what each named one has, misses, wants and declined."""
    if ctx.invoked_subcommand is not None:
        if series or author:
            _err.print("[red]--series and --author run completion; give no subcommand[/red]")
            raise typer.Exit(2)
        return
    from mamcrawler.domain.bibliography import SubjectKind

    named = [(SubjectKind.SERIES, n) for n in series or ()] + \
        [(SubjectKind.AUTHOR, n) for n in author or ()]
    _run_completion(named)


def _run_completion(named: list) -> None:
    import dataclasses
    import signal

    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from mamcrawler.cli import EXIT_CODES, _exit_on_sigterm
    from mamcrawler.domain.run_outcome import RunOutcome
    from mamcrawler.jobs.discovery_jobs import ONLY
    from mamcrawler.jobs.runner import run_job
    from mamcrawler.store.db import session_scope

    rt = _runtime(_settings())
    try:
        with session_scope(rt.sessions) as session:
            _check_followed(session, named)
        ctx = dataclasses.replace(rt.scheduler.ctx, options={ONLY: named})
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                      TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                      console=_err, transient=True) as progress:
            task = progress.add_task("completion", total=None)
            ctx.progress = lambda done, total, text: progress.update(
                task, completed=done, total=total, description=f"completion: {text}")
            result = run_job(ctx, "completion", trigger="manual")
        colour = {"success": "green", "failed": "red"}.get(result.outcome, "yellow")
        _console.print(f"[{colour}]completion: {result.outcome}[/{colour}] (run "
                       f"{result.run_id}) {escape(result.error or result.summary or '')}",
                       highlight=False)
        with session_scope(rt.sessions) as session:
            for kind, name in named:
                _print_view(session, kind, name)
    except (KeyboardInterrupt, SystemExit):  # run_job has recorded the run `interrupted`
        _err.print("[yellow]completion: interrupted[/yellow] (stopped before it finished)")
        raise typer.Exit(EXIT_CODES[RunOutcome.INTERRUPTED]) from None
    finally:
        rt.close()
    raise typer.Exit(EXIT_CODES[result.outcome])


def _check_followed(session, named: list) -> None:
    from mamcrawler.services.completion_view import completion_view
    from mamcrawler.services.follows import FollowNotFound

    for kind, name in named:
        try:
            view = completion_view(session, kind, name=name)
        except FollowNotFound:
            _err.print(f"[red]no {kind} named {escape(repr(name))}; follow it first: "
                       f"mamcrawler follow {kind} \"{escape(name)}\"[/red]", highlight=False)
            raise typer.Exit(2) from None
        if not view.follow.followed:
            _err.print(f"[red]{kind} {escape(repr(view.follow.name))} is not followed; follow "
                       f"it first: mamcrawler follow {kind} \"{escape(view.follow.name)}\"[/red]",
                       highlight=False)
            raise typer.Exit(2)


def _print_view(session, kind, name: str) -> None:
    from mamcrawler.domain.series_position import reading_order
    from mamcrawler.services.completion_view import completion_view

    view = completion_view(session, kind, name=name)
    table = Table("#", "title", "state", title=f"{kind} {view.follow.name}: "
                  f"{_policy_text(view.follow)}")
    table.add_column("why", overflow="fold", max_width=70)
    rows = [(e, "have") for e in view.have] + [(e, f"wanted ({e.wanted_status})")
                                               for e in view.wanted] \
        + [(e, "missing") for e in view.missing] + [(e, "declined") for e in view.declined]
    for entry, state in sorted(rows, key=lambda r: reading_order(r[0].position, r[0].title)):
        table.add_row(entry.position or "", entry.title, state, entry.reason or "")
    _console.print(table)



