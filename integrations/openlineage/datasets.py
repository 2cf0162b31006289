"""The registry datasets and versions an event's datasets are, found or created through the
registry's services.

Where a dataset lives: a namespace mapped to a team belongs to that team; any other to the
event's team. Each team has its own record of a (namespace, name): another team's dataset is
reached only when the mapping places the namespace in that team AND the sender may see that
team's records, and then only to read (an input attaches to a version that exists). In every
other case the sender's own team gets (or already has) its own dataset of that name, decided
without looking at what the other team holds: nothing of it is modified, and no answer differs
with its existence.
"""

from __future__ import annotations

import hashlib
import re

import orjson

from accounts.models import Team, User
from integrations.models import OpenLineageDataset, OpenLineageDatasetVersion, OpenLineageRunDataset
from integrations.openlineage.constants import DatasetUse
from integrations.openlineage.events import DatasetRef
from integrations.openlineage.teams import Access, mapped_team, team_access
from registry.models import Dataset, Run
from registry.services import dataset_create, dataset_version_create

_NOT_NAME = re.compile(r"[^a-z0-9._-]+")
BASE_NAME_LENGTH = 100


def key_hash(namespace: str, name: str) -> str:
    return hashlib.sha256(f"{namespace}\n{name}".encode()).hexdigest()


def identity_hash(ref: DatasetRef, version_key: str) -> str:
    """The registry's content hash of a version known only from OpenLineage, which carries no
    hash of the data: the SHA-256 of its identity (namespace, name, version), stable for the
    same version however often it is reported."""
    return hashlib.sha256(
        f"openlineage\n{ref.namespace}\n{ref.name}\n{version_key}".encode()
    ).hexdigest()


def _facets_key(ref: DatasetRef) -> str:
    described = orjson.dumps(
        {"schema": ref.schema, "uri": ref.source_uri}, option=orjson.OPT_SORT_KEYS
    )
    return "facets:" + hashlib.sha256(described).hexdigest()[:16]


class DatasetResolver:
    """Finds or creates, for one event of ``team`` sent by ``actor``, the versions its datasets
    are."""

    def __init__(self, *, actor: User, team: Team):
        self.actor = actor
        self.team = team

    # --- what an event's datasets are ------------------------------------------------------

    def input_version(self, ref: DatasetRef, run: Run | None) -> OpenLineageDatasetVersion:
        """The version ``run`` read: the one the version facet names; else the one this run
        already read; else the latest, if it matches the schema and source the event gives;
        else a version keyed by those facets."""
        home, access = self._home(ref)
        if access is Access.VIEW:
            found = self._input_in(home, ref, run, create=False)
            if found is not None:
                return found
        if access is not Access.CHANGE:
            home = self.team
        return self._input_in(home, ref, run, create=True)

    def output_version(self, ref: DatasetRef, run: Run) -> OpenLineageDatasetVersion:
        """The version ``run`` wrote: the one the version facet names, else one per run."""
        home, access = self._home(ref)
        if access is not Access.CHANGE:
            home = self.team
        ol_dataset = self._ol_dataset(home, ref, create=True)
        if ref.version:
            return self._version(ol_dataset, ref, ref.version, derived=False, run=run)
        return self._version(ol_dataset, ref, f"run:{run.uuid}", derived=True, run=run)

    def existing_output(self, ref: DatasetRef, run: Run) -> OpenLineageDatasetVersion | None:
        """The version ``run`` wrote to ``ref`` when it completed, if it has."""
        home, access = self._home(ref)
        if access is not Access.CHANGE:
            home = self.team
        ol_dataset = self._ol_dataset(home, ref, create=False)
        if ol_dataset is None:
            return None
        key = ref.version or f"run:{run.uuid}"
        return ol_dataset.versions.filter(version_key=key).first()

    def described_version(self, ref: DatasetRef) -> OpenLineageDatasetVersion:
        """The version a DatasetEvent describes (its dataset is always the event's team's)."""
        return self._input_in(self.team, ref, None, create=True)

    # --- helpers ----------------------------------------------------------------------------

    def _home(self, ref: DatasetRef) -> tuple[Team, Access]:
        mapped = mapped_team(ref.namespace)
        if mapped is None or mapped.pk == self.team.pk:
            return self.team, Access.CHANGE  # the sender may write the event's team
        return mapped, team_access(self.actor, mapped)

    def _input_in(
        self, team: Team, ref: DatasetRef, run: Run | None, *, create: bool
    ) -> OpenLineageDatasetVersion | None:
        ol_dataset = self._ol_dataset(team, ref, create=create)
        if ol_dataset is None:
            return None
        if ref.version:
            if not create:
                return ol_dataset.versions.filter(version_key=ref.version).first()
            return self._version(ol_dataset, ref, ref.version, derived=False)
        if run is not None:
            used = OpenLineageRunDataset.objects.filter(
                ol_run__run=run, use=DatasetUse.INPUT, ol_version__ol_dataset=ol_dataset
            ).first()
            if used is not None:
                return used.ol_version
        candidates = ol_dataset.versions.select_related("dataset_version")
        if run is not None:  # a run does not read what it writes
            candidates = candidates.exclude(dataset_version__produced_by_run=run)
        latest = candidates.order_by("-dataset_version__version").first()
        if latest is not None and (not create or _agrees(latest, ref)):
            return latest
        if not create:
            return None
        return self._version(ol_dataset, ref, _facets_key(ref), derived=True)

    def _ol_dataset(
        self, team: Team, ref: DatasetRef, *, create: bool
    ) -> OpenLineageDataset | None:
        key = key_hash(ref.namespace, ref.name)
        found = (
            OpenLineageDataset.objects.select_related("dataset")
            .filter(team=team, key_hash=key)
            .first()
        )
        if found is not None or not create:
            return found
        dataset = dataset_create(
            actor=self.actor,
            name=_free_name(team, ref),
            owner_team=team,
            description=f"Reported through OpenLineage as {ref.namespace} / {ref.name}."[:2000],
        )
        return OpenLineageDataset.objects.create(
            team=team, namespace=ref.namespace, name=ref.name, key_hash=key, dataset=dataset
        )

    def _version(
        self,
        ol_dataset: OpenLineageDataset,
        ref: DatasetRef,
        version_key: str,
        *,
        derived: bool,
        run: Run | None = None,
    ) -> OpenLineageDatasetVersion:
        found = (
            ol_dataset.versions.select_related("dataset_version")
            .filter(version_key=version_key)
            .first()
        )
        if found is not None:
            return found
        rows, size = _statistics(ref)
        description = (
            f"Steward's key for an OpenLineage version without a version facet: {version_key}."
            if derived
            else f"OpenLineage datasetVersion {version_key}."
        )
        dataset_version = dataset_version_create(
            actor=self.actor,
            dataset=ol_dataset.dataset,
            uri=ref.location,
            content_hash=identity_hash(ref, version_key),
            row_count=rows,
            size_bytes=size,
            schema=ref.schema,
            description=description,
            produced_by_run=run,
        )
        return OpenLineageDatasetVersion.objects.create(
            ol_dataset=ol_dataset,
            version_key=version_key,
            derived=derived,
            dataset_version=dataset_version,
            facets=ref.facets,
        )


def _agrees(version: OpenLineageDatasetVersion, ref: DatasetRef) -> bool:
    """Whether an existing version fits what an event without a version facet says."""
    stored = version.dataset_version
    if ref.schema and stored.schema != ref.schema:
        return False
    return not (ref.source_uri and stored.uri != ref.location)


def _statistics(ref: DatasetRef) -> tuple[int | None, int | None]:
    stats = ref.use_facets.get("outputStatistics") or ref.use_facets.get("inputStatistics") or {}
    rows, size = stats.get("rowCount"), stats.get("size")

    def count(value):
        return (
            value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
        )

    return count(rows), count(size)


def _free_name(team: Team, ref: DatasetRef) -> str:
    """A registry name for the dataset: its OpenLineage name made a valid name, with a suffix
    from the team and the full (namespace, name). The suffix keeps two teams' (or two
    namespaces') datasets apart without asking which names another team holds; only a name
    someone registered by hand that equals it exactly makes it longer."""
    base = _NOT_NAME.sub("-", ref.name.lower()).strip("-._")[:BASE_NAME_LENGTH] or "dataset"
    digest = hashlib.sha256(f"{team.pk}\n{ref.namespace}\n{ref.name}".encode()).hexdigest()
    for length in (8, 16, 27):
        candidate = f"{base}-{digest[:length]}"
        if not Dataset.objects.filter(name=candidate).exists():
            return candidate
    return f"{base}-{digest[:27]}"  # the service then refuses it in its own words
