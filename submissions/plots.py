"""A hand-in's training curve drawn as inline SVG, from the numbers its autograder reported.

The autograders show the curve a hand-in's training reported inside a test's output, as a line
of numbers (A1: ``Loss per epoch (as your train() reported it): 2.31 0.42 ...``; A4:
``training loss every 3 epochs (300 epochs): ...``). ``training_curves`` reads those lines back:
a line naming ``loss`` or ``accuracy`` ``per epoch`` (or ``every N epochs``), a colon, then
numbers up to the first word that is not one (``...``, ``(120 epochs)``). A value that is not a
finite number (``nan``, ``inf``, ``?``) leaves a gap in the line and is said in the description.

``curve_svg`` draws one curve: epochs along the bottom, the loss on the left axis and, when the
output reported it too, the accuracy on the right axis, each with ticks at round values. The
two lines differ in dash and marker as well as colour. The drawing says what it shows in a
``<title>`` and a ``<desc>`` (first and last values, lowest loss), and every text written is
escaped, since the numbers' labels come from output a hand-in influenced.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

WIDTH, HEIGHT = 640, 300
# Room for the tick labels and axis titles on both sides and below, and the legend above.
LEFT, RIGHT, TOP, BOTTOM = 62, 62, 34, 48
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
MAX_POINTS = 2000
TICKS = 5

SERIES_LINE = re.compile(
    r"^[^\n:]*?\b(?P<what>loss|accuracy)\s+(?:per epoch|every (?P<step>\d{1,6}) epochs)"
    r"[^\n:]*:[ \t]*(?P<values>[^\n]*)$",
    re.IGNORECASE | re.MULTILINE,
)
NOT_A_NUMBER = ("?",)
END = object()  # a word that ends the numbers


@dataclass(frozen=True)
class Series:
    """Values per epoch; ``None`` where the output said something that is not a finite number."""

    epochs: tuple[int, ...]
    values: tuple[float | None, ...]

    @property
    def finite(self) -> list[tuple[int, float]]:
        return [(e, v) for e, v in zip(self.epochs, self.values, strict=True) if v is not None]


@dataclass(frozen=True)
class Curve:
    """One training run's curve: its loss and, when reported, its accuracy per epoch."""

    loss: Series | None
    accuracy: Series | None
    tests: tuple[str, ...] = field(default=(), compare=False)


def _number(word: str) -> float | object | None:
    """A finite float, ``None`` for a value that is not a finite number, ``END`` for a word."""
    if word in NOT_A_NUMBER:
        return None
    try:
        value = float(word)
    except ValueError:
        return END
    return value if math.isfinite(value) else None


def _series(values: str, step: int) -> Series | None:
    parsed: list[float | None] = []
    for word in values.split()[:MAX_POINTS]:
        value = _number(word.rstrip(","))
        if value is END:
            break
        parsed.append(value)  # type: ignore[arg-type]
    if not parsed:
        return None
    return Series(tuple(1 + step * index for index in range(len(parsed))), tuple(parsed))


def curve_of(output: str) -> Curve | None:
    """The curve one test's output reports, or ``None`` when it reports none."""
    found: dict[str, Series] = {}
    for match in SERIES_LINE.finditer(output):
        what = match["what"].lower()
        series = _series(match["values"], int(match["step"] or 1) or 1)
        if series is not None and what not in found:
            found[what] = series
    if not found:
        return None
    return Curve(loss=found.get("loss"), accuracy=found.get("accuracy"))


def training_curves(outputs: Iterable[tuple[str, str]]) -> list[Curve]:
    """The distinct curves reported in the outputs of the tests ``(name, output)``, in order; a
    curve that several tests report (one training run, scored twice) is drawn once."""
    curves: list[Curve] = []
    for name, output in outputs:
        curve = curve_of(output)
        if curve is None:
            continue
        for index, seen in enumerate(curves):
            if seen == curve:
                curves[index] = Curve(seen.loss, seen.accuracy, (*seen.tests, name))
                break
        else:
            curves.append(Curve(curve.loss, curve.accuracy, (name,)))
    return curves


def nice_ticks(low: float, high: float, count: int = TICKS) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten apart) from at most ``low`` to at least
    ``high``, about ``count`` of them."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0, 1.0]
    if high <= low:
        spread = abs(low) or 1.0
        low, high = low - spread / 2, high + spread / 2
    rough = (high - low) / count
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if (high - low) / (m * power) <= count)
    first = math.floor(low / step) * step
    ticks = [first]
    while ticks[-1] < high - step * 1e-9:
        ticks.append(first + step * len(ticks))
    return [round(tick, 12) for tick in ticks]


def epoch_ticks(first: int, last: int) -> list[int]:
    """Whole epochs a round number apart, from at most ``first`` to at least ``last``."""
    if last <= first:
        return [first]
    ticks = nice_ticks(first, last, 6)
    step = max(1, round(ticks[1] - ticks[0]))
    return list(range(first - first % step, last + step, step))


def shown(value: float) -> str:
    return f"{value:.4g}"


class _Scale:
    def __init__(self, low: float, high: float, size: float, start: float, *, flip: bool) -> None:
        self.low, self.high = low, high if high > low else low + 1
        self.size, self.start, self.flip = size, start, flip

    def __call__(self, value: float) -> float:
        fraction = (value - self.low) / (self.high - self.low)
        return self.start + self.size * ((1 - fraction) if self.flip else fraction)


def _text(x: float, y: float, text: str, *, anchor: str = "middle", extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="12" '
        f'fill="currentColor"{extra}>{escape(text)}</text>'
    )


def _line(x1: float, y1: float, x2: float, y2: float, *, faint: bool = False) -> str:
    opacity = ' stroke-opacity="0.25"' if faint else ""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
        f'stroke="currentColor"{opacity}/>'
    )


LOSS_STYLE = 'class="loss" stroke="#0b5cad" fill="none" stroke-width="2"'
ACCURACY_STYLE = (
    'class="accuracy" stroke="#b04a00" fill="none" stroke-width="2" stroke-dasharray="6 4"'
)


def _paths(series: Series, x: _Scale, y: _Scale, style: str, marker: str) -> list[str]:
    """The series as polylines broken at its gaps, with a marker on each point."""
    parts, run = [], []
    for epoch, value in (*zip(series.epochs, series.values, strict=True), (0, None)):
        if value is not None:
            run.append(f"{x(epoch):.1f},{y(value):.1f}")
            continue
        if len(run) > 1:
            parts.append(f'<polyline {style} points="{" ".join(run)}"/>')
        run = []
    if len(series.finite) <= 60:  # markers on a long curve would only blur it
        for epoch, value in series.finite:
            cx, cy = x(epoch), y(value)
            if marker == "circle":
                parts.append(f'<circle {style} cx="{cx:.1f}" cy="{cy:.1f}" r="3"/>')
            else:
                parts.append(
                    f'<rect {style} x="{cx - 3:.1f}" y="{cy - 3:.1f}" width="6" height="6"/>'
                )
    return parts


def describe(curve: Curve) -> str:
    """The curve in words, for readers who do not see the drawing."""
    sentences = []
    for label, series in (("Loss", curve.loss), ("Accuracy", curve.accuracy)):
        if series is None:
            continue
        points = series.finite
        if not points:
            sentences.append(f"{label}: no finite values.")
            continue
        (first_epoch, first), (last_epoch, last) = points[0], points[-1]
        sentence = (
            f"{label} went from {shown(first)} at epoch {first_epoch} to {shown(last)} at epoch "
            f"{last_epoch}"
        )
        if label == "Loss":
            best_epoch, best = min(points, key=lambda point: point[1])
            sentence += f"; lowest {shown(best)} at epoch {best_epoch}"
        gaps = len(series.values) - len(points)
        if gaps:
            sentence += f"; {gaps} value{'s' if gaps != 1 else ''} not a finite number (nan or inf)"
        sentences.append(sentence + ".")
    return " ".join(sentences)


def curve_svg(curve: Curve, *, title: str, ident: str) -> str:
    """The curve as an ``<svg>`` element; ``ident`` makes its ids unique on the page."""
    every = [s for s in (curve.loss, curve.accuracy) if s is not None]
    epochs = [epoch for series in every for epoch in series.epochs] or [1]
    x_ticks = epoch_ticks(min(epochs), max(epochs))
    x = _Scale(x_ticks[0], max(x_ticks[-1], max(epochs)), PLOT_WIDTH, LEFT, flip=False)
    bottom = TOP + PLOT_HEIGHT
    parts = [_line(LEFT, bottom, LEFT + PLOT_WIDTH, bottom)]
    for epoch in x_ticks:
        parts += [
            _line(x(epoch), bottom, x(epoch), bottom + 5),
            _text(x(epoch), bottom + 18, str(epoch)),
        ]
    parts.append(_text(LEFT + PLOT_WIDTH / 2, HEIGHT - 8, "Epoch"))
    legend = []
    for series, side, style, marker, label in (
        (curve.loss, "left", LOSS_STYLE, "circle", "Loss"),
        (curve.accuracy, "right", ACCURACY_STYLE, "square", "Accuracy"),
    ):
        if series is None:
            continue
        values = [value for _, value in series.finite] or [0.0]
        ticks = nice_ticks(min(values), max(values))
        y = _Scale(ticks[0], ticks[-1], PLOT_HEIGHT, TOP, flip=True)
        edge = LEFT if side == "left" else LEFT + PLOT_WIDTH
        out = -1 if side == "left" else 1
        parts.append(_line(edge, TOP, edge, bottom))
        for tick in ticks:
            parts.append(_line(edge, y(tick), edge + 5 * out, y(tick)))
            if side == "left":
                parts.append(_line(LEFT, y(tick), LEFT + PLOT_WIDTH, y(tick), faint=True))
            anchor = "end" if side == "left" else "start"
            parts.append(_text(edge + 8 * out, y(tick) + 4, f"{tick:g}", anchor=anchor))
        middle = TOP + PLOT_HEIGHT / 2
        turn = -90 if side == "left" else 90
        axis_x = 14 if side == "left" else WIDTH - 14
        parts.append(
            _text(axis_x, middle, label, extra=f' transform="rotate({turn} {axis_x} {middle:.1f})"')
        )
        parts += _paths(series, x, y, style, marker)
        legend.append((label, style))
    for index, (label, style) in enumerate(legend):
        lx, ly = LEFT + index * 110, TOP - 18
        parts.append(f'<line {style} x1="{lx}" y1="{ly}" x2="{lx + 24}" y2="{ly}"/>')
        parts.append(_text(lx + 30, ly + 4, label, anchor="start"))
    title_id, desc_id = f"{ident}-title", f"{ident}-desc"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="curve" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby={quoteattr(f"{title_id} {desc_id}")} '
        f"aria-label={quoteattr(title)}>"
        f"<title id={quoteattr(title_id)}>{escape(title)}</title>"
        f"<desc id={quoteattr(desc_id)}>{escape(describe(curve))}</desc>"
        f"{''.join(parts)}</svg>"
    )


def curve_title(curve: Curve, names: Sequence[str] = ()) -> str:
    """What the drawing shows and which tests reported it."""
    shows = " and ".join(
        label for label, series in (("loss", curve.loss), ("accuracy", curve.accuracy)) if series
    )
    tests = names or curve.tests
    return f"Training {shows} per epoch" + (f", as reported in {', '.join(tests)}" if tests else "")
