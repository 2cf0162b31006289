"""Names and limits of the OpenLineage translation."""

from __future__ import annotations

from django.db import models

from registry.choices import RunStatus

# The custom output facet by which a training job names the model version it produced.
MODEL_VERSION_FACET = "steward_modelVersion"
# The environment variable (and setting) mapping namespaces to the teams that own them.
NAMESPACE_TEAMS_SETTING = "STEWARD_OPENLINEAGE_NAMESPACE_TEAMS"

# Lengths an event's names may have: a dataset's URI (namespace/name) must fit the registry's
# 1000 characters.
MAX_NAMESPACE = 400
MAX_NAME = 500
MAX_VERSION = 255
MAX_PRODUCER = 1000
# Datasets one event may name in its inputs, and in its outputs: each is several writes, so a
# body within the size limit still cannot ask for an unbounded amount of work.
MAX_DATASETS = 500


class EventKind(models.TextChoices):
    RUN = "run", "RunEvent"
    DATASET = "dataset", "DatasetEvent"
    JOB = "job", "JobEvent"


class EventType(models.TextChoices):
    START = "START"
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    ABORT = "ABORT"
    FAIL = "FAIL"
    OTHER = "OTHER"


class DatasetUse(models.TextChoices):
    INPUT = "input", "Input"
    OUTPUT = "output", "Output"


TERMINAL_TYPES = frozenset({EventType.COMPLETE, EventType.FAIL, EventType.ABORT})
# What a run's registry status becomes at each event type (OTHER changes nothing). The registry
# has no "aborted": an aborted run is failed there, and ABORT is kept as the run's state here.
RUN_STATUS_OF = {
    EventType.START: RunStatus.RUNNING,
    EventType.RUNNING: RunStatus.RUNNING,
    EventType.COMPLETE: RunStatus.COMPLETED,
    EventType.FAIL: RunStatus.FAILED,
    EventType.ABORT: RunStatus.FAILED,
}
# Producer URLs name their integration; the first of these found in it is taken.
KNOWN_INTEGRATIONS = ("airflow", "spark", "dbt", "dagster", "flink", "trino", "python", "java")
