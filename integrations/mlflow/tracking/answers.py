"""MLflow's JSON shapes of Steward's records: ids as strings, times as epoch milliseconds, tags
and params as ``[{key, value}]``."""

from __future__ import annotations

import math
from datetime import datetime

from integrations.mlflow.artifacts.paths import model_root, run_root
from integrations.mlflow.tracking import constants as c
from integrations.models.mlflow import MlflowExperiment, MlflowLoggedModel, MlflowMetric, MlflowRun
from registry.models import RunInput


def to_ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def key_values(mapping: dict) -> list[dict]:
    return [{"key": key, "value": str(value)} for key, value in mapping.items()]


def experiment_answer(experiment: MlflowExperiment) -> dict:
    return {
        "experiment_id": str(experiment.pk),
        "name": experiment.name,
        "artifact_location": f"mlflow-artifacts:/{experiment.pk}",
        "lifecycle_stage": experiment.lifecycle_stage,
        "last_update_time": to_ms(experiment.updated_at),
        "creation_time": to_ms(experiment.created_at),
        "tags": key_values(experiment.tags),
    }


def number_answer(value: float) -> float | str:
    """JSON has no NaN or infinity; protobuf's JSON (which the client parses) spells them."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def metric_answer(row: MlflowMetric) -> dict:
    return {
        "key": row.key,
        "value": number_answer(row.value),
        "timestamp": row.timestamp,
        "step": row.step,
        **({"model_id": row.model_id} if row.model_id else {}),
    }


def run_info_answer(mlflow_run: MlflowRun) -> dict:
    run = mlflow_run.run
    run_id = run.uuid.hex
    info = {
        "run_id": run_id,
        "run_uuid": run_id,
        "run_name": mlflow_run.run_name,
        "experiment_id": str(mlflow_run.experiment_id),
        "user_id": run.created_by.username,
        "status": c.STEWARD_TO_MLFLOW_STATUS.get(run.status, "RUNNING"),
        "start_time": to_ms(run.started_at or run.created_at),
        "artifact_uri": f"mlflow-artifacts:/{run_root(mlflow_run.experiment_id, run_id)}",
        "lifecycle_stage": mlflow_run.lifecycle_stage,
    }
    if run.ended_at is not None:
        info["end_time"] = to_ms(run.ended_at)
    return info


def dataset_input_answer(link: RunInput) -> dict:
    version = link.dataset_version
    logged = (version.profile or {}).get("mlflow_dataset") or {}
    dataset = {
        "name": logged.get("name") or version.dataset.name,
        "digest": logged.get("digest") or version.content_hash[:8],
        "source_type": logged.get("source_type") or "steward",
        "source": logged.get("source") or version.uri,
    }
    for field in ("schema", "profile"):
        if logged.get(field):
            dataset[field] = logged[field]
    tags = [{"key": c.DATASET_CONTEXT_TAG, "value": link.role}] if link.role != "input" else []
    return {"tags": tags, "dataset": dataset}


def run_answer(
    mlflow_run: MlflowRun,
    latest: dict[str, MlflowMetric],
    inputs: list[RunInput],
    outputs: list[MlflowLoggedModel],
) -> dict:
    return {
        "info": run_info_answer(mlflow_run),
        "data": {
            "metrics": [metric_answer(row) for _, row in sorted(latest.items())],
            "params": key_values(mlflow_run.run.params),
            "tags": key_values(mlflow_run.tags),
        },
        "inputs": {"dataset_inputs": [dataset_input_answer(link) for link in inputs]},
        "outputs": {"model_outputs": [{"model_id": m.model_id, "step": 0} for m in outputs]},
    }


def logged_model_answer(logged_model: MlflowLoggedModel) -> dict:
    root = model_root(logged_model.experiment_id, logged_model.model_id)
    info = {
        "model_id": logged_model.model_id,
        "experiment_id": str(logged_model.experiment_id),
        "name": logged_model.name,
        "creation_timestamp_ms": to_ms(logged_model.created_at),
        "last_updated_timestamp_ms": to_ms(logged_model.updated_at),
        "artifact_uri": f"mlflow-artifacts:/{root}",
        "status": logged_model.status,
        "creator_id": logged_model.created_by_id,
        "model_type": logged_model.model_type,
        "tags": key_values(logged_model.tags),
    }
    if logged_model.run is not None:
        info["source_run_id"] = logged_model.run.uuid.hex
    return {"info": info, "data": {"params": key_values(logged_model.params), "metrics": []}}
