"""A PNG of a municipality's satisfaction index per service; a suppressed service gets no bar.

Drawn like the statistics charts (bot/staff/services/charts.py: Agg canvas, no pyplot, the same
lock, matplotlib imported on the first chart); callers run it with asyncio.to_thread.
"""

from __future__ import annotations

from bot.staff.services import charts


def index_chart(title: str, items: list[tuple[str, float | None, str]], footnote: str) -> bytes:
    """Bars of 0-100 per service, each with its text at the end: (service, index, text); an
    index of None draws no bar, only the text ("< 10" for a suppressed service). `footnote` (the
    monitoring label) goes under the axes."""
    with charts._DRAWING:
        figure = charts._figure(2.2 + 0.45 * max(len(items), 1))
        figure.suptitle(title, **charts._TEXT)
        axes = figure.add_subplot()
        positions = list(range(len(items)))
        bars = axes.barh(positions, [value or 0.0 for _n, value, _t in items], color=charts.COLOUR)
        for bar, (_name, value, _text) in zip(bars, items, strict=True):
            bar.set_visible(value is not None)
        axes.bar_label(
            bars, labels=[text for _n, _v, text in items], padding=3, fontfamily=charts.FONT
        )
        axes.set_yticks(positions, [name for name, _v, _t in items], **charts._TEXT)
        axes.invert_yaxis()
        axes.set_xlim(0, 112)
        axes.set_xticks([0, 25, 50, 75, 100])
        axes.spines[["top", "right"]].set_visible(False)
        figure.supxlabel(footnote, size=8, color="#444444", wrap=True, **charts._TEXT)
        return charts._png(figure)
