"""One health score for a deployment out of the statuses of its latest checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from monitoring.stats.status import Status

STATUS_SCORES = {Status.OK: 100.0, Status.WARNING: 60.0, Status.CRITICAL: 0.0}
# Worst first: the order of the reasons, and the overall status is the worst known one.
STATUS_SEVERITY = (Status.CRITICAL, Status.WARNING, Status.UNKNOWN, Status.OK)


@dataclass(frozen=True)
class HealthComponent:
    """One input of the score: a check's name, status ("ok", "warning", "critical" or
    "unknown"), weight (>= 0) and the reason for its status."""

    name: str
    status: str
    weight: float = 1.0
    reason: str = ""

    def __post_init__(self) -> None:
        if self.status not in set(Status):
            raise ValueError(f"unknown status {self.status!r} for {self.name!r}")
        if self.weight < 0:
            raise ValueError(f"negative weight for {self.name!r}")


def health_score(components: Sequence[HealthComponent]) -> dict[str, Any]:
    """Weighted mean of the known components' scores (ok 100, warning 60, critical 0).

    Unknown components, and those of weight 0, leave the mean; with nothing known the score is
    None and the status unknown. ``reasons`` lists the non-ok components, worst status first,
    then heaviest first.
    """
    known = [c for c in components if c.status != Status.UNKNOWN and c.weight > 0]
    total = sum(c.weight for c in known)
    score = (
        sum(c.weight * STATUS_SCORES[Status(c.status)] for c in known) / total if total else None
    )
    return {
        "score": None if score is None else round(score, 1),
        "status": overall_status(known),
        "reasons": health_reasons(components),
        "components": [asdict(component) for component in components],
    }


def overall_status(known: Sequence[HealthComponent]) -> str:
    """The worst status among the known components, unknown when there is none."""
    statuses = {Status(component.status) for component in known}
    worst = next((status for status in STATUS_SEVERITY if status in statuses), Status.UNKNOWN)
    return worst.value


def health_reasons(components: Sequence[HealthComponent]) -> list[str]:
    """``"name: reason"`` for every component that is not ok, worst first."""
    troubled = [c for c in components if c.status != Status.OK]
    troubled.sort(key=lambda c: (STATUS_SEVERITY.index(Status(c.status)), -c.weight, c.name))
    return [f"{c.name}: {c.reason}" if c.reason else f"{c.name}: {c.status}" for c in troubled]
