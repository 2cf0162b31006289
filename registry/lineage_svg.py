"""Draw a lineage closure as an SVG picture with Graphviz, for embedding inline in a page.

Safety: every label that reaches Graphviz is escaped for DOT (``graphviz.escape`` turns off
HTML-like labels and backslash escapes such as ``\\N``), Graphviz XML-escapes text in its SVG
output, and only that output is marked safe. URLs are built with ``reverse()`` from natural keys.
Model-version nodes carry a status badge, drawn with an HTML-like label: there, every text is
HTML-escaped (``html.escape``) and the markup around it is ours.

The page's own node (the closure's root) is marked ``data-lineage-focus="true"`` and named by
the picture's ``data-focus-node``, so that ``static/js/lineage.js`` can centre the picture on
it when the page loads.
"""

from __future__ import annotations

import html
import logging
import re
import shutil
import subprocess
from dataclasses import dataclass

import graphviz
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString, mark_safe

from registry.choices import LineageKind, VersionStatus
from registry.models import ModelVersion
from registry.selectors import GraphNode, LineageGraph

logger = logging.getLogger(__name__)

# Beyond this many nodes a picture is unreadable and dot gets slow; the page says so instead.
MAX_DRAWN_NODES = 300
DOT_TIMEOUT_SECONDS = 10

# Colours follow the page's palette (static/css/steward.css): fill, border.
_KIND_STYLE: dict[str, dict[str, str]] = {
    LineageKind.DATASET_VERSION: {
        "shape": "cylinder",
        "style": "filled",
        "fillcolor": "#e0f2fe",
        "color": "#0369a1",
    },
    LineageKind.RUN: {
        "shape": "box",
        "style": "rounded,filled",
        "fillcolor": "#fef3c7",
        "color": "#b45309",
    },
    LineageKind.MODEL_VERSION: {
        "shape": "box3d",
        "style": "filled",
        "fillcolor": "#dcfce7",
        "color": "#15803d",
    },
    LineageKind.DEPLOYMENT: {
        "shape": "hexagon",
        "style": "filled",
        "fillcolor": "#ede9fe",
        "color": "#6d28d9",
    },
}
# Nodes the viewer may not see: a grey shape with no name and no link.
_HIDDEN_STYLE = {
    "shape": "box",
    "style": "filled,dotted",
    "fillcolor": "#f1f5f9",
    "color": "#94a3b8",
    "fontcolor": "#64748b",
}
_DEFAULT_STYLE = {"shape": "box", "style": "filled", "fillcolor": "#f1f5f9", "color": "#475569"}
_KIND_LABELS = dict(LineageKind.choices)
# A model version's status badge: its words and colours (fill, text), by where it stands.
_REVIEW = ("In review", "#fef3c7", "#92400e")
_RETIRED_COLOURS = ("#e2e8f0", "#334155")
STATUS_BADGES: dict[str, tuple[str, str, str]] = {
    VersionStatus.DRAFT: ("Draft", "#64748b", "#ffffff"),
    VersionStatus.SUBMITTED: _REVIEW,
    VersionStatus.IN_VALIDATION: _REVIEW,
    VersionStatus.VALIDATED: ("Validated", "#dbeafe", "#1e40af"),
    VersionStatus.CHANGES_REQUESTED: ("Changes requested", "#ffedd5", "#9a3412"),
    VersionStatus.APPROVED: ("Approved", "#1d4ed8", "#ffffff"),
    VersionStatus.PRODUCTION: ("Production", "#15803d", "#ffffff"),
    VersionStatus.FLAGGED: ("Flagged", "#b91c1c", "#ffffff"),
    VersionStatus.DEPRECATED: ("Deprecated", *_RETIRED_COLOURS),
    VersionStatus.ARCHIVED: ("Archived", *_RETIRED_COLOURS),
    VersionStatus.REJECTED: ("Rejected", "#fee2e2", "#991b1b"),
}
_SVG_START = re.compile(r"<svg\b")
_SVG_SIZE = re.compile(r'\s(width|height)="([\d.]+)pt"')


@dataclass(frozen=True)
class LineagePicture:
    """What a page shows for a lineage closure: the SVG (or why there is none)."""

    svg: SafeString | None
    node_count: int
    edge_count: int
    truncated: bool
    hidden_count: int = 0
    problem: str = ""
    # The page's own node, as the SVG names it (``lineage_node_<id>``): the script centres on it.
    focus_node: str = ""
    # Natural width in points: the page lets the picture shrink to 70% of it, never grow past it
    # (a nonce'd <style> in registry/_lineage.html: the content security policy forbids style="").
    width_pt: float | None = None


def lineage_node_url(kind: str, key: str) -> str | None:
    """The page of a lineage node, or None for a kind without a page. A deployment's page
    belongs to monitoring, found by its URL name: the registry does not import monitoring."""
    try:
        if kind == LineageKind.MODEL_VERSION:
            name, _, version = key.rpartition("/")
            return reverse("registry:model-version-detail", args=[name, int(version)])
        if kind == LineageKind.DATASET_VERSION:
            name, _, version = key.rpartition("/")
            return reverse("registry:dataset-version-detail", args=[name, int(version)])
        if kind == LineageKind.RUN:
            return reverse("registry:run-detail", args=[key])
        if kind == LineageKind.DEPLOYMENT:
            return reverse("monitoring:deployment-detail", args=[key])
    except (ValueError, NoReverseMatch):
        logger.warning("lineage node %s:%s has a key no page matches", kind, key)
    return None


def version_statuses(graph: LineageGraph) -> dict[str, str]:
    """The status of each model version drawn in ``graph``, by its node key ("name/version"),
    in one query. Hidden nodes have no key, so nothing is read about what the viewer may not
    see."""
    wanted = Q()
    for node in graph.nodes:
        if node.kind != LineageKind.MODEL_VERSION:
            continue
        name, _, version = node.key.rpartition("/")
        if name and version.isdigit():
            wanted |= Q(registered_model__name=name, version=int(version))
    if not wanted:
        return {}

    rows = ModelVersion.objects.filter(wanted).values_list(
        "registered_model__name", "version", "status"
    )
    return {f"{name}/{version}": status for name, version, status in rows}


def lineage_dot(graph: LineageGraph, statuses: dict[str, str] | None = None) -> graphviz.Digraph:
    """The DOT description of ``graph``: left to right, one style per kind, root emphasised,
    model versions badged with their status (``statuses``, by node key)."""
    dot = graphviz.Digraph("lineage")
    dot.attr(rankdir="LR", bgcolor="transparent", nodesep="0.35", ranksep="0.6", pad="0.2")
    dot.attr("node", fontname="Helvetica", fontsize="11", fontcolor="#0f172a", penwidth="1.2")
    dot.attr(
        "edge",
        fontname="Helvetica",
        fontsize="9",
        fontcolor="#475569",
        color="#94a3b8",
        arrowsize="0.7",
    )
    for node in graph.nodes:
        status = (statuses or {}).get(node.key, "") if not node.hidden else ""
        dot.node(
            f"n{node.id}", **_node_attributes(node, is_root=node.id == graph.root, status=status)
        )
    for edge in graph.edges:
        dot.edge(
            f"n{edge.source}",
            f"n{edge.target}",
            label=graphviz.escape(edge.relation.replace("_", " ")),
        )
    return dot


def _badged_label(node: GraphNode, kind_label: str, status: str, *, is_root: bool) -> str:
    """An HTML-like label: the node's name, its kind, and its status as a coloured badge. Every
    text in it is HTML-escaped; Graphviz reads the result as markup only because it is wrapped
    in ``<...>`` by us."""
    text, fill, ink = STATUS_BADGES.get(
        status, (status.replace("_", " ").capitalize(), "#f1f5f9", "#334155")
    )
    name = html.escape(node.label)
    if is_root:
        name = f"<B>{name}</B>"
    kind = html.escape(kind_label.lower() + (" (more beyond)" if node.has_more else ""))
    return (
        '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1" CELLPADDING="1">'
        f"<TR><TD>{name}</TD></TR>"
        f"<TR><TD>{kind}</TD></TR>"
        f'<TR><TD BGCOLOR="{fill}" STYLE="rounded"><FONT COLOR="{ink}" POINT-SIZE="9">'
        f"&#160;{html.escape(text)}&#160;</FONT></TD></TR></TABLE>>"
    )


def _node_attributes(node: GraphNode, *, is_root: bool, status: str = "") -> dict[str, str]:
    if node.hidden:
        return {
            **_HIDDEN_STYLE,
            "label": "hidden",
            "tooltip": "You may not see this item",
            "class": "lineage_node kind_hidden",
            "id": f"lineage_node_{node.id}",
        }
    kind_label = _KIND_LABELS.get(node.kind, node.kind)
    more = " (more beyond)" if node.has_more else ""
    # Only the node's own label is escaped; "\n" is DOT's line break, added by us.
    label = graphviz.escape(node.label) + "\\n" + graphviz.escape(kind_label.lower() + more)
    attributes = {
        **_KIND_STYLE.get(node.kind, _DEFAULT_STYLE),
        "label": graphviz.nohtml(label),
        "tooltip": graphviz.escape(f"{kind_label}: {node.label}"),
        # Graphviz writes "-" as "&#45;" in attributes; underscores keep class names greppable.
        "class": f"lineage_node kind_{node.kind}"
        + (" root" if is_root else "")
        + (f" status_{status}" if status else ""),
        "id": f"lineage_node_{node.id}",
    }
    if status:
        attributes["label"] = _badged_label(node, kind_label, status, is_root=is_root)
        attributes["tooltip"] = graphviz.escape(
            f"{kind_label}: {node.label} ({STATUS_BADGES.get(status, (status,))[0]})"
        )
    if is_root:
        attributes.update(penwidth="3", fontname="Helvetica-Bold")
    if node.has_more:
        attributes["style"] += ",dashed"
    url = lineage_node_url(node.kind, node.key)
    if url:
        attributes["URL"] = url
        attributes["target"] = "_top"
    return attributes


def lineage_picture(graph: LineageGraph) -> LineagePicture:
    """Render ``graph`` to an inline SVG. Failure to draw is reported, never raised: a page
    without its picture is better than no page."""
    base = {
        "node_count": len(graph.nodes),
        "edge_count": len(graph.edges),
        "truncated": graph.truncated,
        "hidden_count": graph.hidden_count,
    }
    if len(graph.nodes) > MAX_DRAWN_NODES:
        return LineagePicture(
            svg=None,
            **base,
            problem=f"{len(graph.nodes)} nodes are too many to draw; choose a smaller depth.",
        )
    try:
        svg, width_pt = _run_dot(lineage_dot(graph, version_statuses(graph)).source)
    except (OSError, subprocess.SubprocessError) as exc:
        logger.exception("drawing the lineage graph failed")
        return LineagePicture(svg=None, **base, problem=f"The picture could not be drawn ({exc}).")
    focus = f"lineage_node_{graph.root}" if graph.root is not None else ""
    svg = _focus_mark(svg, focus)
    # Graphviz output only, and our own attributes.
    return LineagePicture(
        svg=mark_safe(svg),  # noqa: S308
        width_pt=width_pt,
        focus_node=focus if 'data-lineage-focus="true"' in svg else "",
        **base,
    )


def _focus_mark(svg: str, focus: str) -> str:
    """Mark the page's own node (``data-lineage-focus``) and name it on the picture
    (``data-focus-node``), for the script that centres the picture on it."""
    if not focus:
        return svg
    group = re.compile(rf'(<g id="{re.escape(focus)}" class="[^"]*")')
    marked, found = group.subn(r'\1 data-lineage-focus="true"', svg, count=1)
    if not found:
        return svg
    return _SVG_START.sub(f'<svg data-focus-node="{focus}"', marked, count=1)


def _run_dot(source: str) -> tuple[str, float | None]:
    """Run ``dot -Tsvg`` with a time limit (graphviz's own ``pipe()`` has none)."""
    executable = shutil.which("dot")
    if executable is None:
        raise FileNotFoundError("the Graphviz 'dot' program is not installed")
    done = subprocess.run(  # noqa: S603 - fixed argv; the DOT source goes in on stdin
        [executable, "-Tsvg"],
        input=source.encode(),
        capture_output=True,
        timeout=DOT_TIMEOUT_SECONDS,
        check=True,
    )
    return _inline_svg(done.stdout.decode())


def _inline_svg(document: str) -> tuple[str, float | None]:
    """Drop the XML prolog and doctype; the picture fills its column, and its natural width (in
    points) is returned beside it, for the page to bound the picture's size with."""
    start = _SVG_START.search(document)
    if start is None:
        raise subprocess.SubprocessError("dot produced no <svg> element")
    svg = document[start.start() :]
    head_end = svg.index(">")
    head, rest = svg[:head_end], svg[head_end:]
    width = next((m.group(2) for m in _SVG_SIZE.finditer(head) if m.group(1) == "width"), None)
    head = _SVG_SIZE.sub("", head)
    head += ' width="100%" role="img" aria-label="Lineage graph" data-testid="lineage-svg"'
    return head + rest, float(width) if width else None
