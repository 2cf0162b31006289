"""The registry's browser pages: who may see them, what they show, and how they answer bad
input (a 400 or 404 page, never a 500)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry.choices import DatasetRole, RiskTier
from tests.factories import (
    PASSWORD,
    DatasetFactory,
    DatasetVersionFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    RunFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(client, teammate):
    """Pages are read by the contributor's teammate, signed in."""
    teammate.display_name = "Tom Teammate"
    teammate.save(update_fields=["display_name"])
    client.force_login(teammate)
    return teammate


@pytest.fixture
def all_seeing(client, auditor):
    """An auditor, who may read every team's records: for tests about search and filters
    across teams."""
    client.force_login(auditor)
    return auditor


@pytest.fixture
def lineage(team, contributor):
    """iris v1 -> training run -> credit-scorer v1 -> credit-scorer v2 (derived), registered
    by the contributor for their team."""
    author = contributor
    author.display_name = "Carol Contributor"
    author.save(update_fields=["display_name"])
    dataset_version = DatasetVersionFactory(
        actor=author,
        dataset=DatasetFactory(actor=author, name="iris", owner_team=team, tags=["tabular"]),
        uri="s3://data/iris/v1.parquet",
        row_count=150,
        size_bytes=4_551,
        schema={"sepal_length": "float", "species": "string"},
        profile={"sepal_length": {"mean": 5.84, "std": 0.83}},
        description="First cut of the iris data.",
    )
    holdout = DatasetVersionFactory(
        actor=author, dataset=DatasetFactory(actor=author, name="iris-holdout", owner_team=team)
    )
    run = RunFactory(
        actor=author,
        team=team,
        name="train-credit-2024-06",
        inputs=[(dataset_version, DatasetRole.TRAIN), (holdout, DatasetRole.TEST)],
        params={"max_depth": 6},
        metrics={"auc": 0.93},
        code_repository="https://git.example.org/risk/credit",
        code_commit="9f1c2e7",
        python_version="3.11.9",
        packages={"scikit-learn": "1.5.2", "numpy": "2.1.0"},
    )
    model = RegisteredModelFactory(
        actor=author,
        name="credit-scorer",
        owner_team=team,
        risk_tier=RiskTier.HIGH,
        description="Scores retail credit applications.",
        tags=["credit", "pii"],
    )
    v1 = ModelVersionFactory(
        actor=author,
        registered_model=model,
        run=run,
        artifact_size=2_500_000,
        metrics={"auc": 0.91, "ks": 0.42},
        params={"max_depth": 6},
        input_schema={"columns": [{"name": "income", "type": "float"}]},
        python_version="3.11.9",
        packages={"scikit-learn": "1.5.2"},
    )
    v2 = ModelVersionFactory(actor=author, registered_model=model, derived_from=v1)
    return {
        "team": team,
        "dataset_version": dataset_version,
        "holdout": holdout,
        "run": run,
        "model": model,
        "v1": v1,
        "v2": v2,
    }


def version_url(mv, **query):
    url = reverse("registry:model-version-detail", args=[mv.registered_model.name, mv.version])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def dataset_version_url(dv):
    return reverse("registry:dataset-version-detail", args=[dv.dataset.name, dv.version])


# --- Sign-in ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/models/",
        "/models/credit-scorer/",
        "/models/credit-scorer/versions/1/",
        "/datasets/",
        "/datasets/iris/",
        "/datasets/iris/versions/1/",
        "/runs/00000000-0000-0000-0000-000000000000/",
    ],
)
def test_it_redirects_anonymous_users_to_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(f"/login/?next={url}")


def test_it_sends_the_root_to_the_catalogue(client, viewer):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/models/"


def test_it_signs_in_through_the_login_form_and_out_with_a_post(client, contributor):
    response = client.post("/login/", {"username": "carol", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/models/"
    assert client.get("/models/").status_code == 200

    assert client.get("/logout/").status_code == 405  # a link cannot sign anyone out
    assert client.post("/logout/").status_code == 302
    assert client.get("/models/").status_code == 302


def test_it_shows_an_error_for_a_wrong_password(client, contributor):
    response = client.post("/login/", {"username": "carol", "password": "nope"})

    assert response.status_code == 200
    assert 'data-testid="login-error"' in response.content.decode()


def test_it_shows_the_user_and_a_logout_form_in_the_header(client, viewer):
    page = client.get("/models/").content.decode()

    assert "Tom Teammate" in page
    assert 'action="/logout/"' in page
    assert 'href="/admin/"' not in page  # not staff


# --- Catalogue -------------------------------------------------------------------------------


def test_it_lists_models_with_team_risk_tags_and_versions(client, viewer, lineage):
    page = client.get("/models/").content.decode()

    assert "credit-scorer" in page
    assert "Credit Risk" in page
    assert 'class="badge risk-high"' in page
    assert '<span class="tag">pii</span>' in page
    assert 'href="/models/credit-scorer/versions/2/"' in page  # latest version


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "credit"}, {"credit-scorer"}),
        ({"q": "churn"}, {"churn-predictor"}),
        ({"q": "retail"}, {"credit-scorer"}),  # description
        ({"q": "pii"}, {"credit-scorer"}),  # tag
        ({"risk_tier": "low"}, {"churn-predictor"}),
        ({"team": "credit-risk"}, {"credit-scorer"}),
        ({"tag": "marketing"}, {"churn-predictor"}),
        ({"tag": "marketing", "risk_tier": "high"}, set()),
        ({"team": "no-such-team"}, set()),
    ],
)
def test_it_narrows_the_catalogue(client, all_seeing, lineage, query, expected):
    RegisteredModelFactory(
        name="churn-predictor",
        risk_tier=RiskTier.LOW,
        tags=["marketing"],
        owner_team=TeamFactory(name="Growth"),
        description="Who will leave next month.",
    )

    response = client.get("/models/", query)

    assert response.status_code == 200
    assert {m.name for m in response.context["page"].object_list} == expected


def test_it_lists_a_model_once_when_several_tags_match(client, all_seeing):
    RegisteredModelFactory(name="scorer", tags=["credit-a", "credit-b"])

    response = client.get("/models/", {"q": "credit"})

    assert [m.name for m in response.context["page"].object_list] == ["scorer"]


def test_it_rejects_an_unknown_risk_tier_with_a_400_page(client, viewer):
    response = client.get("/models/", {"risk_tier": "extreme"})

    assert response.status_code == 400
    assert "Unknown risk tier" in response.content.decode()


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/models/?q=%00", 400),  # PostgreSQL refuses NUL in text
        ("/models/?tag=a%00b", 400),
        ("/models/?q=" + "x" * 201, 400),
        ("/datasets/?q=%00", 400),
        ("/models/credit%00scorer/", 400),
        ("/models/credit-scorer%0A/", 404),
        ("/models/credit-scorer/versions/99999999999999999999/", 404),
        ("/datasets/iris/versions/99999999999999999999/", 404),
    ],
)
def test_it_answers_odd_input_with_a_4xx_page(client, viewer, lineage, url, status):
    """Whatever a URL carries, the answer is an error page, never a 500 from the database."""
    response = client.get(url)

    assert response.status_code == status
    assert 'data-testid="error-page"' in response.content.decode()


def test_it_paginates_and_keeps_the_filters_in_page_links(client, all_seeing):
    team = TeamFactory(name="Bulk")
    for n in range(27):
        RegisteredModelFactory(name=f"bulk-{n:02d}", owner_team=team)

    first = client.get("/models/", {"team": "bulk"})
    second = client.get("/models/", {"team": "bulk", "page": "2"})

    assert len(first.context["page"].object_list) == 25
    assert "team=bulk&amp;page=2" in first.content.decode()
    assert [m.name for m in second.context["page"].object_list] == ["bulk-25", "bulk-26"]


@pytest.mark.parametrize("page", ["999", "abc", "-1"])
def test_it_answers_a_bad_page_number_with_a_real_page(client, viewer, lineage, page):
    response = client.get("/models/", {"page": page})

    assert response.status_code == 200
    assert "credit-scorer" in response.content.decode()


def test_it_reads_the_catalogue_in_a_constant_number_of_queries(client, viewer):
    """Tags, teams and version counts come with the list, not one query per row."""
    RegisteredModelFactory(tags=["a"])
    with CaptureQueriesContext(connection) as few:
        client.get("/models/")
    for _ in range(5):
        ModelVersionFactory(registered_model=RegisteredModelFactory(tags=["a", "b"]))
    with CaptureQueriesContext(connection) as many:
        client.get("/models/")

    assert len(many) == len(few)


# --- Model and version pages -----------------------------------------------------------------


def test_it_answers_404_for_an_unknown_model(client, viewer):
    response = client.get("/models/no-such-model/")

    assert response.status_code == 404
    assert "There is no model named" in response.content.decode()


def test_it_answers_404_for_an_unknown_version(client, viewer, lineage):
    assert client.get("/models/credit-scorer/versions/9/").status_code == 404


def test_it_shows_a_model_with_its_versions(client, viewer, lineage):
    page = client.get("/models/credit-scorer/").content.decode()

    assert "Scores retail credit applications." in page
    assert 'href="/models/credit-scorer/versions/1/"' in page
    assert 'class="badge status-draft"' in page
    assert "Carol Contributor" in page
    assert "0.91" in page  # key metric
    assert page.count('data-testid="version-row"') == 2


def test_it_shows_the_full_provenance_of_a_version(client, viewer, lineage):
    v1, run = lineage["v1"], lineage["run"]

    response = client.get(version_url(v1))
    page = response.content.decode()

    assert response.status_code == 200
    assert v1.artifact_sha256 in page
    assert v1.artifact_uri in page
    assert "2.4\xa0MB" in page  # 2,500,000 bytes, human-readable
    assert f'href="/runs/{run.uuid}/"' in page
    assert f'href="{dataset_version_url(lineage["dataset_version"])}"' in page
    assert f'href="{dataset_version_url(lineage["holdout"])}"' in page
    assert "scikit-learn" in page and "1.5.2" in page
    assert "income" in page  # input schema table
    assert "<svg" in page
    assert "<?xml" not in page


def test_it_links_a_derived_version_to_its_parent(client, viewer, lineage):
    page = client.get(version_url(lineage["v2"])).content.decode()

    assert 'data-testid="derived-from"' in page
    assert 'href="/models/credit-scorer/versions/1/"' in page


def test_it_draws_every_lineage_node_as_a_link_to_its_page(client, viewer, lineage):
    page = client.get(version_url(lineage["v1"])).content.decode()
    svg = page[page.index("<svg") : page.index("</svg>")]

    assert f'xlink:href="{dataset_version_url(lineage["dataset_version"])}"' in svg
    assert f'xlink:href="/runs/{lineage["run"].uuid}/"' in svg
    assert 'xlink:href="/models/credit-scorer/versions/2/"' in svg
    assert "kind_model_version root" in svg
    assert "produced" in svg and "derived from" in svg


def test_it_escapes_names_in_the_lineage_picture(client, all_seeing):
    """A run's free-text name reaches the picture as text, never as markup or DOT syntax."""
    run = RunFactory(name='<script>alert("x")</script> \\N <b>')
    version = ModelVersionFactory(run=run)

    page = client.get(version_url(version)).content.decode()

    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page
    assert "<svg" in page


@pytest.mark.parametrize("depth", ["abc", "0", "-3", "100000", "1.5"])
def test_it_answers_a_bad_depth_with_a_400_page(client, viewer, lineage, depth):
    response = client.get(version_url(lineage["v1"], depth=depth))

    assert response.status_code == 400
    assert "depth must be" in response.content.decode()


def test_it_says_when_the_depth_cut_the_picture_short(client, viewer, lineage):
    shallow = client.get(version_url(lineage["v2"], depth=1)).content.decode()
    deep = client.get(version_url(lineage["v2"], depth=5)).content.decode()

    assert 'data-testid="lineage-truncated"' in shallow
    assert 'data-testid="lineage-truncated"' not in deep
    assert lineage["dataset_version"].content_hash not in shallow  # not the point; no leak
    assert f"/runs/{lineage['run'].uuid}/" in deep


def test_it_declines_to_draw_a_graph_too_big_to_read(client, viewer, lineage, monkeypatch):
    monkeypatch.setattr("registry.lineage_svg.MAX_DRAWN_NODES", 3)

    response = client.get(version_url(lineage["v1"]))

    assert response.status_code == 200
    assert "too many to draw" in response.content.decode()
    assert "<svg" not in response.content.decode()


def test_it_shows_the_page_when_graphviz_is_missing(client, viewer, lineage, monkeypatch):
    monkeypatch.setattr("registry.lineage_svg.shutil.which", lambda name: None)

    response = client.get(version_url(lineage["v1"]))

    assert response.status_code == 200
    assert "could not be drawn" in response.content.decode()
    assert lineage["v1"].artifact_sha256 in response.content.decode()


# --- Datasets and runs -----------------------------------------------------------------------


def test_it_lists_and_searches_datasets(client, viewer, lineage):
    everything = client.get("/datasets/")
    holdout = client.get("/datasets/", {"q": "holdout"})

    assert {d.name for d in everything.context["page"].object_list} == {"iris", "iris-holdout"}
    assert {d.name for d in holdout.context["page"].object_list} == {"iris-holdout"}


def test_it_shows_a_dataset_with_its_versions(client, viewer, lineage):
    page = client.get("/datasets/iris/").content.decode()

    assert 'href="/datasets/iris/versions/1/"' in page
    assert "First cut of the iris data." in page
    assert client.get("/datasets/nothing/").status_code == 404


def test_it_shows_a_dataset_version_and_what_used_it(client, viewer, lineage):
    dv = lineage["dataset_version"]

    response = client.get(dataset_version_url(dv))
    page = response.content.decode()

    assert response.status_code == 200
    assert dv.uri in page and dv.content_hash in page
    assert "4.4\xa0KB" in page
    assert "sepal_length" in page and "5.84" in page  # schema and profile tables
    assert 'href="/models/credit-scorer/versions/1/"' in page  # used by the model version
    assert f'href="/runs/{lineage["run"].uuid}/"' in page  # read by the run
    assert "<svg" in page
    assert client.get("/datasets/iris/versions/7/").status_code == 404


def test_it_shows_a_run_with_its_inputs_and_outputs(client, viewer, lineage):
    run = lineage["run"]

    response = client.get(f"/runs/{run.uuid}/")
    page = response.content.decode()

    assert response.status_code == 200
    assert "train-credit-2024-06" in page
    assert "Credit Risk" in page
    assert f'href="{dataset_version_url(lineage["dataset_version"])}"' in page
    assert 'href="/models/credit-scorer/versions/1/"' in page
    assert "9f1c2e7" in page and "numpy" in page and "3.11.9" in page
    assert "max_depth" in page
    assert "<svg" in page


def test_it_answers_404_for_an_unknown_run(client, viewer):
    assert client.get("/runs/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get("/runs/not-a-uuid/").status_code == 404


def test_it_refuses_writes_on_pages(client, viewer, lineage):
    assert client.post("/models/").status_code == 405
