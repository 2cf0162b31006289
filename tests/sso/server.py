"""Fixtures that run the test identity provider (``tests/sso/provider``) as a subprocess on a
free port, registered for the live Steward server, and point Steward's settings at it.

Use as a plugin: ``pytest_plugins = ["tests.sso.server"]``. The provider is started by the
tests themselves, so it is never "missing": if it does not come up, the test fails with its log.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from accounts.sso.discovery import provider_cache_clear
from config import sso
from tests.sso.people import CLIENT_ID, CLIENT_SECRET, GROUP_ROLES, GROUP_TEAMS, PEOPLE

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60


@dataclass
class SsoProvider:
    """The running provider: where it is, and the tests' handle on it."""

    base: str
    issuer: str
    control_secret: str
    log: Path

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
        """Spoil the tokens it issues from now on ("" for none)."""
        self.control(fault=name)

    def set_groups(self, username: str, groups: list[str]) -> None:
        self.control(user=username, groups=groups)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def sso_provider(live_server, tmp_path_factory) -> SsoProvider:
    folder = tmp_path_factory.mktemp("sso-provider")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = folder / "key.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    port = free_port()
    control_secret = secrets.token_hex(16)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("STEWARD_", "DJANGO_"))},
        "DJANGO_SETTINGS_MODULE": "tests.sso.provider.settings",
        "SSO_PROVIDER_PORT": str(port),
        "SSO_PROVIDER_DB": str(folder / "provider.sqlite3"),
        "SSO_PROVIDER_KEY_FILE": str(key_file),
        "SSO_PROVIDER_CONTROL": control_secret,
        "PYTHONPATH": str(ROOT),
    }
    log = folder / "provider.log"
    seeded = subprocess.run(
        [sys.executable, "-m", "tests.sso.provider.seed", live_server.url],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if seeded.returncode != 0:
        pytest.fail(f"the test identity provider could not be set up:\n{seeded.stderr[-3000:]}")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    provider = SsoProvider(base=base, issuer=f"{base}/o", control_secret=control_secret, log=log)
    try:
        _wait_until_up(provider, process)
        yield provider
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_until_up(provider: SsoProvider, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    url = f"{provider.issuer}/.well-known/openid-configuration"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the test identity provider exited:\n{provider.log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"the test identity provider did not start:\n{provider.log.read_text()[-3000:]}")


def oidc_settings_apply(settings, provider: SsoProvider | None, *, issuer: str = "", **overrides):
    """Point Steward (this process, so the live server too) at ``provider``."""
    config = sso.oidc_provider(
        issuer=issuer or provider.issuer,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        name="Test IdP",
        key="testidp",
        group_roles=overrides.pop("group_roles", GROUP_ROLES),
        group_teams=overrides.pop("group_teams", GROUP_TEAMS),
        timeout=overrides.pop("timeout", 5),
        **overrides,
    )
    for name, value in sso.oidc_settings(config, list(settings.AUTHENTICATION_BACKENDS)).items():
        setattr(settings, name, value)
    provider_cache_clear()
    return config


@pytest.fixture
def idp(sso_provider, settings):
    """The provider, with Steward configured for it; faults and group changes undone after."""
    oidc_settings_apply(settings, sso_provider)
    yield sso_provider
    sso_provider.fault("")
    for username, person in PEOPLE.items():
        sso_provider.set_groups(username, person["groups"])
    provider_cache_clear()
