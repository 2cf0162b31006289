"""Default policies per risk tier: stricter as the risk grows."""

from __future__ import annotations

from registry.choices import RiskTier

DEFAULT_POLICIES: dict[str, dict] = {
    RiskTier.LOW: {
        "required_sign_offs": 1,
        "revalidation_days": 730,
        "block_on_open_findings": False,
        "metric_checks": [],
        "description": "Internal, low-impact models: one independent sign-off, revalidate "
        "every two years.",
    },
    RiskTier.MEDIUM: {
        "required_sign_offs": 1,
        "revalidation_days": 365,
        "block_on_open_findings": True,
        "metric_checks": [],
        "description": "One independent sign-off, open findings block approval, yearly "
        "revalidation.",
    },
    RiskTier.HIGH: {
        "required_sign_offs": 2,
        "revalidation_days": 365,
        "block_on_open_findings": True,
        "metric_checks": [],
        "description": "Two independent sign-offs, open findings block approval, yearly "
        "revalidation.",
    },
    RiskTier.CRITICAL: {
        "required_sign_offs": 3,
        "revalidation_days": 180,
        "block_on_open_findings": True,
        "metric_checks": [],
        "description": "Three independent sign-offs, open findings block approval, "
        "revalidation every six months.",
    },
}

MIN_MOTIVATION_LENGTH = 10
