"""What the command line prints: jobs, settings and scans, readable from 80 columns up.

Nothing is cut: a terminal narrower than WIDE shows one block per job with its summary
wrapped under it; a wide one shows a table whose summary column wraps.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import datetime

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

WIDE = 120  # columns from which the jobs are a table
OUTCOME_STYLES = {"success": "green", "failed": "red", "interrupted": "red"}
MAX_SCHEDULE = 17  # longer crontab lines wrap inside their column


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "-"


def _outcome(outcome: str) -> Text:
    return Text(outcome, style=OUTCOME_STYLES.get(outcome, "yellow"))


def _next(status) -> str:
    return "paused" if status.paused else _when(status.next_run)


def _zone(statuses: Sequence) -> str:
    zones = {f"{s.next_run:%Z}" for s in statuses if s.next_run is not None} - {""}
    return f" (times in {zones.pop()})" if len(zones) == 1 else ""


def print_jobs(console: Console, statuses: Sequence) -> None:
    """Every job with its schedule, next run and last run (when, outcome, summary)."""
    if console.width >= WIDE:
        _jobs_table(console, statuses)
    else:
        _jobs_blocks(console, statuses)


def _jobs_table(console: Console, statuses: Sequence) -> None:
    table = Table(box=box.SIMPLE_HEAD, title=f"jobs{_zone(statuses)}", title_justify="left")
    table.add_column("job", no_wrap=True)
    table.add_column("schedule", max_width=MAX_SCHEDULE, overflow="fold")
    table.add_column("next run", no_wrap=True)
    table.add_column("last run", no_wrap=True)
    table.add_column("outcome", no_wrap=True)
    table.add_column("summary", overflow="fold", ratio=1)
    for st in statuses:
        last = st.last_run
        table.add_row(st.name, st.schedule, _next(st), _when(last.started_at if last else None),
                      _outcome(last.outcome) if last else "-",
                      (last.error or last.summary or "") if last else "")
    console.print(table)


def _jobs_blocks(console: Console, statuses: Sequence) -> None:
    """One block per job: name, schedule and next run on a line; the last run below it."""
    console.print(Text(f"jobs{_zone(statuses)}", style="bold"))
    name_width = max(len(st.name) for st in statuses) + 2
    for st in statuses:
        head = Text(st.name.ljust(name_width), style="bold")
        head.append(f"{st.schedule:<{MAX_SCHEDULE}} ")
        head.append(f"next {_next(st)}", style="dim" if st.paused else "")
        last = st.last_run
        if last is None:
            head.append("  never run", style="dim")
        console.print(head, overflow="fold")
        if last is not None:
            line = Text(f"last run {_when(last.started_at)}: ")
            line.append_text(_outcome(last.outcome))
            detail = last.error or last.summary
            if detail:
                line.append(f" - {detail}")
            console.print(Padding(line, (0, 0, 0, 2), expand=False), overflow="fold")


def print_settings(console: Console, rows: Iterable) -> None:
    """Each setting with its value (secrets already masked) and its source."""
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("variable", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("source", no_wrap=True)
    for row in rows:
        table.add_row(row.name, row.value, row.source)
    console.print(table)


def print_facts(console: Console, facts: Iterable[tuple[str, str]]) -> None:
    """`name: value` lines (values may hold markup), long values wrapped beside the name."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for name, value in facts:
        grid.add_row(f"{name}:", value)
    console.print(grid, highlight=False)


CHECK_MARKS = {True: ("ok", "green"), False: ("FAIL", "red"), None: ("skip", "dim")}


def print_checks(console: Console, checks: Iterable) -> None:
    """One line per connection check, its detail wrapped under itself."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, justify="right")
    grid.add_column(overflow="fold")
    for check in checks:
        word, style = ("todo", "yellow") if check.todo else CHECK_MARKS[check.ok]
        grid.add_row(Text(word, style=style), f"{check.name}: {check.detail}")
    console.print(grid, highlight=False)


def print_scan(console: Console, report) -> None:
    table = Table(box=box.SIMPLE_HEAD, title=f"library scan of {report.root}")
    table.add_column("books found", justify="right")
    for name in ("new", "changed", "unchanged", "missing"):
        table.add_column(name, justify="right")
    table.add_column("unreadable files", justify="right")
    table.add_column("files read", justify="right")
    table.add_row(*(str(n) for n in (report.books_found, report.new, report.changed,
                                      report.unchanged, len(report.missing),
                                      len(report.unreadable), report.files_read)))
    console.print(table)
    console.print(f"{report.elapsed_s:.1f} s; {report.moved} moved folders; "
                  f"{report.ignored} other files ignored", highlight=False)
    for folder in report.missing:
        console.print(f"[yellow]missing:[/yellow] {escape(str(folder))} (all files gone; "
                      "book kept, marked missing)", highlight=False, soft_wrap=True)
    if report.unreadable:
        unreadable = Table(box=box.SIMPLE_HEAD, title_style="red", title="unreadable files")
        unreadable.add_column("unreadable file (in the library folder)", overflow="fold")
        unreadable.add_column("reason", overflow="fold")
        for file, reason in report.unreadable:
            unreadable.add_row(os.path.relpath(file, report.root), reason)
        console.print(unreadable)
