"""A database that goes away answers 503 with Retry-After, never a 500 and never a half-saved
write (core.database_errors).

On the real PostgreSQL, the request's own connection is killed with pg_terminate_backend from
another connection: in the middle of a write (after the service wrote its first rows, before
the next), before a read, and the database is unreachable at the start of a request (a closed
port). Every table is counted before and after, and the audit chain still verifies; the next
request works again. Without PostgreSQL, SQLite's "database is locked" is a 503 too, and errors
that point at a bug (IntegrityError, "no such table") are not disguised as outages."""

from __future__ import annotations

import socket
import sqlite3
from dataclasses import dataclass, field

import psycopg
import pytest
from django.apps import apps
from django.db import IntegrityError, OperationalError, ProgrammingError, connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from core.database_errors import CODE, RETRY_AFTER_SECONDS, is_database_unavailable
from core.eventlog import audit_chain_verify
from core.models import AuditEvent
from governance.models import Decision
from governance.services import transitions
from registry.choices import VersionStatus
from registry.models import LineageNode, ModelVersion
from registry.services import catalogue
from tests.factories import ModelVersionFactory, RegisteredModelFactory, fake_sha256
from tests.services import require_postgres

WHY = "Ready for review: metrics and lineage are in."


def real_pg(test):
    """On the real PostgreSQL, with transactions committed as in production."""
    return pytest.mark.postgres(pytest.mark.django_db(transaction=True)(test))


def row_counts() -> dict[str, int]:
    """Rows in every table of the project, by model."""
    # Every table Steward writes (an unmanaged model, such as the partitions' admin entry,
    # has none of its own).
    return {m._meta.label: m._default_manager.count() for m in apps.get_models() if m._meta.managed}


def assert_503(response, *, api: bool) -> None:
    assert response.status_code == 503, response.content[:500]
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    if api:
        body = response.json()
        assert body["code"] == CODE and body["errors"] == {}
        assert "database is unavailable" in body["message"]
    else:
        assert response["Content-Type"].startswith("text/html")
        assert "cannot reach its database" in response.content.decode()


@dataclass
class Killer:
    """Terminates PostgreSQL backends from a connection of its own, as an administrator (or a
    failover) would, and counts what it terminated."""

    terminated: list[int] = field(default_factory=list)

    def request_backend(self) -> int:
        """The backend serving Django's connection in this thread (the request's)."""
        connection.ensure_connection()
        return connection.connection.info.backend_pid

    def terminate(self, pid: int) -> None:
        db = connection.settings_dict
        with psycopg.connect(
            dbname=db["NAME"],
            user=db["USER"],
            password=db.get("PASSWORD") or None,
            host=db["HOST"] or "127.0.0.1",
            port=db["PORT"] or 5432,
            autocommit=True,
        ) as other:
            # Waits (up to 5 s) until the backend has gone.
            [[done]] = other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchall()
        assert done, f"backend {pid} was not terminated"
        self.terminated.append(pid)

    def terminate_request_backend(self) -> None:
        self.terminate(self.request_backend())

    def before(self, monkeypatch, owner, name: str):
        """Kill the request's backend just before ``owner.name`` runs, once."""
        original = getattr(owner, name)

        def killing(*args, **kwargs):
            monkeypatch.setattr(owner, name, original)
            self.terminate_request_backend()
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, killing)


@pytest.fixture
def killer(db):
    require_postgres()
    return Killer()


@pytest.fixture
def scorer(team, contributor):
    return RegisteredModelFactory(actor=contributor, name="credit-scorer", owner_team=team)


@pytest.fixture
def api(contributor) -> APIClient:
    client = APIClient()
    client.force_login(contributor)
    return client


VERSION_PAYLOAD = {
    "artifact_uri": "s3://models/scorer.pkl",
    "artifact_sha256": fake_sha256("scorer"),
    "framework": "sklearn",
    "metrics": {"auc": 0.9},
}


# --- PostgreSQL: the connection killed -------------------------------------------------------


@real_pg
def test_a_version_registration_cut_off_mid_write_is_a_503_and_leaves_nothing(
    killer, api, scorer, monkeypatch
):
    """The version row is written, then the backend is terminated before its lineage is: the
    transaction is lost whole, and the same request sent again registers the version."""
    before, chain_before = row_counts(), audit_chain_verify()
    killer.before(monkeypatch, catalogue, "_record_version_lineage")

    url = f"/api/v1/models/{scorer.name}/versions/"
    response = api.post(url, VERSION_PAYLOAD, format="json")

    assert_503(response, api=True)
    assert len(killer.terminated) == 1
    assert row_counts() == before
    assert_chain_unchanged(chain_before)
    again = api.post(url, VERSION_PAYLOAD, format="json")  # Django has reconnected
    assert again.status_code == 201, again.content
    version = ModelVersion.objects.get(registered_model=scorer)
    assert version.version == 1
    assert LineageNode.objects.filter(key=version.natural_key).exists()


@real_pg
def test_a_decision_from_the_page_cut_off_before_its_audit_event_is_a_503_page(
    killer, client, scorer, contributor, settings, monkeypatch
):
    """The browser's decide form: the decision row and the new status are written, then the
    backend dies before the audit event is appended. Nothing of it remains; the chain holds."""
    settings.DOCUMENTS_AUTO_GENERATE = False
    draft = ModelVersionFactory(actor=contributor, registered_model=scorer)
    client.force_login(contributor)
    before, chain_before = row_counts(), audit_chain_verify()
    killer.before(monkeypatch, transitions, "audit_event_append")

    url = reverse("governance:version-decide", args=[scorer.name, draft.version])
    response = client.post(url, {"action": "submit", "motivation": WHY})

    assert_503(response, api=False)
    assert len(killer.terminated) == 1
    assert row_counts() == before
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT and not Decision.objects.exists()
    assert_chain_unchanged(chain_before)
    again = client.post(url, {"action": "submit", "motivation": WHY})
    assert again.status_code == 302
    draft.refresh_from_db()
    assert draft.status == VersionStatus.SUBMITTED
    assert AuditEvent.objects.filter(action="version.submit").count() == 1
    assert audit_chain_verify().ok


@real_pg
def test_a_read_on_a_dropped_connection_is_a_503_and_the_next_one_works(
    killer, contributor, scorer
):
    """The server restarted between two requests: the first query of the next request fails on
    the dead connection (API with a token: DRF meets it; a page: the session load meets it)."""
    from accounts.services.tokens import token_create

    _, secret = token_create(actor=contributor, name="ci", scopes=["read"])
    token_client = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")
    killer.terminate_request_backend()
    assert_503(token_client.get("/api/v1/models/"), api=True)
    listed = token_client.get("/api/v1/models/")
    assert listed.status_code == 200 and listed.json()["results"][0]["name"] == scorer.name

    from django.test import Client

    page = Client()
    page.force_login(contributor)
    killer.terminate_request_backend()
    assert_503(page.get(reverse("registry:model-list")), api=False)
    assert scorer.name in page.get(reverse("registry:model-list")).content.decode()
    assert len(killer.terminated) == 2


@real_pg
def test_a_database_down_at_the_start_of_a_request_is_a_503(killer, contributor, scorer):
    """Nothing listens where the database should be (connection refused): 503, not 500, for
    the API and for a page; once it is back, requests work again."""
    token_client = APIClient()
    token_client.force_authenticate(contributor)
    page_client = APIClient()
    page_client.force_login(contributor)
    saved = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = closed_port()
    try:
        assert_503(token_client.get("/api/v1/models/"), api=True)
        assert_503(page_client.get(reverse("registry:model-list")), api=False)
        assert_503(
            token_client.post(
                "/api/v1/models/", {"name": "x", "owner_team": "credit-risk"}, format="json"
            ),
            api=True,
        )
    finally:
        connection.close()
        connection.settings_dict["PORT"] = saved
    assert token_client.get("/api/v1/models/").status_code == 200
    assert page_client.get(reverse("registry:model-list")).status_code == 200


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_chain_unchanged(before) -> None:
    after = audit_chain_verify()
    assert after.ok, after.reason
    assert (after.checked, after.head_hash) == (before.checked, before.head_hash)


# --- Any database: what is an outage and what is a bug ------------------------------------------


def sqlite_error(message: str) -> OperationalError:
    """The error Django raises for sqlite3's ``message`` (the driver's error as its cause)."""
    try:
        try:
            raise sqlite3.OperationalError(message)
        except sqlite3.OperationalError as cause:
            raise OperationalError(message) from cause
    except OperationalError as exc:
        return exc


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (sqlite_error("database is locked"), True),
        (sqlite_error("database table is locked"), True),
        (sqlite_error("unable to open database file"), True),
        (sqlite_error("no such table: registry_modelversion"), False),
        (sqlite_error("table registry_tag has no column named x"), False),
        (OperationalError("terminating connection due to administrator command"), True),
        (IntegrityError("duplicate key value violates unique constraint"), False),
        (ProgrammingError("relation does not exist"), False),
        (ValueError("not a database error"), False),
    ],
)
def test_it_tells_an_outage_from_a_bug(error, unavailable):
    assert is_database_unavailable(error) is unavailable


@pytest.mark.django_db
def test_a_locked_sqlite_database_is_a_503_and_a_missing_table_stays_an_error(
    contributor, scorer, monkeypatch
):
    """A read that meets "database is locked" (SQLite's busy timeout ran out) is a 503; the
    same path failing with "no such table" (a migration not run) is not hidden behind it."""
    from registry import selectors

    client = APIClient()
    client.force_authenticate(contributor)
    # The API's model list reads registered_model_list_brief (registry.selectors_api).
    original = selectors.registered_model_list_brief

    def failing(message):
        def registered_model_list_brief(user):
            raise sqlite_error(message)

        return registered_model_list_brief

    monkeypatch.setattr(selectors, "registered_model_list_brief", failing("database is locked"))
    assert_503(client.get("/api/v1/models/"), api=True)
    monkeypatch.setattr(selectors, "registered_model_list_brief", failing("no such table: x"))
    with pytest.raises(OperationalError, match="no such table"):
        client.get("/api/v1/models/")
    monkeypatch.setattr(selectors, "registered_model_list_brief", original)
    assert client.get("/api/v1/models/").json()["results"][0]["name"] == scorer.name


@pytest.mark.django_db
def test_a_conflicting_write_keeps_its_409(api, scorer):
    """Errors services raise on purpose are untouched: a duplicate model name is still a 409."""
    response = api.post(
        "/api/v1/models/", {"name": scorer.name, "owner_team": "credit-risk"}, format="json"
    )
    assert response.status_code == 409 and response.json()["code"] == "conflict"


@pytest.mark.django_db
def test_the_database_failing_while_the_session_is_saved_is_a_503(contributor, monkeypatch):
    """SessionMiddleware saves the session after every middleware inside it has answered, out of
    the 503 middleware's reach; handler500 still knows the error and answers 503."""
    from django.contrib.sessions.backends.db import SessionStore

    original = SessionStore.save

    def save(self, must_create=False):
        if must_create:  # the new session the login view creates: fine
            return original(self, must_create=True)
        # the save of the signed-in session by SessionMiddleware, on the way out
        raise OperationalError("server closed the connection unexpectedly")

    contributor.set_password("a-long-password-for-this-test")
    contributor.save()
    monkeypatch.setattr(SessionStore, "save", save)
    client = Client(raise_request_exception=False)
    response = client.post(
        reverse("login"),
        {"username": contributor.username, "password": "a-long-password-for-this-test"},
    )
    assert_503(response, api=False)


@pytest.mark.django_db
def test_any_other_server_error_stays_a_500_in_the_api_format(contributor, monkeypatch):
    from registry import selectors

    def broken(user):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(selectors, "registered_model_list_brief", broken)  # the API's list
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(contributor)
    response = client.get("/api/v1/models/")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    page = Client(raise_request_exception=False)
    page.force_login(contributor)
    monkeypatch.setattr(selectors, "registered_model_list", broken)
    assert page.get(reverse("registry:model-list")).status_code == 500
