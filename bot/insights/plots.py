"""Charts for the admin page (bot/serve/admin.py), drawn with matplotlib into SVG.

matplotlib is imported only when a chart is drawn (it costs a second and ~40 MB), through
its object API and the SVG canvas alone, so no pyplot state or GUI backend is involved.
The same days always give the same bytes: a fixed hash salt for the element ids and no
date in the metadata, so a chart can be compared, cached and committed.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Sequence
from typing import Any

from bot.types import Day

# Colours with at least 4.5:1 contrast on white (WCAG AA), told apart by shape too:
# bars for volume, a solid line with dots and a dashed line with squares for the rates.
VOLUME = "#2f5f8f"
ABSTAINED = "#a34700"
DOWN = "#8a1c52"
INK = "#1f1f1f"
GRID = "#d0d0d0"
SALT = "faqbot-admin"
# rc_context changes matplotlib's global settings while it is open: one chart at a time.
_DRAWING = threading.Lock()


def rates(day: Day) -> tuple[float, float]:
    """The day's abstention rate and thumbs-down share, in % of its questions (NaN on a
    day without questions, which leaves a gap in the line rather than a false zero)."""
    if day.questions == 0:
        return float("nan"), float("nan")
    return 100.0 * day.abstained / day.questions, 100.0 * day.down / day.questions


def _label(day: str) -> str:
    try:
        return dt.date.fromisoformat(day).strftime("%d %b").lstrip("0")
    except ValueError:
        return day


def _ticks(n: int) -> list[int]:
    """About eight labelled days whatever the window (7, 30 or 90 days), the last included."""
    step = max(1, round(n / 8))
    return list(range(n - 1, -1, -step))[::-1]


def daily_svg(days: Sequence[Day]) -> bytes:
    """Two small charts stacked: questions per day (bars), and the share of each day's
    questions the assistant abstained on and that were voted down (lines)."""
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    style: dict[Any, Any] = {
        "svg.hashsalt": SALT,
        "svg.fonttype": "path",  # glyphs as paths: the same look without the fonts
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.edgecolor": GRID,
        "axes.labelcolor": INK,
        "xtick.color": INK,
        "ytick.color": INK,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with _DRAWING, matplotlib.rc_context():
        matplotlib.rcParams.update(style)
        figure = Figure(figsize=(7.2, 4.4), dpi=100, layout="constrained")
        FigureCanvasSVG(figure)
        volume, share = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
        _draw(volume, share, days)
        out = io.BytesIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def _draw(volume: Any, share: Any, days: Sequence[Day]) -> None:
    xs = list(range(len(days)))
    volume.set_title("Questions per day (UTC)", loc="left", color=INK, fontsize=10)
    share.set_title("Share of the day's questions, %", loc="left", color=INK, fontsize=10)
    for axes in (volume, share):
        axes.grid(axis="y", color=GRID, linewidth=0.6)
        axes.set_axisbelow(True)
    if not days or not any(d.questions for d in days):
        volume.text(0.5, 0.5, "No questions in this window", ha="center", va="center",
                    transform=volume.transAxes, color=INK)  # fmt: skip
    volume.bar(xs, [d.questions for d in days], color=VOLUME, width=0.8, label="questions")
    volume.set_ylim(bottom=0)
    volume.yaxis.get_major_locator().set_params(integer=True)
    abstained = [rates(d)[0] for d in days]
    down = [rates(d)[1] for d in days]
    dots = len(days) <= 31  # markers on a month; on 90 days they would merge into a band
    share.plot(xs, abstained, color=ABSTAINED, linewidth=1.6, marker="o" if dots else None,
               markersize=3, label="abstained")  # fmt: skip
    share.plot(xs, down, color=DOWN, linewidth=1.6, linestyle="--",
               marker="s" if dots else None, markersize=3, label="voted down")  # fmt: skip
    share.set_ylim(0, 100)
    share.set_yticks([0, 25, 50, 75, 100])
    # Above the plot, beside its title, so it never hides a line.
    share.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, ncols=2,
                 fontsize=8, borderaxespad=0.1)  # fmt: skip
    ticks = _ticks(len(days))
    share.set_xticks(ticks, [_label(days[i].day) for i in ticks])
    if days:
        share.set_xlim(-0.6, len(days) - 0.4)


def describe(days: Sequence[Day]) -> str:
    """The chart in one or two sentences, for its alt text."""
    asked = sum(d.questions for d in days)
    if not days or asked == 0:
        return "Chart of questions per day: no questions in this window."
    busiest = max(days, key=lambda d: d.questions)
    abstained = sum(d.abstained for d in days)
    down = sum(d.down for d in days)
    return (
        f"Chart of questions per day from {days[0].day} to {days[-1].day}: {asked} in all, "
        f"the most on {busiest.day} ({busiest.questions}). The assistant abstained on "
        f"{100 * abstained / asked:.0f}% of them and {100 * down / asked:.0f}% were voted "
        "down; the table below the chart has every day."
    )
