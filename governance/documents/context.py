"""The record a version's documents are rendered from, built once by one function.

:func:`version_context` gathers everything Steward knows about a version as plain JSON values
(strings, numbers, lists, dicts): the model, provenance, datasets with schemas and profiles,
params, metrics, a lineage summary, the policy's guard results, decisions with motivations,
annotations and the free-text sections. The snapshot is stored on the generated document, and
its sha256 (:func:`inputs_hash`) is what idempotency and staleness compare.

Everything is seen as a plain member of the team that owns the version sees it, whoever asked
for the document (a contributor, an administrator, a global validator whose decision triggered
it): run, datasets and lineage nodes of other teams are counted, never named, as everywhere
else in Steward. A document therefore does not depend on who requested it. While the context is
built, every record it names is noted (:class:`DocumentView`); the document keeps that list
(``GeneratedDocument.references``) and is served only to users who may see all of it.

Later apps (monitoring) add their part through :func:`document_context_provider_register`."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from governance import workflow as w
from governance.decision_roles import decision_role
from governance.guards import guard_context, guards_evaluate
from governance.models import FreeTextSection
from registry.choices import Direction, VersionStatus
from registry.models import DatasetVersion, ModelVersion, RegisteredModel, Run
from registry.permissions import Visibility
from registry.selectors import lineage_closure, lineage_node_of

# The lineage listed in a document; larger graphs are summarised by counts.
LINEAGE_LISTED_NODES = 200
LINEAGE_DEPTH = 10


class DocumentView(Visibility):
    """The owning team's view of the registry, noting every record it lets a document name as
    ``(owner team id, registered model id or None)``: a model's records (its versions, lineage
    nodes of a model) may be read with a grant on that model, the rest needs the team."""

    references: set[tuple[int, int | None]]

    @classmethod
    def of_version(cls, version: ModelVersion) -> DocumentView:
        """The view of the team that owns ``version`` now (read from the database: a team
        change earlier in the same transaction counts)."""
        team_id = (
            RegisteredModel.objects.filter(pk=version.registered_model_id)
            .values_list("owner_team_id", flat=True)
            .get()
        )
        visible = cls.of_team(team_id)
        visible.references = {(team_id, version.registered_model_id)}
        return visible

    def registered_model(self, model_id: int | None, team_id: int | None) -> bool:
        seen = super().registered_model(model_id, team_id)
        if seen and team_id is not None:
            self.references.add((team_id, model_id))
        return seen

    def dataset_version(self, dataset_version: DatasetVersion) -> bool:
        return self._noted(dataset_version.dataset.owner_team_id)

    def run(self, run: Run) -> bool:
        return self._noted(run.team_id)

    def _noted(self, team_id: int | None) -> bool:
        seen = self.team(team_id)
        if seen and team_id is not None:
            self.references.add((team_id, None))
        return seen

    def sorted_references(self) -> list[list[int | None]]:
        return [list(r) for r in sorted(self.references, key=lambda r: (r[0], r[1] or 0))]


ContextProvider = Callable[[ModelVersion, DocumentView], dict[str, Any]]
_providers: dict[str, ContextProvider] = {}


def document_context_provider_register(name: str, provider: ContextProvider) -> None:
    """Add ``context[name] = provider(version, visible)`` to every document's context (e.g.
    monitoring's deployments and checks). ``visible`` is the owning team's view: a provider
    that names a record of the registry asks it first (and so notes the reference), and shows
    what it refuses as hidden. The provider must return plain JSON values."""
    _providers[name] = provider


def _plain(value: Any) -> Any:
    """``value`` as the JSON it will be stored as (dates become ISO strings)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def inputs_hash(context: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of a context."""
    canonical = json.dumps(context, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(canonical.encode()).hexdigest()


def version_context(
    version: ModelVersion, *, template_name: str = "", visible: DocumentView | None = None
) -> dict[str, Any]:
    """Everything a document about ``version`` may show, as a member of its owning team sees
    it, with the free-text sections written for ``template_name``. Pass ``visible`` (from
    :meth:`DocumentView.of_version`) to learn which records the context names."""
    version = (
        ModelVersion.objects.select_related(
            "registered_model__owner_team", "registered_by", "run", "artifact"
        )
        .prefetch_related("registered_model__tags")
        .get(pk=version.pk)
    )
    if visible is None:
        visible = DocumentView.of_version(version)
    context = {
        "model": _model(version),
        "version": _version(version),
        "provenance": _provenance(version),
        "run": _run(version, visible),
        "datasets": _datasets(version, visible),
        "lineage": _lineage(version, visible),
        "policy": _policy(version),
        "decisions": _decisions(version),
        "annotations": _annotations(version),
        "free_text": _free_text(version, template_name),
    }
    for name, provider in _providers.items():
        context[name] = provider(version, visible)
    return _plain(context)


def version_context_with_free_text(
    base: dict[str, Any], version: ModelVersion, template_name: str
) -> dict[str, Any]:
    """``version_context(version, template_name=...)`` from a context built without a template
    (``base``): only the free-text sections differ between templates, so a page that judges
    several documents builds the rest once."""
    return {**base, "free_text": _plain(_free_text(version, template_name))}


# A URI a document may print: anything but a path on someone's machine. A document is read
# by people who have no access to (and no business knowing) the file system it came from.
# A URI with a scheme of two letters or more (s3:, https:, steward:, runs:, sha256:) is kept;
# file: URIs, absolute, home-relative, relative and Windows paths are local.
_REMOTE_URI = re.compile(r"^(?!file:)[a-z][a-z0-9+.-]+:", re.IGNORECASE)


def uri_display(uri: str) -> str:
    """``uri`` as a document shows it: a local path becomes "local file <name>" (the content
    hash identifies it); remote URIs (``s3://``, ``https://``, ``steward://``) are kept."""
    if not uri or _REMOTE_URI.match(uri):
        return uri
    name = PurePosixPath(uri.replace("\\", "/").split("?")[0]).name
    return f"local file {name}" if name else "local file"


def kind_plural(kind: str) -> str:
    """A lineage node kind as words: ``dataset_version`` -> ``dataset versions``."""
    return kind.replace("_", " ") + "s"


def _model(version: ModelVersion) -> dict[str, Any]:
    model = version.registered_model
    return {
        "name": model.name,
        "description": model.description,
        "risk_tier": model.risk_tier,
        "risk_tier_label": model.get_risk_tier_display(),
        "owner_team": model.owner_team.name,
        "tags": sorted(tag.name for tag in model.tags.all()),
    }


def _version(version: ModelVersion) -> dict[str, Any]:
    return {
        "number": version.version,
        "key": version.natural_key,
        "status": version.status,
        "status_label": VersionStatus(version.status).label,
        "description": version.description,
        "framework": version.framework,
        "artifact_uri": uri_display(version.artifact_uri)
        or (f"sha256:{version.artifact.sha256}" if version.artifact else ""),
        "artifact_sha256": version.artifact_sha256
        or (version.artifact.sha256 if version.artifact else ""),
        "artifact_size": version.artifact_size,
        "input_schema": version.input_schema,
        "output_schema": version.output_schema,
        "params": version.params,
        "metrics": version.metrics,
        "metric_list": [{"name": k, "value": v} for k, v in sorted(version.metrics.items())],
        "param_list": [{"name": k, "value": v} for k, v in sorted(version.params.items())],
        "registered_by": version.registered_by.get_username(),
        "registered_at": version.created_at,
    }


def _provenance(version: ModelVersion) -> dict[str, Any]:
    return {
        "code_repository": version.code_repository,
        "code_commit": version.code_commit,
        "code_path": version.code_path,
        "python_version": version.python_version,
        "packages": version.packages,
        "image_digest": version.image_digest,
    }


def _run(version: ModelVersion, visible: Visibility) -> dict[str, Any] | None:
    run = version.run
    if run is None:
        return None
    if not visible.run(run):
        return {"hidden": True}
    return {
        "hidden": False,
        "uuid": str(run.uuid),
        "name": run.name,
        "kind": run.kind,
        "params": run.params,
        "metrics": run.metrics,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "notes": run.notes,
    }


def _datasets(version: ModelVersion, visible: Visibility) -> list[dict[str, Any]]:
    links = version.dataset_links.select_related("dataset_version__dataset").order_by(
        "role", "dataset_version__dataset__name", "dataset_version__version"
    )
    rows = []
    for link in links:
        dv = link.dataset_version
        if not visible.dataset_version(dv):
            rows.append({"hidden": True, "role": link.role})
            continue
        rows.append(
            {
                "hidden": False,
                "role": link.role,
                "name": dv.dataset.name,
                "version": dv.version,
                "key": f"{dv.dataset.name}/{dv.version}",
                "label": f"dataset {dv.dataset.name} v{dv.version}",
                "uri": uri_display(dv.uri),
                "content_hash": dv.content_hash,
                "row_count": dv.row_count,
                "schema": dv.schema,
                "profile": dv.profile,
                "description": dv.description,
            }
        )
    return rows


def _lineage(version: ModelVersion, visible: DocumentView) -> dict[str, Any]:
    graph = lineage_closure(
        user=None,
        visible=visible,
        root=lineage_node_of(version),
        direction=Direction.UPSTREAM,
        depth=LINEAGE_DEPTH,
    )
    others = [n for n in graph.nodes if n.id != graph.root]
    shown = [n for n in others if not n.hidden]
    return {
        "direction": Direction.UPSTREAM.value,
        "depth": LINEAGE_DEPTH,
        "node_count": len(others),
        "edge_count": len(graph.edges),
        "hidden_count": graph.hidden_count,
        "truncated": graph.truncated,
        "by_kind": {
            kind_plural(kind): count
            for kind, count in sorted(Counter(n.kind for n in shown).items())
        },
        "nodes": [
            {"kind": n.kind, "key": n.key, "label": n.label, "depth": n.depth}
            for n in shown[:LINEAGE_LISTED_NODES]
        ],
        "listed_all": len(shown) <= LINEAGE_LISTED_NODES,
    }


def _policy(version: ModelVersion) -> dict[str, Any]:
    """The policy and its guards as anyone sees them. The required-documents guard is left
    out: it depends on the documents themselves, and a document cannot be current about
    whether it is current."""
    ctx = guard_context(version, actor=None)
    names = [w.ENOUGH_SIGN_OFFS, w.METRIC_CHECKS, w.NO_OPEN_FINDINGS]
    if version.status in (
        VersionStatus.VALIDATED,
        VersionStatus.APPROVED,
        VersionStatus.PRODUCTION,
    ):
        names.append(w.VALIDATION_CURRENT)
    policy = ctx.policy
    return {
        "risk_tier": policy.risk_tier,
        "description": policy.description,
        "required_sign_offs": policy.required_sign_offs,
        "metric_checks": policy.metric_checks,
        "required_documents": policy.required_documents,
        "approval_documents": policy.approval_documents,
        "revalidation_days": policy.revalidation_days,
        "guards": [
            {"name": g.name, "label": g.label, "passed": g.passed, "reason": g.reason}
            for g in guards_evaluate(names, ctx)
        ],
    }


def _decisions(version: ModelVersion) -> list[dict[str, Any]]:
    return [
        {
            "action": d.action,
            "action_label": d.get_action_display(),
            "from_state": d.from_state,
            "to_state": d.to_state,
            "actor": d.actor.get_username(),
            "actor_name": str(d.actor),
            "role": decision_role(d, d.actor.get_username()),
            "motivation": d.motivation,
            "round": d.round,
            "at": d.created_at,
        }
        for d in version.decisions.select_related("actor").order_by("created_at", "id")
    ]


def _annotations(version: ModelVersion) -> list[dict[str, Any]]:
    from governance.selectors import annotations_on

    return [
        {
            "kind": a.kind,
            "author": a.author.get_username(),
            "body": a.body,
            "at": a.created_at,
            "resolved": a.resolved_at is not None,
        }
        for a in annotations_on(version).select_related("author")
    ]


def _free_text(version: ModelVersion, template_name: str) -> dict[str, dict[str, Any]]:
    """Each written section with who wrote it and when (shown above it in the document)."""
    if not template_name:
        return {}
    rows = FreeTextSection.objects.filter(
        version=version, template_name=template_name
    ).select_related("written_by")
    return {
        row.section_key: {
            "text": row.text,
            "written_by": row.written_by.get_username(),
            "written_at": row.updated_at,
        }
        for row in rows
    }
