"""Default policies per risk tier: stricter as the risk grows."""

from __future__ import annotations

from registry.choices import RiskTier

MODEL_CARD = "model-card"
VALIDATION_REPORT = "sr-11-7-validation"

DEFAULT_POLICIES: dict[str, dict] = {
    RiskTier.LOW: {
        "required_sign_offs": 1,
        "revalidation_days": 730,
        "block_on_open_findings": False,
        "metric_checks": [],
        "approval_documents": [MODEL_CARD],
        "description": "Internal, low-impact models: one independent sign-off, the model "
        "card written, revalidate every two years.",
    },
    RiskTier.MEDIUM: {
        "required_sign_offs": 1,
        "revalidation_days": 365,
        "block_on_open_findings": True,
        "metric_checks": [],
        "approval_documents": [MODEL_CARD],
        "description": "One independent sign-off, open findings block approval, the model "
        "card written, yearly revalidation.",
    },
    RiskTier.HIGH: {
        "required_sign_offs": 2,
        "revalidation_days": 365,
        "block_on_open_findings": True,
        "metric_checks": [],
        "approval_documents": [MODEL_CARD, VALIDATION_REPORT],
        "description": "Two independent sign-offs, open findings block approval, the model "
        "card and the validation report written, yearly revalidation.",
    },
    RiskTier.CRITICAL: {
        "required_sign_offs": 3,
        "revalidation_days": 180,
        "block_on_open_findings": True,
        "metric_checks": [],
        "approval_documents": [MODEL_CARD, VALIDATION_REPORT],
        "description": "Three independent sign-offs, open findings block approval, the model "
        "card and the validation report written, revalidation every six months.",
    },
}

MIN_MOTIVATION_LENGTH = 10
