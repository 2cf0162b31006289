"""A throwaway OpenLDAP server (Debian's slapd) with the directory of tests/directory_data.py.

One slapd per test session, on a free port, started by python-ldap's ``slapdtest`` (about 0.3 s).
Tests that change the directory do it through the ``ldap_directory`` fixture, which puts every
change back when the test ends. Test modules load these fixtures with
``pytest_plugins = ["tests.ldap_server"]``.

Without slapd the tests skip; under CI=true they fail instead (as tests/services.py does for
PostgreSQL).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.directory_data import SUFFIX, Directory, directory_ldif, ldap_settings_apply
from tests.services import service_missing


def _require_slapd() -> None:
    """Skip without slapd and ldapadd; under CI=true a missing server fails the test."""
    sbin = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    missing = [cmd for cmd in ("slapd", "ldapadd") if not shutil.which(cmd, path=sbin)]
    if not missing:
        return
    service_missing(
        f"needs OpenLDAP ({', '.join(missing)} not found): apt-get install slapd ldap-utils"
    )


@pytest.fixture(scope="session")
def ldap_server(tmp_path_factory) -> Iterator[Directory]:
    """slapd on a free port, loaded with the directory of tests/directory_data.py."""
    _require_slapd()
    import slapdtest  # sets LDAPNOINIT=1: no ~/.ldaprc or ldap.conf in the tests

    class StewardSlapd(slapdtest.SlapdObject):
        openldap_schema_files = ("core.ldif", "cosine.ldif", "inetorgperson.ldif", "nis.ldif")
        suffix = SUFFIX
        # Its run folder; slapdtest reads $TMP once at import and else uses the current folder.
        TMPDIR = str(tmp_path_factory.mktemp("slapd"))
        slapd_loglevel = "0"

    server = StewardSlapd()
    server.start()
    try:
        server.ldapadd(directory_ldif())
        yield Directory(
            uri=server.ldap_uri,
            root_dn=server.root_dn,
            root_password=server.root_pw,
            ca_file=server.cafile,
        )
    finally:
        server.stop()


@pytest.fixture
def ldap_directory(ldap_server) -> Iterator[Directory]:
    """The session's directory; whatever the test changes in it is put back afterwards."""
    yield ldap_server
    ldap_server.restore()


@pytest.fixture
def ldap_login(settings, ldap_directory) -> Directory:
    """Steward with LDAP login on, against the test directory."""
    ldap_settings_apply(settings, ldap_directory)
    return ldap_directory
