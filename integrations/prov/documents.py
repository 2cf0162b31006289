"""A lineage closure as a W3C PROV document (the ``prov`` library), as its requester sees it.

Mapping (README "W3C PROV export"):

- dataset versions and model versions are ``prov:Entity`` (``stw:DatasetVersion``,
  ``stw:ModelVersion``), each ``prov:specializationOf`` its dataset or registered model, and
  ``prov:wasAttributedTo`` who registered it (``stw:role stw:registrant``);
- runs, governance decisions and deployments are ``prov:Activity`` (``stw:Run``,
  ``stw:Decision``, ``stw:Deployment``): a run ``prov:used`` its inputs (``prov:role`` the
  input's role) and its outputs ``prov:wasGeneratedBy`` it; a decision ``prov:used`` the version
  it decided on; a deployment ``prov:used`` the version it serves;
- people are ``prov:Person`` and service accounts ``prov:SoftwareAgent``, each
  ``prov:wasAssociatedWith`` the activities they took part in, with their ``prov:role``
  (registrant, submitter, validator, approver, deployer...); a run reported through
  OpenLineage is also associated with its producer (a ``prov:SoftwareAgent`` acting on behalf
  of the token's user) following its job (a ``prov:Plan``);
- a dataset version derived from another, or a model version trained on data without a run,
  ``prov:wasDerivedFrom`` it.

Nodes the requester may not see are never described: they appear only as anonymous
identifiers (``steward:hidden/1``) in ``prov:wasInfluencedBy`` relations carrying the lineage
relation (``stw:relation``), exactly as the JSON graph shows a hidden node.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from django.conf import settings
from prov.model import PROV, PROV_ROLE, PROV_TYPE, ProvDocument
from prov.serializers.provrdf import ProvRDFSerializer
from rdflib import Namespace

from accounts.choices import RoleName
from accounts.models import RoleAssignment, User
from accounts.services.system import MONITOR_USERNAME
from governance.choices import Action
from governance.models import Decision
from integrations.models import OpenLineageDatasetVersion, OpenLineageRun
from monitoring.models import Deployment
from registry.choices import LineageKind, LineageRelation
from registry.models import DatasetVersion, LineageNode, ModelVersion, Run
from registry.selectors import GraphEdge, LineageGraph

# Steward's PROV vocabulary (types, roles and attributes): fixed, so exports of different
# servers compare. Records themselves are named under the server's own base URL.
VOCABULARY = "urn:steward:prov#"

DATA_ROLES = {
    LineageRelation.INPUT,
    LineageRelation.TRAIN,
    LineageRelation.VALIDATION,
    LineageRelation.TEST,
    LineageRelation.REFERENCE,
}
DECISION_ROLES = {
    Action.SUBMIT: "submitter",
    Action.REVISE: "submitter",
    Action.CLAIM: "validator",
    Action.SIGN_OFF: "validator",
    Action.REQUEST_CHANGES: "validator",
    Action.REJECT: "validator",
    Action.APPROVE: "approver",
    Action.PROMOTE: "approver",
    Action.FLAG: "monitor",
    Action.CLEAR_FLAG: "monitor",
    Action.DEPRECATE: "manager",
    Action.ARCHIVE: "administrator",
    Action.RECLASSIFY: "administrator",
}


class _Builder:
    def __init__(self, graph: LineageGraph):
        self.graph = graph
        self.doc = ProvDocument()
        base = settings.STEWARD_BASE_URL.rstrip("/") + "/"
        self.ns = self.doc.add_namespace("steward", base)
        self.stw = self.doc.add_namespace("stw", VOCABULARY)
        self.ids: dict[int, object] = {}  # lineage node id -> PROV identifier
        self.kinds: dict[int, str] = {}
        self.agents: dict[int, object] = {}
        self.software_agents: set[int] = set()

    def build(self) -> ProvDocument:
        visible = {node.id for node in self.graph.nodes if not node.hidden}
        objects = self._load(visible)
        versions = [obj for kind, obj in objects.values() if kind == LineageKind.MODEL_VERSION]
        decisions = list(
            Decision.objects.filter(version__in=versions)
            .select_related("actor")
            .order_by("created_at", "pk")
        )
        people = {u.pk for _, obj in objects.values() for u in _people(obj)}
        self._software_agents_find(people | {d.actor_id for d in decisions})
        for node_id, (kind, obj) in objects.items():
            self.kinds[node_id] = kind
            getattr(self, f"_{kind}")(node_id, obj)
        hidden = 0
        for node in self.graph.nodes:
            if node.hidden:
                hidden += 1
                self.ids[node.id] = self.ns[f"hidden/{hidden}"]
        for edge in self.graph.edges:
            if edge.source in self.ids and edge.target in self.ids:
                self._edge(edge)
        self._decisions(versions, decisions)
        return self.doc

    # --- loading --------------------------------------------------------------------------

    def _load(self, node_ids: set[int]) -> dict[int, tuple[str, object]]:
        """The registry object of every visible node, a few queries per kind."""
        by_kind: dict[str, dict[int, int]] = defaultdict(dict)
        for pk, kind, object_id in LineageNode.objects.filter(pk__in=node_ids).values_list(
            "pk", "kind", "object_id"
        ):
            by_kind[kind][object_id] = pk
        querysets = {
            LineageKind.DATASET_VERSION: DatasetVersion.objects.select_related(
                "dataset", "created_by"
            ),
            LineageKind.RUN: Run.objects.select_related("created_by"),
            LineageKind.MODEL_VERSION: ModelVersion.objects.select_related(
                "registered_model", "registered_by"
            ),
            LineageKind.DEPLOYMENT: Deployment.objects.select_related("deployed_by", "retired_by"),
        }
        objects: dict[int, tuple[str, object]] = {}
        for kind, nodes in by_kind.items():
            queryset = querysets.get(kind)
            if queryset is None:
                continue
            for obj in queryset.filter(pk__in=nodes):
                objects[nodes[obj.pk]] = (kind, obj)
        dv_ids = [obj.pk for kind, obj in objects.values() if kind == LineageKind.DATASET_VERSION]
        self.ol_versions = {
            v.dataset_version_id: v
            for v in OpenLineageDatasetVersion.objects.filter(
                dataset_version_id__in=dv_ids
            ).select_related("ol_dataset")
        }
        run_ids = [obj.pk for kind, obj in objects.values() if kind == LineageKind.RUN]
        self.ol_runs = {
            r.run_id: r
            for r in OpenLineageRun.objects.filter(run_id__in=run_ids).select_related("job")
        }
        return dict(sorted(objects.items()))

    def _software_agents_find(self, users: set[int]) -> None:
        """Service accounts: the serving gateway's accounts and Steward's own."""
        gateways = RoleAssignment.objects.filter(user_id__in=users, role__name=RoleName.GATEWAY)
        own = User.objects.filter(pk__in=users, username=MONITOR_USERNAME)
        self.software_agents = set(gateways.values_list("user_id", flat=True)) | set(
            own.values_list("pk", flat=True)
        )

    # --- records --------------------------------------------------------------------------

    def _agent(self, user: User):
        if user.pk not in self.agents:
            kind = PROV["SoftwareAgent"] if user.pk in self.software_agents else PROV["Person"]
            self.agents[user.pk] = self.doc.agent(
                self.ns[f"users/{user.username}"], {PROV_TYPE: kind, "prov:label": str(user)}
            ).identifier
        return self.agents[user.pk]

    def _role(self, name: str):
        return {PROV_ROLE: self.stw[name]}

    def _dataset_version(self, node_id: int, dv: DatasetVersion) -> None:
        name = dv.dataset.name
        attributes = {
            PROV_TYPE: self.stw["DatasetVersion"],
            "prov:label": f"{name} v{dv.version}",
            self.stw["uri"]: dv.uri,
            self.stw["contentHash"]: dv.content_hash,
            self.stw["registeredAt"]: dv.created_at,
        }
        version = self.ol_versions.get(dv.pk)
        if version is not None:
            attributes[self.stw["openlineageNamespace"]] = version.ol_dataset.namespace
            attributes[self.stw["openlineageName"]] = version.ol_dataset.name
            attributes[self.stw["openlineageVersion"]] = version.version_key
        entity = self.doc.entity(self.ns[f"datasets/{name}/versions/{dv.version}"], attributes)
        dataset = self.doc.entity(
            self.ns[f"datasets/{name}"], {PROV_TYPE: self.stw["Dataset"], "prov:label": name}
        )
        self.doc.specializationOf(entity, dataset)
        self.doc.wasAttributedTo(
            entity,
            self._agent(dv.created_by),
            other_attributes={self.stw["role"]: self.stw["registrant"]},
        )
        self.ids[node_id] = entity.identifier

    def _model_version(self, node_id: int, mv: ModelVersion) -> None:
        name = mv.registered_model.name
        entity = self.doc.entity(
            self.ns[f"models/{name}/versions/{mv.version}"],
            {
                PROV_TYPE: self.stw["ModelVersion"],
                "prov:label": f"{name} v{mv.version}",
                self.stw["status"]: mv.status,
                self.stw["artifactUri"]: mv.artifact_uri,
                self.stw["artifactSha256"]: mv.artifact_sha256,
                self.stw["registeredAt"]: mv.created_at,
            },
        )
        model = self.doc.entity(
            self.ns[f"models/{name}"], {PROV_TYPE: self.stw["RegisteredModel"], "prov:label": name}
        )
        self.doc.specializationOf(entity, model)
        self.doc.wasAttributedTo(
            entity,
            self._agent(mv.registered_by),
            other_attributes={self.stw["role"]: self.stw["registrant"]},
        )
        self.ids[node_id] = entity.identifier

    def _run(self, node_id: int, run: Run) -> None:
        activity = self.doc.activity(
            self.ns[f"runs/{run.uuid}"],
            run.started_at,
            run.ended_at,
            {
                PROV_TYPE: self.stw["Run"],
                "prov:label": str(run),
                self.stw["kind"]: run.kind,
                self.stw["status"]: run.status,
            },
        )
        registrant = self._agent(run.created_by)
        self.doc.wasAssociatedWith(activity, registrant, other_attributes=self._role("registrant"))
        ol_run = self.ol_runs.get(run.pk)
        if ol_run is not None:
            self._openlineage(activity, ol_run, registrant)
        self.ids[node_id] = activity.identifier

    def _openlineage(self, activity, ol_run: OpenLineageRun, registrant) -> None:
        """The job as the plan the run followed; the producer as the software that ran it on
        behalf of the token's user."""
        job = ol_run.job
        plan = self.doc.entity(
            self.ns[f"openlineage/jobs/{job.pk}"],
            {
                PROV_TYPE: PROV["Plan"],
                "prov:label": f"{job.namespace}/{job.name}",
                self.stw["openlineageNamespace"]: job.namespace,
                self.stw["openlineageName"]: job.name,
            },
        )
        if not ol_run.producer:
            return
        digest = hashlib.sha256(ol_run.producer.encode()).hexdigest()[:16]
        producer = self.doc.agent(
            self.ns[f"openlineage/producers/{digest}"],
            {
                PROV_TYPE: PROV["SoftwareAgent"],
                "prov:label": ol_run.producer,
                self.stw["integration"]: ol_run.integration,
            },
        )
        self.doc.wasAssociatedWith(
            activity, producer, plan, other_attributes=self._role("producer")
        )
        self.doc.actedOnBehalfOf(producer, registrant, activity)

    def _deployment(self, node_id: int, deployment: Deployment) -> None:
        activity = self.doc.activity(
            self.ns[f"deployments/{deployment.name}"],
            deployment.deployed_at,
            deployment.retired_at,
            {
                PROV_TYPE: self.stw["Deployment"],
                "prov:label": deployment.name,
                self.stw["environment"]: deployment.environment,
                self.stw["mode"]: deployment.mode,
                self.stw["status"]: deployment.status,
            },
        )
        self.doc.wasAssociatedWith(
            activity, self._agent(deployment.deployed_by), other_attributes=self._role("deployer")
        )
        if deployment.retired_by is not None:
            self.doc.wasAssociatedWith(
                activity, self._agent(deployment.retired_by), other_attributes=self._role("retirer")
            )
        self.ids[node_id] = activity.identifier

    def _decisions(self, versions: list[ModelVersion], decisions: list[Decision]) -> None:
        """Every decision on the visible model versions, with who took it in which role."""
        by_version = {mv.pk: mv for mv in versions}
        for decision in decisions:
            mv = by_version[decision.version_id]
            name = mv.registered_model.name
            activity = self.doc.activity(
                self.ns[f"models/{name}/versions/{mv.version}/decisions/{decision.pk}"],
                decision.created_at,
                decision.created_at,
                {
                    PROV_TYPE: self.stw["Decision"],
                    "prov:label": decision.get_action_display(),
                    self.stw["action"]: decision.action,
                    self.stw["fromState"]: decision.from_state,
                    self.stw["toState"]: decision.to_state,
                    self.stw["motivation"]: decision.motivation,
                },
            )
            self.doc.used(activity, self.ns[f"models/{name}/versions/{mv.version}"])
            role = DECISION_ROLES.get(decision.action, decision.action)
            self.doc.wasAssociatedWith(
                activity, self._agent(decision.actor), other_attributes=self._role(role)
            )

    # --- relations ------------------------------------------------------------------------

    def _edge(self, edge: GraphEdge) -> None:
        source, target = self.ids[edge.source], self.ids[edge.target]
        source_kind, target_kind = self.kinds.get(edge.source), self.kinds.get(edge.target)
        relation = edge.relation
        entities = {LineageKind.DATASET_VERSION, LineageKind.MODEL_VERSION}
        if source_kind is None or target_kind is None:
            # A hidden end: say that something is there, and how it is related, nothing more.
            self.doc.wasInfluencedBy(
                target, source, other_attributes={self.stw["relation"]: relation}
            )
        elif relation in DATA_ROLES and target_kind == LineageKind.RUN:
            self.doc.used(target, source, other_attributes=self._role(relation))
        elif relation == LineageRelation.PRODUCED:
            self.doc.wasGeneratedBy(target, source)
        elif relation == LineageRelation.DEPLOYED_AS:
            self.doc.used(target, source, other_attributes=self._role("deployed"))
        elif source_kind in entities and target_kind in entities:
            self.doc.wasDerivedFrom(
                target, source, other_attributes={self.stw["relation"]: relation}
            )
        else:
            self.doc.wasInfluencedBy(
                target, source, other_attributes={self.stw["relation"]: relation}
            )


def _people(obj) -> list[User]:
    names = ("created_by", "registered_by", "deployed_by", "retired_by")
    return [getattr(obj, n) for n in names if getattr(obj, n, None) is not None]


def prov_document_of(user: User, graph: LineageGraph) -> ProvDocument:
    """The closure ``graph`` (computed for ``user``, hidden nodes already anonymous) as PROV.
    Decisions and OpenLineage details are added only for nodes ``user`` may see."""
    return _Builder(graph).build()


def prov_json(user: User, graph: LineageGraph) -> bytes:
    return prov_document_of(user, graph).serialize(format="json").encode()


PROV_O = Namespace("http://www.w3.org/ns/prov#")
# PROV-O's qualification pattern: a qualified relation (which carries the role) implies its
# unqualified property. The prov library writes only the qualified form when a relation has
# attributes; the shortcuts are added so that simple queries (?run prov:used ?data) work.
SHORTCUTS = (
    (PROV_O.qualifiedUsage, PROV_O.entity, PROV_O.used),
    (PROV_O.qualifiedAssociation, PROV_O.agent, PROV_O.wasAssociatedWith),
    (PROV_O.qualifiedGeneration, PROV_O.activity, PROV_O.wasGeneratedBy),
    (PROV_O.qualifiedDerivation, PROV_O.entity, PROV_O.wasDerivedFrom),
    (PROV_O.qualifiedAttribution, PROV_O.agent, PROV_O.wasAttributedTo),
    (PROV_O.qualifiedInfluence, PROV_O.influencer, PROV_O.wasInfluencedBy),
    (PROV_O.qualifiedDelegation, PROV_O.agent, PROV_O.actedOnBehalfOf),
)


def prov_turtle(user: User, graph: LineageGraph) -> bytes:
    document = prov_document_of(user, graph)
    rdf = ProvRDFSerializer(document).encode_document(document)
    for qualified, target, shortcut in SHORTCUTS:
        for subject, node in list(rdf.subject_objects(qualified)):
            for obj in list(rdf.objects(node, target)):
                rdf.add((subject, shortcut, obj))
    return rdf.serialize(format="turtle").encode()
