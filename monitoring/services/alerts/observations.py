"""What a rule is evaluated on: one check result or one KPI value, reduced to one shape."""

from __future__ import annotations

from dataclasses import dataclass

from monitoring.choices import CheckKind
from monitoring.models import CheckResult, KpiValue
from monitoring.stats.headline import check_headline


@dataclass(frozen=True)
class Observation:
    """A check result or KPI value as the rules see it. ``label`` names it in an alert's
    history and audit; ``details`` is what the alert stores of it."""

    status: str
    score: float | None
    headline: str
    label: str
    details: dict
    check_result: CheckResult | None = None
    kpi_value: KpiValue | None = None


def observation_of_check(result: CheckResult) -> Observation:
    """A check result as an observation."""
    kind = CheckKind(result.kind).label
    score = "" if result.score is None else f", score {result.score:.3g}"
    return Observation(
        status=result.status,
        score=result.score,
        # What happened, in words and numbers ("mean_radius drifted: PSI 1.39 > 0.20").
        headline=check_headline(result.kind, kind, result.status, result.score, result.details),
        label=f"check #{result.pk} ({kind.lower()} {result.status}{score})",
        details={
            "check_result": result.pk,
            "kind": result.kind,
            "status": result.status,
            "score": result.score,
            "summary": result.summary,
            "window_end": result.window_end.isoformat(),
        },
        check_result=result,
    )


def observation_of_kpi(value: KpiValue) -> Observation:
    """A KPI value as an observation."""
    kpi = value.kpi
    shown = f"{kpi.name} = {value.value:g}{kpi.unit}"
    return Observation(
        status=value.status,
        score=value.value,
        headline=f"KPI {shown} ({value.status})",
        label=f"KPI value #{value.pk} ({shown}, {value.status})",
        details={
            "kpi_value": value.pk,
            "kind": CheckKind.KPI,
            "kpi": kpi.name,
            "value": value.value,
            "status": value.status,
            "summary": shown,
            "measured_at": value.measured_at.isoformat(),
        },
        kpi_value=value,
    )
