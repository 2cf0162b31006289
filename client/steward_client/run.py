"""``with steward.run(name, kind="training") as run:`` - a run recorded as it happens.

Steward takes a run's inputs and params when the run is created, so the run is created the
first time something needs its id (a version or dataset produced in it) or when the block
ends: log inputs and params before that. Metrics may come at any time; they are sent when the
block ends. If the block raises, the run is recorded as failed with the error, and the
exception goes on."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from steward_client.capture import capture_code, capture_environment, provenance_fields
from steward_client.data import DatasetRef, as_data
from steward_client.display import Record, Version
from steward_client.errors import LocalInputError, StewardError

logger = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Run:
    """A run in progress. Use it through :meth:`steward_client.Steward.run`."""

    def __init__(
        self,
        steward,
        name: str,
        kind: str,
        *,
        team: str | None,
        inputs: dict | None,
        params: dict | None,
        capture: bool,
    ):
        self.steward = steward
        self.name = name
        self.kind = kind
        self.team = team
        self.capture = capture
        self.params: dict[str, Any] = dict(params or {})
        self.metrics: dict[str, float] = {}
        self.inputs: list[tuple[Record, str]] = []
        self.versions: list[Version] = []
        self.outputs: list[Record] = []
        self.record: Record | None = None
        self.started_at: str | None = None
        self.status = "running"
        self._pending_inputs = dict(inputs or {})

    # --- what the block records ---------------------------------------------------------------

    def log_input(self, data, role: str = "train") -> Record:
        """A dataset the run reads (a path, URI or Data), hashed and registered now."""
        if self.record is not None:
            raise LocalInputError(
                "Log the run's inputs before it registers what it produced: Steward records a "
                "run's inputs when the run is created."
            )
        version = self.steward.dataset_version(data, team=self._team())
        self.inputs.append((version, role))
        return version

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def log_params(self, params: dict | None = None, **more: Any) -> None:
        if self.record is not None:
            raise LocalInputError(
                "Log params before the run registers what it produced: Steward records a "
                "run's params when the run is created."
            )
        self.params.update(params or {}, **more)

    def log_metric(self, key: str, value: float) -> None:
        self.log_metrics({key: value})

    def log_metrics(self, metrics: dict | None = None, **more: float) -> None:
        self.metrics.update(metrics or {}, **more)

    def log_output(self, data, *, description: str = "") -> Record:
        """A dataset this run produced (registered as produced by it)."""
        data = as_data(data)
        if description:
            data.description = description
        version = self.steward.dataset_version(data, team=self._team(), produced_by_run=self.uuid)
        self.outputs.append(version)
        return version

    def register_version(self, model: str, artifact: str | Path | None = None, **kwargs) -> Version:
        """Register the version this run produced: linked to the run, trained on the run's
        inputs (unless ``datasets`` is given), with the run's params and metrics so far."""
        kwargs.setdefault("team", self.team)
        if "datasets" not in kwargs and self.inputs:
            kwargs["datasets"] = {}
            for version, role in self.inputs:
                ref = (version["dataset"], version["version"])
                kwargs["datasets"].setdefault(role, []).append(DatasetRef(*ref))
        kwargs["params"] = {**self.params, **(kwargs.get("params") or {})}
        kwargs["metrics"] = {**self.metrics, **(kwargs.get("metrics") or {})}
        if self.record is None and self.team is None:
            self.team = self.steward.ensure_model(model, team=None).get("owner_team")
        version = self.steward.register_version(model, artifact, run=self.uuid, **kwargs)
        self.versions.append(version)
        return version

    # --- the run row --------------------------------------------------------------------------

    @property
    def uuid(self) -> str:
        """The run's id in Steward (creating the run now if it does not exist yet)."""
        return self._ensure_created()["uuid"]

    def _team(self) -> str:
        if self.team is None:
            self.team = self.steward._team_default()
        return self.team

    def _ensure_created(self) -> Record:
        if self.record is not None:
            return self.record
        body: dict[str, Any] = {
            "kind": self.kind,
            "team": self._team(),
            "name": self.name,
            "status": "running",
            "started_at": self.started_at or _now(),
            "inputs": [
                {"dataset": v["dataset"], "version": v["version"], "role": role}
                for v, role in self.inputs
            ],
        }
        params = dict(self.params)
        if self.capture:
            fields, extra = provenance_fields(capture_code(), capture_environment())
            body.update(fields)
            params = {**extra, **params}
        if params:
            body["params"] = params
        self.record = Record(
            self.steward.http.json("POST", "runs/", json=body, idempotency_key=True)
        )
        return self.record

    def __enter__(self) -> Run:
        self.started_at = _now()
        for role, value in self._pending_inputs.items():
            for item in value if isinstance(value, list) else [value]:
                self.log_input(item, role=role)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        failed = exc_type is not None
        self.status = "failed" if failed else "completed"
        update: dict[str, Any] = {"status": self.status, "ended_at": _now()}
        if self.metrics:
            update["metrics"] = self.metrics
        if failed:
            update["notes"] = f"Failed: {exc_type.__name__}: {exc}"[:5000]
        try:
            uuid = self.uuid
            self.record = Record(self.steward.http.json("PATCH", f"runs/{uuid}/", json=update))
        except StewardError as error:
            if not failed:
                raise
            # The block's own exception matters more; say why the run was not closed.
            logger.warning("could not record the run as failed: %s", error)
        return False  # never swallow the block's exception
