"""The API tokens page: list your own tokens, create one (its secret shown once), revoke one;
nobody else's tokens are reachable."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import token_create

pytestmark = pytest.mark.django_db

TOKENS = "/account/tokens/"


@pytest.fixture
def carol(client, contributor):
    client.force_login(contributor)
    return client


def test_it_asks_anonymous_visitors_to_sign_in(client, db):
    response = client.get(TOKENS)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_lists_only_my_tokens(carol, contributor, teammate):
    token_create(actor=contributor, name="my-pipeline", scopes=["read"])
    token_create(actor=teammate, name="toms-pipeline", scopes=["read"])
    response = carol.get(TOKENS)
    content = response.content.decode()
    assert response.status_code == 200
    assert "my-pipeline" in content
    assert "toms-pipeline" not in content
    assert 'data-testid="tokens-link"' in content  # the header links here


def test_it_creates_a_token_and_shows_its_secret_once(carol, contributor):
    response = carol.post(
        TOKENS,
        {"name": "nightly training", "scopes": ["read", "write"], "expires_on": "2999-12-31"},
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = response.context["secret"]
    content = response.content.decode()
    assert secret in content
    assert "it will not be shown again" in content
    token = ApiToken.objects.get(user=contributor)
    assert (token.name, token.scopes) == ("nightly training", ["read", "write"])
    assert token.expires_at.isoformat() == "3000-01-01T00:00:00+00:00"

    again = carol.get(TOKENS).content.decode()
    assert secret not in again
    assert token.prefix in again


def test_it_refuses_a_token_without_scopes(carol, contributor):
    response = carol.post(TOKENS, {"name": "nothing"})
    assert response.status_code == 400
    assert "Choose at least one scope." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_it_refuses_an_expiry_in_the_past(carol):
    response = carol.post(TOKENS, {"name": "x", "scopes": ["read"], "expires_on": "2001-01-01"})
    assert response.status_code == 400
    assert "Choose today or a later day." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_it_asks_before_revoking_my_token(carol, contributor):
    token, _ = token_create(actor=contributor, name="old", scopes=["read"])
    response = carol.post(reverse("account-token-revoke", args=[token.prefix]))
    assert response.status_code == 200
    assert 'data-testid="revoke-confirm"' in response.content.decode()
    assert 'name="confirm" value="yes"' in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None


def test_it_revokes_my_token(carol, contributor):
    token, _ = token_create(actor=contributor, name="old", scopes=["read"])
    response = carol.post(
        reverse("account-token-revoke", args=[token.prefix]), {"confirm": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert "is revoked" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.revoked_at <= timezone.now()


def test_another_users_token_cannot_be_revoked(carol, teammate):
    token, _ = token_create(actor=teammate, name="toms", scopes=["read"])
    response = carol.post(reverse("account-token-revoke", args=[token.prefix]), {"confirm": "yes"})
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoking_needs_a_post(carol, contributor):
    token, _ = token_create(actor=contributor, name="old", scopes=["read"])
    assert carol.get(reverse("account-token-revoke", args=[token.prefix])).status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoking_needs_the_csrf_token(contributor):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(contributor)
    token, _ = token_create(actor=contributor, name="old", scopes=["read"])
    url = reverse("account-token-revoke", args=[token.prefix])
    assert strict.post(url, {"confirm": "yes"}).status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None
