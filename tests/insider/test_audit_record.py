"""Attacks on the audit record itself (issue #12, "The audit record must prove it", and item 8).

Someone with the database (a DBA, a restored copy) cuts the newest events or rewrites one;
a client chooses its own request id; one address sprays passwords over many accounts; an
attacker keeps the administrator locked out; an outsider asks role assignment which usernames
exist; a flood of bad logins grows the chain. Each test tries it and asserts it fails, what
is left unchanged, and what the chain holds."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import LoginEvent, RoleAssignment, TeamMembership
from core.audit_anchor import audit_chain_anchor
from core.audit_verify import audit_chain_verify
from core.models import AuditEvent
from core.tests.test_audit_chain import guards_lifted, raw_sql
from registry.models import ModelVersion
from tests.factories import (
    PASSWORD,
    ModelVersionFactory,
    RegisteredModelFactory,
    UserFactory,
    version_decide,
)

pytestmark = pytest.mark.django_db

WHY = "The evidence was reviewed and the hold-out metrics reproduce."
ATTACKER = "198.51.100.66"


@pytest.fixture(autouse=True)
def anchor_file(settings, tmp_path):
    settings.STEWARD_AUDIT_ANCHOR_FILE = tmp_path / "audit-anchors.jsonl"
    return settings.STEWARD_AUDIT_ANCHOR_FILE


@pytest.fixture
def root(db):
    """The administrator the admin console is run as (a superuser)."""
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def approved(team, contributor, validator, manager) -> ModelVersion:
    """credit-scoring v1, taken to approved through the workflow (the chain ends with it)."""
    model = RegisteredModelFactory(owner_team=team, name="credit-scoring")
    version = ModelVersionFactory(actor=contributor, registered_model=model)
    for actor, action in (
        (contributor, "submit"),
        (validator, "claim"),
        (validator, "sign_off"),
        (manager, "approve"),
    ):
        version_decide(actor=actor, version=version, action=action, motivation=WHY)
    return version


def verify_failure(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        call_command("verify_audit_chain", *args, stdout=io.StringIO())
    assert caught.value.returncode == 1
    return str(caught.value)


def approve_event() -> AuditEvent:
    return AuditEvent.objects.filter(action="version.approve").latest("sequence")


# --- Truncation and rewrite -------------------------------------------------------------------


def test_it_detects_the_newest_events_cut_from_a_copy_by_the_anchor(approved, anchor_file):
    """The attack: on a copy of the database, delete the last events (the approval among them)
    so the copy tells a different story; before anchors, the shorter chain still verified."""
    call_command("anchor_audit_chain", stdout=io.StringIO())  # celery beat does this
    approval = approve_event()
    head = AuditEvent.objects.order_by("-sequence").first()
    raw_sql("DELETE FROM core_auditevent WHERE sequence >= %s", [approval.sequence])

    message = verify_failure()
    assert f"BROKEN at sequence {approval.sequence} (missing row)" in message
    assert f"line 1 of {anchor_file}" in message
    assert f"recorded sequence {head.sequence}" in message and "truncated" in message
    # What the attack relied on: without the anchor the cut chain is still a valid chain.
    assert audit_chain_verify(use_anchors=False).ok


def test_it_detects_a_row_rewritten_and_rehashed_without_the_key(approved):
    """The attack: change who approved, recompute that row's hash and relink every row after
    it, as the code in the repository shows how; only the audit key can sign the result."""
    events = list(AuditEvent.objects.filter(sequence__gte=approve_event().sequence))
    events[0].actor_username = "vera"
    previous_hash = events[0].prev_hash
    with guards_lifted(), connection.cursor() as cursor:
        for event in events:
            event.prev_hash = previous_hash
            event.hash = event.compute_hash()
            cursor.execute(
                "UPDATE core_auditevent SET actor_username = %s, prev_hash = %s, hash = %s "
                "WHERE id = %s",
                [event.actor_username, event.prev_hash, event.hash, event.pk],
            )
            previous_hash = event.hash
    result = audit_chain_verify()
    assert (result.ok, result.first_broken_id) == (False, events[0].pk)
    assert "signature does not match" in result.reason
    assert f"BROKEN at sequence {events[0].sequence} (id {events[0].pk})" in verify_failure()


def test_it_ignores_a_request_id_the_client_chose(team, contributor):
    """The attack: send X-Request-ID / X-Correlation-ID of someone else's request, so the
    trail links my decision to theirs."""
    version = ModelVersionFactory(
        actor=contributor, registered_model=RegisteredModelFactory(owner_team=team, name="m")
    )
    client = APIClient(HTTP_X_REQUEST_ID="victim-req-1", HTTP_X_CORRELATION_ID="victim-req-1")
    client.force_authenticate(contributor)
    response = client.post(
        f"/api/v1/models/m/versions/{version.version}/transitions/",
        {"action": "submit", "motivation": WHY},
        format="json",
    )
    assert response.status_code == 201, response.content
    server_id = response["X-Request-ID"]
    assert str(uuid.UUID(server_id)) == server_id
    event = AuditEvent.objects.get(action="version.submit")
    assert event.request_id == server_id
    assert not AuditEvent.objects.filter(request_id="victim-req-1").exists()
    assert version.decisions.get().request_id == server_id


# --- Sign-in throttle -----------------------------------------------------------------------


def sign_in(client, username: str, password: str, address: str, *, admin: bool = False):
    url = reverse("admin:login") if admin else reverse("login")
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_it_stops_password_spraying_from_one_address(client, contributor, settings):
    """The attack: one password tried on many accounts from one address, under the
    per-account limit each time."""
    limit = settings.STEWARD_LOGIN_ADDRESS_FAILURE_LIMIT
    for n in range(limit):
        UserFactory(username=f"staff{n}")
        assert sign_in(client, f"staff{n}", "Spring2026!", ATTACKER).status_code == 200
    # The next guess is refused before any password is checked, even a right one.
    refused = sign_in(client, "carol", PASSWORD, ATTACKER)
    assert "Too many failed sign-ins from your address" in refused.content.decode()
    assert SESSION_KEY not in client.session
    assert LoginEvent.objects.filter(outcome="failure").count() == limit
    assert LoginEvent.objects.get(outcome="throttled").ip_address == ATTACKER
    # Carol, from her own address, is not affected.
    assert sign_in(client, "carol", PASSWORD, "203.0.113.5").status_code == 302


def test_it_cannot_keep_the_administrator_locked_out_from_another_address(
    client, administrator, settings
):
    """The attack: keep failing as ada so that she cannot sign in to fix anything (five wrong
    passwords used to lock any account for everyone)."""
    for _ in range(50):
        sign_in(client, "ada", "guess", ATTACKER, admin=True)
    assert SESSION_KEY not in client.session
    response = sign_in(client, "ada", PASSWORD, "203.0.113.5", admin=True)
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(administrator.pk)


def test_a_distributed_attack_cannot_lock_the_administrator_out_of_her_own_address(
    client, administrator, settings
):
    """Many addresses together reach the account-wide limit: unknown addresses are refused,
    ada at the address she signed in from before is not."""
    assert sign_in(client, "ada", PASSWORD, "203.0.113.5", admin=True).status_code == 302
    client.logout()
    per_address = settings.STEWARD_LOGIN_FAILURE_LIMIT
    for n in range(settings.STEWARD_LOGIN_ACCOUNT_FAILURE_LIMIT // per_address):
        for _ in range(per_address):
            sign_in(client, "ada", "guess", f"198.51.{n // 200}.{n % 200 + 1}")
    refused = sign_in(client, "ada", PASSWORD, "192.0.2.200")
    assert "from many addresses" in refused.content.decode()
    assert sign_in(client, "ada", PASSWORD, "203.0.113.5").status_code == 302


def test_a_thousand_bad_logins_append_a_bounded_number_of_chain_events(db, settings):
    """The attack: grow the append-only chain without bound by failing to sign in."""
    settings.STEWARD_LOGIN_WINDOW_MINUTES = 60 * 24 * 365  # no window boundary mid-test
    before = AuditEvent.objects.count()
    client = APIClient()
    for n in range(1000):
        client.post(reverse("login"), {"username": f"x{n}", "password": "p"}, REMOTE_ADDR=ATTACKER)
    assert LoginEvent.objects.filter(ip_address=ATTACKER).count() == 1000  # the detail stays
    # The 1st, 10th, 100th and 1000th attempt of the window, each with its count.
    samples = AuditEvent.objects.order_by("sequence")[before:]
    assert [event.data["attempts_from_address"] for event in samples] == [1, 10, 100, 1000]
    added = len(samples)
    # From many addresses, the chain takes at most the cap per window.
    settings.STEWARD_LOGIN_CHAIN_FAILURES_PER_WINDOW = added + 20
    for n in range(60):
        client.post(
            reverse("login"), {"username": "x", "password": "p"}, REMOTE_ADDR=f"192.0.2.{n + 1}"
        )
    assert AuditEvent.objects.count() - before == added + 20


# --- Existence of usernames ---------------------------------------------------------------


@pytest.mark.parametrize(
    "route",
    [
        ("/api/v1/role-assignments/", {"role": "validator"}),
        ("/api/v1/teams/credit-risk/members/", {}),
        ("/api/v1/models/credit-scoring/role-assignments/", {"role": "validator"}),
    ],
    ids=["role-assignment", "team-member", "model-role-assignment"],
)
def test_it_does_not_tell_an_outsider_which_usernames_exist(contributor, teammate, route):
    """The attack: post a role assignment for names and tell by the error which exist."""
    RegisteredModelFactory(owner_team=contributor.teams.get(), name="credit-scoring")
    url, body = route
    client = APIClient()
    client.force_authenticate(contributor)
    answers = [
        client.post(url, {**body, "user": name}, format="json") for name in ("tom", "nobody-xyz")
    ]
    assert [answer.status_code for answer in answers] == [403, 403]
    assert answers[0].json() == answers[1].json()
    assert (
        not AuditEvent.objects.filter(action__in=["role.grant", "team.join"])
        .exclude(actor=None)
        .exists()
    )


# --- Security-relevant writes in the chain --------------------------------------------------


def test_token_creation_and_revocation_are_in_the_chain_and_a_refusal_is_not(contributor, outsider):
    owner = APIClient()
    owner.force_authenticate(contributor)
    created = owner.post("/api/v1/tokens/", {"name": "ci", "scopes": ["read"]}, format="json")
    assert created.status_code == 201
    prefix = created.json()["prefix"]
    event = AuditEvent.objects.get(action="token.create")
    assert event.data["prefix"] == prefix and event.actor == contributor
    assert "secret" not in json.dumps(event.data)

    stranger = APIClient()
    stranger.force_authenticate(outsider)
    before = AuditEvent.objects.count()
    assert stranger.delete(f"/api/v1/tokens/{prefix}/").status_code == 404
    assert AuditEvent.objects.count() == before
    assert owner.delete(f"/api/v1/tokens/{prefix}/").status_code in (200, 204)
    assert AuditEvent.objects.get(action="token.revoke").data["prefix"] == prefix


def test_deleting_a_team_records_the_grants_it_removes(client, root, other_team):
    from accounts.choices import RoleName
    from accounts.services import role_assign, team_add_member

    otto = UserFactory(username="otto2")
    team_add_member(team=other_team, user=otto)
    role_assign(user=otto, role=RoleName.CONTRIBUTOR, team=other_team)
    client.force_login(root)
    response = client.post(
        reverse("admin:accounts_team_delete", args=[other_team.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not RoleAssignment.objects.filter(user=otto).exists()
    assert not TeamMembership.objects.filter(user=otto).exists()
    actions = list(
        AuditEvent.objects.filter(actor=root)
        .exclude(action__startswith="login.")
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == ["role.revoke", "team.leave", "team.delete"]
    assert AuditEvent.objects.get(action="team.delete").data["grants_removed"] == 1
    assert audit_chain_verify().ok


def test_a_policy_edit_is_in_the_chain_with_before_and_after(client, root, contributor):
    from governance.models import Policy

    policy = Policy.objects.get(risk_tier="high")
    client.force_login(contributor)  # not staff: the admin refuses, nothing recorded
    client.post(reverse("admin:governance_policy_change", args=[policy.pk]), {})
    assert not AuditEvent.objects.filter(action="policy.change").exists()
    client.force_login(root)
    form = {
        "description": policy.description,
        "required_sign_offs": 1,
        "metric_checks": "",
        "required_documents": "",
        "revalidation_days": policy.revalidation_days,
        "block_on_open_findings": "on",
    }
    response = client.post(reverse("admin:governance_policy_change", args=[policy.pk]), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="policy.change")
    assert event.data["changes"]["required_sign_offs"] == {"from": 2, "to": 1}
    assert event.actor == root
    assert audit_chain_anchor().written


def test_a_team_that_still_owns_records_is_not_deleted_and_nothing_is_recorded(
    root, team, contributor
):
    from accounts.services import team_delete
    from core.errors import Conflict

    RegisteredModelFactory(owner_team=team, name="kept")
    before = AuditEvent.objects.count()
    with pytest.raises(Conflict, match="still owns"):
        team_delete(actor=root, team=team)
    assert AuditEvent.objects.count() == before
    assert RoleAssignment.objects.filter(team=team).exists()
