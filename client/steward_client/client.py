"""The Python API: ``Steward()`` and what it does."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import quote

from steward_client.artifacts import Progress, UploadStream
from steward_client.capture import (
    capture_code,
    capture_environment,
    file_sha256,
    provenance_fields,
)
from steward_client.config import settings_resolve
from steward_client.data import Data, DatasetRef, as_data
from steward_client.display import GovernanceStatus, Lineage, Record, Version
from steward_client.errors import InvalidInput, LocalInputError, NotFound
from steward_client.transport import Transport

ROLES = ("train", "validation", "test", "input", "reference")


def _q(value: Any) -> str:
    return quote(str(value), safe="")


class BatchResult(Record):
    """What a batch upload (predictions, ground truth) did, over all its batches: counts and
    the per-record errors, each with its index in the records you gave."""

    def title(self) -> str:
        return "batch result"

    @property
    def errors(self) -> list[dict]:
        return self.get("errors", [])


class Steward:
    """A connection to one Steward server.

    ``Steward()`` reads ``STEWARD_URL`` and ``STEWARD_TOKEN`` (or what ``steward login``
    stored); ``ca_bundle`` (or ``STEWARD_CA_BUNDLE``) names the CA that signed the server's
    certificate. ``progress`` shows upload progress (default: when stderr is a terminal)."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        ca_bundle: str | None = None,
        max_retries: int | None = None,
        progress: bool | None = None,
        transport: Transport | None = None,
    ):
        self.settings = settings_resolve(url, token, ca_bundle)
        self.http = transport or Transport(self.settings, max_retries=max_retries)
        self.progress = progress
        self._me: dict | None = None

    def __repr__(self) -> str:
        return f"Steward({self.settings.url!r})"

    # --- reads --------------------------------------------------------------------------------

    def me(self) -> Record:
        if self._me is None:
            self._me = Record(self.http.json("GET", "me/"))
        return Record(self._me)

    def models(self, *, search: str | None = None, limit: int | None = None) -> list[Record]:
        params = {"search": search} if search else {}
        return [Record(m) for m in self.http.paginate("models/", params, limit)]

    def model(self, name: str) -> Record:
        return Record(self.http.json("GET", f"models/{_q(name)}/"))

    def versions(self, model: str, *, limit: int | None = None) -> list[Version]:
        return [Version(v) for v in self.http.paginate(f"models/{_q(model)}/versions/", {}, limit)]

    def version(self, model: str, version: int) -> Version:
        return Version(self.http.json("GET", f"models/{_q(model)}/versions/{int(version)}/"))

    def status(self, model: str, version: int) -> GovernanceStatus:
        """The governance summary: state, sign-offs, the policy's guards (what blocks it),
        what you may do now, and whose turn it is."""
        path = f"models/{_q(model)}/versions/{int(version)}/governance/"
        return GovernanceStatus(self.http.json("GET", path), model=model, version=int(version))

    def lineage(
        self, model: str, version: int, *, direction: str = "both", depth: int | None = None
    ) -> Lineage:
        params: dict = {"direction": direction}
        if depth is not None:
            params["depth"] = depth
        path = f"models/{_q(model)}/versions/{int(version)}/lineage/"
        return Lineage(self.http.json("GET", path, params=params))

    def documents(self, model: str, version: int) -> list[Record]:
        path = f"models/{_q(model)}/versions/{int(version)}/documents/"
        return [Record(d) for d in self.http.paginate(path)]

    # --- documents ----------------------------------------------------------------------------

    def generate_document(
        self,
        model: str,
        version: int,
        template: str = "model-card",
        *,
        wait: bool = False,
        timeout: float = 300.0,
    ) -> Record:
        """Ask for a document (200: an unchanged one exists; 202: queued); with ``wait``, poll
        until it is done or failed."""
        base = f"models/{_q(model)}/versions/{int(version)}/documents/"
        document = Record(self.http.json("POST", base, json={"template": template}))
        deadline = time.monotonic() + timeout
        while wait and document.get("status") not in ("done", "failed"):
            if time.monotonic() > deadline:
                raise LocalInputError(
                    f"The document was not ready after {timeout:.0f} s (status "
                    f"{document.get('status')}); a worker may not be running."
                )
            time.sleep(1.0)
            document = Record(self.http.json("GET", f"{base}{document['id']}/"))
        return document

    def download_document(
        self,
        model: str,
        version: int,
        *,
        document: int | None = None,
        template: str = "model-card",
        format: str = "pdf",  # noqa: A002 - the API's own parameter name
        path: str | Path | None = None,
    ) -> Path:
        """Save a done document (the newest of ``template`` unless ``document`` names one)."""
        base = f"models/{_q(model)}/versions/{int(version)}/documents/"
        if document is None:
            done = [
                d
                for d in self.documents(model, version)
                if d.get("template") == template and d.get("status") == "done"
            ]
            if not done:
                raise NotFound(
                    f"No finished '{template}' document for {model} v{version}; run "
                    f"`steward docs generate {model} {version} --template {template}` first.",
                    status=404,
                )
            document = done[0]["id"]
        response = self.http.request(
            "GET", f"{base}{int(document)}/download/", params={"format": format}, stream=True
        )
        target = Path(path or f"{model}-v{version}-{template}.{format}")
        with open(target, "wb") as handle:
            for block in response.iter_content(1 << 16):
                handle.write(block)
        return target

    # --- artifacts and data -------------------------------------------------------------------

    def upload_artifact(self, path: str | Path, *, progress: bool | None = None) -> Record:
        """Upload a file unless Steward already holds its bytes for you; the answer has
        ``sha256``, ``uri`` and ``skipped`` (True when nothing was sent)."""
        path = Path(path).expanduser()
        if not path.is_file():
            what = "a directory (archive it first)" if path.is_dir() else "not found"
            raise LocalInputError(f"The artifact {path} is {what}.")
        digest = file_sha256(path)
        try:
            found = self.http.json("GET", f"artifacts/{digest}/")
            return Record(found, skipped=True)
        except NotFound:
            pass
        show = self.progress if progress is None else progress
        bar: list[Progress] = []

        def body():
            if bar:
                bar[0].close()
            bar[:] = [Progress(f"uploading {path.name}", path.stat().st_size, show)]
            return UploadStream(path, bar[0])

        try:
            answer = self.http.json(
                "POST",
                "artifacts/",
                params={"filename": path.name},
                body=body,
                headers={"Content-Type": "application/octet-stream"},
            )
        finally:
            if bar:
                bar[0].close()
        if answer.get("sha256") != digest:
            raise LocalInputError(
                f"Steward stored {answer.get('sha256')} but {path} hashes to {digest}: the "
                "file changed during the upload."
            )
        return Record(answer, skipped=False)

    def _team_default(self) -> str:
        teams = self.me().get("teams") or []
        if len(teams) == 1:
            return teams[0]
        raise LocalInputError(
            "Say which team owns it (team=...): you belong to "
            + (", ".join(teams) if teams else "no team")
            + "."
        )

    def dataset_version(
        self, data: Any, *, team: str | None = None, produced_by_run: str | None = None
    ) -> Record:
        """The dataset version holding this content: found by its hash, else registered
        (creating the dataset, owned by ``team``, if needed)."""
        data = as_data(data)
        profile = data.profile()
        name = data.name
        try:
            self.http.json("GET", f"datasets/{_q(name)}/")
        except NotFound:
            self.http.json(
                "POST",
                "datasets/",
                json={"name": name, "owner_team": team or self._team_default()},
                idempotency_key=True,
            )
        base = f"datasets/{_q(name)}/versions/"
        existing = self.http.json("GET", base, params={"content_hash": profile["content_hash"]})
        rows = existing.get("results", []) if isinstance(existing, dict) else existing
        if rows:
            return Record(rows[0])
        body = {**profile, "description": data.description}
        if produced_by_run:
            body["produced_by_run"] = produced_by_run
        return Record(self.http.json("POST", base, json=body, idempotency_key=True))

    def _dataset_uses(self, datasets: dict | None, team: str | None) -> list[dict]:
        uses = []
        for role, value in (datasets or {}).items():
            if role not in ROLES:
                raise LocalInputError(
                    f"Unknown dataset role '{role}': use one of {', '.join(ROLES)}."
                )
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, DatasetRef):
                    found = {"dataset": item.dataset, "version": item.version}
                else:
                    found = self.dataset_version(item, team=team)
                uses.append(
                    {"dataset": found["dataset"], "version": found["version"], "role": role}
                )
        return uses

    # --- registering --------------------------------------------------------------------------

    def ensure_model(self, name: str, *, team: str | None = None, **fields) -> Record:
        """The registered model ``name``; registered (owned by ``team``) if it does not exist."""
        try:
            return self.model(name)
        except NotFound:
            body = {"name": name, "owner_team": team or self._team_default(), **fields}
            return Record(self.http.json("POST", "models/", json=body, idempotency_key=True))

    def register_version(
        self,
        model: str,
        artifact: str | Path | None = None,
        *,
        artifact_sha256: str | None = None,
        datasets: dict | None = None,
        metrics: dict | None = None,
        params: dict | None = None,
        description: str = "",
        framework: str = "",
        input_schema: dict | None = None,
        output_schema: dict | None = None,
        run: str | None = None,
        derived_from: int | None = None,
        team: str | None = None,
        capture: bool = True,
        code_dir: str | Path | None = None,
    ) -> Version:
        """Register a version of ``model`` with its artifact (a local file, uploaded unless
        Steward has it; or a remote URI with ``artifact_sha256``), the datasets it was trained
        and tested on (``{"train": path, "test": path}``, hashed and registered as dataset
        versions), metrics, params, and the code and environment captured here."""
        registered = self.ensure_model(model, team=team)
        team = team or registered.get("owner_team")
        body: dict[str, Any] = {"description": description, "framework": framework}
        body.update(self._artifact_fields(artifact, artifact_sha256))
        if capture:
            fields, extra = provenance_fields(capture_code(code_dir), capture_environment())
            body.update(fields)
            params = {**extra, **(params or {})}
        if params:
            body["params"] = params
        if metrics:
            body["metrics"] = metrics
        for key, value in (("input_schema", input_schema), ("output_schema", output_schema)):
            if value is not None:
                body[key] = value
        uses = self._dataset_uses(datasets, team)
        if uses:
            body["datasets"] = uses
        if run:
            body["run"] = str(run)
        if derived_from is not None:
            body["derived_from"] = {"model": model, "version": int(derived_from)}
        answer = self.http.json(
            "POST", f"models/{_q(model)}/versions/", json=body, idempotency_key=True
        )
        return Version(answer)

    def _artifact_fields(self, artifact, declared: str | None) -> dict:
        if artifact is None:
            return {}
        text = str(artifact)
        if "://" in text and not text.startswith("file://"):
            if not declared:
                raise LocalInputError(
                    f"{text} is remote: give its artifact_sha256 (the client does not fetch it)."
                )
            return {"artifact_uri": text, "artifact_sha256": declared.lower()}
        uploaded = self.upload_artifact(text.removeprefix("file://"))
        return {"artifact": uploaded["sha256"]}

    def run(
        self,
        name: str = "",
        kind: str = "training",
        *,
        team: str | None = None,
        inputs: dict | None = None,
        params: dict | None = None,
        capture: bool = True,
    ):
        """A run as a context manager: ``with steward.run("nightly") as run: ...``. It records
        inputs, params and metrics, the versions registered in it, and is marked failed (with
        the error) if the block raises."""
        from steward_client.run import Run

        return Run(self, name, kind, team=team, inputs=inputs, params=params, capture=capture)

    # --- governance ---------------------------------------------------------------------------

    def transition(self, model: str, version: int, action: str, motivation: str) -> Record:
        path = f"models/{_q(model)}/versions/{int(version)}/transitions/"
        body = {"action": action, "motivation": motivation}
        return Record(self.http.json("POST", path, json=body))

    def submit(self, model: str, version: int, motivation: str) -> Record:
        """Submit a version for validation, with your motivation."""
        return self.transition(model, version, "submit", motivation)

    # --- monitoring ---------------------------------------------------------------------------

    def log_predictions(
        self, deployment: str, records: Iterable[dict], *, batch_size: int = 1000
    ) -> BatchResult:
        """Log predictions in batches (each safe to retry: it carries an Idempotency-Key).
        Returns the counts over all batches and each refused record with its index in
        ``records``."""
        total = {"accepted": 0, "duplicates": 0, "rejected": 0, "errors": [], "batches": 0}
        path = f"deployments/{_q(deployment)}/predictions/"
        for offset, batch in _batches(records, batch_size):
            answer = self._batch_post(path, batch)
            for key in ("accepted", "duplicates", "rejected"):
                total[key] += answer.get(key, 0)
            total["errors"].extend(_shift(answer.get("errors", []), offset))
            total["batches"] += 1
        return BatchResult(total)

    def log_feedback(
        self, deployment: str, records: Iterable[dict], *, batch_size: int = 1000
    ) -> BatchResult:
        """Ground truth that arrived later (``{request_id, ground_truth, observed_at}``)."""
        total = {"updated": 0, "unchanged": 0, "unknown_request_ids": [], "rejected": 0}
        total |= {"errors": [], "batches": 0}
        path = f"deployments/{_q(deployment)}/feedback/"
        for offset, batch in _batches(records, batch_size):
            answer = self._batch_post(path, batch, idempotent=False)
            for key in ("updated", "unchanged", "rejected"):
                total[key] += answer.get(key, 0)
            total["unknown_request_ids"].extend(answer.get("unknown_request_ids", []))
            total["errors"].extend(_shift(answer.get("errors", []), offset))
            total["batches"] += 1
        return BatchResult(total)

    def _batch_post(self, path: str, batch: list, *, idempotent: bool = True) -> dict:
        try:
            return self.http.json(
                "POST", path, json={"records": batch}, idempotency_key=True if idempotent else None
            )
        except InvalidInput as exc:
            # A batch of which no record was usable: still the batch's counts and errors.
            if isinstance(exc.body, dict) and "rejected" in exc.body:
                return exc.body
            raise


def _batches(records: Iterable[dict], size: int) -> Iterator[tuple[int, list[dict]]]:
    if size < 1:
        raise LocalInputError("batch_size must be at least 1.")
    iterator = iter(records)
    offset = 0
    while batch := list(islice(iterator, size)):
        yield offset, batch
        offset += len(batch)


def _shift(errors: list[dict], offset: int) -> list[dict]:
    return [
        {**e, "index": e["index"] + offset} if isinstance(e.get("index"), int) else e
        for e in errors
    ]


__all__ = ["BatchResult", "Data", "Steward"]
