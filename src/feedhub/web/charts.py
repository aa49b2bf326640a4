"""Small inline SVG charts rendered on the server.

The admin health pages show fetch durations, sizes and new entries as tiny bar
charts. They are plain SVG markup built here (no chart library, no CDN, no
script), so they pass the strict Content-Security-Policy and print fine. Every
bar carries a ``<title>`` so hovering shows the exact value, and the whole
chart has an accessible label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Fill colours as presentation attributes (not inline styles, which CSP forbids);
# admin.css may override them through the class names.
KIND_FILLS = {
    "ok": "#2f7d32",
    "not_modified": "#7a9cc6",
    "unchanged": "#7a9cc6",
    "moved": "#c78a1b",
    "error": "#c62828",
    "gone": "#6d1b1b",
    "": "#5a6b7d",
}


@dataclass(frozen=True)
class Bar:
    value: float
    label: str  # shown in the tooltip: "12:05 · 200"
    kind: str = ""  # class name suffix and colour: ok, error, not_modified …


def _fmt(value: float) -> str:
    if value == int(value):
        return str(int(value))
    return f"{value:.1f}"


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    unit: str = "",
    width: int = 320,
    height: int = 64,
) -> Markup:
    """Bars left to right (oldest first), scaled to the largest value."""
    label = escape(title)
    if not bars:
        return Markup(
            f'<svg class="chart chart-empty" role="img" aria-label="{label}" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
            f"<title>{label}</title></svg>"
        )
    top = max((bar.value for bar in bars), default=0.0) or 1.0
    gap = 1 if len(bars) < width // 3 else 0
    slot = width / len(bars)
    bar_width = max(slot - gap, 0.5)
    parts = [
        f'<svg class="chart" role="img" aria-label="{label}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" preserveAspectRatio="none">',
        f"<title>{label}</title>",
        f'<line class="chart-axis" x1="0" y1="{height - 0.5}" x2="{width}" '
        f'y2="{height - 0.5}" stroke="#999" stroke-width="1"/>',
    ]
    for index, bar in enumerate(bars):
        value = max(bar.value, 0.0)
        bar_height = (value / top) * (height - 2)
        if value > 0:
            bar_height = max(bar_height, 1.0)
        x = index * slot
        y = height - 1 - bar_height
        kind = bar.kind if bar.kind in KIND_FILLS else ""
        tip = escape(f"{bar.label}: {_fmt(value)}{(' ' + unit) if unit else ''}")
        parts.append(
            f'<rect class="bar bar-{kind or "plain"}" x="{x:.2f}" y="{y:.2f}" '
            f'width="{bar_width:.2f}" height="{bar_height:.2f}" fill="{KIND_FILLS[kind]}">'
            f"<title>{tip}</title></rect>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def ratio_bar(part: int, total: int, *, title: str, width: int = 120, height: int = 10) -> Markup:
    """A single horizontal bar filled to ``part / total`` (e.g. the 304 ratio)."""
    share = (part / total) if total else 0.0
    filled = share * width
    label = escape(f"{title}: {part}/{total} ({share:.0%})")
    return Markup(
        f'<svg class="chart ratio" role="img" aria-label="{label}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}"><title>{label}</title>'
        f'<rect class="ratio-bg" x="0" y="0" width="{width}" height="{height}" fill="#dde3ea"/>'
        f'<rect class="ratio-fill" x="0" y="0" width="{filled:.2f}" height="{height}" '
        f'fill="#7a9cc6"/></svg>'
    )
