from monitoring.models.alerts import Alert, AlertChannel, AlertDelivery, AlertEvent, AlertRule
from monitoring.models.checks import BaselineProfile, CheckResult, Kpi, KpiValue
from monitoring.models.deployments import Deployment
from monitoring.models.predictions import Prediction, PredictionKey, PredictionPartition

__all__ = [
    "Alert",
    "AlertChannel",
    "AlertDelivery",
    "AlertEvent",
    "AlertRule",
    "BaselineProfile",
    "CheckResult",
    "Deployment",
    "Kpi",
    "KpiValue",
    "Prediction",
    "PredictionKey",
    "PredictionPartition",
]
