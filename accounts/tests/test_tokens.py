"""Personal API tokens: created by their owner, shown once, stored as a hash, scoped, expiring,
revocable, and naming their user in the audit trail."""

from __future__ import annotations

import hashlib
import inspect
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient, APIRequestFactory

from accounts.api.permissions import required_token_scope
from accounts.choices import LoginMethod, LoginOutcome, TokenScope
from accounts.models import ApiToken, LoginEvent
from accounts.services import token_authenticate, token_create, token_revoke
from accounts.services.tokens import TokenRefused
from core.errors import Forbidden, InvalidInput
from registry.models import RegisteredModel

pytestmark = pytest.mark.django_db


def bearer(secret: str, **extra) -> APIClient:
    api = APIClient(**extra)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return api


@pytest.fixture
def signed_in(contributor) -> APIClient:
    api = APIClient()
    api.force_authenticate(contributor)
    return api


@pytest.fixture
def write_token(contributor):
    return token_create(actor=contributor, name="ci", scopes=["read", "write"])


# --- Creating ------------------------------------------------------------------------------


def test_it_shows_the_secret_once_and_stores_only_its_hash(signed_in, contributor):
    response = signed_in.post(
        "/api/v1/tokens/", {"name": "nightly", "scopes": ["read", "write"]}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("stw_") and len(secret) > 40
    assert body["prefix"] == secret[:12]
    assert body["scopes"] == ["read", "write"]
    assert body["active"] is True

    row = ApiToken.objects.get(prefix=body["prefix"])
    assert row.user == contributor
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = ApiToken.objects.filter(pk=row.pk).values_list().get()
    assert not any(secret in str(value) for value in stored)

    listed = signed_in.get("/api/v1/tokens/").content.decode()
    detail = signed_in.get(f"/api/v1/tokens/{row.prefix}/").content.decode()
    for later in (listed, detail):
        assert secret not in later
        assert row.secret_hash not in later
        assert "secret" not in later


def test_nobody_can_create_a_token_for_someone_else(signed_in, contributor, teammate):
    """There is no user parameter anywhere: a ``user`` in the request is ignored."""
    assert "user" not in inspect.signature(token_create).parameters
    response = signed_in.post(
        "/api/v1/tokens/",
        {"name": "sneaky", "scopes": ["write"], "user": teammate.username, "user_id": teammate.pk},
        format="json",
    )
    assert response.status_code == 201
    assert ApiToken.objects.get(name="sneaky").user == contributor
    assert not teammate.api_tokens.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "", "scopes": ["read"]}, "name"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["root"]}, "scopes"),
        ({"name": "x", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
    ],
)
def test_it_refuses_a_bad_token_request_with_a_400(signed_in, payload, field):
    response = signed_in.post("/api/v1/tokens/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not ApiToken.objects.exists()


def test_the_service_validates_on_its_own(contributor):
    with pytest.raises(InvalidInput) as no_scope:
        token_create(actor=contributor, name="x", scopes=[])
    assert "scopes" in no_scope.value.field_errors
    with pytest.raises(InvalidInput) as past:
        token_create(
            actor=contributor,
            name="x",
            scopes=["read"],
            expires_at=timezone.now() - timedelta(seconds=1),
        )
    assert "expires_at" in past.value.field_errors
    token, _ = token_create(actor=contributor, name="x", scopes=["write", "read", "read"])
    assert token.scopes == ["read", "write"]


# --- Using ---------------------------------------------------------------------------------


def test_a_bearer_token_acts_as_its_user(write_token):
    _, secret = write_token
    response = bearer(secret).get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "carol"


def test_audit_entries_made_through_a_token_name_its_user(contributor, write_token):
    _, secret = write_token
    api = bearer(secret, REMOTE_ADDR="203.0.113.21")
    response = api.post(
        "/api/v1/models/", {"name": "via-token", "owner_team": "credit-risk"}, format="json"
    )
    assert response.status_code == 201, response.json()
    entry = LogEntry.objects.get_for_object(RegisteredModel.objects.get(name="via-token")).get()
    assert entry.actor == contributor
    assert entry.remote_addr == "203.0.113.21"


def test_a_read_only_token_cannot_write(contributor):
    _, secret = token_create(actor=contributor, name="reader", scopes=["read"])
    api = bearer(secret)
    assert api.get("/api/v1/models/").status_code == 200
    response = api.post(
        "/api/v1/models/", {"name": "not-made", "owner_team": "credit-risk"}, format="json"
    )
    assert response.status_code == 403
    assert "'write' scope" in response.json()["message"]
    assert not RegisteredModel.objects.filter(name="not-made").exists()


def test_a_write_only_token_cannot_read(contributor):
    _, secret = token_create(actor=contributor, name="writer", scopes=["write"])
    response = bearer(secret).get("/api/v1/models/")
    assert response.status_code == 403
    assert "'read' scope" in response.json()["message"]


def test_a_view_can_ask_for_a_workflow_scope_per_action():
    class TransitionView:
        action = "submit"
        required_token_scopes = {"submit": TokenScope.SUBMIT}

    request = APIRequestFactory().post("/x/")
    assert required_token_scope(request, TransitionView()) == "submit"
    TransitionView.action = "partial_update"
    assert required_token_scope(request, TransitionView()) == "write"
    assert required_token_scope(APIRequestFactory().get("/x/"), TransitionView()) == "read"


def _expired(user):
    token, secret = token_create(actor=user, name="old", scopes=["read"])
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    return secret, "has expired"


def _revoked(user):
    token, secret = token_create(actor=user, name="gone", scopes=["read"])
    token_revoke(actor=user, token=token)
    return secret, "has been revoked"


def _garbage(user):
    return "stw_not-a-real-token", "Invalid API token"


def _disabled(user):
    _, secret = token_create(actor=user, name="x", scopes=["read"])
    user.is_active = False
    user.save()
    return secret, "disabled"


@pytest.mark.parametrize("make", [_expired, _revoked, _garbage, _disabled])
def test_an_unusable_token_is_a_401_with_the_reason(contributor, make):
    secret, reason = make(contributor)
    response = bearer(secret, REMOTE_ADDR="198.51.100.4").get("/api/v1/models/")
    assert response.status_code == 401
    assert reason in response.json()["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    event = LoginEvent.objects.get(method=LoginMethod.TOKEN, outcome=LoginOutcome.FAILURE)
    assert event.ip_address == "198.51.100.4"
    assert secret not in event.detail


def test_a_malformed_bearer_header_is_a_401():
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Bearer two parts")
    assert api.get("/api/v1/models/").status_code == 401


def test_requests_without_credentials_are_still_refused_with_403():
    response = APIClient().get("/api/v1/models/")
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response


def test_last_use_is_recorded_at_most_once_a_minute(contributor, write_token):
    token, secret = write_token
    bearer(secret, REMOTE_ADDR="203.0.113.5").get("/api/v1/me/")
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    assert token.last_used_ip == "203.0.113.5"

    bearer(secret, REMOTE_ADDR="203.0.113.6").get("/api/v1/me/")
    token.refresh_from_db()
    assert token.last_used_at == first_use  # within the minute: no write
    assert token.last_used_ip == "203.0.113.5"

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first_use - timedelta(minutes=2))
    bearer(secret, REMOTE_ADDR="203.0.113.6").get("/api/v1/me/")
    token.refresh_from_db()
    assert token.last_used_at > first_use
    assert token.last_used_ip == "203.0.113.6"


def test_a_used_token_costs_no_write_within_the_minute(write_token, django_assert_num_queries):
    _, secret = write_token
    token_authenticate(secret, "203.0.113.5")
    with django_assert_num_queries(1):  # the lookup only
        token_authenticate(secret, "203.0.113.5")


def test_the_first_token_use_of_a_day_is_one_login_event(contributor, write_token):
    token, secret = write_token
    other, other_secret = token_create(actor=contributor, name="other", scopes=["read"])
    for _ in range(3):
        bearer(secret, REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="ci/1.0").get("/api/v1/me/")
    bearer(other_secret).get("/api/v1/me/")
    events = LoginEvent.objects.filter(method=LoginMethod.TOKEN)
    assert events.count() == 1
    event = events.get()
    assert (event.user, event.outcome) == (contributor, LoginOutcome.SUCCESS)
    assert (event.ip_address, event.user_agent) == ("203.0.113.7", "ci/1.0")
    assert token.prefix in event.detail

    # The next day, the first use is recorded again.
    yesterday = timezone.now() - timedelta(days=1)
    events.update(created_at=yesterday)
    ApiToken.objects.update(last_used_at=yesterday)
    bearer(secret).get("/api/v1/me/")
    assert LoginEvent.objects.filter(method=LoginMethod.TOKEN).count() == 2


# --- Managing ------------------------------------------------------------------------------


def test_a_token_cannot_create_or_revoke_tokens(contributor, write_token):
    token, secret = write_token
    api = bearer(secret)
    created = api.post("/api/v1/tokens/", {"name": "child", "scopes": ["read"]}, format="json")
    assert created.status_code == 403
    assert "cannot create or revoke tokens" in created.json()["message"]
    revoked = api.delete(f"/api/v1/tokens/{token.prefix}/")
    assert revoked.status_code == 403
    assert ApiToken.objects.count() == 1
    token.refresh_from_db()
    assert token.revoked_at is None
    assert api.get("/api/v1/tokens/").status_code == 200  # reading is fine


def test_deleting_a_token_revokes_it_and_keeps_the_record(signed_in, write_token):
    token, secret = write_token
    response = signed_in.delete(f"/api/v1/tokens/{token.prefix}/")
    assert response.status_code == 200
    assert response.json()["active"] is False
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert bearer(secret).get("/api/v1/me/").status_code == 401
    entry = LogEntry.objects.get_for_object(token).latest("timestamp")
    assert "revoked_at" in entry.changes_dict
    assert "secret_hash" not in str(LogEntry.objects.get_for_object(token).values_list())


def test_another_users_token_is_invisible_over_the_api(teammate, write_token):
    token, _ = write_token
    api = APIClient()
    api.force_authenticate(teammate)
    assert api.get("/api/v1/tokens/").json()["results"] == []
    assert api.get(f"/api/v1/tokens/{token.prefix}/").status_code == 404
    assert api.delete(f"/api/v1/tokens/{token.prefix}/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_only_the_owner_or_an_administrator_revokes(teammate, administrator, write_token):
    token, _ = write_token
    with pytest.raises(Forbidden):
        token_revoke(actor=teammate, token=token)
    assert token_revoke(actor=administrator, token=token).revoked_at is not None


def test_token_authenticate_says_why_it_refuses(contributor):
    with pytest.raises(TokenRefused, match="Invalid API token"):
        token_authenticate("stw_nothing")


# --- Admin ---------------------------------------------------------------------------------


def test_the_admin_lists_tokens_without_their_hash_and_revokes_them(
    client, administrator, write_token
):
    token, secret = write_token
    client.force_login(administrator)
    changelist = reverse("admin:accounts_apitoken_changelist")
    page = client.get(changelist, {"q": "carol"})
    assert page.status_code == 200
    assert token.prefix in page.content.decode()
    detail = client.get(reverse("admin:accounts_apitoken_change", args=[token.pk]))
    assert detail.status_code == 200
    assert token.secret_hash not in detail.content.decode()
    assert client.get(reverse("admin:accounts_apitoken_add")).status_code == 403

    response = client.post(
        changelist, {"action": "revoke_selected", "_selected_action": [token.pk]}, follow=True
    )
    assert "Revoked 1 token." in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_the_token_admin_is_for_administrators_only(client, write_token):
    from tests.factories import UserFactory

    clerk = UserFactory(username="clerk", is_staff=True)
    client.force_login(clerk)
    assert client.get(reverse("admin:accounts_apitoken_changelist")).status_code == 403
