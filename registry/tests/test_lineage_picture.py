"""The lineage picture's marks for the page's script and its readers: the page's own node is
identifiable (``data-lineage-focus``), model versions carry their status as a badge, and the
badge's HTML-like label escapes every name."""

from __future__ import annotations

import shutil

import pytest

from registry.choices import LineageKind
from registry.lineage_svg import lineage_dot, lineage_picture, version_statuses
from registry.selectors import HIDDEN, GraphEdge, GraphNode, LineageGraph
from tests.factories import ModelVersionFactory, RegisteredModelFactory

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")


def graph(*, root: int = 2, version_label: str = "credit-scorer v3") -> LineageGraph:
    return LineageGraph(
        root=root,
        direction="both",
        depth=3,
        nodes=[
            GraphNode(1, LineageKind.RUN, "0b0e", "train-2025", 1),
            GraphNode(2, LineageKind.MODEL_VERSION, "credit-scorer/1", version_label, 0),
            GraphNode(3, HIDDEN, "", "Hidden", 1),
        ],
        edges=[GraphEdge(1, 2, "produced"), GraphEdge(3, 1, "used")],
    )


def test_a_model_version_node_carries_its_status_as_a_badge():
    source = lineage_dot(graph(), {"credit-scorer/1": "production"}).source
    assert "status_production" in source
    assert 'BGCOLOR="#15803d"' in source and "Production" in source
    # Without a status (an unknown version) the node keeps its plain label.
    assert "BGCOLOR" not in lineage_dot(graph(), {}).source


def test_the_badge_label_escapes_the_name():
    source = lineage_dot(graph(version_label='<B>x</B> & "y"'), {"credit-scorer/1": "draft"}).source
    label = source[source.index("label=<<TABLE") : source.index("</TABLE>>")]
    assert "&lt;B&gt;x&lt;/B&gt; &amp; &quot;y&quot;" in label
    assert "<B>x</B>" not in label


@needs_dot
@pytest.mark.django_db
def test_the_picture_marks_the_page_node_and_badges_the_versions(team):
    model = RegisteredModelFactory(name="credit-scorer", owner_team=team)
    ModelVersionFactory(registered_model=model)
    picture = lineage_picture(graph())
    svg = str(picture.svg)
    assert picture.focus_node == "lineage_node_2"
    assert svg.startswith('<svg data-focus-node="lineage_node_2"')
    assert svg.count('data-lineage-focus="true"') == 1
    focus = svg[svg.index('id="lineage_node_2"') :]
    assert focus.index('data-lineage-focus="true"') < focus.index(">")
    assert "Draft" in svg[svg.index('id="lineage_node_2"') :]
    assert "kind_model_version root status_draft" in svg


@pytest.mark.django_db
def test_statuses_are_read_in_one_query_and_only_for_model_versions(
    team, django_assert_num_queries
):
    model = RegisteredModelFactory(name="credit-scorer", owner_team=team)
    ModelVersionFactory(registered_model=model)
    with django_assert_num_queries(1):
        assert version_statuses(graph()) == {"credit-scorer/1": "draft"}
    runs_only = LineageGraph(root=1, direction="both", depth=1, nodes=graph().nodes[:1])
    with django_assert_num_queries(0):
        assert version_statuses(runs_only) == {}
