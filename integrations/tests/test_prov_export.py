"""The W3C PROV export of a lineage closure, read back with the prov library (PROV-JSON) and
rdflib (PROV-O in Turtle) and checked against the graph: entities, activities, agents with
their roles, and the relations between them; another team's node stays anonymous."""

from __future__ import annotations

import uuid

import pytest
from prov.model import (
    PROV_ROLE,
    ProvActivity,
    ProvAgent,
    ProvAssociation,
    ProvAttribution,
    ProvDocument,
    ProvEntity,
    ProvGeneration,
    ProvInfluence,
    ProvSpecialization,
    ProvUsage,
)
from rdflib import Graph, Namespace
from rdflib.namespace import RDF
from rest_framework.test import APIClient

from governance.choices import Action
from integrations.openlineage.services import openlineage_event_ingest
from integrations.prov.documents import VOCABULARY
from integrations.tests.builders import at, dataset, model_output, run_event
from monitoring.services.deployments import deployment_create
from registry.choices import RiskTier
from registry.models import DatasetVersion
from tests.factories import ModelVersionFactory, RegisteredModelFactory, RunFactory, version_decide

pytestmark = pytest.mark.django_db

BASE = "http://127.0.0.1:8000/"
PROV = Namespace("http://www.w3.org/ns/prov#")
STW = Namespace(VOCABULARY)
WHY = "The validation report supports this decision."
PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"


@pytest.fixture
def world(contributor, validator, manager, team, other_team):
    """Carol's pipeline, reported through OpenLineage: a transformation run makes features from
    the loans table, a training run makes credit-model v1 from them; the version is submitted,
    validated, approved and deployed. Marketing (built by a superuser) reads her features."""
    model = RegisteredModelFactory(name="credit-model", owner_team=team, risk_tier=RiskTier.LOW)
    version = ModelVersionFactory(actor=contributor, registered_model=model, run=None)
    loans = dataset("postgres://warehouse:5432", "lending.public.loans", columns=(("id", "INT"),))
    features = dataset("s3://features", "loan_features", columns=(("id", "INT"),))
    transform, train = uuid.uuid4(), uuid.uuid4()
    for event in (
        run_event("START", transform, job=("etl", "features"), time=at(0), inputs=[loans]),
        run_event("COMPLETE", transform, job=("etl", "features"), time=at(5), outputs=[features]),
        run_event("START", train, job=("ml", "train"), time=at(10), inputs=[features]),
        run_event(
            "COMPLETE",
            train,
            job=("ml", "train"),
            time=at(40),
            outputs=[model_output("credit-model", 1)],
        ),
    ):
        openlineage_event_ingest(actor=contributor, body=event)
    for actor, action in (
        (contributor, Action.SUBMIT),
        (validator, Action.CLAIM),
        (validator, Action.SIGN_OFF),
        (manager, Action.APPROVE),
    ):
        version_decide(actor=actor, version=version, action=action, motivation=WHY)
    deployment_create(
        actor=manager, version=version, name="credit-staging", environment="staging", mode="live"
    )
    features_version = DatasetVersion.objects.get(dataset__openlineage__name="loan_features")
    RunFactory(team=other_team, name="mkt-secret-run", inputs=[(features_version, "input")])
    return {"transform": transform, "train": train, "features": features_version}


def export(user, url: str, **headers) -> bytes:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(url, **headers)
    assert response.status_code == 200, response.content[:500]
    return response


def records(document: ProvDocument, kind) -> dict[str, object]:
    return {str(r.identifier): r for r in document.get_records(kind)}


def pairs(document: ProvDocument, kind, first: str, second: str) -> set[tuple[str, str]]:
    found = set()
    for relation in document.get_records(kind):
        attributes = {str(k): v for k, v in relation.formal_attributes}
        found.add((str(attributes[first]), str(attributes[second])))
    return found


def test_prov_json_of_a_model_version_holds_its_whole_provenance(world, contributor):
    response = export(
        contributor, "/api/v1/models/credit-model/versions/1/lineage/?format=prov-json"
    )
    assert response["Content-Type"].startswith("application/json")
    document = ProvDocument.deserialize(content=response.content, format="json")

    entities = records(document, ProvEntity)
    features = f"steward:datasets/{world['features'].dataset.name}/versions/1"
    for expected in (
        "steward:models/credit-model/versions/1",
        "steward:models/credit-model",
        features,
    ):
        assert expected in entities
    activities = records(document, ProvActivity)
    runs = {f"steward:runs/{world['transform']}", f"steward:runs/{world['train']}"}
    assert runs <= set(activities)
    decisions = {
        str(a.get_attribute("stw:action").pop()): key
        for key, a in activities.items()
        if "/decisions/" in key
    }
    assert set(decisions) == {"submit", "claim", "sign_off", "approve"}
    assert "steward:deployments/credit-staging" in activities
    agents = records(document, ProvAgent)
    assert {"steward:users/carol", "steward:users/vera", "steward:users/max"} <= set(agents)
    assert str(agents["steward:users/vera"].get_attribute("prov:type").pop()) == "prov:Person"
    [producer] = [a for key, a in agents.items() if "/producers/" in key]
    assert str(producer.get_attribute("prov:type").pop()) == "prov:SoftwareAgent"
    assert producer.get_attribute("prov:label") == {PRODUCER}

    train = f"steward:runs/{world['train']}"
    assert (train, features) in pairs(document, ProvUsage, "prov:activity", "prov:entity")
    generated = pairs(document, ProvGeneration, "prov:entity", "prov:activity")
    assert ("steward:models/credit-model/versions/1", train) in generated
    assert (features, f"steward:runs/{world['transform']}") in generated
    assert (
        "steward:models/credit-model/versions/1",
        "steward:models/credit-model",
    ) in pairs(document, ProvSpecialization, "prov:specificEntity", "prov:generalEntity")
    attributed = pairs(document, ProvAttribution, "prov:entity", "prov:agent")
    assert ("steward:models/credit-model/versions/1", "steward:users/carol") in attributed

    roles = {}
    for association in document.get_records(ProvAssociation):
        attributes = {str(k): v for k, v in association.formal_attributes}
        role = association.get_attribute(PROV_ROLE)
        roles[(str(attributes["prov:activity"]), str(attributes["prov:agent"]))] = {
            str(r) for r in role
        }
    assert roles[(decisions["sign_off"], "steward:users/vera")] == {"stw:validator"}
    assert roles[(decisions["approve"], "steward:users/max")] == {"stw:approver"}
    assert roles[(decisions["submit"], "steward:users/carol")] == {"stw:submitter"}
    assert roles[("steward:deployments/credit-staging", "steward:users/max")] == {"stw:deployer"}
    assert roles[(train, "steward:users/carol")] == {"stw:registrant"}
    assert roles[(train, str(producer.identifier))] == {"stw:producer"}


def test_another_teams_node_stays_anonymous(world, contributor):
    dv = world["features"]
    url = f"/api/v1/datasets/{dv.dataset.name}/versions/1/lineage/?format=prov-json"
    response = export(contributor, url)
    assert b"mkt" not in response.content and b"marketing" not in response.content
    document = ProvDocument.deserialize(content=response.content, format="json")
    influences = pairs(document, ProvInfluence, "prov:influencee", "prov:influencer")
    features = f"steward:datasets/{dv.dataset.name}/versions/1"
    assert ("steward:hidden/1", features) in influences
    described = {
        *records(document, ProvEntity),
        *records(document, ProvActivity),
        *records(document, ProvAgent),
    }
    assert not any("hidden" in key for key in described)  # never described, only related


def test_the_other_team_sees_carols_data_as_anonymous(world, outsider):
    from registry.models import Run

    run = Run.objects.get(name="mkt-secret-run")
    response = export(outsider, f"/api/v1/runs/{run.uuid}/lineage/?format=prov-json")
    assert b"loan_features" not in response.content and b"carol" not in response.content
    document = ProvDocument.deserialize(content=response.content, format="json")
    assert f"steward:runs/{run.uuid}" in records(document, ProvActivity)
    # upstream: her features, the run that made them, the loans table; all three anonymous
    influences = pairs(document, ProvInfluence, "prov:influencee", "prov:influencer")
    assert influences == {
        (f"steward:runs/{run.uuid}", "steward:hidden/1"),
        ("steward:hidden/1", "steward:hidden/2"),
        ("steward:hidden/2", "steward:hidden/3"),
    }


def test_prov_o_turtle_by_format_or_accept_reads_back_with_rdflib(world, contributor):
    by_format = export(contributor, f"/api/v1/runs/{world['train']}/lineage/?format=prov-o")
    by_accept = export(
        contributor, f"/api/v1/runs/{world['train']}/lineage/", HTTP_ACCEPT="text/turtle"
    )
    assert by_format["Content-Type"].startswith("text/turtle")
    assert by_accept["Content-Type"].startswith("text/turtle")
    graph = Graph().parse(data=by_format.content.decode(), format="turtle")
    steward = Namespace(BASE)
    train = steward[f"runs/{world['train']}"]
    features = steward[f"datasets/{world['features'].dataset.name}/versions/1"]
    version = steward["models/credit-model/versions/1"]
    assert (train, RDF.type, PROV.Activity) in graph
    assert (train, PROV.used, features) in graph
    assert (version, PROV.wasGeneratedBy, train) in graph
    assert (steward["users/carol"], RDF.type, PROV.Person) in graph
    roles = set(
        graph.query(
            "SELECT ?role WHERE { ?a prov:qualifiedAssociation ?q . ?q prov:agent ?who ; "
            "prov:hadRole ?role }",
            initNs={"prov": PROV},
            initBindings={"a": train, "who": steward["users/carol"]},
        )
    )
    assert roles == {(STW.registrant,)}
    assert len(Graph().parse(data=by_accept.content.decode(), format="turtle")) == len(graph)


def test_a_hidden_root_is_a_404_in_every_format(world, outsider):
    client = APIClient()
    client.force_authenticate(outsider)
    response = client.get("/api/v1/models/credit-model/versions/1/lineage/?format=prov-o")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert b"credit" not in response.content


def test_the_json_graph_is_unchanged(world, contributor):
    body = export(contributor, f"/api/v1/runs/{world['train']}/lineage/").json()
    assert {"nodes", "edges"} <= set(body)


def test_every_described_record_is_named_under_the_servers_base_url(world, contributor):
    response = export(contributor, f"/api/v1/runs/{world['train']}/lineage/?format=prov-json")
    document = ProvDocument.deserialize(content=response.content, format="json")
    described = list(document.get_records((ProvEntity, ProvActivity, ProvAgent)))
    assert len(described) > 5
    assert all(record.identifier.uri.startswith(BASE) for record in described)
