"""What OpenLineage says about runs, jobs and datasets beyond the registry's own fields.

Each row is keyed by the team it was written for: a namespace and name (or a runId) that two
teams both report become two separate records, so an event from one team never reaches the
other's rows. Namespaces and names can be long (paths, URLs), so uniqueness is enforced on a
SHA-256 of them (``key_hash``) rather than on the text.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel
from integrations.openlineage.constants import DatasetUse, EventKind


class OpenLineageJob(TimeStampedModel):
    """A job (namespace, name) as its events describe it: the facets last reported (job type,
    source code location, SQL), and the datasets a JobEvent declared."""

    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="+")
    namespace = models.CharField(max_length=500)
    name = models.CharField(max_length=500)
    key_hash = models.CharField(max_length=64)
    facets = models.JSONField(default=dict, blank=True)
    declared_inputs = models.JSONField(default=list, blank=True)
    declared_outputs = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["namespace", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "key_hash"], name="unique_ol_job_per_team")
        ]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


class OpenLineageRun(TimeStampedModel):
    """The OpenLineage side of a registry run: the runId it was reported under, its job, who
    produced the events, and the state its events have reached (START, COMPLETE, ...). The
    registry run's uuid is the runId, unless that id was already taken by a run the sender may
    not write (then it is derived from the team and the runId; see the README)."""

    run = models.OneToOneField("registry.Run", on_delete=models.PROTECT, related_name="openlineage")
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="+")
    reported_run_id = models.UUIDField(help_text="The runId the events carry.")
    job = models.ForeignKey(OpenLineageJob, on_delete=models.PROTECT, related_name="runs")
    producer = models.CharField(max_length=1000, blank=True)
    integration = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=16, blank=True)
    state_time = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    parent_run_id = models.UUIDField(null=True, blank=True)
    parent_job = models.CharField(max_length=1001, blank=True)
    facets = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "reported_run_id"], name="unique_ol_run_per_team"
            )
        ]

    def __str__(self) -> str:
        return f"{self.job} run {self.reported_run_id}"


class OpenLineageDataset(TimeStampedModel):
    """An OpenLineage dataset (namespace, name) of a team, and the registry dataset it is."""

    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="+")
    namespace = models.CharField(max_length=500)
    name = models.CharField(max_length=500)
    key_hash = models.CharField(max_length=64)
    dataset = models.OneToOneField(
        "registry.Dataset", on_delete=models.PROTECT, related_name="openlineage"
    )

    class Meta:
        ordering = ["namespace", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "key_hash"], name="unique_ol_dataset_per_team")
        ]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


class OpenLineageDatasetVersion(TimeStampedModel):
    """One version of an OpenLineage dataset: the ``version`` facet's datasetVersion, or a key
    Steward derived when the event had none (``derived``), and the registry version it is."""

    ol_dataset = models.ForeignKey(
        OpenLineageDataset, on_delete=models.PROTECT, related_name="versions"
    )
    version_key = models.CharField(max_length=255)
    derived = models.BooleanField(default=False)
    dataset_version = models.OneToOneField(
        "registry.DatasetVersion", on_delete=models.PROTECT, related_name="openlineage"
    )
    facets = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["ol_dataset", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["ol_dataset", "version_key"], name="unique_ol_dataset_version_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ol_dataset}@{self.version_key}"


class OpenLineageRunDataset(models.Model):
    """A dataset version a run read or wrote, with what the event said about that use: its
    input or output facets, and for an output its column lineage."""

    ol_run = models.ForeignKey(OpenLineageRun, on_delete=models.CASCADE, related_name="datasets")
    ol_version = models.ForeignKey(
        OpenLineageDatasetVersion, on_delete=models.PROTECT, related_name="uses"
    )
    use = models.CharField(max_length=8, choices=DatasetUse.choices)
    facets = models.JSONField(default=dict, blank=True)
    column_lineage = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["use", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ol_run", "ol_version", "use"], name="unique_ol_run_dataset_use"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ol_run} {self.use} {self.ol_version}"


class OpenLineageEvent(models.Model):
    """An accepted event as it was received, once per team: a byte-for-byte repeat (same
    canonical JSON) is recognised by ``event_hash`` and changes nothing. Append-only; its hash
    is also in the audit chain's ``openlineage.event`` record."""

    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="+")
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    event_hash = models.CharField(max_length=64)
    kind = models.CharField(max_length=8, choices=EventKind.choices)
    event_type = models.CharField(max_length=16, blank=True)
    event_time = models.DateTimeField()
    ol_run = models.ForeignKey(
        OpenLineageRun, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    body = models.JSONField()

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "event_hash"], name="unique_ol_event_per_team")
        ]

    def __str__(self) -> str:
        return f"{self.kind} event {self.event_type or ''} {self.event_hash[:12]}"
