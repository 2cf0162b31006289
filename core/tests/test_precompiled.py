"""A read compiled once (core.precompiled) gives what the ORM's ``get`` gives, for any values;
and the API's single-record reads built on it still show nothing a user may not see."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.services.tokens import token_create
from core.precompiled import PrecompiledGet, PrecompiledPage
from registry.models import ModelVersion, RegisteredModel
from registry.selectors_api import (
    model_version_answer_get,
    model_versions_answer,
    registered_model_answer_get,
    registered_models_answer,
)
from tests.factories import (
    DatasetVersionFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    RunFactory,
)

pytestmark = pytest.mark.django_db


def _loaded(obj) -> dict:
    """What an instance holds: its loaded columns, annotations and related objects' columns."""
    state = {k: v for k, v in vars(obj).items() if not k.startswith("_")}
    related = {
        name: _loaded(value) if value is not None else None
        for name, value in obj._state.fields_cache.items()
    }
    return {"state": state, "related": related, "deferred": obj.get_deferred_fields()}


def test_a_version_reads_as_the_orm_reads_it(team):
    model = RegisteredModelFactory(name="churn", owner_team=team)
    parent = ModelVersionFactory(registered_model=model, metrics={"auc": 0.8})
    version = ModelVersionFactory(
        registered_model=model,
        run=RunFactory(team=team),
        derived_from=parent,
        params={"depth": 4},
        packages={"numpy": "2.0"},
    )
    version.dataset_links.create(dataset_version=DatasetVersionFactory(), role="training")
    version.aliases.create(registered_model=model, name="champion", set_by=version.registered_by)

    for number in (parent.version, version.version):
        precompiled = model_version_answer_get.get(registered_model__name="churn", version=number)
        orm = model_versions_answer().get(registered_model__name="churn", version=number)
        assert isinstance(precompiled, ModelVersion)
        assert _loaded(precompiled) == _loaded(orm)
    # the row with no run and no parent: the related objects are None, as the ORM gives them
    assert model_version_answer_get.get(registered_model__name="churn", version=1).run is None


def test_a_model_reads_as_the_orm_reads_it(team):
    model = RegisteredModelFactory(name="fraud", owner_team=team)
    ModelVersionFactory(registered_model=model)
    ModelVersionFactory(registered_model=model)
    precompiled = registered_model_answer_get.get(name="fraud")
    orm = registered_models_answer().get(name="fraud")
    assert _loaded(precompiled) == _loaded(orm)
    assert precompiled.version_count == 2 and precompiled.latest_version == 2


def test_each_call_binds_its_own_values_and_compiles_once(team):
    for name in ("alpha", "beta"):
        ModelVersionFactory(registered_model=RegisteredModelFactory(name=name, owner_team=team))
    reads = PrecompiledGet(lambda: RegisteredModel.objects.all(), name=str)
    assert reads.get(name="alpha").name == "alpha"
    assert reads.get(name="beta").name == "beta"
    assert reads.get(name="gamma") is None
    assert len(reads._compiled) == 1  # one connection, compiled once
    with CaptureQueriesContext(connection) as captured:
        reads.get(name="alpha")
    assert len(captured.captured_queries) == 1


@pytest.mark.parametrize(
    "number", [0, -1, 2**31, 2**63, 10**30, "12a", ""], ids=lambda v: f"version={v!r}"
)
def test_a_number_no_row_can_hold_finds_nothing_without_an_error(team, number):
    ModelVersionFactory(registered_model=RegisteredModelFactory(name="churn", owner_team=team))
    assert model_version_answer_get.get(registered_model__name="churn", version=number) is None


def test_a_name_with_a_nul_finds_nothing_without_an_error(team):
    RegisteredModelFactory(name="churn", owner_team=team)
    assert registered_model_answer_get.get(name="churn\x00") is None


def test_a_shape_where_the_value_cannot_be_placed_is_refused_when_compiled(team):
    RegisteredModelFactory(name="churn", owner_team=team)
    # The build itself compares a column to the stand-in's text: two parameters could be the
    # name, so binding one might leave the real lookup unbound. Refused, never guessed.
    ambiguous = PrecompiledGet(
        lambda: RegisteredModel.objects.filter(description="\x1fprecompiled-stand-in-0"),
        name=str,
    )
    with pytest.raises(ImproperlyConfigured, match="appears 2 times"):
        ambiguous.get(name="churn")


def test_wrong_lookups_and_types_are_programming_errors():
    with pytest.raises(ImproperlyConfigured):
        PrecompiledGet(lambda: RegisteredModel.objects.all(), name=bytes)
    reads = PrecompiledGet(lambda: RegisteredModel.objects.all(), name=str)
    with pytest.raises(TypeError):
        reads.get(slug="churn")


# --- the API's reads built on it -----------------------------------------------------------------


def _api(user) -> APIClient:
    _, secret = token_create(actor=user, name="ci", scopes=["read", "write"])
    return APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_another_teams_model_and_version_are_not_found_on_every_single_record_read(
    team, contributor, outsider
):
    model = RegisteredModelFactory(name="churn", owner_team=team)
    ModelVersionFactory(registered_model=model)
    mine, theirs = _api(contributor), _api(outsider)

    assert mine.get("/api/v1/models/churn/").status_code == 200
    assert mine.get("/api/v1/models/churn/versions/1/").status_code == 200
    for path in ("/api/v1/models/churn/", "/api/v1/models/churn/versions/1/"):
        answer = theirs.get(path)
        assert answer.status_code == 404, path
        assert "churn" not in answer.content.decode()
    # nor can they register a version of it: the model is not theirs to know
    answer = theirs.post(
        "/api/v1/models/churn/versions/",
        {"artifact_uri": "s3://x/model.pkl", "artifact_sha256": "a" * 64},
        format="json",
    )
    assert answer.status_code == 404
    assert ModelVersion.objects.filter(registered_model=model).count() == 1


def test_a_grant_on_one_model_shows_that_model_only(team, outsider):
    from guardian.shortcuts import assign_perm

    granted = RegisteredModelFactory(name="granted", owner_team=team)
    ModelVersionFactory(registered_model=granted)
    ModelVersionFactory(registered_model=RegisteredModelFactory(name="other", owner_team=team))
    assign_perm("registry.view_registeredmodel", outsider, granted)
    theirs = _api(outsider)
    assert theirs.get("/api/v1/models/granted/versions/1/").status_code == 200
    assert theirs.get("/api/v1/models/granted/").status_code == 200
    assert theirs.get("/api/v1/models/other/versions/1/").status_code == 404
    assert theirs.get("/api/v1/models/other/").status_code == 404


def test_unknown_records_and_huge_numbers_are_404_not_500(contributor, team):
    ModelVersionFactory(registered_model=RegisteredModelFactory(name="churn", owner_team=team))
    api = _api(contributor)
    for path in (
        "/api/v1/models/nothing/",
        "/api/v1/models/churn/versions/2/",
        "/api/v1/models/churn/versions/99999999999999999999999/",
        "/api/v1/models/nothing/versions/1/",
    ):
        answer = api.get(path)
        assert answer.status_code == 404, path
        assert answer.json() == {"message": "Not found.", "code": "not_found"}, path


# --- pages: the list of a model's versions ----------------------------------------------------


def _versions(model, count: int) -> None:
    data = DatasetVersionFactory()
    for i in range(count):
        version = ModelVersionFactory(registered_model=model, metrics={"auc": i / 10})
        if i % 2:
            version.dataset_links.create(dataset_version=data, role="training")
    version.aliases.create(registered_model=model, name="champion", set_by=version.registered_by)


@pytest.mark.parametrize("page_size", [1, 2, 3, 50])
def test_every_page_reads_as_the_filtered_list_reads_it(team, contributor, page_size):
    model = RegisteredModelFactory(name="churn", owner_team=team)
    _versions(model, 5)
    _versions(RegisteredModelFactory(name="other", owner_team=team), 2)  # not counted
    api = _api(contributor)
    page = 1
    while True:
        plain = api.get("/api/v1/models/churn/versions/", {"page_size": page_size, "page": page})
        # an explicit order (the same one) takes the ORM's filtered path
        ordered = api.get(
            "/api/v1/models/churn/versions/",
            {"page_size": page_size, "page": page, "ordering": "-version"},
        )
        if page > 1 and plain.status_code == 404:
            assert ordered.status_code == 404
            assert (
                plain.json() == ordered.json() == {"message": "Invalid page.", "code": "not_found"}
            )
            break
        assert plain.status_code == ordered.status_code == 200
        body, reference = plain.json(), ordered.json()
        assert body["count"] == 5
        assert body["results"] == reference["results"]
        assert (body["next"] is None) == (reference["next"] is None)
        if body["next"]:
            assert f"page={page + 1}" in body["next"] and "ordering" not in body["next"]
        page += 1
    assert page == -(-5 // page_size) + 1  # every page was read, then one past the end
    numbers = [v["version"] for v in api.get("/api/v1/models/churn/versions/").json()["results"]]
    assert numbers == [5, 4, 3, 2, 1]


def test_a_models_versions_are_listed_only_for_who_may_see_the_model(team, contributor, outsider):
    from guardian.shortcuts import assign_perm

    model = RegisteredModelFactory(name="churn", owner_team=team)
    _versions(model, 3)
    RegisteredModelFactory(name="empty", owner_team=team)
    mine, theirs = _api(contributor), _api(outsider)

    assert mine.get("/api/v1/models/empty/versions/").json()["count"] == 0
    for path in ("/api/v1/models/churn/versions/", "/api/v1/models/empty/versions/"):
        answer = theirs.get(path)
        assert answer.status_code == 404, path
        assert answer.json() == {"message": "Not found.", "code": "not_found"}
    # another team's model on a later page reads as an unknown model does: not found
    assert theirs.get("/api/v1/models/churn/versions/?page=2&page_size=1").status_code == 404
    assert mine.get("/api/v1/models/nothing/versions/?page=2").status_code == 404
    assign_perm("registry.view_registeredmodel", outsider, model)
    assert theirs.get("/api/v1/models/churn/versions/").json()["count"] == 3


def test_bad_pages_are_refused_as_before(team, contributor):
    _versions(RegisteredModelFactory(name="churn", owner_team=team), 2)
    api = _api(contributor)
    for query, status in (("page=0", 404), ("page=x", 404), ("page=", 400), ("page_size=0", 400)):
        answer = api.get(f"/api/v1/models/churn/versions/?{query}")
        assert answer.status_code == status, query


def test_page_shapes_kept_per_connection_are_bounded(team):
    model = RegisteredModelFactory(name="churn", owner_team=team)
    _versions(model, 3)
    pages = PrecompiledPage(
        lambda: ModelVersion.objects.order_by("version"), registered_model_id=int
    )
    assert [v.version for v in pages.rows(1, 2, registered_model_id=model.pk)] == [2, 3]
    assert pages.rows(0, 5, registered_model_id=model.pk + 1000) == []
    for offset in range(PrecompiledPage.SHAPES + 5):
        pages.rows(offset, 1, registered_model_id=model.pk)
    assert len(pages._compiled[connections["default"]]) == PrecompiledPage.SHAPES
