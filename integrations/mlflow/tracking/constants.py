"""MLflow's names that Steward reads, and how its statuses and dataset contexts map."""

from __future__ import annotations

from registry.choices import DatasetRole, RunStatus

TEAM_TAG = "steward.team"
RUN_NAME_TAG = "mlflow.runName"
USER_TAG = "mlflow.user"
DATASET_CONTEXT_TAG = "mlflow.data.context"

# MLflow source tags -> the Steward run's code fields.
SOURCE_TAGS = {
    "mlflow.source.git.commit": "code_commit",
    "mlflow.source.name": "code_path",
    "mlflow.source.git.repoURL": "code_repository",
}

MLFLOW_TO_STEWARD_STATUS = {
    "RUNNING": RunStatus.RUNNING,
    "SCHEDULED": RunStatus.RUNNING,
    "FINISHED": RunStatus.COMPLETED,
    "FAILED": RunStatus.FAILED,
    "KILLED": RunStatus.FAILED,
}
STEWARD_TO_MLFLOW_STATUS = {
    RunStatus.RUNNING: "RUNNING",
    RunStatus.COMPLETED: "FINISHED",
    RunStatus.FAILED: "FAILED",
}

# mlflow.data.context -> the role of the input (anything else is a plain input).
DATASET_CONTEXT_ROLES = {
    "train": DatasetRole.TRAIN,
    "training": DatasetRole.TRAIN,
    "validation": DatasetRole.VALIDATION,
    "valid": DatasetRole.VALIDATION,
    "val": DatasetRole.VALIDATION,
    "eval": DatasetRole.VALIDATION,
    "evaluation": DatasetRole.VALIDATION,
    "test": DatasetRole.TEST,
    "testing": DatasetRole.TEST,
    "reference": DatasetRole.REFERENCE,
    "baseline": DatasetRole.REFERENCE,
}

# MLflow's own limits (mlflow/utils/validation.py).
MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS = 100
MAX_BATCH_TAGS = 100
