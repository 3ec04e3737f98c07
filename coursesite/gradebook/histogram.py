"""Histograms of percents drawn as inline SVG, so that a page shows a distribution without an
image service, a script or anything loaded from another host.

Ten bins of ten points each (0-10, ..., 90-100); a bin holds its lower bound, and 100 goes to the
last bin. The drawing is accessible: a ``<title>`` and a ``<desc>`` say what it shows and list
every bin's count, and each bar carries its own ``<title>``. Every text written is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

BINS = 10
WIDTH, HEIGHT = 320, 170
# Room for the count labels on the left and the percent labels and axis title below.
LEFT, RIGHT, TOP, BOTTOM = 34, 14, 14, 40
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
BAR_GAP = 2


def bin_counts(percents: Iterable[Decimal | float | int]) -> list[int]:
    """How many percents fall in each of the ten bins; values outside 0-100 go to the end bins."""
    counts = [0] * BINS
    for percent in percents:
        # Through str, so that a float such as 70.0 or 69.99 lands where it reads.
        value = Decimal(str(percent))
        counts[max(0, min(BINS - 1, int(value // 10)))] += 1
    return counts


def bin_label(index: int) -> str:
    return f"{index * 10}\N{EN DASH}{index * 10 + 10}%"


def _text(x: float, y: float, text: str, *, anchor: str = "middle") -> str:
    return (
        f'<text x="{x:g}" y="{y:g}" text-anchor="{anchor}" font-size="10" '
        f'fill="currentColor">{escape(text)}</text>'
    )


def _bars(counts: list[int]) -> list[str]:
    highest = max(counts) or 1
    slot = PLOT_WIDTH / BINS
    parts = []
    for index, count in enumerate(counts):
        height = PLOT_HEIGHT * count / highest
        x, y = LEFT + index * slot + BAR_GAP / 2, TOP + PLOT_HEIGHT - height
        label = f"{bin_label(index)}: {count}"
        parts.append(
            f'<rect class="bar" x="{x:g}" y="{y:g}" width="{slot - BAR_GAP:g}" '
            f'height="{height:g}"><title>{escape(label)}</title></rect>'
        )
        if count:
            parts.append(_text(x + (slot - BAR_GAP) / 2, y - 2, str(count)))
    return parts


def _axes(highest: int, unit: str) -> list[str]:
    bottom, slot = TOP + PLOT_HEIGHT, PLOT_WIDTH / BINS
    parts = [
        f'<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{LEFT + PLOT_WIDTH}" y2="{bottom}" '
        'stroke="currentColor"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" '
        'stroke="currentColor"/>',
        _text(LEFT - 4, bottom + 3, "0", anchor="end"),
        _text(LEFT - 4, TOP + 8, str(highest), anchor="end"),
    ]
    for tick in range(0, BINS + 1, 2):
        parts.append(_text(LEFT + tick * slot, bottom + 13, str(tick * 10)))
    parts.append(_text(LEFT + PLOT_WIDTH / 2, HEIGHT - 6, f"percent (bar height: {unit})"))
    return parts


def histogram_svg(
    percents: Iterable[Decimal | float | int], *, title: str, ident: str, unit: str = "students"
) -> str:
    """An SVG document of the distribution of ``percents``.

    ``title`` names the chart for screen readers and as a tooltip; ``ident`` makes the ids of
    its title and description unique on the page; ``unit`` is what a bar counts.
    """
    counts = bin_counts(percents)
    total = sum(counts)
    described = (
        "; ".join(f"{bin_label(index)}: {count}" for index, count in enumerate(counts))
        if total
        else "no scores yet"
    )
    title_id, desc_id = quoteattr(f"{ident}-title"), quoteattr(f"{ident}-desc")
    return "".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="histogram" role="img" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
            f"aria-labelledby={title_id} aria-describedby={desc_id}>",
            f"<title id={title_id}>{escape(title)}</title>",
            f"<desc id={desc_id}>{escape(f'{unit.capitalize()} counted: {total}. {described}.')}"
            "</desc>",
            *_bars(counts),
            "" if total else _text(LEFT + PLOT_WIDTH / 2, TOP + PLOT_HEIGHT / 2, "no scores yet"),
            *_axes(max(counts), unit),
            "</svg>",
        ]
    )
