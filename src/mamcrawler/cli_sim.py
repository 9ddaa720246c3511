"""`mamcrawler sim year`: a year on the account, simulated (issue 13). The real services
and policies run against a simulated tracker and qBittorrent on a simulated clock, next to
two baselines, and the table says what each did to the account. `cli.py` registers it
with `register`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer


def register(sim_app: typer.Typer) -> None:
    sim_app.command("year")(sim_year)


def sim_year(
    days: Annotated[int, typer.Option(min=1, max=730, help="days to simulate")] = 365,
    seed: Annotated[int, typer.Option(help="the world's seed; the same seed, the same "
                                      "year")] = 1,
    start_ratio: Annotated[float, typer.Option(min=0.1, max=100,
                                               help="the account's ratio on day 1")] = 1.2,
    chart: Annotated[Path | None, typer.Option(
        help="also write the ratio and points chart to this HTML file")] = None,
) -> None:
    """Simulate DAYS on the account with our policies (your settings' defaults), "grab
    everything" and "free only", and print what each did to it (80 columns)."""
    from mamcrawler.sim.year.report import chart_html, table
    from mamcrawler.sim.year.run import run_year

    began = time.monotonic()

    def progress(policy: str, day: int) -> None:
        if day % 30 == 0 or day == days:
            typer.echo(f"  {policy}: day {day}/{days}", err=True)

    outcomes = run_year(seed=seed, days=days, start_ratio=start_ratio, progress=progress)
    typer.echo(table(outcomes, seed, days))
    if chart is not None:
        chart.write_text(chart_html(outcomes, seed), encoding="utf-8")
        typer.echo(f"chart: {chart}")
    typer.echo(f"simulated in {time.monotonic() - began:.0f} s", err=True)
