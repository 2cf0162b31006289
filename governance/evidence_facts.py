"""What governance adds to the evidence summary at the top of the version page: how many
findings are still open, and the policy's checks with their verdicts. Registered by
``GovernanceConfig.ready()`` through ``registry.evidence.evidence_fact_register``."""

from __future__ import annotations

from collections.abc import Mapping

from accounts.models import User
from governance import review_panel
from governance.guards import open_findings, policy_for, policy_report
from registry.evidence import EvidenceCheck, EvidenceFact
from registry.models import ModelVersion


def _findings_fact(version: ModelVersion, blocking: bool) -> EvidenceFact:
    count = open_findings(version).count()
    if not count:
        return EvidenceFact("open-findings", "Open findings", "0", "pass", "None open.", "review")
    return EvidenceFact(
        "open-findings",
        "Open findings",
        str(count),
        "fail" if blocking else "warn",
        "They block approval." if blocking else "The policy lets them pass.",
        "review",
    )


def _checks_fact(guards) -> EvidenceFact:
    checks = tuple(EvidenceCheck(guard.label, verdict, guard.reason) for guard, verdict in guards)
    failed = sum(1 for check in checks if check.verdict == "fail")
    pending = sum(1 for check in checks if check.verdict == "pending")
    passed = len(checks) - failed - pending
    tone = "fail" if failed else "warn" if pending else "pass"
    detail = f"{failed} not met." if failed else f"{pending} pending." if pending else "All pass."
    return EvidenceFact(
        "policy-checks",
        "Policy checks",
        f"{passed} of {len(checks)} pass",
        tone,
        detail,
        "review",
        checks,
    )


def version_evidence_facts(
    user: User, version: ModelVersion, panel_contexts: Mapping[str, dict]
) -> list[EvidenceFact]:
    """Open findings and the policy's checks of ``version``: the same for every viewer (what
    the version must show, not what the viewer may do). The review panel, when the page built
    it, already holds the policy and its checks; they are not read twice."""
    review = panel_contexts.get(review_panel.TEMPLATE)
    if review is not None:
        policy, guards = review["policy"], review["guards"]
    else:
        policy = policy_for(version)
        guards = [(g, review_panel.guard_verdict(g, version)) for g in policy_report(version)]
    return [_findings_fact(version, policy.block_on_open_findings), _checks_fact(guards)]
