"""The artifact proxy paths: what the client uploads and lists, refused paths (climbing,
encoded, absolute, NUL), the size limit, and who may read or write under a root."""

from __future__ import annotations

import http.client
import json
import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import mlflow
import pytest
import requests

from integrations.models import MlflowArtifactFile
from integrations.tests.conftest import token_of
from registry.models import Artifact
from registry.services.artifacts import artifact_tmp_dir

pytestmark = pytest.mark.django_db(transaction=True)

PROXY = "/api/2.0/mlflow-artifacts/artifacts"


def raw(live_server, method: str, path: str, secret: str, body: bytes | None = None):
    """One request with the path sent exactly as given (no client normalises it)."""
    parts = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Authorization": f"Bearer {secret}"}
    if body is not None:
        headers["Content-Length"] = str(len(body))
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    try:
        return response.status, json.loads(data)
    except ValueError:
        return response.status, data


@pytest.fixture
def run_root(mlflow_as, contributor):
    mlflow_as(contributor)
    mlflow.set_experiment("artifacts")
    run = mlflow.start_run()
    yield f"{run.info.experiment_id}/{run.info.run_id}/artifacts", run.info.run_id
    mlflow.end_run()


def nothing_stored() -> bool:
    return (
        not MlflowArtifactFile.objects.exists()
        and not Artifact.objects.exists()
        and not os.listdir(artifact_tmp_dir())
    )


def test_it_refuses_paths_that_climb_or_hide(live_server, contributor, run_root):
    root, _ = run_root
    secret = token_of(contributor)
    for path in (
        f"{PROXY}/{root}/../../etc/passwd",
        f"{PROXY}/{root}/%2e%2e/%2e%2e/etc/passwd",
        f"{PROXY}/{root}/a/%2E%2E/%2E%2E/%2E%2E/x",
        f"{PROXY}//etc/passwd",
        f"{PROXY}/{root}/a%5C..%5Cb",
    ):
        status, answer = raw(live_server, "PUT", path, secret, b"secret")
        assert status == 400, (path, answer)
        assert answer["error_code"] == "INVALID_PARAMETER_VALUE", (path, answer)
    # A NUL is refused by Steward before any view reads the address.
    status, answer = raw(live_server, "PUT", f"{PROXY}/{root}/a%00b", secret, b"secret")
    assert status == 400 and "NUL" in answer["message"]
    status, answer = raw(live_server, "GET", f"{PROXY}?path={root}/a%00b", secret)
    assert status == 400 and "NUL" in answer["message"]
    status, answer = raw(live_server, "GET", f"{PROXY}?path=../../etc", secret)
    assert (status, answer["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    status, answer = raw(live_server, "GET", f"{PROXY}/{root}/../../../etc/passwd", secret)
    assert status == 400
    assert nothing_stored()


def test_it_answers_a_path_outside_every_root_as_absent(live_server, contributor, run_root):
    secret = token_of(contributor)
    for path in ("1/elsewhere/file", "1/0123/artifacts/x", "999/models/m-1/artifacts/x"):
        status, answer = raw(live_server, "PUT", f"{PROXY}/{path}", secret, b"x")
        assert (status, answer["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST"), path
    assert nothing_stored()


def test_it_refuses_an_artifact_over_the_limit_and_keeps_nothing(
    live_server, contributor, run_root, settings, tmp_path
):
    settings.ARTIFACT_MAX_BYTES = 1000
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 1001)
    with pytest.raises(requests.HTTPError) as refused:
        mlflow.log_artifact(str(big))
    assert "limit of 1000 bytes" in str(refused.value)
    status, answer = raw(
        live_server, "PUT", f"{PROXY}/{run_root[0]}/big.bin", token_of(contributor), b"y" * 1001
    )
    assert status == 413 and "limit of 1000 bytes" in answer["message"]
    assert nothing_stored()
    small = tmp_path / "small.bin"
    small.write_bytes(b"x" * 1000)
    mlflow.log_artifact(str(small))
    assert MlflowArtifactFile.objects.get().path == "small.bin"


def test_it_lists_and_serves_files_in_mlflows_shape(live_server, contributor, run_root, tmp_path):
    root, run_id = run_root
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "d" / "e" / "f.txt").write_text("deep")
    (tmp_path / "d" / "top.txt").write_text("top!")
    mlflow.log_artifacts(str(tmp_path / "d"), artifact_path="out")
    secret = token_of(contributor)
    status, answer = raw(live_server, "GET", f"{PROXY}?path={root}/out", secret)
    assert status == 200
    assert answer == {
        "files": [
            {"path": "e", "is_dir": True},
            {"path": "top.txt", "is_dir": False, "file_size": 4},
        ]
    }
    status, body = raw(live_server, "GET", f"{PROXY}/{root}/out/e/f.txt", secret)
    assert (status, body) == (200, b"deep")
    assert raw(live_server, "GET", f"{PROXY}?path={root}/nothing", secret) == (200, {})
    local = mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(tmp_path / "back"))
    assert (Path(local) / "out" / "e" / "f.txt").read_text() == "deep"


def test_it_keeps_the_files_of_an_ended_run(live_server, contributor, run_root):
    root, _ = run_root
    secret = token_of(contributor)
    assert raw(live_server, "PUT", f"{PROXY}/{root}/a.txt", secret, b"one")[0] == 200
    assert raw(live_server, "PUT", f"{PROXY}/{root}/b.txt", secret, b"two")[0] == 200
    assert raw(live_server, "DELETE", f"{PROXY}/{root}/b.txt", secret)[0] == 200  # still running
    assert raw(live_server, "PUT", f"{PROXY}/{root}/a.txt/x", secret, b"x")[0] == 409
    mlflow.end_run()
    assert raw(live_server, "PUT", f"{PROXY}/{root}/a.txt", secret, b"one")[0] == 200  # a retry
    status, answer = raw(live_server, "PUT", f"{PROXY}/{root}/a.txt", secret, b"changed")
    assert (status, answer["error_code"]) == (409, "RESOURCE_CONFLICT")
    status, answer = raw(live_server, "DELETE", f"{PROXY}/{root}/a.txt", secret)
    assert status == 409
    assert raw(live_server, "GET", f"{PROXY}/{root}/a.txt", secret) == (200, b"one")
    assert list(MlflowArtifactFile.objects.values_list("path", flat=True)) == ["a.txt"]


def test_it_hides_a_root_from_another_team(live_server, contributor, outsider, run_root):
    root, _ = run_root
    raw(live_server, "PUT", f"{PROXY}/{root}/a.txt", token_of(contributor), b"one")
    secret = token_of(outsider)
    for method, path, body in (
        ("GET", f"{PROXY}/{root}/a.txt", None),
        ("GET", f"{PROXY}?path={root}", None),
        ("PUT", f"{PROXY}/{root}/b.txt", b"two"),
        ("DELETE", f"{PROXY}/{root}/a.txt", None),
    ):
        status, answer = raw(live_server, method, path, secret, body)
        assert (status, answer["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST"), method
    assert list(MlflowArtifactFile.objects.values_list("path", flat=True)) == ["a.txt"]


def test_it_lets_a_reader_read_and_not_write(live_server, contributor, member, run_root):
    root, _ = run_root
    raw(live_server, "PUT", f"{PROXY}/{root}/a.txt", token_of(contributor), b"one")
    assert raw(live_server, "GET", f"{PROXY}/{root}/a.txt", token_of(member)) == (200, b"one")
    read_only = token_of(contributor, scopes=("read",))
    assert raw(live_server, "GET", f"{PROXY}/{root}/a.txt", read_only) == (200, b"one")
    for secret in (read_only, token_of(member)):
        status, answer = raw(live_server, "PUT", f"{PROXY}/{root}/b.txt", secret, b"two")
        assert (status, answer["error_code"]) == (403, "PERMISSION_DENIED")
        status, answer = raw(live_server, "DELETE", f"{PROXY}/{root}/a.txt", secret)
        assert (status, answer["error_code"]) == (403, "PERMISSION_DENIED")
    assert list(MlflowArtifactFile.objects.values_list("path", flat=True)) == ["a.txt"]


def test_it_keeps_nothing_of_a_body_cut_short(live_server, contributor, run_root):
    """A client that goes away mid-upload leaves no file, not part of one."""
    parts = urlsplit(live_server.url)
    request = (
        f"PUT {PROXY}/{run_root[0]}/cut.bin HTTP/1.1\r\nHost: {parts.hostname}\r\n"
        f"Authorization: Bearer {token_of(contributor)}\r\nContent-Length: 100\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + b"x" * 10
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"nothing was kept" in answer
    assert nothing_stored()
