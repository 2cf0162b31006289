"""One health score for a deployment out of the statuses of its latest checks.

The score is a weighted mean (ok 100, warning 60, critical 0), read in three bands: ok from
``BAND_FLOORS["ok"]`` (80), warning from ``BAND_FLOORS["warning"]`` (50), critical below.

A mean alone hides a failing check behind healthy ones: one drifting feature out of thirty
(a drift check in warning, or critical when the feature drifts several times past its
threshold) among passing performance and bias checks still averages 90, "green". So a check
that fails **caps** the score at the top of its own band: a warning at ``STATUS_CAPS`` 79 (the
warning band), a critical one at 49 (the critical band). The score's band then always agrees
with the worst check, and ``cap`` says which check held the score down and from what.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from monitoring.stats.status import Status, status_rank, status_worst

STATUS_SCORES = {Status.OK: 100.0, Status.WARNING: 60.0, Status.CRITICAL: 0.0}
# The lowest score of each band; below the warning floor is critical.
BAND_FLOORS = {Status.OK: 80.0, Status.WARNING: 50.0}
# The highest score a deployment keeps while one of its checks is in this status: the top of
# the status's own band (just under the floor of the band above).
STATUS_CAPS = {
    Status.WARNING: BAND_FLOORS[Status.OK] - 1,
    Status.CRITICAL: BAND_FLOORS[Status.WARNING] - 1,
}


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
    """Weighted mean of the known components' scores (ok 100, warning 60, critical 0), capped
    by the worst failing component (see the module docstring).

    Unknown components, and those of weight 0, leave the mean; with nothing known the score is
    None and the status unknown. ``status`` is the band of the score, which the cap makes the
    worst known component's status. ``reasons`` lists the non-ok components, worst status
    first, then heaviest first; ``cap`` is None, or what capped the score (``limit``,
    ``band``, ``by``, ``mean``) and ``cap_reason`` says it in a sentence.
    """
    known = [c for c in components if c.status != Status.UNKNOWN and c.weight > 0]
    total = sum(c.weight for c in known)
    mean = sum(c.weight * STATUS_SCORES[Status(c.status)] for c in known) / total if total else None
    score, cap = score_capped(mean, known)
    return {
        "score": None if score is None else round(score, 1),
        "status": score_band(score),
        "reasons": health_reasons(components),
        "cap": cap,
        "cap_reason": cap_reason(cap),
        "components": [asdict(component) for component in components],
    }


def score_capped(
    mean: float | None, known: Sequence[HealthComponent]
) -> tuple[float | None, dict[str, Any] | None]:
    """The mean held under the cap of the worst known component, and the cap when it bit."""
    if mean is None:
        return None, None
    failing = [c for c in known if Status(c.status) in STATUS_CAPS]
    if not failing:
        return mean, None
    worst = min(failing, key=_worst_first)
    limit = STATUS_CAPS[Status(worst.status)]
    if mean <= limit:
        return mean, None
    cap = {"limit": limit, "band": worst.status, "by": worst.name, "mean": round(mean, 1)}
    return limit, cap


def score_band(score: float | None) -> str:
    """ok, warning or critical for a score; unknown for none."""
    if score is None:
        return Status.UNKNOWN.value
    if score >= BAND_FLOORS[Status.OK]:
        return Status.OK.value
    if score >= BAND_FLOORS[Status.WARNING]:
        return Status.WARNING.value
    return Status.CRITICAL.value


def cap_reason(cap: dict[str, Any] | None) -> str:
    """Why the score is what it is when a failing check capped it, for the pages."""
    if not cap:
        return ""
    return (
        f"Capped at {cap['limit']:g} (the {cap['band']} band) because {cap['by']} is "
        f"{cap['band']}; the checks average {cap['mean']:g}."
    )


def overall_status(known: Sequence[HealthComponent]) -> str:
    """The worst status among the known components, unknown when there is none."""
    return status_worst(component.status for component in known)


def health_reasons(components: Sequence[HealthComponent]) -> list[str]:
    """``"name: reason"`` for every component that is not ok, worst first."""
    troubled = [c for c in components if c.status != Status.OK]
    troubled.sort(key=_worst_first)
    return [f"{c.name}: {c.reason}" if c.reason else f"{c.name}: {c.status}" for c in troubled]


def _worst_first(component: HealthComponent) -> tuple:
    # Most severe status first (monitoring.stats.status), then the heaviest, then by name.
    return (-status_rank(component.status), -component.weight, component.name)
