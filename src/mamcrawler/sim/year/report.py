"""The comparison table (80 columns) and the ratio/points chart (one self-contained HTML
page with inline SVG) of a simulated year."""

from __future__ import annotations

import html

from .run import REQUEST_BUDGET_PER_DAY, Outcome

LABEL_W, COL_W = 32, 16


def _row(label: str, values: list[str]) -> str:
    return f"{label:<{LABEL_W}}" + "".join(f"{v:>{COL_W}}" for v in values)


def table(outcomes: list[Outcome], seed: int, days: int,
          budget: int = REQUEST_BUDGET_PER_DAY) -> str:
    """The table the issue asks for, one column per policy; lines at most 80 wide."""
    o = outcomes

    def each(fn) -> list[str]:
        return [fn(x) for x in o]

    lines = [f"A simulated {days}-day year, seed {seed}",
             _row("", [x.policy for x in o]), "-" * (LABEL_W + COL_W * len(o)),
             _row("days below the ratio floor", each(lambda x: f"{x.floor_days}")),
             _row("lowest ratio", each(lambda x: f"{x.lowest_ratio:.2f}")),
             _row("days without VIP, points enough", each(lambda x: f"{x.vip_lapse_days}")),
             _row("hit-and-runs", each(lambda x: f"{x.hit_and_runs}")),
             _row("points lost at the cap", each(lambda x: f"{x.points_lost:,.0f}")),
             _row("wanted books acquired", each(
                 lambda x: f"{x.pct(x.acquired, x.wanted):.0f}% of {x.wanted}")),
             _row("  acquired free", each(
                 lambda x: f"{x.pct(x.acquired_free, x.acquired):.0f}%")),
             _row("  free while wanted, got free", each(
                 lambda x: f"{x.pct(x.free_while_wanted_got_free, x.free_while_wanted):.0f}%"
                           f" of {x.free_while_wanted}")),
             _row("  free any day of year, got free", each(
                 lambda x: f"{x.pct(x.ever_free_acquired_free, x.ever_free):.0f}% of "
                           f"{x.ever_free}")),
             _row("median days, wanted to library", each(
                 lambda x: "-" if x.median_days_to_library is None
                 else f"{x.median_days_to_library:.1f}")),
             _row(f"requests/day max/med (<{budget:,})", each(
                 lambda x: f"{x.requests_max}/{x.requests_median:.0f}"))]
    notes = [f"{x.policy}: {x.notes}" for x in o if x.notes]
    return "\n".join(lines + notes)


def chart_html(outcomes: list[Outcome], seed: int) -> str:
    """Ratio and points per day for each policy, as one HTML page with inline SVG."""
    colours = ("#1f77b4", "#d62728", "#2ca02c")
    parts = [f"<!doctype html><meta charset='utf-8'><title>sim year, seed {seed}</title>",
             "<body style='font-family:sans-serif'>",
             f"<h1>A simulated year, seed {seed}</h1>"]
    for index, name in ((0, "ratio"), (1, "bonus points")):
        top = max((d[index] for x in outcomes for d in x.daily if d[index] < 1e9), default=1)
        top = max(top, 1e-9)
        parts.append(f"<h2>{name}</h2><svg width='760' height='260' "
                     "style='border:1px solid #ccc'>")
        for colour, x in zip(colours, outcomes, strict=False):
            n = max(1, len(x.daily) - 1)
            points = " ".join(f"{20 + 720 * i / n:.1f},{240 - 220 * min(d[index], top) / top:.1f}"
                              for i, d in enumerate(x.daily))
            parts.append(f"<polyline fill='none' stroke='{colour}' points='{points}'/>")
        parts.append(f"<text x='24' y='16'>max {top:,.2f}</text></svg>")
    parts.append("<p>" + " ".join(f"<span style='color:{c}'>&#9632; {html.escape(x.policy)}"
                                  "</span>" for c, x in zip(colours, outcomes, strict=False)))
    return "\n".join(parts) + "</p></body>"
