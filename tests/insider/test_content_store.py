"""Insider attacks on the content-addressed artifact store and on taken names (issue #12,
items 3 and 8).

Carol (Credit Risk) uploads her team's training data and trains a model on it. Otto, a
contributor of Marketing, knows (or guesses) the file's SHA-256 and tries to read it through
every door that takes a hash: a dataset version of his own declaring it, a baseline
``from_training_data`` profiling it, the artifact endpoints, a model version referencing it, and
a re-upload of the same bytes. Each answer must be the one he gets for bytes Steward never
held: refused, nothing learned (not even that the file exists), nothing changed, and nothing
appended to the audit chain by a refusal."""

from __future__ import annotations

import hashlib

import pytest
from rest_framework.test import APIClient

from core.models import AuditEvent
from monitoring.models import BaselineProfile
from registry.models import Artifact, Dataset, RegisteredModel
from tests.factories import DatasetFactory, RegisteredModelFactory

pytestmark = pytest.mark.django_db

TRAINING_CSV = b"income,age\n" + b"".join(f"{1000 * i},{20 + i % 40}\n".encode() for i in range(60))
NEVER_STORED = b"income,age\n1,2\n"
INPUT_SCHEMA = {"columns": [{"name": "income", "type": "float"}, {"name": "age", "type": "int"}]}
HOLDER_DETAILS = ("carol", "credit-risk", "Credit Risk", "credit-train.csv")


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def upload(user, payload: bytes, name: str):
    return client_for(user).generic(
        "POST",
        f"/api/v1/artifacts/?filename={name}",
        payload,
        content_type="application/octet-stream",
    )


def digest(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


@pytest.fixture
def carols_training_data(team, contributor):
    """Carol's upload of her team's training rows, a dataset version of them, and a model
    version trained on it: everything Credit Risk legitimately holds."""
    response = upload(contributor, TRAINING_CSV, "credit-train.csv")
    assert response.status_code == 201, response.content
    DatasetFactory(name="credit-train", owner_team=team, actor=contributor)
    api = client_for(contributor)
    created = api.post(
        "/api/v1/datasets/credit-train/versions/",
        {"uri": "s3://credit/train.csv", "content_hash": digest(TRAINING_CSV)},
        format="json",
    )
    assert created.status_code == 201, created.content
    RegisteredModelFactory(name="credit-scoring", owner_team=team, actor=contributor)
    version = api.post(
        "/api/v1/models/credit-scoring/versions/",
        {
            "artifact": digest(TRAINING_CSV),
            "input_schema": INPUT_SCHEMA,
            "datasets": [{"dataset": "credit-train", "version": 1, "role": "train"}],
        },
        format="json",
    )
    assert version.status_code == 201, version.content
    return response.json()


def otto_trains_on(outsider, other_team, content_hash: str, number: int) -> str:
    """Otto's own dataset version declaring ``content_hash`` and his own model version trained
    on it (both allowed: declaring a hash is recording a claim, not reading bytes). Returns
    the version's baselines URL."""
    if number == 1:
        DatasetFactory(name="market-data", owner_team=other_team, actor=outsider)
        RegisteredModelFactory(name="copycat", owner_team=other_team, actor=outsider)
    api = client_for(outsider)
    created = api.post(
        "/api/v1/datasets/market-data/versions/",
        {"uri": f"s3://market/{number}.csv", "content_hash": content_hash},
        format="json",
    )
    assert created.status_code == 201, created.content
    version = api.post(
        "/api/v1/models/copycat/versions/",
        {
            "artifact_uri": f"s3://market/model-{number}.pkl",
            "artifact_sha256": "e" * 64,
            "input_schema": INPUT_SCHEMA,
            "datasets": [{"dataset": "market-data", "version": number, "role": "train"}],
        },
        format="json",
    )
    assert version.status_code == 201, version.content
    return f"/api/v1/models/copycat/versions/{version.json()['version']}/baselines/"


def not_stored_message(dataset_version: str, content_hash: str) -> str:
    return (
        f"The bytes of {dataset_version} (sha256 {content_hash[:12]}…) are not in Steward's "
        "artifact store; upload the file as an artifact or upload reference data."
    )


def test_it_does_not_profile_another_teams_training_data_declared_by_hash(
    carols_training_data, outsider, other_team
):
    """Item 3: Otto declares Carol's file's hash on his own dataset version, trains on it and
    asks for a baseline from the training data. He is told exactly what he would be told for
    bytes Steward never held (no profile, no oracle), and nothing is recorded."""
    stolen = otto_trains_on(outsider, other_team, digest(TRAINING_CSV), 1)
    guessed = otto_trains_on(outsider, other_team, digest(NEVER_STORED), 2)
    events = AuditEvent.objects.count()
    api = client_for(outsider)

    held = api.post(stolen, {"from_training_data": True}, format="json")
    absent = api.post(guessed, {"from_training_data": True}, format="json")

    assert held.status_code == absent.status_code == 400
    assert held.json()["message"] == not_stored_message("market-data v1", digest(TRAINING_CSV))
    assert absent.json()["message"] == not_stored_message("market-data v2", digest(NEVER_STORED))
    assert {k: v for k, v in held.json().items() if k != "message"} == {
        k: v for k, v in absent.json().items() if k != "message"
    }
    assert "features" not in held.content.decode()
    assert not BaselineProfile.objects.exists()
    assert AuditEvent.objects.count() == events


def test_it_answers_a_reupload_of_another_teams_bytes_with_the_callers_own_record(
    carols_training_data, outsider
):
    """Item 3: re-uploading Carol's bytes used to return her row (her file name, her username,
    her time) with a 200 that said "already here". Otto now gets his own upload, a 201 like
    any new file, and nothing of hers; the bytes are still stored once."""
    events = AuditEvent.objects.count()

    again = upload(outsider, TRAINING_CSV, "guess.csv")
    fresh = upload(outsider, b"marketing bytes never seen", "fresh.csv")

    assert again.status_code == fresh.status_code == 201
    body = again.json()
    assert set(body) == set(fresh.json())
    assert body["sha256"] == digest(TRAINING_CSV)
    assert body["original_name"] == "guess.csv" and body["uploaded_by"] == "otto"
    assert body["created_at"] != carols_training_data["created_at"]
    assert not any(detail in again.content.decode() for detail in HOLDER_DETAILS)
    carols = Artifact.objects.get(uploaded_by__username="carol")
    assert (carols.original_name, carols.sha256) == ("credit-train.csv", digest(TRAINING_CSV))
    # His own upload again is his own row again: 200, still nothing of Carol's.
    repeat = upload(outsider, TRAINING_CSV, "guess-again.csv")
    assert repeat.status_code == 200 and repeat.json() == body
    # What the chain recorded names Otto's upload only.
    mine = list(AuditEvent.objects.filter(action="artifact.upload", actor_username="otto"))
    assert len(mine) == 2 and AuditEvent.objects.count() == events + 2
    assert "carol" not in str(mine[0].data) and "credit-train" not in str(mine[0].data)


def test_it_stores_the_bytes_once_whoever_uploads_them(carols_training_data, outsider, settings):
    upload(outsider, TRAINING_CSV, "guess.csv")

    stored = [p for p in (settings.ARTIFACT_ROOT / "sha256").rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in stored] == [TRAINING_CSV]
    assert Artifact.objects.filter(sha256=digest(TRAINING_CSV)).count() == 2
    assert not any((settings.ARTIFACT_ROOT / "tmp").iterdir())


@pytest.mark.parametrize("suffix", ["", "download/"])
def test_it_does_not_serve_another_teams_artifact_by_hash(carols_training_data, outsider, suffix):
    """Item 3: the artifact endpoints answer Otto the same 404 for Carol's file as for a hash
    nobody uploaded, and list nothing of hers."""
    api = client_for(outsider)

    held = api.get(f"/api/v1/artifacts/{digest(TRAINING_CSV)}/{suffix}")
    absent = api.get(f"/api/v1/artifacts/{digest(NEVER_STORED)}/{suffix}")

    assert held.status_code == absent.status_code == 404
    assert held.json() == absent.json()
    assert api.get("/api/v1/artifacts/").json()["results"] == []


def test_it_does_not_let_an_outsider_link_another_teams_upload_to_his_version(
    carols_training_data, outsider, other_team
):
    """Item 3: referencing Carol's upload by hash from Otto's model version (which would make
    it readable through his version) is refused like a hash nobody uploaded; nothing is
    registered and nothing recorded."""
    RegisteredModelFactory(name="copycat", owner_team=other_team, actor=outsider)
    api = client_for(outsider)
    events = AuditEvent.objects.count()

    answers = [
        api.post("/api/v1/models/copycat/versions/", {"artifact": h}, format="json")
        for h in (digest(TRAINING_CSV), digest(NEVER_STORED))
    ]

    held, absent = answers
    assert held.status_code == absent.status_code == 400
    assert held.json()["message"].replace(digest(TRAINING_CSV), "H") == absent.json()[
        "message"
    ].replace(digest(NEVER_STORED), "H")
    assert not RegisteredModel.objects.get(name="copycat").versions.exists()
    assert AuditEvent.objects.count() == events


def test_a_declared_hash_does_not_make_the_bytes_readable_through_the_version(
    carols_training_data, outsider, other_team
):
    """A model version may declare any hash for an external artifact; that links no upload, so
    the store still answers 404."""
    RegisteredModelFactory(name="copycat", owner_team=other_team, actor=outsider)
    api = client_for(outsider)
    declared = api.post(
        "/api/v1/models/copycat/versions/",
        {"artifact_uri": "s3://x/y.pkl", "artifact_sha256": digest(TRAINING_CSV)},
        format="json",
    )
    assert declared.status_code == 201 and declared.json()["artifact_stored"] is False
    download = api.get(f"/api/v1/artifacts/{digest(TRAINING_CSV)}/download/")
    assert download.status_code == 404


def test_a_teammate_profiles_the_teams_training_data(carols_training_data, teammate):
    """The allowed path beside the attack: Tom may view Carol's dataset version, whose creator
    uploaded the bytes, so he reads them through it."""
    response = client_for(teammate).post(
        "/api/v1/models/credit-scoring/versions/1/baselines/",
        {"from_training_data": True},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["row_count"] == 60


def test_it_reads_bytes_the_outsider_uploaded_himself(outsider, other_team):
    """Otto's own dataset version counts once he uploaded the bytes himself: he holds them."""
    assert upload(outsider, TRAINING_CSV, "mine.csv").status_code == 201
    url = otto_trains_on(outsider, other_team, digest(TRAINING_CSV), 1)
    response = client_for(outsider).post(url, {"from_training_data": True}, format="json")
    assert response.status_code == 201, response.content


# --- item 8: taken names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "kind", "factory"),
    [
        ("/api/v1/models/", "model", RegisteredModelFactory),
        ("/api/v1/datasets/", "dataset", DatasetFactory),
    ],
)
def test_a_taken_name_is_refused_without_saying_whose(
    team, other_team, outsider, contributor, route, kind, factory
):
    """Item 8: a name taken in a team Otto cannot see gets the same 409, in the same words, as
    a name taken in his own team; it names no team, owner or date, and records nothing."""
    factory(name="credit-hidden", owner_team=team, actor=contributor)
    factory(name="market-own", owner_team=other_team, actor=outsider)
    model = {RegisteredModelFactory: RegisteredModel, DatasetFactory: Dataset}[factory]
    rows, events = model.objects.count(), AuditEvent.objects.count()
    api = client_for(outsider)

    hidden = api.post(route, {"name": "credit-hidden", "owner_team": "marketing"}, format="json")
    own = api.post(route, {"name": "market-own", "owner_team": "marketing"}, format="json")

    assert hidden.status_code == own.status_code == 409
    assert (
        hidden.json()["message"]
        == f"A {kind} named 'credit-hidden' already exists; choose another name."
    )
    assert hidden.json()["message"].replace("credit-hidden", "N") == own.json()["message"].replace(
        "market-own", "N"
    )
    assert hidden.json()["errors"] == own.json()["errors"]
    assert not any(detail in hidden.content.decode() for detail in HOLDER_DETAILS)
    assert model.objects.count() == rows
    assert AuditEvent.objects.count() == events
    assert api.get(f"{route}credit-hidden/").status_code == 404
