"""Lineage closure over a graph with branches and diamonds."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from registry import services
from registry.choices import DatasetRole
from registry.selectors import lineage_closure, lineage_depth_clean, lineage_node_of
from tests.factories import DatasetVersionFactory, ModelVersionFactory, RunFactory, fake_sha256

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(contributor, team):
    """raw -> clean-run -> clean -> split-run -> {train, test} -> train-run -> v1 -> v2;
    the split's two outputs meet again in the training run (a diamond), an evaluation run also
    reads the test split (a branch), and v2 is tested on an external holdout."""

    def dataset_version(**kwargs):
        return services.dataset_version_create(
            actor=contributor, content_hash=fake_sha256(kwargs["uri"]), **kwargs
        )

    raw = DatasetVersionFactory(dataset__owner_team=team)
    ds = raw.dataset
    clean_run = RunFactory(kind="transformation", team=team, inputs=[(raw, DatasetRole.INPUT)])
    clean = dataset_version(dataset=ds, uri="s3://clean", produced_by_run=clean_run)
    split_run = RunFactory(kind="transformation", team=team, inputs=[(clean, DatasetRole.INPUT)])
    train = dataset_version(dataset=ds, uri="s3://train", produced_by_run=split_run)
    test = dataset_version(dataset=ds, uri="s3://test", produced_by_run=split_run)
    train_run = RunFactory(team=team, inputs=[(train, DatasetRole.TRAIN), (test, DatasetRole.TEST)])
    eval_run = RunFactory(kind="evaluation", team=team, inputs=[(test, DatasetRole.TEST)])
    v1 = ModelVersionFactory(run=train_run)
    holdout = DatasetVersionFactory()
    v2 = ModelVersionFactory(
        registered_model=v1.registered_model,
        derived_from=v1,
        datasets=[(holdout, DatasetRole.TEST)],
    )
    return locals()


def keys(graph) -> dict[str, int]:
    return {node.key: node.depth for node in graph.nodes}


def edge_keys(graph) -> set[tuple[str, str, str]]:
    by_id = {node.id: node.key for node in graph.nodes}
    return {(by_id[e.source], e.relation, by_id[e.target]) for e in graph.edges}


def k(obj) -> str:
    return lineage_node_of(obj).key


def test_upstream_closure_reaches_the_raw_data_through_the_diamond(pipeline, auditor):
    p = pipeline
    graph = lineage_closure(
        user=auditor, root=lineage_node_of(p["v2"]), direction="upstream", depth=20
    )
    assert keys(graph) == {
        k(p["v2"]): 0,
        k(p["v1"]): 1,
        k(p["holdout"]): 1,
        k(p["train_run"]): 2,
        k(p["train"]): 3,
        k(p["test"]): 3,
        k(p["split_run"]): 4,
        k(p["clean"]): 5,
        k(p["clean_run"]): 6,
        k(p["raw"]): 7,
    }
    # Both sides of the diamond are there, and the evaluation branch (downstream of test) is not.
    assert (k(p["split_run"]), "produced", k(p["train"])) in edge_keys(graph)
    assert (k(p["split_run"]), "produced", k(p["test"])) in edge_keys(graph)
    assert k(p["eval_run"]) not in keys(graph)
    assert len(graph.edges) == 10
    assert not graph.truncated


def test_depth_limits_the_closure_and_says_it_was_cut(pipeline, auditor):
    p = pipeline
    graph = lineage_closure(
        user=auditor, root=lineage_node_of(p["v2"]), direction="upstream", depth=3
    )
    assert set(keys(graph)) == {
        k(p["v2"]),
        k(p["v1"]),
        k(p["holdout"]),
        k(p["train_run"]),
        k(p["train"]),
        k(p["test"]),
    }
    assert graph.truncated
    assert {n.key for n in graph.nodes if n.has_more} == {k(p["train"]), k(p["test"])}
    # No edge leads to a node outside the closure.
    assert edge_keys(graph) == {
        (k(p["v1"]), "derived_from", k(p["v2"])),
        (k(p["holdout"]), "test", k(p["v2"])),
        (k(p["train_run"]), "produced", k(p["v1"])),
        (k(p["train"]), "train", k(p["train_run"])),
        (k(p["test"]), "test", k(p["train_run"])),
    }


def test_downstream_closure_finds_every_use_of_a_dataset(pipeline, auditor):
    p = pipeline
    graph = lineage_closure(
        user=auditor, root=lineage_node_of(p["clean"]), direction="downstream", depth=20
    )
    assert keys(graph) == {
        k(p["clean"]): 0,
        k(p["split_run"]): 1,
        k(p["train"]): 2,
        k(p["test"]): 2,
        k(p["train_run"]): 3,
        k(p["eval_run"]): 3,
        k(p["v1"]): 4,
        k(p["v2"]): 5,
    }
    assert k(p["raw"]) not in keys(graph)


def test_both_directions_are_ancestors_and_descendants_not_cousins(pipeline, auditor):
    p = pipeline
    graph = lineage_closure(
        user=auditor, root=lineage_node_of(p["train_run"]), direction="both", depth=20
    )
    found = keys(graph)
    assert k(p["raw"]) in found and k(p["v2"]) in found
    # The evaluation run shares an input with the training run but is neither.
    assert k(p["eval_run"]) not in found


def test_it_refuses_bad_depth_and_direction(pipeline, auditor, settings):
    settings.LINEAGE_MAX_DEPTH = 25
    assert lineage_depth_clean(None) == 10
    assert lineage_depth_clean("25") == 25
    for bad in ("0", "26", "-1", "ten", "1.5"):
        with pytest.raises(InvalidInput):
            lineage_depth_clean(bad)
    with pytest.raises(InvalidInput):
        lineage_closure(user=auditor, root=lineage_node_of(pipeline["v1"]), direction="sideways")


def test_closure_is_one_query(pipeline, auditor, django_assert_num_queries):
    root = lineage_node_of(pipeline["v2"])
    lineage_closure(user=auditor, root=root, direction="upstream", depth=20)  # reads the roles
    with django_assert_num_queries(1):
        lineage_closure(user=auditor, root=root, direction="upstream", depth=20)
