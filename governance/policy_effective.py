"""The policy a version is judged by: the stricter of every policy it was ever under.

A version's policy is fixed when it is submitted: the submit decision stores the policy it was
judged by, and so does every later decision. Every guard then uses the stricter of those
snapshots and the current policy of the model's tier, so lowering the tier (or an
administrator relaxing a tier's policy) never weakens what a version already under review must
show, while a stricter tier or policy applies at once. A reclassification is a decision of its
own (``governance.services.reclassify``) that re-opens validation when the stricter policy is not
met.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from governance.models import Policy
from registry.choices import RiskTier
from registry.models import ModelVersion

_TIER_ORDER = {tier: rank for rank, tier in enumerate(RiskTier.values)}


@dataclass(frozen=True)
class EffectivePolicy:
    """What a version must show, merged from one or more policies (strictest of each)."""

    risk_tier: str
    required_sign_offs: int
    metric_checks: tuple[str, ...] = ()
    required_documents: tuple[str, ...] = ()
    approval_documents: tuple[str, ...] = ()
    revalidation_days: int = 365
    block_on_open_findings: bool = True
    description: str = ""
    # Every tier whose policy went into this one, strictest first.
    tiers: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, policy: Policy) -> EffectivePolicy:
        return cls(
            risk_tier=policy.risk_tier,
            required_sign_offs=policy.required_sign_offs,
            metric_checks=tuple(policy.metric_checks or ()),
            required_documents=tuple(policy.required_documents or ()),
            approval_documents=tuple(policy.approval_documents or ()),
            revalidation_days=policy.revalidation_days,
            block_on_open_findings=policy.block_on_open_findings,
            description=policy.description,
            tiers=(policy.risk_tier,),
        )

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> EffectivePolicy | None:
        """The policy a decision stored, or None for decisions recorded before snapshots."""
        if not data or "required_sign_offs" not in data:
            return None
        return cls(
            risk_tier=str(data.get("risk_tier", "")),
            required_sign_offs=int(data["required_sign_offs"]),
            metric_checks=tuple(data.get("metric_checks") or ()),
            required_documents=tuple(data.get("required_documents") or ()),
            approval_documents=tuple(data.get("approval_documents") or ()),
            revalidation_days=int(data.get("revalidation_days", 365)),
            block_on_open_findings=bool(data.get("block_on_open_findings", True)),
            description=str(data.get("description", "")),
            tiers=tuple(data.get("tiers") or (data.get("risk_tier", ""),)),
        )

    def snapshot(self) -> dict[str, Any]:
        """What a decision stores."""
        return {
            "risk_tier": self.risk_tier,
            "tiers": list(self.tiers),
            "required_sign_offs": self.required_sign_offs,
            "metric_checks": list(self.metric_checks),
            "required_documents": list(self.required_documents),
            "approval_documents": list(self.approval_documents),
            "revalidation_days": self.revalidation_days,
            "block_on_open_findings": self.block_on_open_findings,
        }

    def stricter(self, other: EffectivePolicy | None) -> EffectivePolicy:
        """The strictest of both, requirement by requirement."""
        if other is None:
            return self
        tiers = sorted(
            set(self.tiers) | set(other.tiers), key=lambda t: -_TIER_ORDER.get(t, len(RiskTier))
        )
        return EffectivePolicy(
            risk_tier=tiers[0] if tiers else self.risk_tier,
            required_sign_offs=max(self.required_sign_offs, other.required_sign_offs),
            metric_checks=_union(self.metric_checks, other.metric_checks),
            required_documents=_union(self.required_documents, other.required_documents),
            approval_documents=_union(self.approval_documents, other.approval_documents),
            revalidation_days=min(self.revalidation_days, other.revalidation_days),
            block_on_open_findings=self.block_on_open_findings or other.block_on_open_findings,
            description=self.description if self.risk_tier == tiers[0] else other.description,
            tiers=tuple(tiers),
        )

    def demands_more_than(self, other: EffectivePolicy) -> bool:
        """Whether this policy asks for something ``other`` does not."""
        return (
            self.required_sign_offs > other.required_sign_offs
            or not set(self.metric_checks) <= set(other.metric_checks)
            or not set(self.required_documents) <= set(other.required_documents)
            or not set(self.approval_documents) <= set(other.approval_documents)
            or self.revalidation_days < other.revalidation_days
            or (self.block_on_open_findings and not other.block_on_open_findings)
        )

    def __str__(self) -> str:
        label = dict(RiskTier.choices).get(self.risk_tier, self.risk_tier).lower()
        if len(self.tiers) > 1:
            return f"Policy for {label} risk (the strictest this version was under)"
        return f"Policy for {label} risk"


def _union(first: Iterable[str], second: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*first, *second]))


def tier_policy(tier: str) -> EffectivePolicy:
    """The current policy of one risk tier (created with the defaults if an administrator
    deleted it)."""
    from governance.constants import DEFAULT_POLICIES

    policy, _ = Policy.objects.get_or_create(risk_tier=tier, defaults=DEFAULT_POLICIES[tier])
    return EffectivePolicy.of(policy)


def effective_policy(version: ModelVersion, snapshots: Iterable[dict] | None = None):
    """The stricter of the current policy of the model's tier and every policy the version's
    decisions were judged by (``snapshots``: their stored policies, read here when not given)."""
    if snapshots is None:
        snapshots = version.decisions.values_list("policy", flat=True)
    policy = tier_policy(version.registered_model.risk_tier)
    for data in snapshots:
        policy = policy.stricter(EffectivePolicy.from_snapshot(data))
    return policy
