"""The lineage graph: one node per traceable thing, one edge per "was made from".

The domain tables (run inputs, produced-by, derived-from, deployments) say the same facts; the
services that write them also write these rows, so that any closure is one recursive query over
two narrow, indexed tables, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from django.db import models

from registry.choices import LineageKind, LineageRelation


class LineageNode(models.Model):
    """A dataset version, run, model version or deployment in the lineage graph. ``key`` is its
    natural key (``credit-risk/3``, a run's UUID) and ``label`` what a picture shows."""

    kind = models.CharField(max_length=24, choices=LineageKind.choices)
    object_id = models.BigIntegerField()
    key = models.CharField(max_length=300)
    label = models.CharField(max_length=300)
    # Who may see the node: members and role holders of this team, and holders of a role on
    # this registered model. Kept on the node so a closure can be filtered without a join.
    owner_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    registered_model = models.ForeignKey(
        "registry.RegisteredModel",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="unique_lineage_object"),
        ]
        indexes = [models.Index(fields=["kind", "key"], name="lineage_node_kind_key")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"


class LineageEdge(models.Model):
    """``source`` was used to make ``target`` (data into a run, a run into a version, ...)."""

    # No single-column indexes: the unique constraint leads with source (downstream walks), the
    # index below with target (upstream walks); each holds every column a closure reads, so
    # both walks are index-only scans on PostgreSQL and an insert updates two indexes, not six.
    source = models.ForeignKey(
        LineageNode, on_delete=models.CASCADE, related_name="out_edges", db_index=False
    )
    target = models.ForeignKey(
        LineageNode, on_delete=models.CASCADE, related_name="in_edges", db_index=False
    )
    relation = models.CharField(max_length=24, choices=LineageRelation.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "target", "relation"], name="unique_lineage_edge"
            ),
            models.CheckConstraint(
                condition=~models.Q(source=models.F("target")), name="lineage_edge_not_self"
            ),
        ]
        indexes = [
            models.Index(
                fields=["target", "source", "relation"], name="lineage_edge_target_source_rel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} -{self.relation}-> {self.target}"
