"""Charts rendered on the server as SVG: no JavaScript library, nothing from a CDN.

Each function takes figures already computed by server/stats and returns an `<svg>` string
that the pages insert as it is, and that prints as sharply as the text around it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

W, H = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 40, 56
PALETTE = ("#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#64748b")
SCORE_COLOURS = {1: "#b91c1c", 2: "#f97316", 3: "#facc15", 4: "#84cc16", 5: "#16a34a"}


def _nice_max(v: float) -> float:
    """The top of the axis: four round steps (1, 2, 2.5 or 5 × a power of ten) that reach `v`."""
    if v <= 0:
        return 4.0
    step = v / 4
    exp = 10 ** math.floor(math.log10(step))
    for m in (1, 2, 2.5, 5, 10):
        if step <= m * exp:
            return 4 * m * exp
    return 40 * exp


def _fmt(v: float, unit: str) -> str:
    if unit == "min":
        return f"{v:.0f}" if v == int(v) else f"{v:.1f}"
    if unit == "%":
        return f"{v:.0f}%"
    return f"{v:,.0f}"


def _frame(title: str, ymax: float, unit: str, ylabel: str, kind: str) -> list[str]:
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{escape(kind)}" viewBox="0 0 {W} {H}" '
        f'role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="{LEFT}" y="22" font-size="15" font-weight="bold" fill="#111827">{escape(title)}</text>',
        f'<text x="{W - RIGHT}" y="22" text-anchor="end" fill="#6b7280">{escape(ylabel)}</text>',
    ]
    plot_h = H - TOP - BOTTOM
    for n in range(5):
        v = ymax * n / 4
        y = TOP + plot_h - plot_h * n / 4
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#6b7280">{_fmt(v, unit)}</text>')
    return out


def _width(text: str) -> float:
    """About how wide `text` is drawn at 12 px: a CJK character twice a Latin one."""
    return sum(12.0 if ord(ch) > 0x2E80 else 7.0 for ch in text)


def _fit(text: str, room: float) -> str:
    """`text`, cut with an ellipsis to fit `room` pixels (the whole name is in the tooltip)."""
    if _width(text) <= room:
        return text
    while text and _width(text) + 7.0 > room:
        text = text[:-1]
    return text + "…" if text else "…"


def _axis_labels(labels: Sequence[str], step: float, plot_h: float) -> list[str]:
    """The labels under the groups: every one when they fit, else every k-th, each cut to its room."""
    n = len(labels)
    every = max(1, math.ceil(n / 16))
    room = step * every - 2
    out = []
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = LEFT + (i + 0.5) * step
        first, _, rest = label.partition(" ")
        if _width(label) > room and rest:
            # "1号窗口 市场监管": a name too wide for its group on two lines, each cut to the room.
            shown = (f'<tspan x="{x:.1f}">{escape(_fit(first, room))}</tspan>'
                     f'<tspan x="{x:.1f}" dy="14">{escape(_fit(rest, room))}</tspan>')
        else:
            shown = escape(_fit(label, room))
        out.append(
            f'<text class="label" x="{x:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" fill="#374151">'
            f"{shown}<title>{escape(label)}</title></text>"
        )
    return out


def _legend(names: Sequence[str], colours: Sequence[str]) -> list[str]:
    out, x = [], LEFT
    for name, colour in zip(names, colours):
        out.append(f'<rect x="{x}" y="{H - 16}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{x + 14}" y="{H - 7}" fill="#374151">{escape(name)}</text>')
        x += 24 + 8 * len(name) + 6 * sum(1 for ch in name if ord(ch) > 0x2E80)
    return out


def _plot(
    title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], unit: str, ylabel: str, kind: str
) -> tuple[list[str], float, float, float, int]:
    """A chart over labels begun: the SVG so far, the top of its scale, the plot's width and
    height, and how many labels share the width."""
    values = [v for _, vs in series for v in vs if v is not None]
    ymax = _nice_max(max(values, default=0.0))
    return _frame(title, ymax, unit, ylabel, kind), ymax, W - LEFT - RIGHT, H - TOP - BOTTOM, max(1, len(labels))


def bars(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    unit: str = "",
    ylabel: str = "",
    kind: str = "bars",
    legend: bool | None = None,
) -> str:
    """Grouped vertical bars: one group per label, one bar per series (named below when there
    are several, or when `legend`)."""
    out, ymax, plot_w, plot_h, n = _plot(title, labels, series, unit, ylabel, kind)
    group_w = plot_w / n
    bar_w = max(2.0, group_w * 0.8 / max(1, len(series)))
    for i, label in enumerate(labels):
        gx = LEFT + i * group_w + group_w * 0.1
        for j, (name, vs) in enumerate(series):
            v = vs[i] if i < len(vs) else None
            if v is None:
                continue
            h = plot_h * v / ymax
            x, y = gx + j * bar_w, TOP + plot_h - h
            out.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w - 1:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(label)} {escape(name)}: {_fmt(v, unit)}</title></rect>'
            )
    out += _axis_labels(labels, group_w, plot_h)
    if legend or (legend is None and len(series) > 1):
        out += _legend([s for s, _ in series], PALETTE)
    out.append("</svg>")
    return "".join(out)


def lines(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    unit: str = "",
    ylabel: str = "",
    kind: str = "lines",
    legend: bool | None = None,
) -> str:
    """Lines over an ordered axis (hours of the day, days), one per series, with dots; a gap
    (None) breaks a line."""
    out, ymax, plot_w, plot_h, n = _plot(title, labels, series, unit, ylabel, kind)
    step = plot_w / n

    def xy(i: int, v: float) -> tuple[float, float]:
        return LEFT + (i + 0.5) * step, TOP + plot_h - plot_h * v / ymax

    for j, (name, vs) in enumerate(series):
        colour = PALETTE[j % len(PALETTE)]
        # A gap (None: the lunch break, an hour nobody came) breaks the line: no line drawn across it.
        runs: list[list[tuple[float, float]]] = [[]]
        for i, v in enumerate(vs):
            if v is None:
                runs.append([])
            else:
                runs[-1].append(xy(i, v))
        for pts in runs:
            if len(pts) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
                out.append(f'<polyline class="line" points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for i, v in enumerate(vs):
            if v is not None:
                x, y = xy(i, v)
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"><title>{escape(labels[i])} {escape(name)}: {_fmt(v, unit)}</title></circle>')
    out += _axis_labels(labels, step, plot_h)
    if legend is not False:  # lines are always named, unless told not to
        out += _legend([s for s, _ in series], PALETTE)
    out.append("</svg>")
    return "".join(out)


def stacked_share(title: str, counts: dict[int, int], names: dict[int, str], kind: str = "satisfaction") -> str:
    """One horizontal bar split by score (1 … 5), with the share of each."""
    total = sum(counts.values())
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{escape(kind)}" viewBox="0 0 {W} 150" role="img" '
        f'aria-label="{escape(title)}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="{LEFT}" y="22" font-size="15" font-weight="bold" fill="#111827">{escape(title)}</text>',
    ]
    x = float(LEFT)
    width = W - LEFT - RIGHT
    for score in (5, 4, 3, 2, 1):
        n = counts.get(score, 0)
        if not total or not n:
            continue
        w = width * n / total
        out.append(
            f'<rect class="bar" x="{x:.1f}" y="40" width="{w:.1f}" height="36" fill="{SCORE_COLOURS[score]}">'
            f"<title>{escape(names[score])}: {n} ({100 * n / total:.1f}%)</title></rect>"
        )
        if w > 40:
            out.append(f'<text x="{x + w / 2:.1f}" y="63" text-anchor="middle" fill="#111827">{100 * n / total:.0f}%</text>')
        x += w
    if not total:
        out.append(f'<text x="{LEFT}" y="63" fill="#6b7280">—</text>')
    lx = LEFT
    for score in (5, 4, 3, 2, 1):
        label = f"{names[score]} {counts.get(score, 0)}"
        out.append(f'<rect x="{lx}" y="100" width="10" height="10" fill="{SCORE_COLOURS[score]}"/>')
        out.append(f'<text x="{lx + 14}" y="109" fill="#374151">{escape(label)}</text>')
        lx += 30 + 7 * len(label) + 6 * sum(1 for ch in label if ord(ch) > 0x2E80)
    out.append("</svg>")
    return "".join(out)


def stacked_shares(
    title: str, rows: Sequence[tuple[str, dict[int, int]]], names: dict[int, str], kind: str = "satisfaction"
) -> str:
    """One horizontal bar per group (window, item, day…), each split by score (5 … 1) with the
    share of each: how the groups compare, whatever their size."""
    # Up to 25 groups a bar of 18 px each; more (a quarter by day) share 600 px, every k-th named.
    top, left = 40, 150
    pitch = 24.0 if len(rows) <= 25 else 600 / len(rows)
    bar_h = pitch * 0.75
    every = 1 if len(rows) <= 25 else math.ceil(len(rows) / 25)
    height = round(top + len(rows) * pitch + 44)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{escape(kind)}" viewBox="0 0 {W} {height}" role="img" '
        f'aria-label="{escape(title)}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="{LEFT}" y="22" font-size="15" font-weight="bold" fill="#111827">{escape(title)}</text>',
    ]
    width = W - left - RIGHT
    for n, (label, counts) in enumerate(rows):
        y = top + n * pitch
        total = sum(counts.values())
        mid = y + bar_h / 2 + 4
        if n % every == 0:
            out.append(
                f'<text class="label" x="{left - 6}" y="{mid:.1f}" text-anchor="end" fill="#374151">{escape(_fit(label, left - 10))}'
                f"<title>{escape(label)}</title></text>"
            )
        if not total:
            if every == 1:
                out.append(f'<text x="{left}" y="{mid:.1f}" fill="#6b7280">—</text>')
            continue
        x = float(left)
        for score in (5, 4, 3, 2, 1):
            c = counts.get(score, 0)
            if not c:
                continue
            w = width * c / total
            out.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{bar_h:.1f}" fill="{SCORE_COLOURS[score]}">'
                f"<title>{escape(label)} {escape(names[score])}: {c} ({100 * c / total:.1f}%)</title></rect>"
            )
            if w > 36 and bar_h >= 14:
                out.append(f'<text x="{x + w / 2:.1f}" y="{mid:.1f}" text-anchor="middle" fill="#111827">{100 * c / total:.0f}%</text>')
            x += w
    lx, ly = left, height - 16
    for score in (5, 4, 3, 2, 1):
        out.append(f'<rect x="{lx}" y="{ly}" width="10" height="10" fill="{SCORE_COLOURS[score]}"/>')
        out.append(f'<text x="{lx + 14}" y="{ly + 9}" fill="#374151">{escape(names[score])}</text>')
        lx += 30 + 7 * len(names[score]) + 6 * sum(1 for ch in names[score] if ord(ch) > 0x2E80)
    out.append("</svg>")
    return "".join(out)
