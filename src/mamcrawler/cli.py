"""The command line (R22): serve, run jobs, show status, check the configuration."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from mamcrawler import __version__
from mamcrawler.config import (
    DEFAULT_ENV_FILE,
    ConfigError,
    Settings,
    describe_sources,
    load_settings,
)
from mamcrawler.domain.run_outcome import RunOutcome
from mamcrawler.logs import setup_logging

app = typer.Typer(help="MAMcrawler: keeps an audiobook collection complete and the tracker "
                  "account healthy.", no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema and backups.", no_args_is_help=True)
jobs_app = typer.Typer(help="Scheduled jobs.", no_args_is_help=True)
config_app = typer.Typer(help="Configuration.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(jobs_app, name="jobs")
app.add_typer(config_app, name="config")
sim_app = typer.Typer(help="The built-in tracker simulator (tests and demo; not the real site).",
                      no_args_is_help=True)
app.add_typer(sim_app, name="sim")

console = Console()
err = Console(stderr=True)
# `jobs run` exit codes by outcome (2 is taken: configuration or start-up problem).
EXIT_CODES = {RunOutcome.SUCCESS: 0, RunOutcome.FAILED: 1, RunOutcome.NOT_CONFIGURED: 3,
              RunOutcome.SKIPPED: 4, RunOutcome.INTERRUPTED: 5, RunOutcome.PARTIAL: 6}


class State:
    env_file: str | None = DEFAULT_ENV_FILE


@app.callback()
def _main(
    env_file: Annotated[str, typer.Option(help="the .env file to read (never written)")] =
    DEFAULT_ENV_FILE,
) -> None:
    State.env_file = env_file


def settings(**overrides) -> Settings:
    try:
        result = load_settings(State.env_file, **overrides)
    except ConfigError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]", highlight=False)
        raise typer.Exit(2) from None
    setup_logging(result.log_level, result.log_format, result.secret_values())
    return result


@contextmanager
def _startup_problems() -> Iterator[None]:
    """Turn what stops a command from starting - DATA_DIR, the database - into one message
    naming the variable or file and the fix, and exit status 2, instead of a traceback."""
    from mamcrawler.store.problems import DatabaseProblem

    try:
        yield
    except (ConfigError, DatabaseProblem) as exc:
        err.print(f"[red]{escape(str(exc))}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _runtime(s: Settings, *, serving: bool = False, attach=None):
    """The runtime for a command; brings the database schema up to date first."""
    from mamcrawler.runtime import Runtime

    with _startup_problems():
        return Runtime.build(s, serving=serving, attach=attach)


def _database(s: Settings):
    """An engine on the configured database, schema up to date, for commands that need
    nothing else (no Runtime, so demo mode starts no simulator for them)."""
    from mamcrawler.database import open_database

    with _startup_problems():
        return open_database(s)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM ends a command as Ctrl-C does, so `finally` blocks run."""
    raise SystemExit(128 + signum)


def _stop_serving(signum: int, frame: object) -> None:
    """SIGTERM and Ctrl-C stop `serve` cleanly, exit status 0: uvicorn shuts down gracefully
    and then re-raises the signal to this handler, so `finally` blocks run and the demo's
    processes stop."""
    raise SystemExit(0)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="listen address (default HOST)")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="port (default PORT)")] = None,
) -> None:
    """Apply migrations and run the service: API, dashboard and scheduler."""
    import uvicorn

    from mamcrawler.api.app import create_app

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    s = settings(**overrides)
    for warning in s.startup_warnings():
        err.print(f"[yellow]warning:[/yellow] {escape(str(warning))}", highlight=False)
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, _stop_serving)
    rt = _runtime(s, serving=True)
    try:
        if rt.api_key_file:
            console.print(f"API key: read it from [bold]{rt.api_key_file}[/bold] "
                          "(set API_KEY to choose your own)")
        console.print(f"MAMcrawler {__version__} on http://{s.host}:{s.port}  "
                      f"(API docs at /docs{', DEMO MODE' if s.is_demo else ''})")
        if rt.demo_world == "starting":
            console.print("the demo world is starting in the background; /health says "
                          "when it is ready")
        uvicorn.run(create_app(rt), host=s.host, port=s.port, log_config=None,
                    log_level=s.log_level.lower())
    finally:
        rt.close()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to this version (safe to repeat)."""
    from mamcrawler.store import migrate

    engine = _database(settings())
    console.print(f"database at revision {migrate.current_revision(engine)}")
    engine.dispose()


@db_app.command("backup")
def db_backup(path: Annotated[str, typer.Argument(
        help="the file to write, or a folder to write <database>-<time>.db into")]) -> None:
    """Copy the SQLite database into PATH, also while the service runs (PostgreSQL: pg_dump)."""
    from datetime import UTC, datetime
    from pathlib import Path

    from mamcrawler.services.backups import BackupError, backup_to

    try:
        done = backup_to(settings(), Path(path), datetime.now(UTC))
    except BackupError as exc:
        err.print(escape(str(exc)), highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    console.print(f"{done.summary()}\nto restore: stop the service, delete {done.database}-wal "
                  f"and -shm, copy the backup over {done.database}, start", highlight=False,
                  soft_wrap=True)


@jobs_app.command("list")
def jobs_list() -> None:
    """Every job with its schedule, next run and last outcome."""
    _print_jobs(settings())


def _print_jobs(s: Settings) -> None:
    """Read from the database alone: starts nothing, not even the demo's simulator."""
    from mamcrawler import service_state
    from mamcrawler.cli_output import print_jobs
    from mamcrawler.jobs.scheduler import job_statuses
    from mamcrawler.store.db import make_session_factory

    running = service_state.running(s)
    engine = _database(s)
    try:  # with the schedules the running service uses (the demo's are quicker)
        print_jobs(console, job_statuses(running.settings_for(s) if running else s,
                                         make_session_factory(engine)))
    finally:
        engine.dispose()


@jobs_app.command("run")
def jobs_run(name: Annotated[str, typer.Argument(help="job name, see `jobs list`")]) -> None:
    """Run one job now and wait for it, with a progress display."""
    from mamcrawler.jobs import registry
    from mamcrawler.jobs.runner import run_job

    if name not in registry.JOBS:
        err.print(f"[red]{escape(str(registry.UnknownJob(name)))}[/red]")
        raise typer.Exit(2)
    s = settings()
    rt = _runtime(s, attach=_running_demo(s))
    ctx = rt.scheduler.ctx
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                      TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                      console=err, transient=True) as progress:
            task = progress.add_task(name, total=None)
            ctx.progress = lambda done, total, text: progress.update(
                task, completed=done, total=total, description=f"{name}: {text}")
            result = run_job(ctx, name, trigger="manual")
    except (KeyboardInterrupt, SystemExit):  # run_job has recorded the run `interrupted`
        err.print(f"[yellow]{escape(name)}: interrupted[/yellow] (stopped before it finished)")
        rt.close()
        raise typer.Exit(EXIT_CODES[RunOutcome.INTERRUPTED]) from None
    colour = {"success": "green", "failed": "red"}.get(result.outcome, "yellow")
    said = " - ".join(filter(None, [result.summary, result.error]))
    console.print(f"[{colour}]{escape(name)}: {result.outcome}[/{colour}] (run {result.run_id}) "
                  f"{escape(said)}",
                  highlight=False)
    rt.close()
    raise typer.Exit(EXIT_CODES[result.outcome])


def _running_demo(s: Settings):
    """In demo mode, the running `serve` whose simulator and demo world a command that
    needs the tracker uses (waiting while its world starts); None: start a simulator."""
    import time

    from mamcrawler import service_state

    if not s.is_demo:
        return None
    running = service_state.running(s)
    deadline = time.monotonic() + 120
    if running is not None and running.demo_world == service_state.STARTING:
        err.print("waiting for the demo world `serve` is starting...", highlight=False)
        while running is not None and running.demo_world == service_state.STARTING \
                and time.monotonic() < deadline:
            time.sleep(0.5)
            running = service_state.running(s)
    return running if running is not None and running.tracker is not None else None


@app.command()
def status() -> None:
    """Mode, database, the running service and the state of every job."""
    from sqlalchemy.engine import make_url

    from mamcrawler import service_state
    from mamcrawler.cli_output import print_facts
    from mamcrawler.jobs.scheduler import describe_leader
    from mamcrawler.store.db import make_session_factory

    s = settings()
    engine = _database(s)  # first: a database that cannot be used is the one message
    try:
        leader = describe_leader(make_session_factory(engine), datetime.now(UTC))
    finally:
        engine.dispose()
    running = service_state.running(s)
    world = f"; demo world {running.demo_world}" if running and running.demo_world else ""
    console.print(f"MAMcrawler {__version__}", highlight=False)
    print_facts(console, [
        ("mode", "[yellow]DEMO (tracker simulator)[/yellow]" if s.is_demo else "live"),
        ("database", escape(make_url(s.effective_database_url).render_as_string(
            hide_password=True))),
        ("service", "not running (start it with `mamcrawler serve`)" if running is None else
                    f"running at {running.url} (pid {running.pid}){world}"),
        ("scheduler", escape(leader))])
    for warning in s.startup_warnings():
        console.print(f"[yellow]warning:[/yellow] {escape(str(warning))}", highlight=False)
    _print_jobs(s)


@config_app.command("check")
def config_check() -> None:
    """Each setting with its source (secrets masked), then each configured connection."""
    from mamcrawler.cli_output import print_checks, print_settings
    from mamcrawler.services.connections import check_all

    s = settings()
    print_settings(console, describe_sources(s, State.env_file))
    for warning in s.startup_warnings():
        console.print(f"[yellow]warning:[/yellow] {escape(str(warning))}", highlight=False)
    checks = check_all(s, _sessions_if_current(s))
    print_checks(console, checks)
    raise typer.Exit(1 if any(check.ok is False for check in checks) else 0)


def _sessions_if_current(s: Settings):
    """Sessions on the configured database when its schema is current, else None.

    `config check` looks without changing anything, so it never upgrades the schema.
    """
    from mamcrawler.store import migrate
    from mamcrawler.store.db import make_engine, make_session_factory, sqlite_path

    try:
        file = sqlite_path(s.effective_database_url)
        if file is not None and not file.exists():  # connecting would create it
            return None
        engine = make_engine(s.effective_database_url)
        return make_session_factory(engine) if migrate.is_current(engine) else None
    except Exception:  # the database check reports what is wrong
        return None


@app.command()
def want(
    title: Annotated[str, typer.Argument(help="book title")],
    author: Annotated[str | None, typer.Option(help="author name")] = None,
    series: Annotated[str | None, typer.Option(help="series name")] = None,
    position: Annotated[str | None, typer.Option(help="position in the series, e.g. 3")] = None,
    narrator: Annotated[str | None, typer.Option(help="preferred narrator")] = None,
) -> None:
    """Add a book to the wanted list (an entry for the same book is merged)."""
    from mamcrawler.api.schemas import WantedIn
    from mamcrawler.services.wanted import add_wanted
    from mamcrawler.store.db import make_session_factory, session_scope

    try:
        body = WantedIn(title=title, author=author, series=series, position=position,
                        narrator=narrator)
    except ValueError as exc:
        err.print(f"[red]invalid book: {escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    engine = _database(settings())  # the database alone: nothing else is started
    try:
        with session_scope(make_session_factory(engine)) as session:
            entry, created = add_wanted(session, body.model_dump())
            line = f"{'added' if created else 'merged into'} wanted #{entry.id}: {entry.title}"
    finally:
        engine.dispose()
    console.print(line + (f" by {author}" if author else ""), highlight=False)


@app.command()
def scan(
    path: Annotated[str | None, typer.Argument(
        help="the library folder (default LIBRARY_DIR)", show_default=False)] = None,
) -> None:
    """Scan a library folder: register its books, people, series and files (R13).

    Unchanged files (same size and modification time) are not read again.
    """
    from mamcrawler.services.library_scan import LibraryScanError, scan_library
    from mamcrawler.store.db import make_session_factory

    s = settings()
    target = path or (str(s.library_dir) if s.library_dir else None)
    if not target:
        err.print("[red]no folder given and LIBRARY_DIR is not set[/red]")
        raise typer.Exit(2)
    engine = _database(s)
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                      TextColumn("{task.completed}/{task.total} books"), TimeElapsedColumn(),
                      console=err, transient=True) as progress:
            task = progress.add_task("scanning", total=None)
            report = scan_library(target, make_session_factory(engine), progress=lambda
                                  done, total, text: progress.update(
                                      task, completed=done, total=total,
                                      description=f"scanning: {text}"))
    except LibraryScanError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    from mamcrawler.cli_output import print_scan

    print_scan(console, report)


@sim_app.command("tracker")
def sim_tracker(
    port: Annotated[int, typer.Option(min=1, max=65535, help="port on 127.0.0.1")] = 8081,
    mam_id: Annotated[str, typer.Option(help="the first valid session cookie")] = "sim-cookie",
    announce_url: Annotated[str, typer.Option(help="announce URL put into .torrent files")] =
    "http://127.0.0.1:6969/announce",
) -> None:
    """Serve the tracker simulator on 127.0.0.1 until stopped (Ctrl-C)."""
    from mamcrawler.sim import run_tracker

    console.print(f"tracker SIMULATOR (not MyAnonamouse) on http://127.0.0.1:{port}")
    run_tracker("127.0.0.1", port, mam_id, announce_url)


def _add_completion_commands() -> None:
    """`follow` and `completion` live in cli_completion.py; they use these settings."""
    from mamcrawler import cli_completion

    cli_completion.register(app, settings, _runtime, _database)


_add_completion_commands()


def _add_sim_commands() -> None:
    """`sim year` lives in cli_sim.py."""
    from mamcrawler import cli_sim

    cli_sim.register(sim_app)


_add_sim_commands()


def main() -> None:
    app(prog_name="mamcrawler")


if __name__ == "__main__":
    sys.exit(main())
