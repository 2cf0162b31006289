"""Path traversal through every API field and upload name that reaches storage.

Every variant of the generated corpus (``traversal_corpus``) goes through every field. The
answer must be a 4xx, or the name neutralised (the bytes stored under their content address,
the name kept only as a label, a URI kept as text and never opened). Either way the file system
is checked, not only the status: the sentinel outside the roots is unchanged and never opened,
no file appears or changes outside the roots, nothing is left in the store's tmp/, and a refusal
leaves no row behind. Links planted inside the store are refused for reads and never written
through."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from core.models import AuditEvent
from core.safe_files import UnsafeStoragePath
from governance.models import GeneratedDocument
from governance.services.documents import _pdf_store
from monitoring.models import BaselineProfile
from registry.models import Artifact, DatasetVersion, ModelVersion
from tests.factories import DatasetFactory, RegisteredModelFactory
from tests.hardening.traversal_corpus import (
    SENTINEL_TEXT,
    Layout,
    StorageWatch,
    artifact_symlink_cases,
    document_symlink_cases,
    traversal_variants,
)

pytestmark = pytest.mark.django_db

CSV = b"income,age\n" + b"".join(f"{1000 * i},{20 + i % 40}\n".encode() for i in range(50))
INPUT_SCHEMA = {"columns": [{"name": "income", "type": "float"}, {"name": "age", "type": "int"}]}
COUNTED = (Artifact, ModelVersion, DatasetVersion, BaselineProfile, GeneratedDocument, AuditEvent)


@pytest.fixture
def layout(tmp_path, settings) -> Layout:
    built = Layout.make(tmp_path)
    settings.ARTIFACT_ROOT = built.artifact_root
    settings.DOCUMENTS_ROOT = built.documents_root
    return built


@pytest.fixture
def api(contributor) -> APIClient:
    client = APIClient()
    client.force_authenticate(contributor)
    return client


@pytest.fixture
def variants(layout):
    found = traversal_variants(layout.sentinel)
    assert len(found) >= 200
    return found


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


class Probe:
    """Sends one request with the file system and the database watched; collects problems."""

    def __init__(self, layout: Layout, field: str):
        self.layout = layout
        self.field = field
        self.tried = 0
        self.problems: list[str] = []
        self.outcomes: dict[int, int] = {}

    def send(self, value: str, request: Callable[[], object]):
        self.tried += 1
        outside = self.layout.outside_snapshot()
        artifacts = self.layout.files_in(self.layout.artifact_root)
        counts = row_counts()
        watch = StorageWatch(self.layout)
        with watch.active():
            response = request()
            body = body_of(response)
        self.outcomes[response.status_code] = self.outcomes.get(response.status_code, 0) + 1

        def problem(text: str) -> None:
            self.problems.append(f"{self.field} {value!r}: {text}")

        if response.status_code >= 500:
            problem(f"answered {response.status_code}")
        if SENTINEL_TEXT.encode() in body or b"root:x:0:0" in body:
            problem("the response leaks a file from outside the store")
        if self.layout.outside_snapshot() != outside:
            problem("a file outside the roots appeared or changed")
        if self.layout.sentinel.read_text() != SENTINEL_TEXT:
            problem("the sentinel changed")
        if escapes := watch.escapes():
            problem(f"touched outside the roots: {escapes[:3]}")
        tmp = self.layout.artifact_root / "tmp"
        if tmp.is_dir() and not tmp.is_symlink() and any(tmp.iterdir()):
            problem("a temporary upload was left behind")
        if 400 <= response.status_code < 500:
            if row_counts() != counts:
                problem(f"refused but rows changed: {counts} -> {row_counts()}")
            if self.layout.files_in(self.layout.artifact_root) != artifacts:
                problem("refused but the store changed")
        return response, artifacts

    def check(self) -> None:
        print(f"{self.field}: {self.tried} variants, outcomes {self.outcomes}")
        assert not self.problems, "\n".join(self.problems[:25])


# --- upload names ---------------------------------------------------------------------------


def multipart(name: str, payload: bytes) -> tuple[bytes, str]:
    boundary = "steward-boundary-7f3a"
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + payload + f"\r\n--{boundary}--\r\n".encode(), boundary


def check_stored(probe: Probe, value: str, response, payload: bytes, before: set[str]) -> None:
    """A 2xx upload kept the bytes at their content address only and the name as a label."""
    if response.status_code not in (200, 201):
        return
    digest = hashlib.sha256(payload).hexdigest()
    artifact = Artifact.objects.filter(sha256=digest).first()
    expected = f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"
    if artifact is None or response.json()["sha256"] != digest:
        probe.problems.append(f"{probe.field} {value!r}: accepted but no artifact row")
        return
    if probe.layout.files_in(probe.layout.artifact_root) != before | {expected}:
        probe.problems.append(f"{probe.field} {value!r}: stored somewhere else than {expected}")
    if (probe.layout.artifact_root / expected).read_bytes() != payload:
        probe.problems.append(f"{probe.field} {value!r}: stored bytes differ")
    name = artifact.original_name
    if any(ch in name for ch in "/\\\x00\r\n") or name in (".", ".."):
        probe.problems.append(f"{probe.field} {value!r}: label kept a path: {name!r}")


def test_upload_names_in_multipart_are_neutralised(api, layout, variants):
    probe = Probe(layout, "multipart filename")
    for index, variant in enumerate(variants):
        payload = f"multipart-{index}".encode()
        body, boundary = multipart(variant.value, payload)
        response, before = probe.send(
            variant.value,
            lambda body=body, boundary=boundary: api.generic(
                "POST",
                "/api/v1/artifacts/",
                body,
                content_type=f"multipart/form-data; boundary={boundary}",
            ),
        )
        check_stored(probe, variant.value, response, payload, before)
    probe.check()


def test_upload_names_in_the_filename_parameter_are_neutralised(api, layout, variants):
    probe = Probe(layout, "?filename=")
    for index, variant in enumerate(variants):
        payload = f"raw-param-{index}".encode()
        url = f"/api/v1/artifacts/?filename={quote(variant.value, safe='')}"
        response, before = probe.send(
            variant.value,
            lambda url=url, payload=payload: api.generic(
                "POST", url, payload, content_type="application/octet-stream"
            ),
        )
        check_stored(probe, variant.value, response, payload, before)
    probe.check()


def test_upload_names_in_content_disposition_are_neutralised(api, layout, variants):
    probe = Probe(layout, "Content-Disposition filename")
    for index, variant in enumerate(variants):
        payload = f"raw-header-{index}".encode()
        header = f'attachment; filename="{variant.value}"'
        response, before = probe.send(
            variant.value,
            lambda header=header, payload=payload: api.generic(
                "POST",
                "/api/v1/artifacts/",
                payload,
                content_type="application/octet-stream",
                HTTP_CONTENT_DISPOSITION=header,
            ),
        )
        check_stored(probe, variant.value, response, payload, before)
    probe.check()


# --- addresses that name a stored file ------------------------------------------------------


def test_artifact_download_addresses_are_refused(api, layout, variants):
    probe = Probe(layout, "artifact download path")
    for variant in variants:
        for url in (
            f"/api/v1/artifacts/{quote(variant.value, safe='')}/download/",
            f"/api/v1/artifacts/{variant.value}/download/",
        ):
            response, _ = probe.send(variant.value, lambda url=url: api.get(url))
            # Unencoded, "#..." and "?..." cut the address back to the list: no file, no 4xx.
            listed = response.status_code == 200 and not response.streaming
            listed = listed and "results" in response.json()
            if not (400 <= response.status_code < 500 or listed):
                probe.problems.append(f"{url!r}: answered {response.status_code}")
    probe.check()


@pytest.fixture
def done_document(contributor, team, django_capture_on_commit_callbacks, api):
    model = RegisteredModelFactory(name="credit-model", owner_team=team)
    version = api.post(
        "/api/v1/models/credit-model/versions/",
        {"artifact_uri": "s3://m/1.pkl", "artifact_sha256": "a" * 64},
        format="json",
    )
    assert version.status_code == 201, version.content
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            "/api/v1/models/credit-model/versions/1/documents/",
            {"template": "model-card"},
            format="json",
        )
    assert created.status_code == 202, created.content
    document = GeneratedDocument.objects.get(pk=created.json()["id"])
    assert document.status == "done"
    return model, document


def test_document_download_parameters_are_refused(api, layout, variants, done_document):
    _, document = done_document
    base = "/api/v1/models/credit-model/versions/1/documents"
    probe = Probe(layout, "document download")
    for variant in variants:
        encoded = quote(variant.value, safe="")
        for url in (
            f"{base}/{document.pk}/download/?format={encoded}",
            f"{base}/{encoded}/download/?format=pdf",
        ):
            response, _ = probe.send(variant.value, lambda url=url: api.get(url))
            if not 400 <= response.status_code < 500:
                probe.problems.append(f"{url!r}: answered {response.status_code}")
    probe.check()
    assert probe.tried >= 400


# --- URIs and hashes kept as metadata -------------------------------------------------------


def test_model_version_artifact_uris_are_kept_as_text_and_never_opened(api, layout, variants, team):
    RegisteredModelFactory(name="uris", owner_team=team)
    probe = Probe(layout, "model version artifact_uri")
    for variant in variants:
        response, _ = probe.send(
            variant.value,
            lambda value=variant.value: api.post(
                "/api/v1/models/uris/versions/",
                {"artifact_uri": value, "artifact_sha256": "b" * 64},
                format="json",
            ),
        )
        if response.status_code == 201:
            number = response.json()["version"]
            stored = ModelVersion.objects.get(registered_model__name="uris", version=number)
            # DRF trims surrounding white space; nothing else is changed.
            if stored.artifact_uri != variant.value.strip():
                probe.problems.append(f"artifact_uri {variant.value!r}: stored altered")
        elif "\x00" not in variant.value:
            probe.problems.append(f"artifact_uri {variant.value!r}: {response.status_code}")
    probe.check()


@pytest.mark.parametrize("field", ["artifact", "artifact_sha256"])
def test_model_version_artifact_hashes_refuse_paths(api, layout, variants, team, field):
    RegisteredModelFactory(name="hashes", owner_team=team)
    probe = Probe(layout, f"model version {field}")
    for variant in variants:
        payload = {field: variant.value}
        if field == "artifact_sha256":
            payload["artifact_uri"] = "s3://m/x.pkl"
        response, _ = probe.send(
            variant.value,
            lambda payload=payload: api.post(
                "/api/v1/models/hashes/versions/", payload, format="json"
            ),
        )
        if response.status_code != 400:
            probe.problems.append(f"{field} {variant.value!r}: {response.status_code}")
    probe.check()


def test_dataset_version_content_hashes_refuse_paths(api, layout, variants, team):
    DatasetFactory(name="hashes", owner_team=team)
    probe = Probe(layout, "dataset version content_hash")
    for variant in variants:
        response, _ = probe.send(
            variant.value,
            lambda value=variant.value: api.post(
                "/api/v1/datasets/hashes/versions/",
                {"uri": "s3://d/x.csv", "content_hash": value},
                format="json",
            ),
        )
        if response.status_code != 400:
            probe.problems.append(f"content_hash {variant.value!r}: {response.status_code}")
    probe.check()


def test_dataset_uris_are_text_and_baselines_read_the_store_by_hash(
    api, layout, variants, team, contributor
):
    """A dataset version's URI is stored as given; a baseline built from it as training data
    reads the bytes from the artifact store by content hash, never from the URI."""
    upload = api.generic(
        "POST",
        "/api/v1/artifacts/?filename=train.csv",
        CSV,
        content_type="application/octet-stream",
    )
    assert upload.status_code == 201, upload.content
    digest = upload.json()["sha256"]
    DatasetFactory(name="training", owner_team=team)
    RegisteredModelFactory(name="baselined", owner_team=team)
    uri_probe = Probe(layout, "dataset version uri")
    baseline_probe = Probe(layout, "baseline from training data (dataset uri)")
    for variant in variants:
        created, _ = uri_probe.send(
            variant.value,
            lambda value=variant.value: api.post(
                "/api/v1/datasets/training/versions/",
                {"uri": value, "content_hash": digest},
                format="json",
            ),
        )
        if created.status_code != 201:
            if "\x00" not in variant.value:
                uri_probe.problems.append(f"uri {variant.value!r}: {created.status_code}")
            continue
        number = created.json()["version"]
        if DatasetVersion.objects.get(dataset__name="training", version=number).uri != (
            variant.value.strip()
        ):
            uri_probe.problems.append(f"uri {variant.value!r}: stored altered")
        version = api.post(
            "/api/v1/models/baselined/versions/",
            {
                "artifact_uri": "s3://m/x.pkl",
                "artifact_sha256": "c" * 64,
                "input_schema": INPUT_SCHEMA,
                "datasets": [{"dataset": "training", "version": number, "role": "train"}],
            },
            format="json",
        )
        assert version.status_code == 201, version.content
        url = f"/api/v1/models/baselined/versions/{version.json()['version']}/baselines/"
        built, _ = baseline_probe.send(
            variant.value,
            lambda url=url: api.post(url, {"from_training_data": True}, format="json"),
        )
        if built.status_code != 201 or built.json()["row_count"] != 50:
            baseline_probe.problems.append(f"baseline {variant.value!r}: {built.status_code}")
    uri_probe.check()
    baseline_probe.check()
    assert baseline_probe.tried >= 200


# --- links planted inside the store ---------------------------------------------------------


@pytest.mark.parametrize("case", artifact_symlink_cases(), ids=lambda case: case.name)
def test_a_link_in_the_artifact_store_is_not_followed_for_reads(api, layout, case, team):
    """The row says the bytes are in the store; a link sits where they should be."""
    stored = api.generic(
        "POST", "/api/v1/artifacts/?filename=m.csv", CSV, content_type="application/octet-stream"
    )
    digest = stored.json()["sha256"]
    case.plant(layout.artifact_root, layout, digest)
    probe = Probe(layout, f"download through {case.name}")
    response, _ = probe.send(case.name, lambda: api.get(f"/api/v1/artifacts/{digest}/download/"))
    assert response.status_code == 409, body_of(response)
    assert "link" in response.json()["message"]
    DatasetFactory(name="linked", owner_team=team)
    api.post(
        "/api/v1/datasets/linked/versions/",
        {"uri": "s3://d/1.csv", "content_hash": digest},
        format="json",
    )
    RegisteredModelFactory(name="linked-model", owner_team=team)
    api.post(
        "/api/v1/models/linked-model/versions/",
        {
            "artifact_uri": "s3://m/1.pkl",
            "artifact_sha256": "d" * 64,
            "input_schema": INPUT_SCHEMA,
            "datasets": [{"dataset": "linked", "version": 1, "role": "train"}],
        },
        format="json",
    )
    baseline, _ = probe.send(
        case.name,
        lambda: api.post(
            "/api/v1/models/linked-model/versions/1/baselines/",
            {"from_training_data": True},
            format="json",
        ),
    )
    assert baseline.status_code == 409 and not BaselineProfile.objects.exists()
    probe.check()


@pytest.mark.parametrize("case", artifact_symlink_cases(), ids=lambda case: case.name)
def test_a_link_in_the_artifact_store_is_not_written_through(api, layout, case):
    """The link is planted before the bytes arrive: the upload is refused or replaces the link
    with a real file; nothing is written outside."""
    digest = hashlib.sha256(CSV).hexdigest()
    case.plant(layout.artifact_root, layout, digest)
    probe = Probe(layout, f"upload through {case.name}")
    response, _ = probe.send(
        case.name,
        lambda: api.generic(
            "POST",
            "/api/v1/artifacts/?filename=m.csv",
            CSV,
            content_type="application/octet-stream",
        ),
    )
    probe.check()
    target = layout.artifact_root / f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"
    if response.status_code == 201:
        assert not target.is_symlink() and target.read_bytes() == CSV
    else:
        assert response.status_code == 409 and not Artifact.objects.exists()


def test_a_link_for_the_upload_tmp_folder_is_refused(api, layout):
    (layout.artifact_root / "tmp").symlink_to(layout.outside)
    probe = Probe(layout, "tmp is a link")
    response, _ = probe.send(
        "tmp",
        lambda: api.generic(
            "POST",
            "/api/v1/artifacts/?filename=m.bin",
            b"x",
            content_type="application/octet-stream",
        ),
    )
    assert response.status_code == 409
    assert sorted(p.name for p in layout.outside.iterdir()) == ["sentinel.txt"]
    assert not Artifact.objects.exists()
    probe.check()


@pytest.mark.parametrize("case", document_symlink_cases(), ids=lambda case: case.name)
def test_a_link_in_the_documents_folder_is_not_followed(api, layout, case, done_document):
    _, document = done_document
    case.plant(layout.documents_root, layout, document.pdf_sha256)
    url = f"/api/v1/models/credit-model/versions/1/documents/{document.pk}/download/?format=pdf"
    probe = Probe(layout, f"pdf through {case.name}")
    response, _ = probe.send(case.name, lambda: api.get(url))
    assert response.status_code == 409
    probe.check()


@pytest.mark.parametrize("case", document_symlink_cases(), ids=lambda case: case.name)
def test_a_link_where_a_new_pdf_goes_is_not_written_through(layout, case):
    """Storing a PDF where a link was planted either replaces the link with a real file or is
    refused; the sentinel and the folder outside are untouched."""
    content = b"%PDF-1.4 not really"
    digest = hashlib.sha256(content).hexdigest()
    case.plant(layout.documents_root, layout, digest)
    outside = layout.outside_snapshot()
    try:
        relative = _pdf_store(content, digest)
    except UnsafeStoragePath:
        assert case.name == "pdf-dir-is-link"
    else:
        stored = layout.documents_root / relative
        assert not stored.is_symlink() and stored.read_bytes() == content
    assert layout.outside_snapshot() == outside
    assert layout.sentinel.read_text() == SENTINEL_TEXT
