"""The permission matrix's MLflow part: every route of the MLflow protocol (``/api/2.0/mlflow/``,
``/api/2.0/mlflow-artifacts/``) and Steward's own alias routes, tried by every persona.

The MLflow routes answer MLflow's error body, with the statuses of Steward's: another team's
records are 404 (RESOURCE_DOES_NOT_EXIST), a missing verb 403 (PERMISSION_DENIED), no
credentials 401 (UNAUTHENTICATED). Their fields travel as query parameters on GET and as a JSON
body otherwise, as the MLflow client sends them."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from integrations.models import (
    MlflowArtifactFile,
    MlflowExperiment,
    MlflowLoggedModel,
    MlflowMetric,
    MlflowModelTag,
    MlflowRun,
    MlflowVersionSource,
    MlflowVersionTag,
)
from integrations.models.mlflow import LifecycleStage
from registry.models import ModelAlias
from tests.access.vocabulary import (
    ADMINISTRATOR,
    ANONYMOUS,
    CHANGE,
    CONTRIBUTOR,
    OUTSIDER,
    VIEW,
    World,
    everyone,
    only,
)

API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
MOTIVATION = "Candidate for the next review round."

_unique = itertools.count()


def _name(prefix: str) -> str:
    return f"{prefix}-{next(_unique)}"


@dataclass
class MlflowWorld:
    experiment: MlflowExperiment
    mlflow_run: MlflowRun
    logged_model: MlflowLoggedModel
    scratch_model: str
    deleted_experiment: MlflowExperiment
    deleted_run: MlflowRun

    @property
    def run_id(self) -> str:
        return self.mlflow_run.run.uuid.hex

    @property
    def run_root(self) -> str:
        return f"{self.experiment.pk}/{self.run_id}/artifacts"


def _ml(w: World) -> MlflowWorld:
    """Credit Risk's MLflow records, made once per test through the services: an experiment
    with a running run (a param, a metric, a tag, a logged file), a pending logged model with a
    tag, the alias ``candidate`` on the world's version, MLflow tags on the model and version,
    and a scratch model whose never-submitted draft may be deleted."""
    if w.mlflow is not None:
        return w.mlflow
    from accounts.models import User
    from governance.services.aliases import model_alias_set
    from integrations.mlflow.tracking import logged_models, services
    from registry.services import registered_model_create
    from tests.factories import ModelVersionFactory

    carol = User.objects.get(username="carol")
    experiment = services.experiment_create(actor=carol, name="credit-experiments", tags={"k": "v"})
    mlflow_run = services.mlflow_run_create(
        actor=carol, experiment=experiment, run_name="train", tags={"stage": "dev"}
    )
    services.mlflow_run_log(
        actor=carol,
        mlflow_run=mlflow_run,
        metrics=[services.MetricPoint(key="loss", value=0.4, timestamp=1_700_000_000_000)],
        params={"lr": "0.1"},
    )
    logged_model = logged_models.logged_model_create(
        actor=carol, experiment=experiment, name="model", tags={"flavour": "sklearn"}
    )
    deleted_run = services.mlflow_run_create(actor=carol, experiment=experiment, run_name="old")
    services.mlflow_run_lifecycle_set(
        actor=carol, mlflow_run=deleted_run, stage=LifecycleStage.DELETED
    )
    MlflowArtifactFile.objects.create(
        experiment=experiment,
        root=f"{experiment.pk}/{mlflow_run.run.uuid.hex}/artifacts",
        path="notes.txt",
        artifact=w.artifact,
    )
    model_alias_set(
        actor=carol, model=w.model, alias="candidate", version=w.version, motivation=MOTIVATION
    )
    MlflowModelTag.objects.create(registered_model=w.model, key="domain", value="credit")
    MlflowVersionTag.objects.create(model_version=w.version, key="notebook", value="v1.ipynb")
    scratch = registered_model_create(actor=carol, name="scratch-model", owner_team=w.team)
    ModelVersionFactory(registered_model=scratch, actor=carol)
    retired = services.experiment_create(actor=carol, name="retired-experiments")
    services.experiment_lifecycle_set(actor=carol, experiment=retired, stage=LifecycleStage.DELETED)
    w.mlflow = MlflowWorld(experiment, mlflow_run, logged_model, scratch.name, retired, deleted_run)
    return w.mlflow


def _get(url: str, **query) -> tuple[str, None]:
    return f"{url}?{urlencode(query)}", None


def _experiment(w: World) -> dict:
    return {"experiment_id": str(_ml(w).experiment.pk)}


def _run(w: World, **fields) -> dict:
    return {"run_id": _ml(w).run_id, **fields}


def _version(w: World, **fields) -> dict:
    return {"name": w.model.name, "version": "1", **fields}


def _logged_model_url(w: World, suffix: str = "") -> str:
    return f"{API}/logged-models/{_ml(w).logged_model.model_id}{suffix}"


# Creating in "my team": the contributor's lands in Credit Risk, Otto's in Marketing; the
# administrator and the global roles belong to no team and have none to create in.
CREATE_IN_OWN_TEAM = only(200, {CONTRIBUTOR, OUTSIDER})
# MLflow answers 200 with a body (often ``{}``) for every success.
ML_CHANGE = CHANGE
ML_VIEW = VIEW
ML_LIST = everyone(200)
# Deleting a never-submitted draft (or a model made only of them) takes the archive verb.
ML_ARCHIVE = only(200, {ADMINISTRATOR}, **{OUTSIDER: 404})

MLFLOW_MATRIX = {
    # What the client asks before signing in; MLflow's own server answers it to anyone.
    ("mlflow-server-info", "GET"): (
        lambda w: ("/api/3.0/mlflow/server-info", None),
        {**everyone(200), ANONYMOUS: 200},
    ),
    # --- experiments
    ("mlflow-experiment-create", "POST"): (
        lambda w: (f"{API}/experiments/create", {"name": _name("exp")}),
        CREATE_IN_OWN_TEAM,
    ),
    ("mlflow-experiment-get", "GET"): (
        lambda w: _get(f"{API}/experiments/get", experiment_id=_ml(w).experiment.pk),
        ML_VIEW,
    ),
    ("mlflow-experiment-get-by-name", "GET"): (
        lambda w: _get(f"{API}/experiments/get-by-name", experiment_name="credit-experiments"),
        ML_VIEW,
    ),
    ("mlflow-experiment-search", "GET"): (
        lambda w: _get(f"{API}/experiments/search", max_results=10),
        ML_LIST,
    ),
    ("mlflow-experiment-search", "POST"): (
        lambda w: (f"{API}/experiments/search", {"max_results": 10}),
        ML_LIST,
    ),
    ("mlflow-experiment-update", "POST"): (
        lambda w: (f"{API}/experiments/update", {**_experiment(w), "new_name": _name("exp")}),
        ML_CHANGE,
    ),
    ("mlflow-experiment-delete", "POST"): (
        lambda w: (f"{API}/experiments/delete", _experiment(w)),
        ML_CHANGE,
    ),
    ("mlflow-experiment-restore", "POST"): (
        lambda w: (
            f"{API}/experiments/restore",
            {"experiment_id": str(_ml(w).deleted_experiment.pk)},
        ),
        ML_CHANGE,
    ),
    ("mlflow-experiment-set-tag", "POST"): (
        lambda w: (
            f"{API}/experiments/set-experiment-tag",
            {**_experiment(w), "key": "k", "value": "v"},
        ),
        ML_CHANGE,
    ),
    ("mlflow-experiment-delete-tag", "POST"): (
        lambda w: (f"{API}/experiments/delete-experiment-tag", {**_experiment(w), "key": "k"}),
        ML_CHANGE,
    ),
    # --- runs
    ("mlflow-run-create", "POST"): (
        lambda w: (f"{API}/runs/create", {**_experiment(w), "run_name": "again"}),
        ML_CHANGE,
    ),
    ("mlflow-run-get", "GET"): (lambda w: _get(f"{API}/runs/get", run_id=_ml(w).run_id), ML_VIEW),
    ("mlflow-run-update", "POST"): (
        lambda w: (f"{API}/runs/update", _run(w, run_name="renamed")),
        ML_CHANGE,
    ),
    ("mlflow-run-delete", "POST"): (lambda w: (f"{API}/runs/delete", _run(w)), ML_CHANGE),
    ("mlflow-run-restore", "POST"): (
        lambda w: (f"{API}/runs/restore", {"run_id": _ml(w).deleted_run.run.uuid.hex}),
        ML_CHANGE,
    ),
    ("mlflow-run-search", "POST"): (
        lambda w: (f"{API}/runs/search", {"experiment_ids": [str(_ml(w).experiment.pk)]}),
        ML_VIEW,
    ),
    ("mlflow-run-log-metric", "POST"): (
        lambda w: (
            f"{API}/runs/log-metric",
            _run(w, key="loss", value=0.3, timestamp=1_700_000_001_000, step=1),
        ),
        ML_CHANGE,
    ),
    ("mlflow-run-log-parameter", "POST"): (
        lambda w: (f"{API}/runs/log-parameter", _run(w, key=_name("param"), value="1")),
        ML_CHANGE,
    ),
    ("mlflow-run-log-batch", "POST"): (
        lambda w: (
            f"{API}/runs/log-batch",
            _run(
                w,
                metrics=[{"key": "auc", "value": 0.8, "timestamp": 1_700_000_002_000, "step": 0}],
                params=[{"key": _name("param"), "value": "2"}],
                tags=[{"key": "phase", "value": "tuning"}],
            ),
        ),
        ML_CHANGE,
    ),
    ("mlflow-run-set-tag", "POST"): (
        lambda w: (f"{API}/runs/set-tag", _run(w, key="phase", value="final")),
        ML_CHANGE,
    ),
    ("mlflow-run-delete-tag", "POST"): (
        lambda w: (f"{API}/runs/delete-tag", _run(w, key="stage")),
        ML_CHANGE,
    ),
    ("mlflow-run-log-inputs", "POST"): (
        lambda w: (
            f"{API}/runs/log-inputs",
            _run(
                w,
                datasets=[
                    {
                        "dataset": {
                            "name": "applications",
                            "digest": "3f2a9c1d",
                            "source_type": "s3",
                            "source": json.dumps({"uri": "s3://lake/applications.parquet"}),
                        },
                        "tags": [{"key": "mlflow.data.context", "value": "training"}],
                    }
                ],
            ),
        ),
        ML_CHANGE,
    ),
    ("mlflow-run-log-outputs", "POST"): (
        lambda w: (
            f"{API}/runs/outputs",
            _run(w, models=[{"model_id": _ml(w).logged_model.model_id, "step": 0}]),
        ),
        ML_CHANGE,
    ),
    ("mlflow-run-log-model", "POST"): (
        lambda w: (
            f"{API}/runs/log-model",
            _run(w, model_json=json.dumps({"artifact_path": "model", "flavors": {}})),
        ),
        ML_CHANGE,
    ),
    ("mlflow-metric-get-history", "GET"): (
        lambda w: _get(f"{API}/metrics/get-history", run_id=_ml(w).run_id, metric_key="loss"),
        ML_VIEW,
    ),
    # --- MLflow 3 logged models
    ("mlflow-logged-model-create", "POST"): (
        lambda w: (
            f"{API}/logged-models",
            {**_experiment(w), "name": "model", "source_run_id": _ml(w).run_id},
        ),
        ML_CHANGE,
    ),
    ("mlflow-logged-model-search", "POST"): (
        lambda w: (f"{API}/logged-models/search", {"experiment_ids": [str(_ml(w).experiment.pk)]}),
        ML_VIEW,
    ),
    ("mlflow-logged-model-detail", "GET"): (lambda w: (_logged_model_url(w), None), ML_VIEW),
    ("mlflow-logged-model-detail", "PATCH"): (
        lambda w: (
            _logged_model_url(w),
            {"model_id": _ml(w).logged_model.model_id, "status": "LOGGED_MODEL_READY"},
        ),
        ML_CHANGE,
    ),
    ("mlflow-logged-model-detail", "DELETE"): (
        lambda w: (_logged_model_url(w), {"model_id": _ml(w).logged_model.model_id}),
        ML_CHANGE,
    ),
    ("mlflow-logged-model-tags", "PATCH"): (
        lambda w: (_logged_model_url(w, "/tags"), {"tags": [{"key": "owner", "value": "carol"}]}),
        ML_CHANGE,
    ),
    ("mlflow-logged-model-tag-delete", "DELETE"): (
        lambda w: (_logged_model_url(w, "/tags/flavour"), None),
        ML_CHANGE,
    ),
    ("mlflow-logged-model-params", "POST"): (
        lambda w: (_logged_model_url(w, "/params"), {"params": [{"key": "C", "value": "1.0"}]}),
        ML_CHANGE,
    ),
    # --- the artifact proxy
    ("mlflow-artifact-list", "GET"): (lambda w: _get(ARTIFACTS, path=_ml(w).run_root), ML_VIEW),
    ("mlflow-artifact-file", "GET"): (
        lambda w: (f"{ARTIFACTS}/{_ml(w).run_root}/notes.txt", None),
        ML_VIEW,
    ),
    ("mlflow-artifact-file", "PUT"): (
        lambda w: (f"{ARTIFACTS}/{_ml(w).run_root}/{_name('plot')}.txt", b"a plot\n"),
        ML_CHANGE,
    ),
    ("mlflow-artifact-file", "DELETE"): (
        lambda w: (f"{ARTIFACTS}/{_ml(w).run_root}/notes.txt", None),
        ML_CHANGE,
    ),
    # --- registered models
    ("mlflow-model-create", "POST"): (
        lambda w: (f"{API}/registered-models/create", {"name": _name("mlflow-model")}),
        CREATE_IN_OWN_TEAM,
    ),
    ("mlflow-model-get", "GET"): (
        lambda w: _get(f"{API}/registered-models/get", name=w.model.name),
        ML_VIEW,
    ),
    ("mlflow-model-search", "GET"): (
        lambda w: _get(f"{API}/registered-models/search", filter="name LIKE 'credit%'"),
        ML_LIST,
    ),
    ("mlflow-model-update", "PATCH"): (
        lambda w: (
            f"{API}/registered-models/update",
            {"name": w.model.name, "description": "Scores loan applications."},
        ),
        ML_CHANGE,
    ),
    ("mlflow-model-rename", "POST"): (
        lambda w: (
            f"{API}/registered-models/rename",
            {"name": w.model.name, "new_name": "credit-model-2"},
        ),
        {**everyone(400), OUTSIDER: 404},
    ),
    ("mlflow-model-delete", "DELETE"): (
        lambda w: (f"{API}/registered-models/delete", {"name": _ml(w).scratch_model}),
        ML_ARCHIVE,
    ),
    ("mlflow-model-set-tag", "POST"): (
        lambda w: (
            f"{API}/registered-models/set-tag",
            {"name": w.model.name, "key": "domain", "value": "lending"},
        ),
        ML_CHANGE,
    ),
    ("mlflow-model-delete-tag", "DELETE"): (
        lambda w: (
            f"{API}/registered-models/delete-tag",
            {"name": w.model.name, "key": "domain"},
        ),
        ML_CHANGE,
    ),
    ("mlflow-model-latest-versions", "GET"): (
        lambda w: _get(f"{API}/registered-models/get-latest-versions", name=w.model.name),
        ML_VIEW,
    ),
    ("mlflow-model-latest-versions", "POST"): (
        lambda w: (f"{API}/registered-models/get-latest-versions", {"name": w.model.name}),
        ML_VIEW,
    ),
    ("mlflow-model-alias", "GET"): (
        lambda w: _get(f"{API}/registered-models/alias", name=w.model.name, alias="candidate"),
        ML_VIEW,
    ),
    ("mlflow-model-alias", "POST"): (
        lambda w: (
            f"{API}/registered-models/alias",
            {"name": w.model.name, "alias": "challenger", "version": "1"},
        ),
        ML_CHANGE,
    ),
    ("mlflow-model-alias", "DELETE"): (
        lambda w: (
            f"{API}/registered-models/alias",
            {"name": w.model.name, "alias": "candidate"},
        ),
        ML_CHANGE,
    ),
    # --- model versions
    ("mlflow-version-create", "POST"): (
        lambda w: (
            f"{API}/model-versions/create",
            {"name": w.model.name, "source": "s3://models/credit/2", "run_id": ""},
        ),
        ML_CHANGE,
    ),
    ("mlflow-version-get", "GET"): (
        lambda w: _get(f"{API}/model-versions/get", name=w.model.name, version="1"),
        ML_VIEW,
    ),
    ("mlflow-version-search", "GET"): (
        lambda w: _get(f"{API}/model-versions/search", filter=f"name='{w.model.name}'"),
        ML_LIST,
    ),
    ("mlflow-version-update", "PATCH"): (
        lambda w: (f"{API}/model-versions/update", _version(w, description="Retrained.")),
        ML_CHANGE,
    ),
    ("mlflow-version-delete", "DELETE"): (
        lambda w: (
            f"{API}/model-versions/delete",
            {"name": _ml(w).scratch_model, "version": "1"},
        ),
        ML_ARCHIVE,
    ),
    ("mlflow-version-download-uri", "GET"): (
        lambda w: _get(f"{API}/model-versions/get-download-uri", name=w.model.name, version="1"),
        ML_VIEW,
    ),
    ("mlflow-version-transition-stage", "POST"): (
        lambda w: (
            f"{API}/model-versions/transition-stage",
            _version(w, stage="Staging", archive_existing_versions=False),
        ),
        # Staging is the submission: the developer's decision, as on Steward's own route.
        only(200, {CONTRIBUTOR}, **{OUTSIDER: 404}),
    ),
    ("mlflow-version-set-tag", "POST"): (
        lambda w: (f"{API}/model-versions/set-tag", _version(w, key="notebook", value="v2")),
        ML_CHANGE,
    ),
    ("mlflow-version-delete-tag", "DELETE"): (
        lambda w: (f"{API}/model-versions/delete-tag", _version(w, key="notebook")),
        ML_CHANGE,
    ),
    # --- Steward's own alias routes
    ("model-aliases", "GET"): (
        lambda w: (f"/api/v1/models/{w.model.name}/aliases/", None),
        ML_VIEW,
    ),
    ("model-alias", "GET"): (
        lambda w: (f"/api/v1/models/{w.model.name}/aliases/candidate/", None),
        ML_VIEW,
    ),
    ("model-alias", "PUT"): (
        lambda w: (
            f"/api/v1/models/{w.model.name}/aliases/challenger/",
            {"version": 1, "motivation": MOTIVATION},
        ),
        ML_CHANGE,
    ),
    ("model-alias", "DELETE"): (
        lambda w: (
            f"/api/v1/models/{w.model.name}/aliases/candidate/",
            {"motivation": "No longer a candidate."},
        ),
        only(204, {CONTRIBUTOR, ADMINISTRATOR}, **{OUTSIDER: 404}),
    ),
}


def mlflow_world_prepare(route: str, method: str, w: World) -> None:
    """Every MLflow route is tried against Credit Risk's MLflow records: make them first."""
    if (route, method) in MLFLOW_MATRIX:
        _ml(w)


# Searches the MLflow client sends as POST: reads, allowed to a read-only token.
MLFLOW_READS_BY_POST = {
    ("mlflow-experiment-search", "POST"),
    ("mlflow-run-search", "POST"),
    ("mlflow-logged-model-search", "POST"),
    ("mlflow-model-latest-versions", "POST"),
}

MLFLOW_AUDIT_EVENTS: dict[tuple[str, str], set[str]] = {
    ("mlflow-experiment-create", "POST"): {"mlflow.experiment.create"},
    ("mlflow-experiment-update", "POST"): {"mlflow.experiment.update"},
    ("mlflow-experiment-delete", "POST"): {"mlflow.experiment.delete"},
    ("mlflow-experiment-restore", "POST"): {"mlflow.experiment.restore"},
    ("mlflow-experiment-set-tag", "POST"): {"mlflow.experiment.tag"},
    ("mlflow-experiment-delete-tag", "POST"): {"mlflow.experiment.tag"},
    ("mlflow-run-create", "POST"): {"run.register"},
    ("mlflow-run-update", "POST"): {"run.update"},
    ("mlflow-run-delete", "POST"): {"mlflow.run.delete"},
    ("mlflow-run-restore", "POST"): {"mlflow.run.restore"},
    ("mlflow-run-log-parameter", "POST"): {"run.provenance_add"},
    ("mlflow-run-log-batch", "POST"): {"run.provenance_add"},
    ("mlflow-run-set-tag", "POST"): {"run.provenance_add"},
    ("mlflow-run-delete-tag", "POST"): {"run.provenance_add"},
    ("mlflow-run-log-inputs", "POST"): {
        "run.inputs_add",
        "dataset.register",
        "dataset_version.register",
    },
    ("mlflow-run-log-outputs", "POST"): {"mlflow.logged_model.output"},
    ("mlflow-run-log-model", "POST"): {"run.provenance_add"},
    ("mlflow-logged-model-create", "POST"): {"mlflow.logged_model.create"},
    ("mlflow-logged-model-detail", "PATCH"): {"mlflow.logged_model.finalize"},
    ("mlflow-logged-model-detail", "DELETE"): {"mlflow.logged_model.delete"},
    ("mlflow-logged-model-tags", "PATCH"): {"mlflow.logged_model.update"},
    ("mlflow-logged-model-tag-delete", "DELETE"): {"mlflow.logged_model.update"},
    ("mlflow-logged-model-params", "POST"): {"mlflow.logged_model.update"},
    ("mlflow-artifact-file", "PUT"): {"artifact.upload"},
    ("mlflow-artifact-file", "DELETE"): {"mlflow.artifacts.delete"},
    ("mlflow-model-create", "POST"): {"model.register"},
    ("mlflow-model-update", "PATCH"): {"model.update"},
    ("mlflow-model-delete", "DELETE"): {"model.delete", "version.delete"},
    ("mlflow-model-alias", "POST"): {"model.alias_set"},
    ("mlflow-model-alias", "DELETE"): {"model.alias_remove"},
    ("mlflow-version-create", "POST"): {"version.register"},
    ("mlflow-version-update", "PATCH"): {"version.update"},
    ("mlflow-version-delete", "DELETE"): {"version.delete"},
    ("mlflow-version-transition-stage", "POST"): {"version.submit"},
    ("model-alias", "PUT"): {"model.alias_set"},
    ("model-alias", "DELETE"): {"model.alias_remove"},
}

_TAGS_IN_THE_CHANGE_LOG = (
    "MLflow's key/value tags of models and versions: kept by the change log (auditlog, with "
    "the actor), as Steward's own tag edits are"
)
MLFLOW_UNCHAINED_WRITES = {
    **dict.fromkeys(MLFLOW_READS_BY_POST, "a search sent as POST: it reads"),
    ("mlflow-run-log-metric", "POST"): (
        "metric points are history rows; their latest values join the run's chained record "
        "when it ends (a point logged after the end is chained as provenance)"
    ),
    ("mlflow-model-rename", "POST"): "refused: a model's name is its identity in the trail",
    ("mlflow-model-set-tag", "POST"): _TAGS_IN_THE_CHANGE_LOG,
    ("mlflow-model-delete-tag", "DELETE"): _TAGS_IN_THE_CHANGE_LOG,
    ("mlflow-version-set-tag", "POST"): _TAGS_IN_THE_CHANGE_LOG,
    ("mlflow-version-delete-tag", "DELETE"): _TAGS_IN_THE_CHANGE_LOG,
}

MLFLOW_SNAPSHOT_MODELS = [
    MlflowExperiment,
    MlflowRun,
    MlflowMetric,
    MlflowLoggedModel,
    MlflowArtifactFile,
    MlflowModelTag,
    MlflowVersionTag,
    MlflowVersionSource,
    ModelAlias,
]
