"""Insider attacks through OpenLineage events (issue #14): Otto, a contributor of Marketing,
sends events naming what Credit Risk reported (its tables, a versioned dataset, a run id he
saw in a log, its model version, its mapped namespace), hoping to attach to them, change them,
or learn that they exist.

Each attack is tried twice, once with Credit Risk's records in place and once without (the
second inside a rolled-back savepoint): what Otto can observe (his answers, his lists) must be
the same, and Credit Risk's records must not change."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from core.models import AuditEvent
from integrations.models import OpenLineageRun
from integrations.openlineage.services import openlineage_event_ingest
from integrations.tests.builders import at, dataset, model_output, run_event
from registry.models import Dataset, DatasetVersion, LineageEdge, Run, RunInput
from tests.factories import ModelVersionFactory

pytestmark = pytest.mark.django_db

WAREHOUSE = "postgres://warehouse:5432"
LOANS = dataset(WAREHOUSE, "lending.public.loans", columns=(("id", "INT"),), version="42")
SCORES = dataset("s3://features", "loan_scores", columns=(("score", "DOUBLE"),))
CAROLS_RUN = uuid.UUID("0195a3c1-2f4e-7d3a-9c1b-6e2f8a4d5b01")
HOLDER = ("credit-risk", "Credit Risk", "carol", "Carol")


def send(user, event) -> tuple[int, dict]:
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/api/v1/lineage", event, format="json")
    return response.status_code, (response.json() if response.content else {})


def carol_reports(carol) -> None:
    """Credit Risk's pipeline: reads the loans table (version 42), writes scores."""
    for event in (
        run_event("START", CAROLS_RUN, time=at(0), inputs=[LOANS]),
        run_event("COMPLETE", CAROLS_RUN, time=at(5), inputs=[LOANS], outputs=[SCORES]),
    ):
        openlineage_event_ingest(actor=carol, body=event)


def credit_risk_state() -> list:
    """Everything of Credit Risk an attack could change."""
    return [
        list(
            Dataset.objects.filter(owner_team__slug="credit-risk").values_list(
                "pk", "name", "description"
            )
        ),
        list(
            DatasetVersion.objects.filter(dataset__owner_team__slug="credit-risk").values_list(
                "pk", "uri", "schema", "produced_by_run_id"
            )
        ),
        list(
            Run.objects.filter(team__slug="credit-risk").values_list(
                "pk", "uuid", "status", "started_at", "ended_at", "kind"
            )
        ),
        list(
            RunInput.objects.filter(run__team__slug="credit-risk").values_list(
                "pk", "dataset_version_id"
            )
        ),
        sorted(
            LineageEdge.objects.filter(target__owner_team__slug="credit-risk").values_list(
                "source_id", "target_id"
            )
        )
        + sorted(
            LineageEdge.objects.filter(source__owner_team__slug="credit-risk").values_list(
                "source_id", "target_id"
            )
        ),
    ]


def otto_sees(otto, answers) -> dict:
    client = APIClient()
    client.force_authenticate(otto)
    datasets = client.get("/api/v1/datasets/?page_size=100").json()["results"]
    runs = client.get("/api/v1/runs/?page_size=100").json()["results"]
    return {
        "answers": answers,
        "datasets": sorted((d["name"], d["owner_team"]) for d in datasets),
        "runs": sorted((r["name"], r["status"]) for r in runs),
    }


def observe(otto, attack) -> dict:
    answers = [send(otto, event) for event in attack()]
    return otto_sees(otto, answers)


def without_credit_risk_data(otto, attack) -> dict:
    """What Otto observes when Credit Risk never reported anything (then rolled back)."""
    with transaction.atomic():
        seen = observe(otto, attack)
        transaction.set_rollback(True)
    return seen


def assert_no_holder_named(seen: dict) -> None:
    text = str(seen).lower()
    for word in HOLDER:
        assert word.lower() not in text, f"{word!r} leaked: {seen}"


def test_naming_credit_risks_tables_attaches_to_ottos_own_records(contributor, outsider):
    def attack():
        run_id = uuid.UUID("0195a3c1-0000-7000-8000-00000000a77a")
        return [
            run_event("START", run_id, job=("mkt", "steal"), inputs=[LOANS, SCORES]),
            run_event(
                "COMPLETE",
                run_id,
                job=("mkt", "steal"),
                time=at(2),
                inputs=[LOANS],
                outputs=[LOANS, SCORES],
            ),
        ]

    alone = without_credit_risk_data(outsider, attack)
    carol_reports(contributor)
    before = credit_risk_state()
    seen = observe(outsider, attack)

    assert credit_risk_state() == before
    assert seen == alone
    assert [status for status, _ in seen["answers"]] == [201, 201]
    assert {team for _, team in seen["datasets"]} == {"marketing"}
    assert_no_holder_named(seen)


def test_a_mapped_namespace_of_credit_risk_gives_otto_nothing_of_it(
    contributor, outsider, settings
):
    settings.STEWARD_OPENLINEAGE_NAMESPACE_TEAMS = {WAREHOUSE: "credit-risk"}

    def attack():
        run_id = uuid.UUID("0195a3c1-0000-7000-8000-00000000b00b")
        overwrite = dataset(
            WAREHOUSE, "lending.public.loans", columns=(("pwned", "INT"),), version="42"
        )
        return [
            run_event(
                "COMPLETE", run_id, job=("mkt", "overwrite"), inputs=[LOANS], outputs=[overwrite]
            )
        ]

    alone = without_credit_risk_data(outsider, attack)
    carol_reports(contributor)
    before = credit_risk_state()
    seen = observe(outsider, attack)

    assert credit_risk_state() == before
    assert seen == alone
    assert seen["answers"][0][0] == 201
    assert_no_holder_named(seen)
    assert not DatasetVersion.objects.filter(
        schema__fields__0__name="pwned", dataset__owner_team__slug="credit-risk"
    ).exists()


def test_writing_as_credit_risk_through_its_job_namespace_is_refused_without_naming_it(
    contributor, outsider, settings
):
    settings.STEWARD_OPENLINEAGE_NAMESPACE_TEAMS = {"airflow-credit": "credit-risk"}

    def attack():
        return [run_event("START", uuid.uuid4(), job=("airflow-credit", "daily"), inputs=[LOANS])]

    head = AuditEvent.objects.count()
    alone = without_credit_risk_data(outsider, attack)
    carol_reports(contributor)
    before = credit_risk_state()
    chain = AuditEvent.objects.count()
    seen = observe(outsider, attack)

    [(status, body)] = seen["answers"]
    assert status == 403
    assert "airflow-credit" in body["message"]
    assert_no_holder_named(seen)
    assert seen["datasets"] == alone["datasets"] == [] and seen["runs"] == []
    assert credit_risk_state() == before
    assert AuditEvent.objects.count() == chain and head <= chain


def test_a_run_id_seen_in_a_log_does_not_reach_carols_run(contributor, outsider):
    carol_reports(contributor)
    before = credit_risk_state()
    status, _ = send(
        outsider,
        run_event(
            "FAIL",
            CAROLS_RUN,
            job=("etl", "daily_loans"),
            time=at(9),
            inputs=[SCORES],
            outputs=[SCORES],
        ),
    )
    assert status == 201
    assert credit_risk_state() == before
    carols = Run.objects.get(uuid=CAROLS_RUN)
    assert (carols.status, carols.team.slug) == ("completed", "credit-risk")
    ottos = OpenLineageRun.objects.get(team__slug="marketing")
    assert ottos.reported_run_id == CAROLS_RUN and ottos.run.uuid != CAROLS_RUN
    assert ottos.run.status == "failed"


def test_a_replay_of_carols_exact_event_is_ottos_own(contributor, outsider):
    carol_reports(contributor)
    before = credit_risk_state()
    status, _ = send(
        outsider, run_event("COMPLETE", CAROLS_RUN, time=at(5), inputs=[LOANS], outputs=[SCORES])
    )
    assert status == 201  # not swallowed as "a repeat": repeats are recognised per team
    assert credit_risk_state() == before
    assert Run.objects.filter(team__slug="marketing").count() == 1


def test_credit_risks_model_version_answers_like_one_that_does_not_exist(
    contributor, outsider, team
):
    ModelVersionFactory(
        registered_model__name="credit-model", registered_model__owner_team=team, run=None
    )

    def answer(name):
        return send(
            outsider,
            run_event(
                "COMPLETE", uuid.uuid4(), job=("mkt", "train"), outputs=[model_output(name, 1)]
            ),
        )

    status, body = answer("credit-model")
    missing_status, missing = answer("no-such-model")
    assert status == missing_status == 400
    assert body["message"].replace("credit-model", "X") == missing["message"].replace(
        "no-such-model", "X"
    )
    assert body["errors"] == missing["errors"]
    assert Run.objects.filter(team__slug="marketing").count() == 0
    assert (
        ModelVersionFactory._meta.model.objects.get(registered_model__name="credit-model").run
        is None
    )


def test_column_lineage_naming_credit_risks_columns_shows_only_on_ottos_run(
    contributor, outsider, client
):
    carol_reports(contributor)
    lineage = {
        "_producer": "https://example.org/p",
        "_schemaURL": "https://example.org/s",
        "fields": {
            "x": {
                "inputFields": [
                    {"namespace": WAREHOUSE, "name": "lending.public.loans", "field": "ssn"}
                ]
            }
        },
    }
    out = dataset("s3://mkt", "copy", facets={"columnLineage": lineage})
    run_id = uuid.uuid4()
    assert (
        send(
            outsider,
            run_event("COMPLETE", run_id, job=("mkt", "copy"), inputs=[LOANS], outputs=[out]),
        )[0]
        == 201
    )
    client.force_login(contributor)
    carols_version = DatasetVersion.objects.get(
        dataset__owner_team__slug="credit-risk", dataset__openlineage__name="lending.public.loans"
    )
    page = client.get(f"/datasets/{carols_version.dataset.name}/versions/1/").content.decode()
    assert "ssn" not in page and "mkt" not in page
    client.force_login(outsider)
    ottos = Run.objects.get(team__slug="marketing")
    assert "ssn" in client.get(f"/runs/{ottos.uuid}/").content.decode()
