"""PNG charts of statistics, drawn with matplotlib's Agg renderer and no pyplot.

Each chart is its own Figure on its own FigureCanvasAgg, so nothing global (pyplot's current
figure, the default backend) is read or changed. Matplotlib does not promise that drawing in
several threads at once is safe, and drawing holds the GIL anyway, so one lock serialises it;
callers run these functions with asyncio.to_thread to keep the event loop free. Matplotlib is
imported on the first chart, not at start-up (it is the heaviest import of the bot).
"""

from __future__ import annotations

import io
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_BARS = 15
WIDTH = 8.0
DPI = 110
COLOUR = "#1f5fa8"
FONT = "DejaVu Sans"
"""Ships with matplotlib and has every Albanian letter (ë, ç)."""
_TEXT = {"fontfamily": FONT, "parse_math": False}
"""Text drawn as given: a "$" in a name must not start mathtext."""
_DRAWING = threading.Lock()


def capped(
    items: list[tuple[str, int]], limit: int = MAX_BARS, other_label: str = "…"
) -> list[tuple[str, int]]:
    """At most `limit` items: the first limit-1 as given, the rest summed under `other_label`."""
    if len(items) <= limit:
        return list(items)
    kept = list(items[: limit - 1])
    return [*kept, (other_label, sum(count for _label, count in items[limit - 1 :]))]


def _figure(height: float) -> Figure:
    """A blank figure attached to its own Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    """The figure rendered as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _empty(title: str, empty_label: str) -> bytes:
    """A small PNG with the title and a note that there is nothing to show."""
    figure = _figure(3.0)
    figure.suptitle(title, **_TEXT)
    figure.text(0.5, 0.5, empty_label, ha="center", va="center", **_TEXT, size=14, color="grey")
    return _png(figure)


def _draw_bars(figure: Figure, items: list[tuple[str, int]], horizontal: bool) -> None:
    """Bars with their value written at the end, biggest item at the top or the left."""
    from matplotlib.ticker import MaxNLocator

    axes = figure.add_subplot()
    labels = [label for label, _count in items]
    counts = [count for _label, count in items]
    positions = list(range(len(items)))
    if horizontal:
        bars = axes.barh(positions, counts, color=COLOUR)
        axes.set_yticks(positions, labels, **_TEXT)
        axes.invert_yaxis()
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.margins(x=0.12)
    else:
        bars = axes.bar(positions, counts, color=COLOUR)
        axes.set_xticks(positions, labels, **_TEXT, rotation=45, ha="right")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.margins(y=0.12)
    axes.bar_label(bars, padding=3, fontfamily=FONT)
    axes.spines[["top", "right"]].set_visible(False)


def bar_chart(
    title: str,
    items: list[tuple[str, int]],
    *,
    horizontal: bool = True,
    other_label: str = "…",
    empty_label: str = "No data",
) -> bytes:
    """A bar chart as PNG bytes; past MAX_BARS items the rest become one `other_label` bar."""
    with _DRAWING:
        if not items:
            return _empty(title, empty_label)
        shown = capped(items, MAX_BARS, other_label)
        height = 1.6 + 0.38 * len(shown) if horizontal else 5.0
        figure = _figure(height)
        figure.suptitle(title, **_TEXT)
        _draw_bars(figure, shown, horizontal)
        return _png(figure)


def line_chart(title: str, items: list[tuple[str, int]], *, empty_label: str = "No data") -> bytes:
    """A monthly trend as PNG bytes: one point per ("YYYY-MM", count), in the order given."""
    from matplotlib.ticker import MaxNLocator

    with _DRAWING:
        if not items:
            return _empty(title, empty_label)
        figure = _figure(4.5)
        figure.suptitle(title, **_TEXT)
        axes = figure.add_subplot()
        positions = list(range(len(items)))
        axes.plot(positions, [count for _month, count in items], marker="o", color=COLOUR)
        step = max(1, len(items) // 12)
        axes.set_xticks(
            positions[::step],
            [month for month, _count in items][::step],
            **_TEXT,
            rotation=45,
            ha="right",
        )
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylim(bottom=0)
        axes.grid(axis="y", alpha=0.3)
        axes.spines[["top", "right"]].set_visible(False)
        return _png(figure)


PALETTE = ("#1f5fa8", "#e07b39", "#3a9a5b", "#c0392b", "#8e5ea2", "#7f8c8d", "#d4a017", "#17a2b8")
"""One colour per poll option (a poll has at most eight)."""


def _stacked(axes, title: str, options: list[str], rows: list[tuple[str, list[int]]]) -> None:
    """One horizontal bar per segment value, split by option (colours as in the first panel)."""
    from matplotlib.ticker import MaxNLocator

    positions = list(range(len(rows)))
    left = [0] * len(rows)
    for index in range(len(options)):
        values = [counts[index] for _label, counts in rows]
        axes.barh(
            positions,
            values,
            left=left,
            color=PALETTE[index % len(PALETTE)],
        )
        left = [a + b for a, b in zip(left, values, strict=True)]
    for position, total in zip(positions, left, strict=True):
        axes.text(total, position, f" {total}", va="center", fontfamily=FONT)
    axes.set_yticks(positions, [label for label, _counts in rows], **_TEXT)
    axes.invert_yaxis()
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlim(0, max(left) * 1.12)
    axes.set_title(title, loc="left", **_TEXT)
    axes.spines[["top", "right"]].set_visible(False)


def _capped_rows(
    rows: list[tuple[str, list[int]]], other_label: str
) -> list[tuple[str, list[int]]]:
    """At most MAX_BARS segment rows; the rest summed per option under `other_label`."""
    if len(rows) <= MAX_BARS:
        return list(rows)
    rest = rows[MAX_BARS - 1 :]
    summed = [sum(counts[i] for _label, counts in rest) for i in range(len(rest[0][1]))]
    return [*rows[: MAX_BARS - 1], (other_label, summed)]


def poll_chart(
    title: str,
    options: list[str],
    totals: list[int],
    panels: list[tuple[str, list[tuple[str, list[int]]]]],
    *,
    other_label: str = "…",
    empty_label: str = "No data",
) -> bytes:
    """A poll's results as one PNG: votes per option, then one stacked panel per segment."""
    from matplotlib.ticker import MaxNLocator

    with _DRAWING:
        if not sum(totals):
            return _empty(title, empty_label)
        shown = [(name, _capped_rows(rows, other_label)) for name, rows in panels if rows]
        heights = [1.0 + 0.38 * len(options)] + [1.0 + 0.38 * len(rows) for _n, rows in shown]
        figure = _figure(1.0 + sum(heights))
        figure.suptitle(title, **_TEXT)
        grid = figure.add_gridspec(len(heights), 1, height_ratios=heights)
        first = figure.add_subplot(grid[0])
        positions = list(range(len(options)))
        colours = [PALETTE[i % len(PALETTE)] for i in positions]
        bars = first.barh(positions, totals, color=colours)
        first.set_yticks(positions, options, **_TEXT)
        first.invert_yaxis()
        first.xaxis.set_major_locator(MaxNLocator(integer=True))
        first.margins(x=0.12)
        first.bar_label(bars, padding=3, fontfamily=FONT)
        first.spines[["top", "right"]].set_visible(False)
        for number, (name, rows) in enumerate(shown, start=1):
            _stacked(figure.add_subplot(grid[number]), name, options, rows)
        return _png(figure)
