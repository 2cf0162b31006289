"""The provider's access tokens on Steward's API (``Authorization: Bearer <JWT>``), issued by
the real test provider: a linked person's token and a pipeline's workload-identity token work
within the read/write scopes; tokens for another audience, tampered, expired, or of a subject
no account is linked to are refused with a 401 naming the reason, and audited."""

from __future__ import annotations

import pytest
import requests

from accounts.choices import LoginOutcome, RoleName, SignOnRefusal
from accounts.models import LoginEvent
from accounts.services.identities import external_identity_link
from tests.factories import RegisteredModelFactory, TeamFactory, UserFactory
from tests.sso.people import CLIENT_ID, PIPELINE_ID, PIPELINE_SECRET

pytest_plugins = ["tests.sso.server"]
pytestmark = pytest.mark.django_db(transaction=True)

METHOD = "oidc:testidp"


def pipeline_token(idp, audience: str | None = CLIENT_ID) -> str:
    """A token for the CI pipeline's own identity (client credentials), for ``audience``."""
    data = {"grant_type": "client_credentials"}
    if audience:
        data["audience"] = audience
    response = requests.post(
        f"{idp.issuer}/token/", data=data, auth=(PIPELINE_ID, PIPELINE_SECRET), timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture
def catalogue(db):
    credit_risk = TeamFactory(name="Credit Risk", slug="credit-risk")
    marketing = TeamFactory(name="Marketing", slug="marketing")
    RegisteredModelFactory(name="credit-scorer", owner_team=credit_risk)
    RegisteredModelFactory(name="churn-predictor", owner_team=marketing)
    return credit_risk


@pytest.fixture
def ci_bot(catalogue, administrator):
    """A service account of Credit Risk, linked by an administrator to the pipeline's
    workload identity (its subject is the pipeline's client id)."""
    from accounts.services import role_assign, team_add_member

    bot = UserFactory(username="ci-bot")
    team_add_member(team=catalogue, user=bot)
    role_assign(user=bot, role=RoleName.CONTRIBUTOR, team=catalogue)
    external_identity_link(actor=administrator, user=bot, provider="testidp", subject=PIPELINE_ID)
    return bot


def api(live_server, token: str, path: str, method: str = "GET", **kwargs):
    return requests.request(
        method,
        f"{live_server.url}/api/v1/{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        **kwargs,
    )


def test_a_pipeline_reads_with_its_workload_identity(idp, live_server, ci_bot):
    token = pipeline_token(idp)

    response = api(live_server, token, "models/")

    assert response.status_code == 200, response.text
    names = [row["name"] for row in response.json()["results"]]
    assert names == ["credit-scorer"]
    me = api(live_server, token, "me/").json()
    assert me["username"] == "ci-bot"
    event = LoginEvent.objects.get(user=ci_bot, outcome=LoginOutcome.SUCCESS)
    assert event.method == METHOD


def test_a_provider_token_is_limited_to_read_and_write(idp, live_server, ci_bot):
    """It cannot mint Steward tokens nor take decisions that need their own scope."""
    token = pipeline_token(idp)

    minted = api(live_server, token, "tokens/", "POST", json={"name": "x", "scopes": ["read"]})
    deploy = api(live_server, token, "deployments/", "POST", json={"name": "x"})

    assert minted.status_code == 403
    assert deploy.status_code == 403
    assert "'deploy' scope" in deploy.json()["message"]


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        ("audience", SignOnRefusal.AUDIENCE),
        ("tamper", SignOnRefusal.SIGNATURE),
        ("expired", SignOnRefusal.EXPIRED),
    ],
)
def test_a_bad_provider_token_is_refused_and_audited(idp, live_server, ci_bot, spoil, reason):
    if spoil == "audience":
        token = pipeline_token(idp, audience=None)  # a token for the pipeline itself
    else:
        idp.fault(spoil)
        token = pipeline_token(idp)

    response = api(live_server, token, "models/")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Provider token refused" in response.json()["message"]
    event = LoginEvent.objects.get(method=METHOD, outcome=LoginOutcome.FAILURE)
    assert event.detail.startswith(f"API: {reason}:"), event.detail


def test_a_token_of_an_unlinked_subject_is_refused(idp, live_server, catalogue):
    response = api(live_server, pipeline_token(idp), "models/")

    assert response.status_code == 401
    event = LoginEvent.objects.get(method=METHOD, outcome=LoginOutcome.FAILURE)
    assert event.detail.startswith(f"API: {SignOnRefusal.UNKNOWN_USER}:")
    assert event.subject == PIPELINE_ID


def test_a_steward_token_keeps_its_own_path(idp, live_server, ci_bot):
    from accounts.services.tokens import token_create

    _, secret = token_create(actor=ci_bot, name="ci", scopes=["read"], expires_at=None)

    assert api(live_server, secret, "models/").status_code == 200
    assert api(live_server, "stw_not-a-real-token", "models/").status_code == 401
    assert not LoginEvent.objects.filter(method=METHOD).exists()


@pytest.mark.parametrize("algorithm", ["none", "HS256"])
def test_unsigned_or_secret_signed_tokens_are_refused(idp, live_server, ci_bot, algorithm):
    """A token "signed" with no key, or with the client secret (which others may hold), is
    refused whatever its claims say."""
    import time

    import jwt

    from tests.sso.people import CLIENT_SECRET

    now = int(time.time())
    claims = {"iss": idp.issuer, "aud": CLIENT_ID, "sub": PIPELINE_ID, "iat": now, "exp": now + 60}
    key = CLIENT_SECRET if algorithm == "HS256" else None
    token = jwt.encode(claims, key, algorithm=algorithm)
    if algorithm == "none":
        token += "AAAA"  # a JWT-shaped bearer, so that it reaches the provider-token check

    response = api(live_server, token, "models/")

    assert response.status_code == 401
    event = LoginEvent.objects.get(method=METHOD, outcome=LoginOutcome.FAILURE)
    assert event.detail.startswith(f"API: {SignOnRefusal.SIGNATURE}:"), event.detail
