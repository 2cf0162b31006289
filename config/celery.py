"""The Celery application. Its broker is STEWARD_BROKER_URL (RabbitMQ or Redis) or else
REDIS_URL (config.broker); with neither the settings make every task run in-process."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("steward")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
