"""The work queue: what awaits each person's decision (and only that), apart from what they
watch; its order, columns and filters; the header badge counted in SQL at a constant cost; the
version page's decision buttons, the confirmation of destructive decisions, and the reasons
given when no decision is open to the viewer."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.choices import RoleName
from accounts.services import role_assign
from governance.choices import Action
from governance.models import Decision
from governance.queue_selectors import awaiting_count, awaiting_my_decision, watching
from registry.choices import RiskTier
from registry.choices import VersionStatus as S
from tests.factories import ModelVersionFactory, RegisteredModelFactory, UserFactory, version_decide

pytestmark = pytest.mark.django_db
WHY = "Evidence reviewed; the hold-out metrics reproduce."


def act(actor, version, action, motivation=WHY):
    version_decide(actor=actor, version=version, action=action, motivation=motivation)
    version.refresh_from_db()


@pytest.fixture
def scorer(team, contributor):
    """Medium risk: one independent sign-off."""
    return RegisteredModelFactory(
        actor=contributor, name="credit-scorer", owner_team=team, risk_tier=RiskTier.MEDIUM
    )


@pytest.fixture
def limits(team, contributor):
    """High risk: two independent sign-offs."""
    return RegisteredModelFactory(
        actor=contributor, name="credit-limits", owner_team=team, risk_tier=RiskTier.HIGH
    )


@pytest.fixture
def validator2(db):
    user = UserFactory(username="walt")
    role_assign(user=user, role=RoleName.VALIDATOR)
    return user


def new(model, contributor, *steps):
    version = ModelVersionFactory(actor=contributor, registered_model=model)
    for actor, action in steps:
        act(actor, version, action)
    return version


def keys(qs) -> list[str]:
    return [v.natural_key for v in qs]


def queue(client, user, **params) -> tuple[list[str], list[str]]:
    client.force_login(user)
    response = client.get(reverse("governance:inbox"), params)
    assert response.status_code == 200
    return (
        [row.version.natural_key for row in response.context["awaiting_rows"]],
        [row.version.natural_key for row in response.context["watching_rows"]],
    )


# --- Who waits for whom ---------------------------------------------------------------------


def test_it_waits_for_a_validator_only_on_what_they_must_still_decide(
    client, scorer, limits, contributor, validator, validator2
):
    to_claim = new(scorer, contributor, (contributor, Action.SUBMIT))
    mine = new(scorer, contributor, (contributor, Action.SUBMIT), (validator, Action.CLAIM))
    theirs = new(scorer, contributor, (contributor, Action.SUBMIT), (validator2, Action.CLAIM))
    signed = new(
        limits,
        contributor,
        (contributor, Action.SUBMIT),
        (validator, Action.CLAIM),
        (validator, Action.SIGN_OFF),
    )

    awaiting, watched = queue(client, validator)

    # The one she claimed first (a review under way), then the one to claim.
    assert awaiting == [mine.natural_key, to_claim.natural_key]
    # Already signed this round, and claimed by a colleague who has not signed: watched.
    assert set(watched) == {signed.natural_key, theirs.natural_key}
    # A high-risk version one colleague signed needs another independent sign-off: Walt's.
    assert signed.natural_key in queue(client, validator2)[0]
    assert theirs.natural_key in queue(client, validator2)[0]


def test_it_waits_for_a_manager_on_approvals_not_on_what_is_in_production(
    client, scorer, contributor, validator, manager
):
    steps = [(contributor, Action.SUBMIT), (validator, Action.CLAIM), (validator, Action.SIGN_OFF)]
    validated = new(scorer, contributor, *steps)
    approved = new(scorer, contributor, *steps, (manager, Action.APPROVE))
    production = new(
        scorer, contributor, *steps, (manager, Action.APPROVE), (manager, Action.PROMOTE)
    )
    flagged = new(
        scorer,
        contributor,
        *steps,
        (manager, Action.APPROVE),
        (manager, Action.PROMOTE),
        (manager, Action.FLAG),
    )

    awaiting, watched = queue(client, manager)

    # Urgency first: a flagged production version, then approval, then going to production.
    assert awaiting == [flagged.natural_key, validated.natural_key, approved.natural_key]
    assert watched == [production.natural_key]  # offers deprecate/flag: watching, not waiting


def test_it_waits_for_a_contributor_on_her_drafts_and_sent_back_versions(
    client, scorer, contributor, validator, teammate, outsider, auditor
):
    draft = new(scorer, contributor)
    sent_back = new(
        scorer,
        contributor,
        (contributor, Action.SUBMIT),
        (validator, Action.CLAIM),
        (validator, Action.REQUEST_CHANGES),
    )
    submitted = new(scorer, contributor, (contributor, Action.SUBMIT))

    awaiting, watched = queue(client, contributor)

    assert set(awaiting) == {draft.natural_key, sent_back.natural_key}
    assert awaiting[0] == sent_back.natural_key  # changes requested before a plain draft
    assert watched == [submitted.natural_key]  # her own version under review
    assert queue(client, teammate)[0] == []  # not her drafts
    assert queue(client, outsider) == ([], [])
    assert queue(client, auditor) == ([], [])


def test_the_columns_show_claim_sign_offs_and_revalidation_due(
    client, limits, contributor, validator, validator2, manager
):
    signed = new(
        limits,
        contributor,
        (contributor, Action.SUBMIT),
        (validator, Action.CLAIM),
        (validator, Action.SIGN_OFF),
    )
    client.force_login(validator2)
    html = client.get(reverse("governance:inbox")).content.decode()
    row = html[html.index(f'data-version="{signed.natural_key}"') :]

    assert "vera" in row[: row.index("queue-sign-offs")]  # claimed by
    assert "1 of 2" in row
    assert 'data-action="sign_off"' in row

    act(validator2, signed, Action.SIGN_OFF)
    [row] = [r for r in queue_rows_of(client, manager) if r.version.pk == signed.pk]
    assert (row.sign_offs, row.required_sign_offs) == (2, 2)
    validated_at = Decision.objects.get(version=signed, to_state=S.VALIDATED).created_at
    assert (row.due - validated_at).days == 365


def queue_rows_of(client, user):
    client.force_login(user)
    return client.get(reverse("governance:inbox")).context["awaiting_rows"]


def test_filters_narrow_both_lists_and_bad_values_are_a_400(
    client, scorer, limits, contributor, validator
):
    medium = new(scorer, contributor, (contributor, Action.SUBMIT))
    high = new(limits, contributor, (contributor, Action.SUBMIT))

    assert queue(client, validator, risk_tier="high")[0] == [high.natural_key]
    assert queue(client, validator, state="submitted")[0] == [medium.natural_key, high.natural_key]
    assert queue(client, validator, state="draft")[0] == []
    assert queue(client, validator, team="credit-risk")[0] == [medium.natural_key, high.natural_key]
    assert queue(client, validator, team="marketing")[0] == []
    for bad in ({"state": "bogus"}, {"risk_tier": "<script>"}):
        response = client.get(reverse("governance:inbox"), bad)
        assert response.status_code == 400
        assert b"Unknown filter value" in response.content


# --- The header badge -------------------------------------------------------------------------


def test_the_badge_counts_only_what_awaits_me_in_constant_queries(
    client, scorer, contributor, validator, manager
):
    steps = [(contributor, Action.SUBMIT), (validator, Action.CLAIM), (validator, Action.SIGN_OFF)]
    new(scorer, contributor, *steps, (manager, Action.APPROVE), (manager, Action.PROMOTE))
    assert awaiting_count(manager) == 0  # in production: watching only
    assert watching(manager).count() == 1
    new(scorer, contributor, *steps)

    def count_queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            n = awaiting_count(manager)
        return n, len(ctx.captured_queries)

    n, before = count_queries()
    assert n == 1 == awaiting_my_decision(manager).count()
    assert before <= 3
    for _ in range(5):
        new(scorer, contributor, *steps)
    n, after = count_queries()
    assert n == 6
    assert after == before

    client.force_login(manager)
    html = client.get(reverse("registry:model-list")).content.decode()
    assert 'data-testid="inbox-badge" aria-label="6 waiting">6<' in html


def test_the_queue_page_costs_the_same_for_one_row_or_many(client, scorer, contributor, validator):
    new(scorer, contributor, (contributor, Action.SUBMIT))
    client.force_login(validator)

    def page_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("governance:inbox")).status_code == 200
        return len(ctx.captured_queries)

    before = page_queries()
    for _ in range(6):
        new(scorer, contributor, (contributor, Action.SUBMIT))
    assert page_queries() == before


# --- Decisions on the version page ----------------------------------------------------------


def page_url(version) -> str:
    return reverse(
        "registry:model-version-detail", args=[version.registered_model.name, version.version]
    )


def decide_url(version) -> str:
    return reverse(
        "governance:version-decide", args=[version.registered_model.name, version.version]
    )


def test_each_open_decision_is_its_own_button_coloured_by_meaning(
    client, scorer, contributor, validator
):
    version = new(scorer, contributor, (contributor, Action.SUBMIT), (validator, Action.CLAIM))
    client.force_login(validator)
    html = client.get(page_url(version)).content.decode()

    assert 'data-action="sign_off" data-tone="go"' in html
    assert 'data-action="request_changes" data-tone="caution"' in html
    assert 'data-action="reject" data-tone="danger"' in html
    assert 'data-testid="decision-confirm"' in html  # reject is destructive
    assert "style=" not in html.split('data-testid="decision-box"')[1].split("</section>")[0]


def test_a_rejection_needs_the_confirmation_and_changes_nothing_without_it(
    client, scorer, contributor, validator
):
    version = new(scorer, contributor, (contributor, Action.SUBMIT), (validator, Action.CLAIM))
    client.force_login(validator)
    before = Decision.objects.count()

    response = client.post(decide_url(version), {"action": "reject", "motivation": WHY})

    assert response.status_code == 400
    assert 'data-testid="confirm-error"' in response.content.decode()
    assert WHY in response.content.decode()  # what she typed is kept
    version.refresh_from_db()
    assert version.status == S.IN_VALIDATION
    assert Decision.objects.count() == before

    response = client.post(
        decide_url(version), {"action": "reject", "motivation": WHY, "confirm": "yes"}
    )
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.status == S.REJECTED


def test_a_sign_off_needs_no_confirmation(client, scorer, contributor, validator):
    version = new(scorer, contributor, (contributor, Action.SUBMIT), (validator, Action.CLAIM))
    client.force_login(validator)
    response = client.post(decide_url(version), {"action": "sign_off", "motivation": WHY})
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.status == S.VALIDATED


def test_the_promote_button_says_it_deploys_nothing(
    client, scorer, contributor, validator, manager
):
    steps = [(contributor, Action.SUBMIT), (validator, Action.CLAIM), (validator, Action.SIGN_OFF)]
    version = new(scorer, contributor, *steps, (manager, Action.APPROVE))
    client.force_login(manager)
    html = client.get(page_url(version)).content.decode()
    assert 'data-action="promote"' in html
    assert "no deployment is created" in html


def refusals(client, user, version) -> list[str]:
    client.force_login(user)
    response = client.get(page_url(version))
    assert response.status_code == 200
    assert 'data-testid="decision-form"' not in response.content.decode()
    return response.context["panels"][0].context["refusals"]


def test_it_says_why_no_decision_is_open(
    client, scorer, limits, contributor, validator, manager, administrator
):
    submitted = new(scorer, contributor, (contributor, Action.SUBMIT))
    # Role: a contributor may not claim.
    assert any("needs the validator role" in r for r in refusals(client, contributor, submitted))
    # Separation of duties: a validator who submitted it may not claim it.
    role_assign(user=contributor, role=RoleName.VALIDATOR)
    assert any(
        "someone independent must review it" in r for r in refusals(client, contributor, submitted)
    )
    # Already signed this round (high risk: a second sign-off is still needed).
    signed = new(
        limits,
        contributor,
        (contributor, Action.SUBMIT),
        (validator, Action.CLAIM),
        (validator, Action.SIGN_OFF),
    )
    client.force_login(validator)
    html = client.get(page_url(signed)).content.decode()
    blocked = html[html.index('data-testid="blocked-options"') :]
    assert '<li data-action="sign_off">' in blocked
    assert "You already signed off this round." in blocked
    # State: only an administrator's archiving leads on from rejected; nothing from archived.
    rejected = new(scorer, contributor, (contributor, Action.SUBMIT), (validator, Action.CLAIM))
    act(validator, rejected, Action.REJECT)
    assert any("needs the administrator role" in r for r in refusals(client, manager, rejected))
    act(administrator, rejected, Action.ARCHIVE)
    assert refusals(client, manager, rejected) == [
        "This version is archived: no decision leads on from this state."
    ]
