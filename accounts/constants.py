"""What each governance role may do. Separation of duties is built in: no role both submits
and validates or approves."""

from __future__ import annotations

from accounts.choices import RoleName, Verb

ROLE_VERBS: dict[str, frozenset[str]] = {
    RoleName.CONTRIBUTOR: frozenset({Verb.VIEW, Verb.CHANGE, Verb.SUBMIT, Verb.ANNOTATE}),
    RoleName.VALIDATOR: frozenset({Verb.VIEW, Verb.VALIDATE, Verb.ANNOTATE}),
    RoleName.MANAGER: frozenset({Verb.VIEW, Verb.APPROVE, Verb.DEPLOY, Verb.ANNOTATE}),
    RoleName.ADMINISTRATOR: frozenset(
        {Verb.VIEW, Verb.CHANGE, Verb.ANNOTATE, Verb.ARCHIVE, Verb.CLASSIFY, Verb.READ_AUDIT}
    ),
    RoleName.AUDITOR: frozenset({Verb.VIEW, Verb.READ_AUDIT}),
    # A serving gateway's service account: it reports what a deployed model did, nothing else.
    # Developers never hold it, so production evidence is not theirs to write.
    RoleName.GATEWAY: frozenset({Verb.VIEW, Verb.LOG}),
}

# Verbs that count only when the role is held globally: a team's (or one model's) auditor or
# administrator reads that team's records, not the whole audit. They are never granted on an
# object (no ``audit_<model>`` permission exists).
GLOBAL_ONLY_VERBS: frozenset[str] = frozenset({Verb.READ_AUDIT})

# Being a member of the team that owns something lets you see it, whatever your roles.
MEMBER_VERBS: frozenset[str] = frozenset({Verb.VIEW})

ROLE_DEFAULTS: dict[str, dict[str, str]] = {
    RoleName.CONTRIBUTOR: {
        "description": "Registers models, datasets, runs and versions for their team, answers "
        "reviewers and submits versions for validation.",
        "qualifications": "Trained in the team's modelling standards and data handling policy.",
    },
    RoleName.VALIDATOR: {
        "description": "Independently reviews a version's evidence and signs it off or sends it "
        "back, with a written motivation. Never validates their own work.",
        "qualifications": "Independent of the model's development; model risk validation training.",
    },
    RoleName.MANAGER: {
        "description": "Production model manager: approves promotion to production and owns "
        "deployments.",
        "qualifications": "Accountable owner of the business process the model serves.",
    },
    RoleName.ADMINISTRATOR: {
        "description": "Manages roles, teams, policies, templates and archives.",
        "qualifications": "Appointed by the model risk management function.",
    },
    RoleName.AUDITOR: {
        "description": "Reads everything, changes nothing, exports the evidence.",
        "qualifications": "Internal audit or an external auditor under engagement.",
    },
    RoleName.GATEWAY: {
        "description": "A serving gateway's service account: logs the predictions, ground "
        "truth and KPI values of the deployments it serves. Nothing else.",
        "qualifications": "A service account owned by the platform team, not a person.",
    },
}

# Failed logins for one account within the window before further attempts are refused.
LOGIN_FAILURE_LIMIT = 5
LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60
