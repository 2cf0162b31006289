"""What Steward's answers look like: rich HTML in Jupyter (a version's provenance, a governance
summary with what blocks it and whose turn it is, a lineage picture drawn as SVG), and plain
tables in a terminal."""

from __future__ import annotations

import html
import json
from collections import defaultdict
from typing import Any

# Who acts next in each state of the workflow (governance's transition table, from the
# reader's side): the state's label and the people whose turn it is.
WHOSE_TURN = {
    "draft": "the developers: submit it for validation",
    "changes_requested": "the developers: revise and resubmit",
    "submitted": "a validator: claim it for validation",
    "in_validation": "the validators: sign off or request changes",
    "validated": "a manager: approve it for production",
    "approved": "a manager: put it in production (deploy)",
    "production": "nobody: it is in production (monitoring watches it)",
    "flagged": "the validators and a manager: review the flag and clear it",
    "deprecated": "nobody: it is deprecated (an administrator may archive it)",
    "archived": "nobody: it is archived",
    "rejected": "nobody: it was rejected",
}


def _e(value: Any) -> str:
    if isinstance(value, dict | list):
        value = json.dumps(value, default=str)
    return html.escape("" if value is None else str(value))


def _table(rows: list[tuple[str, Any]]) -> str:
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{_e(k)}</th><td>{_e(v)}</td></tr>"
        for k, v in rows
    )
    return f"<table>{cells}</table>"


class Record(dict):
    """A JSON object Steward answered, as a dict; in Jupyter it shows as a table."""

    title_keys: tuple[str, ...] = ("name",)

    def title(self) -> str:
        return " ".join(str(self[k]) for k in self.title_keys if k in self) or type(self).__name__

    def _repr_html_(self) -> str:
        return f"<div><strong>{_e(self.title())}</strong>{_table(list(self.items()))}</div>"


class Version(Record):
    """A model version with its provenance."""

    def title(self) -> str:
        return f"{self.get('model')} v{self.get('version')} ({self.get('status')})"

    @property
    def number(self) -> int:
        return int(self["version"])

    def _repr_html_(self) -> str:
        datasets = ", ".join(
            f"{d['dataset']} v{d['version']} ({d['role']})" for d in self.get("datasets", [])
        )
        rows = [
            ("status", self.get("status")),
            ("artifact", f"{self.get('artifact_sha256', '')[:16]}… {self.get('artifact_uri', '')}"),
            ("framework", self.get("framework")),
            ("metrics", self.get("metrics")),
            ("params", self.get("params")),
            ("datasets", datasets or "none"),
            ("run", self.get("run")),
            ("code", f"{self.get('code_repository', '')} @ {self.get('code_commit', '')[:12]}"),
            ("script", self.get("code_path")),
            ("python", self.get("python_version")),
            ("packages", f"{len(self.get('packages') or {})} recorded"),
            ("image", self.get("image_digest") or "none"),
            ("registered by", f"{self.get('registered_by')} at {self.get('created_at')}"),
        ]
        return f"<div><strong>{_e(self.title())}</strong>{_table(rows)}</div>"


class GovernanceStatus(Record):
    """A version's governance summary: state, sign-offs, what blocks each step, whose turn."""

    @property
    def state(self) -> str:
        return self.get("status", "")

    @property
    def whose_turn(self) -> str:
        return WHOSE_TURN.get(self.state, "")

    @property
    def blocked_by(self) -> list[dict]:
        return [g for g in self.get("policy_guards", []) if not g.get("passed")]

    def title(self) -> str:
        return f"{self.get('model', '')} v{self.get('version', '')}: {self.state}".strip()

    def lines(self) -> list[str]:
        out = [
            f"state: {self.state}",
            f"sign-offs: {self.get('sign_offs')} of {self.get('required_sign_offs')} required",
            f"whose turn: {self.whose_turn}",
        ]
        if self.get("revalidation_due_at"):
            overdue = " (overdue)" if self.get("revalidation_overdue") else ""
            out.append(f"revalidation due: {self['revalidation_due_at']}{overdue}")
        for guard in self.get("policy_guards", []):
            mark = "ok " if guard.get("passed") else "NO "
            out.append(f"  {mark} {guard.get('label')}: {guard.get('reason')}")
        for option in self.get("options", []):
            if option.get("allowed"):
                out.append(f"you may: {option['action']} ({option.get('label')})")
            else:
                reasons = "; ".join(g.get("reason", "") for g in option.get("blocked_by", []))
                out.append(f"you may not {option['action']}: {reasons or 'not your step'}")
        return out

    def _repr_html_(self) -> str:
        guards = "".join(
            f"<li>{'✅' if g.get('passed') else '⛔'} {_e(g.get('label'))}: "
            f"{_e(g.get('reason'))}</li>"
            for g in self.get("policy_guards", [])
        )
        options = "".join(
            f"<li>{_e(o['action'])}: "
            + (
                "allowed"
                if o.get("allowed")
                else "blocked by " + _e("; ".join(g.get("reason", "") for g in o["blocked_by"]))
            )
            + "</li>"
            for o in self.get("options", [])
        )
        rows = [
            ("state", self.state),
            ("sign-offs", f"{self.get('sign_offs')} of {self.get('required_sign_offs')}"),
            ("whose turn", self.whose_turn),
            ("revalidation due", self.get("revalidation_due_at") or "n/a"),
        ]
        return (
            f"<div><strong>{_e(self.title())}</strong>{_table(rows)}"
            f"<p>Policy guards</p><ul>{guards}</ul><p>Your options</p><ul>{options}</ul></div>"
        )


class Lineage(Record):
    """A lineage closure: ``nodes`` and ``edges``; in Jupyter, a picture."""

    def title(self) -> str:
        return f"lineage ({self.get('direction')}, depth {self.get('depth')})"

    def layers(self) -> list[list[dict]]:
        """Nodes in columns, sources first (longest path from a node without inputs)."""
        nodes = {n["id"]: n for n in self.get("nodes", [])}
        incoming = defaultdict(list)
        for edge in self.get("edges", []):
            if edge["source"] in nodes and edge["target"] in nodes:
                incoming[edge["target"]].append(edge["source"])
        level: dict[int, int] = {}

        def depth_of(node_id: int, seen: frozenset = frozenset()) -> int:
            if node_id in level:
                return level[node_id]
            if node_id in seen:  # a cycle cannot happen in lineage; do not loop if it does
                return 0
            parents = incoming.get(node_id, [])
            value = 1 + max((depth_of(p, seen | {node_id}) for p in parents), default=-1)
            level[node_id] = value
            return value

        columns: dict[int, list[dict]] = defaultdict(list)
        for node_id in nodes:
            columns[depth_of(node_id)].append(nodes[node_id])
        return [sorted(columns[i], key=lambda n: n["label"]) for i in sorted(columns)]

    def svg(self) -> str:
        colours = {
            "dataset_version": "#dbeafe",
            "run": "#fef3c7",
            "model_version": "#dcfce7",
            "deployment": "#fce7f3",
        }
        width, height, gap_x, gap_y = 190, 40, 60, 18
        position: dict[int, tuple[int, int]] = {}
        columns = self.layers()
        for x, column in enumerate(columns):
            for y, node in enumerate(column):
                position[node["id"]] = (10 + x * (width + gap_x), 10 + y * (height + gap_y))
        total_w = 20 + max(len(columns), 1) * (width + gap_x)
        total_h = 20 + max((len(c) for c in columns), default=1) * (height + gap_y)
        parts = [
            f"<svg xmlns='http://www.w3.org/2000/svg' width='{total_w}' height='{total_h}' "
            "font-family='sans-serif' font-size='11'>"
        ]
        for edge in self.get("edges", []):
            if edge["source"] in position and edge["target"] in position:
                sx, sy = position[edge["source"]]
                tx, ty = position[edge["target"]]
                parts.append(
                    f"<line x1='{sx + width}' y1='{sy + height // 2}' x2='{tx}' "
                    f"y2='{ty + height // 2}' stroke='#64748b'/>"
                    f"<circle cx='{tx}' cy='{ty + height // 2}' r='3' fill='#64748b'/>"
                )
        for node in self.get("nodes", []):
            x, y = position[node["id"]]
            fill = colours.get(node.get("kind"), "#f1f5f9")
            stroke = "#0f172a" if node["id"] == self.get("root") else "#94a3b8"
            label = node.get("label") or node.get("kind")
            parts.append(
                f"<rect x='{x}' y='{y}' width='{width}' height='{height}' rx='6' fill='{fill}' "
                f"stroke='{stroke}'/><text x='{x + 8}' y='{y + 16}'>{_e(label[:30])}</text>"
                f"<text x='{x + 8}' y='{y + 31}' fill='#475569'>{_e(node.get('kind'))}</text>"
            )
        parts.append("</svg>")
        return "".join(parts)

    def lines(self) -> list[str]:
        labels = {n["id"]: f"{n['label']} [{n['kind']}]" for n in self.get("nodes", [])}
        return [
            f"{labels.get(e['source'], e['source'])} --{e['relation']}--> "
            f"{labels.get(e['target'], e['target'])}"
            for e in self.get("edges", [])
        ] or [labels.get(self.get("root"), "(no lineage)")]

    def _repr_html_(self) -> str:
        return f"<div><strong>{_e(self.title())}</strong><br>{self.svg()}</div>"


def table(rows: list[dict], columns: list[str]) -> str:
    """A plain text table of ``columns`` of ``rows``."""
    cells = [[_plain(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    line = "  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))
    out = [line.rstrip()]
    for row in cells:
        out.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(out)


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."
