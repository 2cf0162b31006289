"""Drawing with matplotlib for the pages: a figure in the pages' style, series, thresholds and
status dots, and the figure as a small inline SVG.

Thread safety: figures are ``matplotlib.figure.Figure`` objects drawn by the SVG canvas
explicitly; pyplot and its global figure registry are never used. The one global setting,
``svg.fonttype``, is set once when this module is imported and never changed afterwards
(``rc_context`` would change the process-wide settings for the duration of a drawing, which
races with drawings in other threads)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import matplotlib
import matplotlib.dates as mdates
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from monitoring.choices import CheckStatus

matplotlib.rcParams["svg.fonttype"] = "none"

MAX_POINTS = 60
LABEL_LENGTH = 28
# The legend sits right of the axes at 7 pt: about 0.06 inch per character in the pages' font.
LEGEND_MIN_INCHES = 1.55
LEGEND_INCHES_PER_CHARACTER = 0.064
WIDTH_INCHES = 6.4
HEIGHT_INCHES = 2.6
INK, MUTED, GRID = "#0f172a", "#475569", "#e2e8f0"
PALETTE = ("#1d4ed8", "#0891b2", "#7c3aed", "#ea580c", "#059669", "#db2777", "#ca8a04")
RED, AMBER, BLUE, GREY = "#dc2626", "#d97706", "#2563eb", "#94a3b8"
STATUS_COLOURS = {
    CheckStatus.OK: "#059669",
    CheckStatus.WARNING: AMBER,
    CheckStatus.CRITICAL: RED,
    CheckStatus.UNKNOWN: GREY,
}


def oldest_first(checks: Iterable[Any]) -> list[Any]:
    """The newest ``MAX_POINTS`` checks, oldest first."""
    ordered = sorted(checks, key=lambda c: (c.window_end, getattr(c, "pk", 0) or 0))
    return ordered[-MAX_POINTS:]


def label_safe(text: str, length: int = LABEL_LENGTH) -> str:
    """A name as matplotlib may show it: shortened, '$' kept from starting mathtext, and a
    leading underscore (which would hide it from the legend) padded."""
    text = str(text)
    if len(text) > length:
        text = text[: length - 1] + "…"
    text = text.replace("$", r"\$")
    return " " + text if text.startswith("_") else text


def text_width(labels: Sequence[str], per_character: float = 0.058) -> float:
    """Inches that the longest of ``labels`` needs at tick-label size, roughly."""
    return 0.3 + per_character * max((len(label) for label in labels), default=0)


def legend_width(labels: Sequence[str]) -> float:
    """Inches the legend on the right needs: its handles and padding, and its longest label at
    legend size in the page's font (wider than matplotlib's own, hence the generous width per
    character). Never less than the 1.55 inches short labels had, so that charts side by side
    keep the same plot width."""
    longest = max((len(label) for label in labels), default=0)
    return max(LEGEND_MIN_INCHES, 0.55 + LEGEND_INCHES_PER_CHARACTER * longest)


def figure_new(
    height: float = HEIGHT_INCHES,
    *,
    legend: bool | Sequence[str] = False,
    left: float | None = None,
    bottom: float | None = None,
):
    """A figure with one axes and fixed margins in inches (room for the title, the tick and
    axis labels, and a legend on the right). Fixed margins, not matplotlib's constrained
    layout: that measures every text twice and doubles the time a chart takes to draw.
    ``legend`` is the legend's labels (or True for short ones): the right margin is made wide
    enough for the longest, so that no label is cut off at the picture's edge."""
    fig = Figure(figsize=(WIDTH_INCHES, height))
    if legend is True:
        right = LEGEND_MIN_INCHES
    elif legend:
        right = legend_width(legend)
    else:
        right = 0.2
    margins = {
        "left": left or 0.62,
        "right": right,
        "bottom": bottom or 0.5,
        "top": 0.32,
    }
    fig.subplots_adjust(
        left=margins["left"] / WIDTH_INCHES,
        right=1 - margins["right"] / WIDTH_INCHES,
        bottom=margins["bottom"] / height,
        top=1 - margins["top"] / height,
    )
    fig.patch.set_visible(False)
    ax = fig.add_subplot()
    ax.patch.set_visible(False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(GREY)
    ax.tick_params(labelsize=7.5, colors=MUTED, length=3)
    ax.grid(axis="y", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    return fig, ax


def line_add(ax, points: Sequence[tuple[datetime, float]], index: int, label: str, marker=True):
    """The ``index``-th series, in the palette's ``index``-th colour. A lone point draws no
    line, so short series get markers (long ones do not: they would fatten the SVG)."""
    few = len(points) <= 12
    (line,) = ax.plot(
        [p[0] for p in points],
        [p[1] for p in points],
        color=PALETTE[index % len(PALETTE)],
        linewidth=1.6,
        marker="o" if marker and few else None,
        markersize=3,
        label=label,
    )
    line.set_gid(f"chart-series-{index}")
    return line


def status_dots_add(ax, points: Sequence[tuple[datetime, float, str]]) -> None:
    """A dot per value in the colour of its status (ok, warning, critical, unknown)."""
    dots = ax.scatter(
        [p[0] for p in points],
        [p[1] for p in points],
        s=12,
        c=[STATUS_COLOURS.get(p[2], GREY) for p in points],
        zorder=3,
    )
    dots.set_gid("chart-points")


def threshold_add(ax, value: float, label: str, colour: str) -> None:
    """A dashed horizontal line at ``value``."""
    line = ax.axhline(value, color=colour, linestyle="--", linewidth=1.1, label=label)
    line.set_gid(f"chart-threshold-{len(ax.lines)}")


def axes_finish(ax, title: str, xlabel: str, ylabel: str, *, dates=False, legend=False) -> None:
    """Title, axis labels, concise date ticks for a time axis, and the legend on the right."""
    ax.set_title(title, loc="left", fontsize=9.5, color=INK, fontweight="bold")
    ax.set_xlabel(xlabel, fontsize=8, color=MUTED)
    ax.set_ylabel(ylabel, fontsize=8, color=MUTED)
    if dates:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.xaxis.get_offset_text().set_fontsize(7)
    if legend:
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))


_AUTO_ID = re.compile(r'\sid="(?:[A-Za-z][A-Za-z0-9]*[._])+\d+"')
_OUR_ID = re.compile(r'\sid="chart-(series|bar|threshold|points)(?:-([a-z0-9]+))?"')
_GEOMETRY = re.compile(r'(\s(?:d|x|y|x1|x2|y1|y2|transform|width|height)=")([^"]*)(")')
_DECIMAL = re.compile(r"-?\d+\.\d{2,}")
_NO_ROTATION = re.compile(r'\stransform="rotate\(-?0 [^"]*\)"')
_STYLE = re.compile(r"<style[^>]*>.*?</style>\s*", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_FONT_FAMILY = re.compile(r"font-family: [^;\"]*;?\s*")
_SIZE = re.compile(r'<svg([^>]*?)\swidth="[^"]*"\sheight="[^"]*"')
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="([^"]*)"')


def _round(match: re.Match) -> str:
    text = f"{float(match.group(0)):.1f}"
    return text[:-2] if text.endswith(".0") else text


def _presentation_attributes(match: re.Match) -> str:
    """``style="fill: #fff; stroke-width: 0.8"`` -> ``fill="#fff" stroke-width="0.8"``: the
    page's content security policy refuses inline style attributes, and every property matplotlib
    writes there is also an SVG presentation attribute."""
    pairs = (part.split(":", 1) for part in match.group(1).split(";") if ":" in part)
    return "".join(f' {name.strip()}="{value.strip()}"' for name, value in pairs)


def _our_class(match: re.Match) -> str:
    role = f' data-role="{match.group(2)}"' if match.group(2) else ""
    return f' class="chart-{match.group(1)}"{role}'


def svg_of(fig: Figure, key: str, title: str) -> SafeString:
    """The figure as an inline ``<svg>``: no XML prolog or metadata, automatic ids dropped
    (several charts share a page), ours turned into classes, coordinates rounded, text in the
    page's font, and sized by its container through the view box."""
    buffer = io.StringIO()
    FigureCanvasSVG(fig).print_svg(buffer, metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = _METADATA.sub("", svg)
    svg = _STYLE.sub("", svg)
    svg = _AUTO_ID.sub("", svg)
    svg = _OUR_ID.sub(_our_class, svg)
    svg = _NO_ROTATION.sub("", svg)
    svg = _GEOMETRY.sub(lambda m: m.group(1) + _DECIMAL.sub(_round, m.group(2)) + m.group(3), svg)
    svg = _FONT_FAMILY.sub("", svg)
    svg = _STYLE_ATTRIBUTE.sub(_presentation_attributes, svg)
    svg = re.sub(r"\s*\n\s*", "\n", svg).replace("<defs>\n</defs>\n", "")
    svg = _SIZE.sub(
        lambda m: (
            f'<svg{m.group(1)} class="chart-svg" role="img" aria-label="{escape(title)}"'
            # What matplotlib's dropped <style> gave every element; inherited, so an element's
            # own attribute still wins.
            ' stroke-linejoin="round" stroke-linecap="butt"'
            f' data-chart="{escape(key)}"'
        ),
        svg,
        count=1,
    )
    # matplotlib escapes every text and attribute it writes; the rest is our own markup.
    return mark_safe(svg.strip())  # noqa: S308
