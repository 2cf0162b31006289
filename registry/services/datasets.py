"""Writes on datasets and dataset versions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import IntegrityError, transaction
from django.db.models import Max

from accounts.access import require, require_in_team
from accounts.choices import Verb
from accounts.models import Team, User
from core.errors import InvalidInput
from core.eventlog import audit_event_append
from registry.models import Dataset, DatasetVersion, Run
from registry.services.common import full_clean_or_invalid, name_taken, tags_resolve
from registry.services.lineage import lineage_edge_add, lineage_node_ensure
from registry.services.validation import require_mapping


@transaction.atomic
def dataset_create(
    *, actor: User, name: str, owner_team: Team, description: str = "", tags: Iterable[str] = ()
) -> Dataset:
    """Register a dataset name for a team."""
    require_in_team(actor, Verb.CHANGE, owner_team)
    dataset = Dataset(name=name, owner_team=owner_team, description=description, created_by=actor)
    full_clean_or_invalid(dataset)
    if Dataset.objects.filter(name=name).exists():
        raise name_taken("dataset", name)
    try:
        with transaction.atomic():
            dataset.save()
    except IntegrityError as exc:  # lost a race with an identical registration
        raise name_taken("dataset", name) from exc
    resolved_tags = tags_resolve(tags)
    if resolved_tags:  # a new row has none to replace
        dataset.tags.set(resolved_tags)
    audit_event_append(
        actor=actor,
        action="dataset.register",
        subject=dataset,
        data={
            "name": dataset.name,
            "owner_team": owner_team.slug,
            "description": description,
            "tags": sorted(tag.name for tag in resolved_tags),
        },
    )
    return dataset


@transaction.atomic
def dataset_update(
    *,
    actor: User,
    dataset: Dataset,
    description: str | None = None,
    tags: Iterable[str] | None = None,
) -> Dataset:
    """Change a dataset's description or tags."""
    require(actor, Verb.CHANGE, dataset)
    dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
    changes: dict = {}
    if description is not None and description != dataset.description:
        changes["description"] = {"from": dataset.description, "to": description}
        dataset.description = description
        dataset.save(update_fields=["description", "updated_at"])
    if tags is not None:
        before = sorted(tag.name for tag in dataset.tags.all())
        dataset.tags.set(tags_resolve(tags))
        after = sorted(tag.name for tag in dataset.tags.all())
        if after != before:
            changes["tags"] = {"from": before, "to": after}
    if changes:
        audit_event_append(
            actor=actor, action="dataset.update", subject=dataset, data={"changes": changes}
        )
    return dataset


@transaction.atomic
def dataset_version_create(
    *,
    actor: User,
    dataset: Dataset,
    uri: str,
    content_hash: str,
    size_bytes: int | None = None,
    row_count: int | None = None,
    schema: dict | None = None,
    profile: dict | None = None,
    description: str = "",
    produced_by_run: Run | None = None,
    derived_from: Sequence[DatasetVersion] = (),
) -> DatasetVersion:
    """Record the next version of ``dataset``: where it is, what its bytes hash to, and where it
    came from (the run that produced it and the versions it was derived from)."""
    require(actor, Verb.CHANGE, dataset)
    for referenced in (produced_by_run, *derived_from):
        if referenced is not None:
            require(actor, Verb.VIEW, referenced)
    for field, number in (("size_bytes", size_bytes), ("row_count", row_count)):
        if number is not None and number < 0:
            raise InvalidInput(
                f"{field} cannot be negative.", field_errors={field: ["Must be >= 0."]}
            )
    locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
    current = locked.versions.aggregate(highest=Max("version"))["highest"] or 0
    version = DatasetVersion(
        dataset=locked,
        version=current + 1,
        uri=uri,
        content_hash=content_hash,
        size_bytes=size_bytes,
        row_count=row_count,
        schema=require_mapping("schema", schema),
        profile=require_mapping("profile", profile),
        description=description,
        produced_by_run=produced_by_run,
        created_by=actor,
    )
    full_clean_or_invalid(version, exclude=["dataset", "produced_by_run"])
    version.save()
    parents = list(dict.fromkeys(derived_from))
    version.derived_from.set(parents)
    _record_dataset_lineage(version, parents)
    audit_event_append(
        actor=actor,
        action="dataset_version.register",
        subject=version,
        data={
            "dataset": locked.name,
            "version": version.version,
            "uri": version.uri,
            "content_hash": version.content_hash,
            "size_bytes": version.size_bytes,
            "row_count": version.row_count,
            "produced_by_run": str(produced_by_run.uuid) if produced_by_run else None,
            "derived_from": [parent.natural_key for parent in parents],
        },
    )
    return version


def _record_dataset_lineage(version: DatasetVersion, parents: Sequence[DatasetVersion]) -> None:
    lineage_node_ensure(version, new=True)
    via_run: set[int] = set()
    if version.produced_by_run is not None:
        lineage_edge_add(source=version.produced_by_run, target=version, relation="produced")
        via_run = set(
            version.produced_by_run.input_links.values_list("dataset_version_id", flat=True)
        )
    for parent in parents:
        if parent.pk not in via_run:  # already upstream through the run that produced it
            lineage_edge_add(source=parent, target=version, relation="derived_from")
