"""The evidence summary at the top of a version page: its key metrics and how they moved against
the version of the same model in production, the data it used, and the facts later apps add
(governance: open findings and the policy's checks).

The registry may not import governance, so those facts come through a registration point, like
the page's panels (see ``registry.panels``): an app registers a function that returns
``EvidenceFact`` rows for one version as one user sees it."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from accounts.models import User
from registry import selectors
from registry.choices import DatasetRole, VersionStatus
from registry.models import DatasetVersion, ModelVersion
from registry.permissions import Visibility

# A version that serves: in production, or flagged by monitoring while still in production.
IN_PRODUCTION = (VersionStatus.PRODUCTION, VersionStatus.FLAGGED)
VERSION_DATASET_ROLES = (DatasetRole.TRAIN, DatasetRole.VALIDATION, DatasetRole.TEST)
KEY_METRICS_SHOWN = 6
# Metrics where a smaller number is the better model. A name that matches none of these is
# taken as "higher is better" only if it matches HIGHER_IS_BETTER; any other metric gets an
# arrow but no "better"/"worse" judgement, rather than a guess.
LOWER_IS_BETTER = re.compile(
    r"(loss|error|err\b|mse|rmse|mae|mape|brier|latency|fpr|false_pos|fnr|false_neg|"
    r"psi|drift|perplexity|ece\b|calibration_error)",
    re.IGNORECASE,
)
HIGHER_IS_BETTER = re.compile(
    r"(auc|accuracy|acc\b|precision|recall|f1|f_1|fbeta|gini|\bks\b|r2|r_2|map\b|ndcg|"
    r"tpr|specificity|sensitivity|coverage|lift|iou|bleu|rouge|kappa|mcc)",
    re.IGNORECASE,
)


def _number(value: Any) -> float | None:
    """``value`` as a finite number, or None (booleans and text are not metrics to subtract)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def number_text(value: Any) -> str:
    """A metric as people read it: at most four decimals, no trailing zeros ("0.89", not
    "0.8900"); very large or very small magnitudes in scientific notation; text as it is."""
    number = _number(value)
    if number is None:
        return "" if value is None else str(value)
    if number == 0:
        return "0"
    if abs(number) >= 1e6 or abs(number) < 1e-4:
        return f"{number:.4g}"
    text = f"{number:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def metric_preference(name: str) -> str:
    """``lower``, ``higher`` or ``""`` (unknown): which way ``name`` improves."""
    if LOWER_IS_BETTER.search(name):
        return "lower"
    if HIGHER_IS_BETTER.search(name):
        return "higher"
    return ""


@dataclass(frozen=True)
class MetricDelta:
    """One metric of a version beside the same metric of the version it is compared with.
    ``delta`` is ``value - baseline`` when both are numbers; ``direction`` is ``up``,
    ``down``, ``same`` or ``""`` (nothing to compare); ``judgement`` is ``better``, ``worse``
    or ``""`` (same, unknown, or the metric's preferred direction is not known)."""

    name: str
    value: Any
    baseline: Any = None
    delta: float | None = None
    direction: str = ""
    judgement: str = ""

    @property
    def added(self) -> bool:
        return self.baseline is None and self.value is not None

    @property
    def value_text(self) -> str:
        return number_text(self.value)

    @property
    def baseline_text(self) -> str:
        return number_text(self.baseline)

    @property
    def delta_text(self) -> str:
        """The signed change, "+0.03" or "-0.012"."""
        if self.delta is None:
            return ""
        return f"{'+' if self.delta > 0 else ''}{number_text(self.delta)}"

    @property
    def removed(self) -> bool:
        return self.value is None and self.baseline is not None


def metric_delta(name: str, value: Any, baseline: Any) -> MetricDelta:
    """Compare one metric's ``value`` with its ``baseline`` (either may be None)."""
    new, old = _number(value), _number(baseline)
    if new is None or old is None:
        return MetricDelta(name, value, baseline)
    delta = new - old
    if math.isclose(new, old, rel_tol=1e-12, abs_tol=1e-12):
        return MetricDelta(name, value, baseline, 0.0, "same")
    direction = "up" if delta > 0 else "down"
    preference = metric_preference(name)
    judgement = ""
    if preference:
        improved = (direction == "up") == (preference == "higher")
        judgement = "better" if improved else "worse"
    return MetricDelta(name, value, baseline, delta, direction, judgement)


def metric_deltas(metrics: dict, baseline: dict | None) -> list[MetricDelta]:
    """Every metric of ``metrics`` (and, when comparing, those only ``baseline`` has), by
    name, each with its change against ``baseline``."""
    baseline = baseline or {}
    names = sorted(set(metrics) | set(baseline), key=str.lower)
    return [metric_delta(name, metrics.get(name), baseline.get(name)) for name in names]


def production_version_of(user: User, version: ModelVersion) -> ModelVersion | None:
    """The newest version of ``version``'s model that is in production, other than ``version``
    itself, among those ``user`` may see; None if there is none."""
    return (
        selectors.model_version_list(user)
        .filter(registered_model_id=version.registered_model_id, status__in=IN_PRODUCTION)
        .exclude(pk=version.pk)
        .order_by("-version")
        .first()
    )


def datasets_by_role(
    version: ModelVersion, visible: Visibility
) -> tuple[list[tuple[str, list[DatasetVersion]]], int]:
    """The dataset versions ``version`` used, per role (training, validation, test), that the
    viewer may see, and how many more it used that the viewer may not see (counted, never
    named)."""
    links = list(version.dataset_links.all())
    shown = [link for link in links if visible.dataset_version(link.dataset_version)]
    by_role = [
        (role.label, [link.dataset_version for link in shown if link.role == role])
        for role in VERSION_DATASET_ROLES
    ]
    return by_role, len(links) - len(shown)


# --- Facts other apps add -------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceCheck:
    """One line under a fact: a policy check and its verdict (``pass``, ``fail``,
    ``pending``) with the reason."""

    label: str
    verdict: str
    reason: str = ""


@dataclass(frozen=True)
class EvidenceFact:
    """A figure of the summary that another app knows: ``value`` is what the tile shows,
    ``tone`` colours it (``pass``, ``fail``, ``warn``, ``info``), ``anchor`` is the id on the
    page where the details are, ``checks`` the lines listed under it."""

    key: str
    label: str
    value: str
    tone: str = "info"
    detail: str = ""
    anchor: str = ""
    checks: tuple[EvidenceCheck, ...] = ()


# A provider gets the user, the version, and the contexts of the page's panels already built for
# this request by template name: an app may reuse what its own panel computed (governance's
# review panel has the policy's checks) instead of asking the database again.
FactProvider = Callable[[User, ModelVersion, Mapping[str, dict]], list[EvidenceFact]]
_fact_providers: list[FactProvider] = []


def evidence_fact_register(provider: FactProvider) -> None:
    """Add a source of summary facts (once per function: ``ready()`` may run twice)."""
    if provider not in _fact_providers:
        _fact_providers.append(provider)


@dataclass
class EvidenceSummary:
    """What the top of a version page says about its evidence."""

    version: ModelVersion
    production: ModelVersion | None
    metrics: list[MetricDelta]
    more_metrics: int
    datasets_by_role: list[tuple[str, list[DatasetVersion]]]
    hidden_datasets: int
    facts: list[EvidenceFact] = field(default_factory=list)

    @property
    def is_in_production(self) -> bool:
        return self.version.status in IN_PRODUCTION

    @property
    def changed_metrics(self) -> int:
        return sum(1 for m in self.metrics if m.direction in ("up", "down"))


def version_evidence_summary(
    user: User,
    version: ModelVersion,
    visible: Visibility | None = None,
    panel_contexts: Mapping[str, dict] | None = None,
) -> EvidenceSummary:
    """The evidence summary of ``version`` as ``user`` sees it. ``panel_contexts``: the page's
    panels already built for this request, by template name (see ``FactProvider``)."""
    visible = visible or Visibility(user)
    panel_contexts = panel_contexts or {}
    production = production_version_of(user, version)
    deltas = metric_deltas(version.metrics or {}, production.metrics if production else None)
    # The version's own metrics first (a metric only production has is shown, as removed,
    # after them); at most KEY_METRICS_SHOWN, the full list is in the details tab.
    deltas.sort(key=lambda m: m.value is None)
    by_role, hidden = datasets_by_role(version, visible)
    facts = [f for provider in _fact_providers for f in provider(user, version, panel_contexts)]
    return EvidenceSummary(
        version=version,
        production=production,
        metrics=deltas[:KEY_METRICS_SHOWN],
        more_metrics=max(0, len(deltas) - KEY_METRICS_SHOWN),
        datasets_by_role=by_role,
        hidden_datasets=hidden,
        facts=facts,
    )
