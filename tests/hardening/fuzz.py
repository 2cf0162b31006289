"""Schemathesis over Steward's own OpenAPI schema: the shared harness of
``tests/hardening/test_api_fuzz.py`` (a few examples per operation, in the suite) and
``bench/fuzz.py`` (many, on demand).

- ``world_seed`` builds a small real world through the services (a model with versions, a
  dataset version, a run, an artifact, a live deployment with predictions, a KPI, alert rules,
  an alert, an annotation, a document...) and an administrator who holds every role and an API
  token with every scope. Its ``path_parameters`` name a real object for every path parameter
  of every operation, so generated requests reach real rows instead of 404s; destructive
  operations (DELETE, retire) get victims of their own so the rest of the run still finds its
  objects.
- ``fuzz_run`` drives every operation of the schema through the Django WSGI application in
  process: as the administrator (positive and negative data, then random path parameters) and
  without credentials. It returns one tally per operation: examples sent, statuses seen and
  the failures, each with the request that reproduces it.
- The checks: no 5xx; the status is documented, the content type and the body match the
  schema; invalid data is rejected with a 4xx; without credentials every operation answers
  401 or 403 and nothing else.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import hypothesis
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.urls import Resolver404, resolve
from django.utils import timezone
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.choices import RoleName, TokenScope
from accounts.services import role_assign, team_add_member, token_create
from accounts.services.teams import user_create
from governance.services.aliases import model_alias_set
from governance.services.annotations import annotation_create
from governance.services.documents import document_request
from monitoring.choices import CheckKind, CheckStatus, Environment
from monitoring.services.alerts import (
    alert_channel_create,
    alert_rule_create,
    alerts_evaluate_check,
)
from monitoring.services.baselines import baseline_create
from monitoring.services.ingestion import predictions_ingest
from monitoring.services.kpis import kpi_create
from monitoring.tests.factories import (
    CheckResultFactory,
    DeploymentFactory,
    ProductionVersionFactory,
)
from registry.services.access import model_role_assign
from registry.services.artifacts import artifact_store
from tests.factories import (
    DatasetFactory,
    DatasetVersionFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    RunFactory,
    TeamFactory,
)

API_PREFIX = "/api/v1/"
JSON = "application/json"
POSITIVE = schemathesis.GenerationMode.POSITIVE
NEGATIVE = schemathesis.GenerationMode.NEGATIVE

INPUT_SCHEMA = {
    "type": "tabular",
    "columns": [
        {"name": "income", "type": "float64"},
        {"name": "age", "type": "float64"},
        {"name": "segment", "type": "string"},
    ],
}
OUTPUT_SCHEMA = {"columns": [{"name": "label", "type": "int64", "labels": ["no", "yes"]}]}
ARTIFACT_BYTES = b"a model's weights, for the fuzz tests"


# --- the world ----------------------------------------------------------------------------------


@dataclass
class World:
    """What the fuzzer may reach: the administrator's token, and a real object for every path
    parameter, by path template (``defaults``) or by method and template (``overrides``)."""

    admin_token: str
    defaults: dict[str, dict[str, object]]
    overrides: dict[tuple[str, str], dict[str, object]] = field(default_factory=dict)

    def path_parameters(self, method: str, path: str) -> dict[str, object]:
        return self.overrides.get((method.upper(), path)) or self.defaults.get(path, {})

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


def _administrator(team):
    """Ada holds every governance role globally (the gateway's included) and is a contributor
    of the team: she can do nearly everything (separation of duties still applies)."""
    admin = user_create(actor=None, username="ada", email="ada@example.org", is_staff=True)
    team_add_member(team=team, user=admin)
    for role in (
        RoleName.ADMINISTRATOR,
        RoleName.MANAGER,
        RoleName.VALIDATOR,
        RoleName.AUDITOR,
        RoleName.GATEWAY,
    ):
        role_assign(user=admin, role=role)
    role_assign(user=admin, role=RoleName.CONTRIBUTOR, team=team)
    return admin


def _artifact(admin):
    with tempfile.NamedTemporaryFile(delete=False) as handle:
        handle.write(ARTIFACT_BYTES)
    sha = hashlib.sha256(ARTIFACT_BYTES).hexdigest()
    artifact, _ = artifact_store(
        actor=admin,
        temp_path=Path(handle.name),
        sha256=sha,
        size_bytes=len(ARTIFACT_BYTES),
        original_name="model.pkl",
        content_type="application/octet-stream",
    )
    return artifact


def _predictions(admin, deployment, count=20):
    start = timezone.now() - timedelta(hours=2)
    records = [
        {
            "request_id": f"req-{i}",
            "predicted_at": (start + timedelta(seconds=i)).isoformat(),
            "inputs": {"income": 40_000.0 + i, "age": 30.0 + i % 7, "segment": "retail"},
            "outputs": {"label": i % 2},
            "latency_ms": 12.5,
        }
        for i in range(count)
    ]
    predictions_ingest(actor=admin, deployment=deployment, records=records)
    return records


def world_seed() -> World:
    """Build the world through the services and return what the fuzzer needs to reach it."""
    team = TeamFactory(name="Credit Risk", slug="credit-risk")
    admin = _administrator(team)
    tom = user_create(actor=None, username="tom", email="tom@example.org")
    team_add_member(team=team, user=tom)
    tom_role = role_assign(user=tom, role=RoleName.CONTRIBUTOR, team=team)
    _, secret = token_create(actor=admin, name="fuzz", scopes=list(TokenScope.values))
    spare, _ = token_create(actor=admin, name="spare", scopes=[TokenScope.READ])

    dataset = DatasetFactory(name="loans", owner_team=team, actor=admin)
    dataset_version = DatasetVersionFactory(dataset=dataset, actor=admin)
    run = RunFactory(team=team, actor=admin, inputs=[(dataset_version, "train")])
    model = RegisteredModelFactory(name="credit-model", owner_team=team, actor=admin)
    live = ProductionVersionFactory(
        registered_model=model,
        actor=admin,
        run=run,
        input_schema=INPUT_SCHEMA,
        output_schema=OUTPUT_SCHEMA,
        datasets=[(dataset_version, "train")],
    )
    draft = ModelVersionFactory(registered_model=model, actor=admin, metrics={"auc": 0.9})
    model_role = model_role_assign(
        actor=admin, user=tom, role=RoleName.VALIDATOR, registered_model=model
    )
    artifact = _artifact(admin)

    deployment = DeploymentFactory(name="credit-prod", model_version=live, actor=admin)
    doomed = DeploymentFactory(
        name="credit-staging",
        model_version=ProductionVersionFactory(registered_model=model, actor=admin),
        environment=Environment.STAGING,
        actor=admin,
    )
    records = _predictions(admin, deployment)
    # The baseline of a reviewed version is set by someone independent of it: Tom validates
    # this model; Ada registered it.
    baseline_create(
        actor=tom, version=live, rows=[{**r["inputs"], **r["outputs"]} for r in records]
    )
    kpi = kpi_create(
        actor=admin,
        name="approval-rate",
        direction="higher_is_better",
        deployment=deployment,
        warning_threshold=0.5,
        critical_threshold=0.3,
    )
    channel = alert_channel_create(
        actor=admin, owner_team=team, name="oncall", kind="email", target="oncall@example.org"
    )
    spare_channel = alert_channel_create(
        actor=admin, owner_team=team, name="spare", kind="email", target="spare@example.org"
    )
    rule = alert_rule_create(
        actor=admin,
        name="drift",
        check_kind=CheckKind.DRIFT,
        deployment=deployment,
        channels=[channel],
    )
    spare_rule = alert_rule_create(
        actor=admin, name="bias", check_kind=CheckKind.BIAS, deployment=deployment
    )
    result = CheckResultFactory(deployment=deployment, status=CheckStatus.CRITICAL)
    alert = alerts_evaluate_check(result)[0]
    annotation = annotation_create(actor=admin, target=draft, body="Why is the AUC so high?")
    document = document_request(actor=admin, version=live, template_name="model-card")
    model_alias_set(
        actor=admin, model=model, alias="champion", version=live, motivation="The live version."
    )

    version = {"model_name": model.name, "version": live.version}
    defaults = {
        "/api/v1/alert-channels/{id}/": {"id": channel.pk},
        "/api/v1/alert-rules/{id}/": {"id": rule.pk},
        "/api/v1/alerts/{id}/": {"id": alert.pk},
        "/api/v1/alerts/{id}/acknowledge/": {"id": alert.pk},
        "/api/v1/alerts/{id}/resolve/": {"id": alert.pk},
        "/api/v1/annotations/{id}/resolve/": {"id": annotation.pk},
        "/api/v1/artifacts/{sha256}/": {"sha256": artifact.sha256},
        "/api/v1/artifacts/{sha256}/download/": {"sha256": artifact.sha256},
        "/api/v1/datasets/{dataset_name}/versions/": {"dataset_name": dataset.name},
        "/api/v1/datasets/{dataset_name}/versions/{version}/": {
            "dataset_name": dataset.name,
            "version": dataset_version.version,
        },
        "/api/v1/datasets/{dataset_name}/versions/{version}/lineage/": {
            "dataset_name": dataset.name,
            "version": dataset_version.version,
        },
        "/api/v1/datasets/{name}/": {"name": dataset.name},
        "/api/v1/deployments/{name}/": {"name": deployment.name},
        "/api/v1/deployments/{name}/legal-hold/": {"name": deployment.name},
        "/api/v1/deployments/{name}/retention/": {"name": deployment.name},
        "/api/v1/kpis/{id}/": {"id": kpi.pk},
        "/api/v1/kpis/{id}/values/": {"id": kpi.pk},
        "/api/v1/models/{model_name}/aliases/": {"model_name": model.name},
        "/api/v1/models/{model_name}/aliases/{alias}/": {
            "model_name": model.name,
            "alias": "champion",
        },
        "/api/v1/models/{model_name}/role-assignments/": {"model_name": model.name},
        "/api/v1/models/{model_name}/role-assignments/{id}/": {
            "model_name": model.name,
            "id": model_role.pk,
        },
        "/api/v1/models/{model_name}/versions/": {"model_name": model.name},
        "/api/v1/models/{model_name}/versions/{version}/documents/{id}/": {
            **version,
            "id": document.pk,
        },
        "/api/v1/models/{model_name}/versions/{version}/documents/{id}/download/": {
            **version,
            "id": document.pk,
        },
        "/api/v1/models/{model_name}/versions/{version}/free-text/{template}/{section}/": {
            **version,
            "template": "model-card",
            "section": "intended_use",
        },
        "/api/v1/models/{name}/": {"name": model.name},
        "/api/v1/predictions/{request_id}/": {"request_id": records[0]["request_id"]},
        "/api/v1/role-assignments/{id}/": {"id": tom_role.pk},
        "/api/v1/roles/{name}/": {"name": RoleName.VALIDATOR},
        "/api/v1/runs/{uuid}/": {"uuid": str(run.uuid)},
        "/api/v1/runs/{uuid}/lineage/": {"uuid": str(run.uuid)},
        "/api/v1/teams/{slug}/": {"slug": team.slug},
        "/api/v1/teams/{slug}/members/": {"slug": team.slug},
        "/api/v1/teams/{slug}/members/{username}/": {"slug": team.slug, "username": tom.username},
        "/api/v1/tokens/{prefix}/": {"prefix": spare.prefix},
    }
    for suffix in ("checks", "feedback", "health", "predictions"):
        defaults[f"/api/v1/deployments/{{name}}/{suffix}/"] = {"name": deployment.name}
    for suffix in ("", "baselines/", "documents/", "free-text/", "governance/", "lineage/"):
        defaults[f"/api/v1/models/{{model_name}}/versions/{{version}}/{suffix}"] = version
    overrides = {
        # Drafts move through the workflow and take edits; the live version stays live.
        ("PATCH", "/api/v1/models/{model_name}/versions/{version}/"): {
            "model_name": model.name,
            "version": draft.version,
        },
        ("POST", "/api/v1/models/{model_name}/versions/{version}/transitions/"): {
            "model_name": model.name,
            "version": draft.version,
        },
        ("POST", "/api/v1/deployments/{name}/retire/"): {"name": doomed.name},
        # Champion stays on the live version for the reads; writes move another alias.
        ("PUT", "/api/v1/models/{model_name}/aliases/{alias}/"): {
            "model_name": model.name,
            "alias": "challenger",
        },
        ("DELETE", "/api/v1/alert-channels/{id}/"): {"id": spare_channel.pk},
        ("DELETE", "/api/v1/alert-rules/{id}/"): {"id": spare_rule.pk},
    }
    return World(admin_token=secret, defaults=defaults, overrides=overrides)


# --- the schema and the run ---------------------------------------------------------------------


def api_schema(*, json_bodies_only: bool = False):
    """Steward's OpenAPI schema as drf-spectacular generates it (what /api/schema/ serves),
    loaded by Schemathesis and bound to the WSGI application. ``json_bodies_only`` keeps only
    the JSON form of request bodies that have one: invalid data is sent as JSON, because in a
    form body every value is a string and "wrong type" cannot be expressed (DRF rightly
    coerces it)."""
    from drf_spectacular.generators import SchemaGenerator

    from config.wsgi import application

    raw = SchemaGenerator().get_schema(request=None, public=True)
    if json_bodies_only:
        for path_item in raw["paths"].values():
            for operation in path_item.values():
                content = operation.get("requestBody", {}).get("content", {})
                if JSON in content:
                    operation["requestBody"]["content"] = {JSON: content[JSON]}
    # The harness brings its own credentials (or none): Schemathesis must not generate (or
    # corrupt, in negative mode) the Authorization header and session cookie the security
    # schemes describe.
    raw.pop("security", None)
    for path_item in raw["paths"].values():
        for operation in path_item.values():
            operation.pop("security", None)
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = application
    return schema


# Refusals made before anyone is authenticated, from the request's shape alone (the same for
# every caller and every database state): a NUL character in the address, a malformed
# Content-Length, a body without a Content-Type or over the size limit.
PRE_AUTH_REFUSALS = {400, 413, 415}


def refused_without_credentials(ctx, response, case):
    """Without credentials every operation answers 401 or 403: never data, never a 404 that
    would tell what exists. Two answers depend on the request's shape alone and tell nothing
    about the data, so they are allowed too: a guard's refusal before authentication (the
    error body, nothing else) and the 404 of an address no route matches."""
    status = response.status_code
    if status in (401, 403):
        return None
    if status in PRE_AUTH_REFUSALS and _error_body_only(response):
        return None
    if status == 404 and _no_route(case.formatted_path):
        return None
    raise AssertionError(
        f"Without credentials {case.method} {case.formatted_path} answered {status}, not 401/403."
    )


def _error_body_only(response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and set(body) <= {"message", "code", "errors"}


def _no_route(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return True
    return False


def _number_for_text(mutation) -> bool:
    return (
        mutation.keywords == ("type",)
        and mutation.original_value == "string"
        and (mutation.new_value in ("integer", "number"))
    )


def _empty_filter(mutation, case) -> bool:
    return (
        mutation.parameter_location.value == "query"
        and mutation.parameter not in ("page", "page_size")
        # An empty object or list in a query string is sent as an empty value too.
        and (case.query or {}).get(mutation.parameter) in ("", [""], {}, [])
    )


def invalid_data_rejected(ctx, response, case):
    """Schemathesis' negative_data_rejection, less two documented leniencies: a text field
    takes a JSON number as its text (DRF: ``"description": 42`` is stored as "42"), and a list
    filter given empty (``?status=``, as an HTML form sends it) is no filter (django-filter).
    Every other schema violation must be refused with a 4xx."""
    data = case.meta.phase.data if case.meta is not None else None
    mutations = getattr(data, "mutations", None) or ()
    if mutations and all(
        _number_for_text(mutation) or _empty_filter(mutation, case) for mutation in mutations
    ):
        return None
    return negative_data_rejection(ctx, response, case)


CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CHECKS = {
    "admin": [*CONFORMANCE],
    "admin-negative": [*CONFORMANCE, invalid_data_rejected],
    "admin-paths": [*CONFORMANCE],
    "anonymous": [*CONFORMANCE, refused_without_credentials],
}


@dataclass
class Pass:
    """One way of calling every operation: who, with which data, how many examples."""

    name: str
    mode: schemathesis.GenerationMode
    authenticated: bool
    real_paths: bool
    examples: int


def passes(examples: int) -> list[Pass]:
    """The administrator with real objects (valid, then invalid data), the administrator with
    random path parameters (only for operations that have any), and nobody."""
    few = max(2, examples // 3)
    return [
        Pass("admin", POSITIVE, authenticated=True, real_paths=True, examples=examples),
        Pass("admin-negative", NEGATIVE, authenticated=True, real_paths=True, examples=examples),
        Pass("admin-paths", POSITIVE, authenticated=True, real_paths=False, examples=few),
        Pass("anonymous", POSITIVE, authenticated=False, real_paths=True, examples=few),
    ]


@dataclass
class Tally:
    """What one pass did to one operation."""

    operation: str
    pass_name: str
    examples: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    nothing_to_invalidate: bool = False


@contextmanager
def in_process_requests() -> Iterator[None]:
    """Serve requests in process inside the caller's transaction, as Django's test client
    does: a finished request must not close the connection (it would end the test's
    transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _send(case, headers: dict[str, str], checks, tally: Tally) -> None:
    # Each request in a savepoint: a server error that broke the transaction (PostgreSQL
    # refuses every later statement) is rolled back and does not poison the next example.
    with transaction.atomic():
        response = case.call(headers=headers)
        if response.status_code >= 500:
            transaction.set_rollback(True)
    tally.examples += 1
    tally.statuses[response.status_code] += 1
    case.validate_response(response, checks=checks, headers=headers)


def fuzz_operation(operation, world: World, run: Pass) -> Tally:
    """Run one pass over one operation; a failure ends the pass for that operation (the first
    one is what needs fixing) and is recorded with the request that reproduces it."""
    tally = Tally(f"{operation.method.upper()} {operation.path}", run.name)
    parameters = world.path_parameters(operation.method, operation.path) if run.real_paths else {}
    headers = world.admin_headers if run.authenticated else {}
    strategy = operation.as_strategy(generation_mode=run.mode, path_parameters=parameters or None)
    checks = CHECKS[run.name]

    @hypothesis.settings(
        max_examples=run.examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        verbosity=hypothesis.Verbosity.quiet,
    )
    @hypothesis.given(case=strategy)
    def examples(case):
        _send(case, headers, checks, tally)

    try:
        examples()
    except hypothesis.errors.Unsatisfiable:
        # Negative mode on an operation whose only inputs are the fixed path parameters: there
        # is nothing to make invalid. Anything else that cannot generate is a harness failure.
        if run.mode != NEGATIVE or tally.examples:
            raise
        tally.nothing_to_invalidate = True
    except FailureGroup as group:
        tally.failures.append(str(group).strip())
    except (AssertionError, hypothesis.errors.HypothesisException) as exc:
        tally.failures.append(f"{type(exc).__name__}: {exc}")
    return tally


def fuzz_run(world: World, *, examples: int, only: set[str] | None = None) -> list[Tally]:
    """Every pass over every operation of the API (``only``: pass names to run)."""
    operations = {
        mode: [
            result.ok()
            for result in api_schema(json_bodies_only=mode == NEGATIVE).get_all_operations()
        ]
        for mode in (POSITIVE, NEGATIVE)
    }
    tallies = []
    with in_process_requests():
        for run in passes(examples):
            if only and run.name not in only:
                continue
            for operation in operations[run.mode]:
                if not operation.path.startswith(API_PREFIX):
                    continue
                has_path_parameters = "{" in operation.path
                if run.name == "admin-paths" and not has_path_parameters:
                    continue
                tallies.append(fuzz_operation(operation, world, run))
    return tallies


def failures_of(tallies: list[Tally]) -> list[str]:
    return [
        f"[{tally.pass_name}] {tally.operation}\n{failure}"
        for tally in tallies
        for failure in tally.failures
    ]
