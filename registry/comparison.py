"""Two versions of one model side by side: parameters, metrics (with their change), the data
each used, code, environment and packages, and which inputs of the lineage one has and the other
has not.

``a`` is the reference and ``b`` the version compared with it: a change reads "from a to b".
Records of teams the viewer may not see are counted, never named, as on the version page."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from accounts.models import User
from core.errors import InvalidInput, NotFound
from registry import selectors
from registry.choices import DatasetRole
from registry.evidence import MetricDelta, metric_deltas, production_version_of
from registry.models import ModelVersion, RegisteredModel, RunInput
from registry.permissions import Visibility

# Version numbers are small positive integers; anything longer is not a version.
MAX_VERSION_DIGITS = 9
# ``?a=production``: the version of the model in production (the review panel links so).
PRODUCTION = "production"


@dataclass(frozen=True)
class ValueRow:
    """One named value of both versions. ``state`` is ``same``, ``changed``, ``added`` (only
    b has it) or ``removed`` (only a has it)."""

    name: str
    a: Any
    b: Any

    @property
    def state(self) -> str:
        if self.a == self.b:
            return "same"
        if self.a in (None, ""):
            return "added"
        if self.b in (None, ""):
            return "removed"
        return "changed"

    @property
    def changed(self) -> bool:
        return self.state != "same"


@dataclass(frozen=True)
class LineageInput:
    """Something a version was made from: a dataset version (in a role), its run, its parent."""

    kind: str
    label: str
    url: str
    role: str = ""


@dataclass
class LineageDiff:
    added: list[LineageInput] = field(default_factory=list)
    removed: list[LineageInput] = field(default_factory=list)
    shared: list[LineageInput] = field(default_factory=list)
    hidden_a: int = 0
    hidden_b: int = 0


@dataclass
class VersionComparison:
    model: RegisteredModel
    a: ModelVersion
    b: ModelVersion
    params: list[ValueRow]
    metrics: list[MetricDelta]
    data: list[ValueRow]
    code: list[ValueRow]
    environment: list[ValueRow]
    packages: list[ValueRow]
    lineage: LineageDiff

    @property
    def changed_params(self) -> int:
        return sum(1 for row in self.params if row.changed)

    @property
    def changed_packages(self) -> int:
        return sum(1 for row in self.packages if row.changed)

    @property
    def same_packages(self) -> int:
        return len(self.packages) - self.changed_packages


def version_number_clean(value: str | None, field_name: str) -> int | str:
    """A version number from the query string, or ``PRODUCTION`` (the version in production);
    missing or anything else is a 400."""
    text = (value or "").strip()
    if not text:
        raise InvalidInput(
            f"Choose two versions to compare: '{field_name}' is missing (e.g. ?a=1&b=2).",
            field_errors={field_name: ["A version number is required."]},
        )
    if text == PRODUCTION:
        return PRODUCTION
    if not text.isdecimal() or len(text) > MAX_VERSION_DIGITS or int(text) < 1:
        raise InvalidInput(
            f"'{text[:20]}' is not a version number.",
            field_errors={field_name: [f"A positive whole number, e.g. 3, or '{PRODUCTION}'."]},
        )
    return int(text)


def _resolve(
    user: User, name: str, number: int | str, other: ModelVersion | None = None
) -> ModelVersion:
    """Version ``number`` of ``name``, or for ``PRODUCTION`` the newest version in production
    other than ``other``. Not there, or not visible to ``user``: 404."""
    if number != PRODUCTION or other is None:
        return selectors.model_version_get(user, name, int(number))
    found = production_version_of(user, other)
    if found is None:
        raise NotFound(
            f"No other version of '{name}' is in production to compare v{other.version} with."
        )
    return found


def _plain(value: Any) -> Any:
    """A parameter as the page shows it: scalars as they are, structures as compact JSON."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _value_rows(a: dict, b: dict) -> list[ValueRow]:
    names = sorted(set(a) | set(b), key=str.lower)
    return [ValueRow(name, _plain(a.get(name)), _plain(b.get(name))) for name in names]


def _data_rows(a: ModelVersion, b: ModelVersion, visible: Visibility) -> list[ValueRow]:
    """Per role, the dataset versions each used, as ``name vN`` text (the viewer's share)."""

    def used(version: ModelVersion, role: str) -> str:
        names = sorted(
            f"{link.dataset_version.dataset.name} v{link.dataset_version.version}"
            for link in version.dataset_links.all()
            if link.role == role and visible.dataset_version(link.dataset_version)
        )
        return ", ".join(names)

    roles = {link.role for v in (a, b) for link in v.dataset_links.all()}
    return [
        ValueRow(DatasetRole(role).label, used(a, role), used(b, role))
        for role in DatasetRole.values
        if role in roles
    ]


def _dataset_url(dataset_version) -> str:
    return reverse(
        "registry:dataset-version-detail",
        args=[dataset_version.dataset.name, dataset_version.version],
    )


def _inputs(
    version: ModelVersion, run_inputs: list[RunInput], visible: Visibility
) -> tuple[set[LineageInput], int]:
    """What ``version`` was made from, one step up the lineage: the dataset versions it names
    and those its run read, the run, the version it derives from. Hidden ones are counted."""
    found: set[LineageInput] = set()
    hidden = 0
    links = [(link.dataset_version, link.role) for link in version.dataset_links.all()]
    links += [(link.dataset_version, link.role) for link in run_inputs]
    for dataset_version, role in links:
        if not visible.dataset_version(dataset_version):
            hidden += 1
            continue
        label = f"{dataset_version.dataset.name} v{dataset_version.version}"
        found.add(
            LineageInput(
                "dataset_version", label, _dataset_url(dataset_version), DatasetRole(role).label
            )
        )
    if version.run is not None:
        if visible.run(version.run):
            run = version.run
            url = reverse("registry:run-detail", args=[run.uuid])
            found.add(LineageInput("run", run.name or str(run.uuid), url))
        else:
            hidden += 1
    parent = version.derived_from
    if parent is not None:
        if visible.model_version(parent):
            url = reverse(
                "registry:model-version-detail",
                args=[parent.registered_model.name, parent.version],
            )
            label = f"{parent.registered_model.name} v{parent.version}"
            found.add(LineageInput("model_version", label, url))
        else:
            hidden += 1
    return found, hidden


def _lineage_diff(a: ModelVersion, b: ModelVersion, visible: Visibility) -> LineageDiff:
    run_ids = {v.run_id for v in (a, b) if v.run_id is not None}
    run_inputs = list(
        RunInput.objects.filter(run_id__in=run_ids).select_related("dataset_version__dataset")
    )
    inputs_a, hidden_a = _inputs(a, [r for r in run_inputs if r.run_id == a.run_id], visible)
    inputs_b, hidden_b = _inputs(b, [r for r in run_inputs if r.run_id == b.run_id], visible)

    def ordered(items: set[LineageInput]) -> list[LineageInput]:
        return sorted(items, key=lambda i: (i.kind, i.label, i.role))

    return LineageDiff(
        added=ordered(inputs_b - inputs_a),
        removed=ordered(inputs_a - inputs_b),
        shared=ordered(inputs_a & inputs_b),
        hidden_a=hidden_a,
        hidden_b=hidden_b,
    )


def version_comparison(user: User, name: str, a: int | str, b: int | str) -> VersionComparison:
    """Versions ``a`` and ``b`` of model ``name`` side by side, as ``user`` sees them; either
    may be ``PRODUCTION`` (not both). A model or version the user may not see is a 404, as on
    the version page."""
    model = selectors.registered_model_get(user, name)
    if a == PRODUCTION and b == PRODUCTION:
        raise InvalidInput(
            "Compare the version in production with a numbered version, not with itself.",
            field_errors={"b": ["A version number."]},
        )
    if a == PRODUCTION:
        version_b = _resolve(user, name, b)
        version_a = _resolve(user, name, a, version_b)
    else:
        version_a = _resolve(user, name, a)
        version_b = version_a if a == b else _resolve(user, name, b, version_a)
    visible = Visibility(user)
    return VersionComparison(
        model=model,
        a=version_a,
        b=version_b,
        params=_value_rows(version_a.params or {}, version_b.params or {}),
        metrics=metric_deltas(version_b.metrics or {}, version_a.metrics or {}),
        data=_data_rows(version_a, version_b, visible),
        code=[
            ValueRow(label, getattr(version_a, attr), getattr(version_b, attr))
            for label, attr in (
                ("Repository", "code_repository"),
                ("Commit", "code_commit"),
                ("Path", "code_path"),
            )
        ],
        environment=[
            ValueRow("Python", version_a.python_version, version_b.python_version),
            ValueRow("Image digest", version_a.image_digest, version_b.image_digest),
            ValueRow("Framework", version_a.framework, version_b.framework),
        ],
        packages=_value_rows(version_a.packages or {}, version_b.packages or {}),
        lineage=_lineage_diff(version_a, version_b, visible),
    )
