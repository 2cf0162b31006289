"""The alias form of the model page and the aliases shown on the model and version pages: a
move redirects back (POST-redirect-GET), a refused one shows the page again with the error
beside the form and what was typed, and nothing changes."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from core.models import AuditEvent
from governance.choices import Action
from governance.services.aliases import model_alias_set
from registry.models import ModelAlias, ModelAliasMove
from tests.factories import ModelVersionFactory, RegisteredModelFactory, UserFactory, version_decide

pytestmark = pytest.mark.django_db
WHY = "The new build beats the old one on every holdout."
FORM = "/models/churn/aliases/"


@pytest.fixture
def model(team):
    return RegisteredModelFactory(owner_team=team, name="churn")


@pytest.fixture
def draft(model, contributor):
    return ModelVersionFactory(actor=contributor, registered_model=model)


@pytest.fixture
def approved(model, contributor, validator, manager, draft):
    version = ModelVersionFactory(actor=contributor, registered_model=model)
    for actor, action in (
        (contributor, Action.SUBMIT),
        (validator, Action.CLAIM),
        (validator, Action.SIGN_OFF),
        (manager, Action.APPROVE),
    ):
        version_decide(actor=actor, version=version, action=action, motivation=WHY)
    return version


def browser(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/models/")  # the session's first request (its login is recorded once)
    return client


def post_form(client: Client, data: dict):
    """Post the form as a browser does: with the CSRF token from the page it is on."""
    page = client.get("/models/churn/")
    token = page.context["csrf_token"]
    return client.post(FORM, {**data, "csrfmiddlewaretoken": str(token)})


def snapshot() -> tuple:
    return (
        list(ModelAlias.objects.values_list("name", "version")),
        ModelAliasMove.objects.count(),
        AuditEvent.objects.count(),
    )


def test_a_contributor_points_an_alias_and_is_sent_back_to_the_model_page(
    model, draft, contributor
):
    client = browser(contributor)
    page = client.get("/models/churn/")
    assert b'data-testid="alias-form"' in page.content
    response = post_form(
        client, {"op": "set", "alias": "challenger", "version": "1", "motivation": WHY}
    )
    assert response.status_code == 302
    assert response["Location"] == "/models/churn/#aliases"
    assert ModelAlias.objects.get().version == draft
    page = client.get("/models/churn/")
    assert b"churn@challenger now points at v1." in page.content
    assert b"@challenger" in page.content
    version_page = client.get("/models/churn/versions/1/")
    assert b"churn@challenger" in version_page.content


def test_a_refused_move_shows_the_page_again_with_the_error(model, approved, contributor):
    client = browser(contributor)
    before = snapshot()
    response = post_form(
        client, {"op": "set", "alias": "champion", "version": "2", "motivation": WHY}
    )
    assert response.status_code == 403
    assert snapshot() == before
    content = response.content.decode()
    assert 'data-testid="alias-error"' in content
    assert "protected alias" in content
    # What was typed is kept.
    assert WHY in content and 'value="champion"' in content


def test_champion_on_a_draft_is_refused_as_a_conflict_for_a_manager(model, draft, manager):
    client = browser(manager)
    before = snapshot()
    response = post_form(
        client, {"op": "set", "alias": "champion", "version": "1", "motivation": WHY}
    )
    assert response.status_code == 409
    assert snapshot() == before
    assert "approved or production" in response.content.decode()


def test_a_missing_motivation_is_a_form_error(model, draft, contributor):
    client = browser(contributor)
    before = snapshot()
    response = post_form(client, {"op": "set", "alias": "challenger", "version": "1"})
    assert response.status_code == 400
    assert snapshot() == before
    assert 'data-testid="alias-motivation-error"' in response.content.decode()


def test_a_manager_removes_champion_and_the_pages_show_it_gone(model, approved, manager):
    model_alias_set(actor=manager, model=model, alias="champion", version=approved, motivation=WHY)
    client = browser(manager)
    page = client.get("/models/churn/").content.decode()
    assert "@champion · protected" in page
    assert "@champion · protected" in client.get("/models/churn/versions/2/").content.decode()
    response = post_form(client, {"op": "remove", "alias": "champion", "motivation": WHY})
    assert response.status_code == 302
    assert not ModelAlias.objects.exists()


def test_the_form_needs_the_csrf_token(model, draft, contributor):
    client = browser(contributor)
    response = client.post(
        FORM, {"op": "set", "alias": "challenger", "version": "1", "motivation": WHY}
    )
    assert response.status_code == 403
    assert not ModelAlias.objects.exists()


def test_a_member_sees_the_aliases_but_no_form(model, draft, contributor, member):
    model_alias_set(
        actor=contributor, model=model, alias="challenger", version=draft, motivation=WHY
    )
    page = browser(member).get("/models/churn/").content.decode()
    assert "@challenger" in page
    assert 'data-testid="alias-form"' not in page


def test_an_outsider_posting_the_form_gets_a_404(model, draft, outsider):
    client = browser(outsider)
    client.get("/models/")  # a CSRF cookie from any page
    response = client.post(
        FORM,
        {
            "op": "set",
            "alias": "challenger",
            "version": "1",
            "motivation": WHY,
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
    )
    assert response.status_code == 404
    assert not ModelAlias.objects.exists()


def test_the_form_only_takes_posts(model, contributor):
    assert browser(contributor).get(FORM).status_code == 405


def test_the_admin_shows_aliases_and_moves_and_changes_neither(model, draft, contributor):
    model_alias_set(
        actor=contributor, model=model, alias="challenger", version=draft, motivation=WHY
    )
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)
    alias, move = ModelAlias.objects.get(), ModelAliasMove.objects.get()
    for name, obj in (("modelalias", alias), ("modelaliasmove", move)):
        listing = client.get(reverse(f"admin:registry_{name}_changelist"), {"q": "challenger"})
        assert listing.status_code == 200 and "challenger" in listing.content.decode()
        assert (
            client.get(reverse(f"admin:registry_{name}_change", args=[obj.pk])).status_code == 200
        )
        assert client.get(reverse(f"admin:registry_{name}_add")).status_code == 403
        delete = client.post(
            reverse(f"admin:registry_{name}_delete", args=[obj.pk]), {"post": "yes"}
        )
        assert delete.status_code == 403
    assert snapshot()[0] == [("challenger", draft.pk)]
    assert ModelAliasMove.objects.count() == 1
