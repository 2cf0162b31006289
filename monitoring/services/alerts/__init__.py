"""Alerting, one concern per module:

- ``channels``: where a team's alerts go (managers of the team and administrators);
- ``rules``: what opens an alert (the deploy verb on the rule's deployment or model);
- ``evaluation``: each new check result or KPI value applied to the rules;
- ``lifecycle``: an alert's life (opened, recurred, acknowledged, resolved), each step an
  ``AlertEvent`` row and an audit event; delivery is ``monitoring.services.delivery``.

The names callers use are gathered here; the modules say who may do what."""

from __future__ import annotations

from monitoring.services.alerts.channels import (
    alert_channel_create,
    alert_channel_delete,
    alert_channel_update,
    channel_manager_require,
    channel_target_clean,
)
from monitoring.services.alerts.evaluation import (
    alerts_evaluate_check,
    alerts_evaluate_kpi,
    condition_holds,
)
from monitoring.services.alerts.lifecycle import (
    MIN_NOTE_LENGTH,
    alert_acknowledge,
    alert_resolve,
    can_acknowledge_alerts,
    can_resolve_alerts,
)
from monitoring.services.alerts.rules import (
    RULE_FIELDS,
    alert_rule_create,
    alert_rule_delete,
    alert_rule_update,
    alert_rule_validate,
)

__all__ = [
    "MIN_NOTE_LENGTH",
    "RULE_FIELDS",
    "alert_acknowledge",
    "alert_channel_create",
    "alert_channel_delete",
    "alert_channel_update",
    "alert_resolve",
    "can_acknowledge_alerts",
    "can_resolve_alerts",
    "alert_rule_create",
    "alert_rule_delete",
    "alert_rule_update",
    "alert_rule_validate",
    "alerts_evaluate_check",
    "alerts_evaluate_kpi",
    "channel_manager_require",
    "channel_target_clean",
    "condition_holds",
]
