"""Fixtures that run the test SAML IdP (``tests/sso/saml_idp.py``) as a subprocess on a free
port, with keys generated at start, and point Steward's settings at it.

Use as a plugin: ``pytest_plugins = ["tests.sso.saml_server"]``. If the IdP does not come up,
the test fails with its log (never skips)."""

from __future__ import annotations

import datetime
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor

from accounts.saml.config import sp_config_cache_clear, sp_config_dict
from config import saml
from tests.sso.saml_people import GROUP_ROLES, GROUP_TEAMS, PEOPLE
from tests.sso.server import free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30
SP_ENTITY_ID = "https://steward.test/saml/metadata/"


def key_pair_write(folder: Path, name: str) -> None:
    """A fresh RSA key and self-signed certificate: ``<name>.key`` and ``<name>.crt``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"steward-test-{name}")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    (folder / f"{name}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    (folder / f"{name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


@dataclass
class SamlIdp:
    """The running IdP: where it is, its files, and the tests' handle on it."""

    base: str
    folder: Path
    control_secret: str
    log: Path

    @property
    def metadata_url(self) -> str:
        return f"{self.base}/metadata/"

    @property
    def metadata_file(self) -> Path:
        return self.folder / "idp.xml"

    def control(self, **body) -> dict:
        response = requests.post(
            f"{self.base}/control/",
            json=body,
            headers={"X-Control": self.control_secret},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()

    def fault(self, name: str) -> None:
        """Spoil the responses it issues from now on ("" for none)."""
        self.control(fault=name)

    def set_groups(self, username: str, groups: list[str]) -> None:
        self.control(user=username, groups=groups)


def saml_provider_for(folder: Path, *, metadata_file: str = "", metadata_url: str = "", **kw):
    return saml.saml_provider(
        entity_id=SP_ENTITY_ID,
        key_file=str(folder / "sp.key"),
        cert_file=str(folder / "sp.crt"),
        idp_metadata_file=metadata_file,
        idp_metadata_url=metadata_url,
        name=kw.pop("name", "Test SAML"),
        key=kw.pop("key", "testsaml"),
        group_roles=kw.pop("group_roles", GROUP_ROLES),
        group_teams=kw.pop("group_teams", GROUP_TEAMS),
        **kw,
    )


@pytest.fixture(scope="session")
def saml_idp_process(live_server, tmp_path_factory) -> SamlIdp:
    folder = tmp_path_factory.mktemp("saml-idp")
    for name in ("sp", "idp", "other"):
        key_pair_write(folder, name)
    # The SP's metadata as Steward serves it for the live server (without the IdP's part).
    provider = saml_provider_for(folder, metadata_file=str(folder / "sp.crt"))
    sp_dict = sp_config_dict(provider, live_server.url)
    sp_dict.pop("metadata")
    sp_config = SPConfig()
    sp_config.load(sp_dict)
    (folder / "sp.xml").write_text(str(entity_descriptor(sp_config)))
    port = free_port()
    control_secret = secrets.token_hex(16)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("STEWARD_", "DJANGO_"))},
        "SAML_IDP_PORT": str(port),
        "SAML_IDP_FOLDER": str(folder),
        "SAML_IDP_CONTROL": control_secret,
        "PYTHONPATH": str(ROOT),
    }
    log = folder / "idp.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.sso.saml_idp"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    idp = SamlIdp(
        base=f"http://127.0.0.1:{port}", folder=folder, control_secret=control_secret, log=log
    )
    try:
        _wait_until_up(idp, process)
        idp.metadata_file.write_text(requests.get(idp.metadata_url, timeout=5).text)
        yield idp
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_until_up(idp: SamlIdp, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the test SAML IdP exited:\n{idp.log.read_text()[-3000:]}")
        try:
            if requests.get(idp.metadata_url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"the test SAML IdP did not start:\n{idp.log.read_text()[-3000:]}")


def saml_settings_apply(settings, idp: SamlIdp, *, metadata_url: str = "", **overrides):
    """Point Steward (this process, so the live server too) at ``idp``: its metadata from the
    URL when given, else from the file saved at start."""
    provider = saml_provider_for(
        idp.folder,
        metadata_file="" if metadata_url else str(idp.metadata_file),
        metadata_url=metadata_url,
        **overrides,
    )
    settings.STEWARD_SAML = provider
    sp_config_cache_clear()
    return provider


@pytest.fixture
def saml_idp(saml_idp_process, settings):
    """The IdP, with Steward configured for it; faults and group changes undone after."""
    saml_settings_apply(settings, saml_idp_process)
    yield saml_idp_process
    saml_idp_process.fault("")
    for username, person in PEOPLE.items():
        saml_idp_process.set_groups(username, person["groups"])
    sp_config_cache_clear()
