"""Who may do what through the MLflow tracking routes, with the real client: another team's
experiments and runs are absent, a taken name says only that it is taken, a read token and a
reader are refused writes (and nothing reaches the chain), Basic auth with a password works,
and bad input is a clear 4xx."""

from __future__ import annotations

import json

import mlflow
import pytest
import requests
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

from accounts.choices import RoleName
from accounts.services import role_assign, team_add_member
from core.models import AuditEvent
from integrations.models import MlflowExperiment, MlflowRun
from integrations.tests.conftest import token_of
from registry.models import Run
from tests.factories import PASSWORD, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def code_of(call) -> str:
    with pytest.raises(MlflowException) as refused:
        call()
    return refused.value.error_code


@pytest.fixture
def carols_run(mlflow_as, contributor):
    client = mlflow_as(contributor)
    experiment_id = client.create_experiment("credit-scoring")
    run = client.create_run(experiment_id, run_name="r1")
    client.log_param(run.info.run_id, "C", "1.0")
    return experiment_id, run.info.run_id


def test_it_hides_another_teams_experiments_and_runs(mlflow_as, outsider, carols_run):
    experiment_id, run_id = carols_run
    client = mlflow_as(outsider)
    assert client.get_experiment_by_name("credit-scoring") is None
    assert code_of(lambda: client.get_experiment(experiment_id)) == "RESOURCE_DOES_NOT_EXIST"
    assert code_of(lambda: client.get_run(run_id)) == "RESOURCE_DOES_NOT_EXIST"
    assert code_of(lambda: client.log_param(run_id, "x", "1")) == "RESOURCE_DOES_NOT_EXIST"
    assert code_of(lambda: client.set_terminated(run_id)) == "RESOURCE_DOES_NOT_EXIST"
    assert code_of(lambda: client.search_runs([experiment_id])) == "RESOURCE_DOES_NOT_EXIST"
    assert code_of(lambda: client.create_run(experiment_id)) == "RESOURCE_DOES_NOT_EXIST"
    assert code_of(lambda: client.get_metric_history(run_id, "x")) == "RESOURCE_DOES_NOT_EXIST"
    assert [e.name for e in client.search_experiments()] == []
    assert Run.objects.get(uuid=run_id).params == {"C": "1.0"}


def test_it_says_a_name_is_taken_in_the_same_words_for_everyone(
    mlflow_as, contributor, outsider, carols_run
):
    with pytest.raises(MlflowException) as theirs:
        mlflow_as(outsider).create_experiment("credit-scoring")
    with pytest.raises(MlflowException) as own:
        mlflow_as(contributor).create_experiment("credit-scoring")
    assert theirs.value.error_code == own.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert theirs.value.message == own.value.message
    assert "credit-risk" not in theirs.value.message and "carol" not in theirs.value.message
    # The client's set_experiment takes "already exists" for a lost race and answers None;
    # the run it then starts has no experiment to go to, and is told so.
    mlflow_as(outsider)
    assert mlflow.set_experiment("credit-scoring") is None
    with pytest.raises(MlflowException) as refused:
        mlflow.start_run()
    assert "set_experiment" in refused.value.message
    assert MlflowExperiment.objects.count() == 1


def test_it_refuses_writes_with_a_read_token_and_appends_nothing(
    mlflow_as, contributor, carols_run
):
    experiment_id, run_id = carols_run
    client = mlflow_as(contributor, scopes=("read",))
    before = AuditEvent.objects.count()
    assert client.get_run(run_id).data.params == {"C": "1.0"}
    # Searches are POSTs that read: a read token may.
    assert [r.info.run_id for r in client.search_runs([experiment_id])] == [run_id]
    assert [e.name for e in client.search_experiments()] == ["credit-scoring"]
    assert list(client.search_logged_models([experiment_id])) == []
    for write in (
        lambda: client.create_experiment("another"),
        lambda: client.create_run(experiment_id),
        lambda: client.log_param(run_id, "solver", "lbfgs"),
        lambda: client.log_metric(run_id, "auc", 0.9),
        lambda: client.set_tag(run_id, "k", "v"),
        lambda: client.set_terminated(run_id),
        lambda: client.delete_run(run_id),
    ):
        assert code_of(write) == "PERMISSION_DENIED"
    assert AuditEvent.objects.count() == before
    assert Run.objects.get(uuid=run_id).params == {"C": "1.0"}


def test_it_lets_a_team_reader_read_and_not_write(mlflow_as, member, carols_run):
    experiment_id, run_id = carols_run
    client = mlflow_as(member)
    assert client.get_experiment(experiment_id).name == "credit-scoring"
    assert [r.info.run_id for r in client.search_runs([experiment_id])] == [run_id]
    assert code_of(lambda: client.log_param(run_id, "x", "1")) == "PERMISSION_DENIED"
    assert code_of(lambda: client.create_run(experiment_id)) == "PERMISSION_DENIED"
    assert code_of(lambda: client.create_experiment("mias")) == "PERMISSION_DENIED"


def test_it_works_with_basic_auth_and_refuses_a_wrong_password(mlflow_as, contributor, monkeypatch):
    mlflow_as(contributor, password=PASSWORD)
    mlflow.set_experiment("basic-auth")
    with mlflow.start_run() as run:
        mlflow.log_param("via", "basic")
    assert Run.objects.get(uuid=run.info.run_id).params == {"via": "basic"}
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "wrong")
    assert code_of(lambda: mlflow.get_run(run.info.run_id)) == "UNAUTHENTICATED"


def test_it_puts_an_experiment_in_the_team_its_tag_names(mlflow_as, contributor, other_team):
    team_add_member(team=other_team, user=contributor)
    role_assign(user=contributor, role=RoleName.CONTRIBUTOR, team=other_team)
    client = mlflow_as(contributor)
    tagged = client.create_experiment("tagged", tags={"steward.team": "marketing"})
    plain = client.create_experiment("plain")
    stranger = client.create_experiment("stranger", tags={"steward.team": "no-such-team"})
    teams = dict(MlflowExperiment.objects.values_list("pk", "team__slug"))
    assert teams[int(tagged)] == "marketing"
    assert teams[int(plain)] == teams[int(stranger)] == "credit-risk"  # first membership


def test_it_refuses_an_experiment_to_a_user_without_a_team(mlflow_as, db):
    loner = UserFactory(username="lonely")
    with pytest.raises(MlflowException) as refused:
        mlflow_as(loner).create_experiment("alone")
    assert refused.value.error_code == "PERMISSION_DENIED"
    assert "no team" in refused.value.message
    empty = TeamFactory(slug="empty")
    team_add_member(team=empty, user=loner)
    assert code_of(lambda: mlflow_as(loner).create_experiment("alone")) == "PERMISSION_DENIED"


def test_it_answers_bad_input_with_a_clear_4xx(live_server, mlflow_as, contributor, carols_run):
    experiment_id, run_id = carols_run
    client = mlflow_as(contributor)
    assert code_of(lambda: client.get_run("not-a-run")) == "RESOURCE_DOES_NOT_EXIST"
    assert code_of(lambda: client.get_experiment("1e9")) == "RESOURCE_DOES_NOT_EXIST"
    assert code_of(lambda: client.log_param(run_id, "C", "2.0")) == "INVALID_PARAMETER_VALUE"
    assert code_of(lambda: client.search_runs([experiment_id], "params.C IN ('1')")) == (
        "INVALID_PARAMETER_VALUE"
    )
    assert code_of(lambda: client.search_runs([experiment_id], "attributes.nope = 'x'")) == (
        "INVALID_PARAMETER_VALUE"
    )
    assert code_of(lambda: client.search_runs([experiment_id], "metrics.auc >")) == (
        "INVALID_PARAMETER_VALUE"
    )
    headers = {"Authorization": f"Bearer {token_of(contributor)}"}
    base = f"{live_server.url}/api/2.0/mlflow"
    for path, body in (
        ("runs/log-metric", {"run_id": run_id, "key": "auc", "value": "high", "timestamp": 1}),
        ("runs/log-batch", {"run_id": run_id, "metrics": "many"}),
        ("runs/log-batch", {"run_id": run_id, "params": [{"value": "no key"}]}),
        ("runs/log-inputs", {"run_id": run_id, "datasets": [{"dataset": {"name": "x"}}]}),
        ("runs/update", {"run_id": run_id, "status": "EXPLODED"}),
        ("experiments/create", {"name": ""}),
        ("experiments/create", {"name": "x\u0000y"}),
        ("logged-models", {"experiment_id": experiment_id, "source_run_id": "zz"}),
    ):
        answer = requests.post(f"{base}/{path}", json=body, headers=headers, timeout=30)
        assert answer.status_code in (400, 404), (path, answer.text)
        assert answer.json()["error_code"] in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST")
    answer = requests.post(
        f"{base}/runs/log-batch",
        data=b"{not json",
        headers=headers | {"Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 400 and answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert Run.objects.get(uuid=run_id).params == {"C": "1.0"}


def test_it_records_a_batch_in_one_chain_event(mlflow_as, contributor, carols_run):
    experiment_id, run_id = carols_run
    client = mlflow_as(contributor)
    before = AuditEvent.objects.count()
    client.log_batch(
        run_id,
        metrics=[Metric("loss", 1.0 / (i + 1), 1000 + i, i) for i in range(50)],
        params=[Param("solver", "lbfgs")],
        tags=[RunTag("mlflow.source.git.commit", "a" * 40), RunTag("k", "v")],
    )
    [event] = AuditEvent.objects.filter(sequence__gt=0).order_by("-sequence")[:1]
    assert AuditEvent.objects.count() == before + 1
    assert event.action == "run.provenance_add"
    assert event.data["params"] == {"solver": "lbfgs"}
    assert event.data["code"] == {"code_commit": "a" * 40}
    assert event.data["extra"]["mlflow_tags"]["k"] == "v"
    run = Run.objects.get(uuid=run_id)
    assert run.code_commit == "a" * 40 and run.metrics == {}  # still running: history only
    client.set_terminated(run_id)
    assert Run.objects.get(uuid=run_id).metrics == {"loss": 1.0 / 50}
    assert AuditEvent.objects.count() == before + 2
    client.log_metric(run_id, "late", 3.0)  # to an ended run: reaches it at once
    assert Run.objects.get(uuid=run_id).metrics["late"] == 3.0
    assert client.get_run(run_id).info.status == "FINISHED"


def test_it_deletes_restores_and_renames_with_their_records(mlflow_as, contributor, carols_run):
    experiment_id, run_id = carols_run
    client = mlflow_as(contributor)
    client.delete_run(run_id)
    assert client.search_runs([experiment_id]) == []
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    client.restore_run(run_id)
    client.rename_experiment(experiment_id, "credit-scoring-v2")
    client.set_experiment_tag(experiment_id, "owner", "carol")
    client.delete_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    assert code_of(lambda: client.create_run(experiment_id)) == "INVALID_PARAMETER_VALUE"
    client.restore_experiment(experiment_id)
    assert client.get_experiment_by_name("credit-scoring-v2").tags == {"owner": "carol"}
    actions = list(
        AuditEvent.objects.filter(action__startswith="mlflow.")
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == [
        "mlflow.experiment.create",
        "mlflow.run.delete",
        "mlflow.run.restore",
        "mlflow.experiment.update",
        "mlflow.experiment.tag",
        "mlflow.experiment.delete",
        "mlflow.experiment.restore",
    ]


def test_it_searches_filters_orders_and_pages(mlflow_as, contributor):
    client = mlflow_as(contributor)
    experiment_id = client.create_experiment("search-me", tags={"area": "churn"})
    client.create_experiment("other-thing")
    runs = {}
    for name, auc in (("low", 0.6), ("high", 0.9), ("mid", 0.75)):
        run = client.create_run(experiment_id, run_name=name, tags={"kind": "sweep"})
        client.log_metric(run.info.run_id, "auc", auc)
        client.log_param(run.info.run_id, "name", name)
        runs[name] = run.info.run_id
    client.set_terminated(runs["high"])
    ordered = client.search_runs([experiment_id], order_by=["metrics.auc DESC"])
    assert [r.info.run_name for r in ordered] == ["high", "mid", "low"]
    found = client.search_runs(
        [experiment_id], "metrics.auc >= 0.7 AND tags.`kind` = 'sweep' AND params.name != 'mid'"
    )
    assert [r.info.run_name for r in found] == ["high"]
    finished = client.search_runs([experiment_id], "attributes.status = 'FINISHED'")
    assert [r.info.run_id for r in finished] == [runs["high"]]
    assert [r.info.run_name for r in client.search_runs([experiment_id], "run_name LIKE 'm%'")] == [
        "mid"
    ]
    first = client.search_runs([experiment_id], max_results=2, order_by=["params.name ASC"])
    rest = client.search_runs(
        [experiment_id], max_results=2, order_by=["params.name ASC"], page_token=first.token
    )
    assert [r.info.run_name for r in first] + [r.info.run_name for r in rest] == [
        "high",
        "low",
        "mid",
    ]
    assert rest.token is None
    named = client.search_experiments(filter_string="name LIKE 'search%'")
    assert [e.name for e in named] == ["search-me"]
    assert [e.name for e in client.search_experiments(filter_string="tags.area = 'churn'")] == [
        "search-me"
    ]


def test_it_serves_logged_models_to_their_team_only(mlflow_as, contributor, outsider, carols_run):
    experiment_id, run_id = carols_run
    client = mlflow_as(contributor)
    model = client.create_logged_model(
        experiment_id, name="model", source_run_id=run_id, params={"C": "1"}, tags={"k": "v"}
    )
    assert model.model_id.startswith("m-") and model.status.to_proto() == 1  # PENDING
    assert (
        model.artifact_location
        == f"mlflow-artifacts:/{experiment_id}/models/{model.model_id}/artifacts"
    )
    client.set_logged_model_tags(model.model_id, {"stage": "candidate"})
    client.delete_logged_model_tag(model.model_id, "k")
    client.log_model_params(model.model_id, {"solver": "lbfgs"})
    found = client.search_logged_models([experiment_id], filter_string="name = 'model'")
    assert [m.model_id for m in found] == [model.model_id]
    assert found[0].tags == {"stage": "candidate"}
    assert found[0].params == {"C": "1", "solver": "lbfgs"}
    assert found[0].source_run_id == run_id
    reader = mlflow_as(contributor, scopes=("read",))
    assert code_of(lambda: reader.finalize_logged_model(model.model_id, "READY")) == (
        "PERMISSION_DENIED"
    )
    other = mlflow_as(outsider)
    assert code_of(lambda: other.get_logged_model(model.model_id)) == "RESOURCE_DOES_NOT_EXIST"
    assert code_of(lambda: other.delete_logged_model(model.model_id)) == "RESOURCE_DOES_NOT_EXIST"
    assert code_of(lambda: other.search_logged_models([experiment_id])) == (
        "RESOURCE_DOES_NOT_EXIST"
    )
    client = mlflow_as(contributor)
    assert client.finalize_logged_model(model.model_id, "READY").status.to_proto() == 2
    client.delete_logged_model(model.model_id)
    assert code_of(lambda: client.get_logged_model(model.model_id)) == "RESOURCE_DOES_NOT_EXIST"


def test_it_keeps_the_legacy_log_model_history(live_server, contributor, carols_run):
    _, run_id = carols_run
    headers = {"Authorization": f"Bearer {token_of(contributor)}"}
    url = f"{live_server.url}/api/2.0/mlflow/runs/log-model"
    for flavor in ("sklearn", "python_function"):
        body = {"run_id": run_id, "model_json": json.dumps({"flavors": {flavor: {}}})}
        assert requests.post(url, json=body, headers=headers, timeout=30).status_code == 200
    history = MlflowRun.objects.get(run__uuid=run_id).tags["mlflow.log-model.history"]
    assert [list(m["flavors"]) for m in json.loads(history)] == [["sklearn"], ["python_function"]]
    refused = requests.post(
        url, json={"run_id": run_id, "model_json": "{nope"}, headers=headers, timeout=30
    )
    assert refused.status_code == 400 and refused.json()["error_code"] == "INVALID_PARAMETER_VALUE"
