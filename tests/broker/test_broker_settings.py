"""The broker settings (config.broker): STEWARD_BROKER_URL chooses RabbitMQ or Redis, REDIS_URL
stays the default broker and the result store, neither set keeps the demo's in-process tasks,
and a malformed URL stops start-up with a message that names the variable but not the password.
The real settings module is read in a fresh process, as a deployment reads it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.broker import (
    REDIS_SCHEMES,
    broker_transport_options,
    url_check,
    url_redact,
)
from tests.test_production_settings import production_env, run, settings_of

CELERY = (
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "CELERY_TASK_ALWAYS_EAGER",
    "CELERY_BROKER_TRANSPORT_OPTIONS",
    "CELERY_TASK_ACKS_LATE",
    "CELERY_TASK_REJECT_ON_WORKER_LOST",
    "CELERY_WORKER_PREFETCH_MULTIPLIER",
)
RABBIT = "amqp://steward:s3cret@rabbit.internal:5672/steward"
REDIS = "redis://127.0.0.1:6379/0"


def celery_settings(tmp_path, **env: str) -> dict:
    return settings_of(production_env(tmp_path, STEWARD_DEBUG="true", **env), *CELERY)


def test_without_a_broker_tasks_run_in_process_as_in_the_demo(tmp_path):
    values = celery_settings(tmp_path)
    assert values["CELERY_TASK_ALWAYS_EAGER"] is True
    assert values["CELERY_BROKER_URL"] == "memory://"
    assert values["CELERY_RESULT_BACKEND"] == "cache+memory://"


def test_redis_alone_is_broker_and_result_store_as_before(tmp_path):
    values = celery_settings(tmp_path, REDIS_URL=REDIS)
    assert values["CELERY_TASK_ALWAYS_EAGER"] is False
    assert values["CELERY_BROKER_URL"] == values["CELERY_RESULT_BACKEND"] == REDIS
    assert values["CELERY_BROKER_TRANSPORT_OPTIONS"] == {
        "socket_connect_timeout": 2,
        "max_retries": 0,
    }


def test_rabbitmq_is_the_broker_and_redis_keeps_the_results(tmp_path):
    values = celery_settings(tmp_path, REDIS_URL=REDIS, STEWARD_BROKER_URL=RABBIT)
    assert values["CELERY_TASK_ALWAYS_EAGER"] is False
    assert values["CELERY_BROKER_URL"] == RABBIT
    assert values["CELERY_RESULT_BACKEND"] == REDIS
    # Publisher confirms; no Redis-only option handed to the AMQP client.
    assert values["CELERY_BROKER_TRANSPORT_OPTIONS"] == {"max_retries": 0, "confirm_publish": True}
    # Acknowledged late, redelivered when a worker dies, one message at a time per process.
    assert values["CELERY_TASK_ACKS_LATE"] is True
    assert values["CELERY_TASK_REJECT_ON_WORKER_LOST"] is True
    assert values["CELERY_WORKER_PREFETCH_MULTIPLIER"] == 1


def test_rabbitmq_alone_runs_workers_without_a_result_store(tmp_path):
    values = celery_settings(tmp_path, STEWARD_BROKER_URL=RABBIT)
    assert (values["CELERY_BROKER_URL"], values["CELERY_RESULT_BACKEND"]) == (RABBIT, None)
    assert values["CELERY_TASK_ALWAYS_EAGER"] is False


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("STEWARD_BROKER_URL", "rabbitmq://guest:hunter2@h:5672//", "scheme must be one of"),
        ("STEWARD_BROKER_URL", "amqp://guest:hunter2@:5672//", "names no host"),
        ("STEWARD_BROKER_URL", "amqp://guest:hunter2@h:56x72//", "port is not a number"),
        ("STEWARD_BROKER_URL", "amqp://guest:hunter2@h:99999//", "port is not a number"),
        ("STEWARD_BROKER_URL", "127.0.0.1:5672", "scheme must be one of"),
        ("STEWARD_BROKER_URL", "redis://:hunter2@h:6379/zero", "database number"),
        ("REDIS_URL", "amqp://guest:hunter2@h:5672//", "scheme must be one of redis, rediss"),
        ("REDIS_URL", "redis://:hunter2@h:6379/0 extra", "white space"),
    ],
)
def test_a_malformed_url_stops_start_up_without_showing_the_password(
    tmp_path, variable, value, problem
):
    env = production_env(tmp_path, STEWARD_DEBUG="true", **{variable: value})
    done = run(env, "manage.py", "check")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert f"{variable} is not a usable broker URL" in done.stderr
    assert problem in done.stderr
    assert "hunter2" not in done.stderr


def test_fail_over_brokers_are_checked_each_and_must_be_of_one_kind():
    both = "amqp://a:5672//;amqp://b:5672//"
    assert url_check("STEWARD_BROKER_URL", f" {both} ") == both
    with pytest.raises(ImproperlyConfigured, match="all be RabbitMQ or all Redis"):
        url_check("STEWARD_BROKER_URL", "amqp://a:5672//;redis://b:6379/0")
    with pytest.raises(ImproperlyConfigured, match="names no host"):
        url_check("STEWARD_BROKER_URL", "amqp://a:5672//;amqp://")
    with pytest.raises(ImproperlyConfigured, match="scheme must be one of redis, rediss"):
        url_check("REDIS_URL", "amqp://a:5672//", REDIS_SCHEMES)


def test_the_password_is_redacted_and_the_rest_kept():
    assert url_redact(RABBIT) == "amqp://steward:***@rabbit.internal:5672/steward"
    assert url_redact(REDIS) == REDIS
    assert url_redact("redis://:pw@h:6379/1") == "redis://:***@h:6379/1"


def test_each_transport_gets_its_own_options():
    assert broker_transport_options("") == {}
    assert broker_transport_options("pyamqp://h//")["confirm_publish"] is True
    assert "socket_connect_timeout" in broker_transport_options("rediss://h:6380/0")
    assert "confirm_publish" not in broker_transport_options(REDIS)
