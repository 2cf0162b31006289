"""A version's generated documents say where it is deployed and what monitoring found."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from governance.services.documents import document_generate, document_request
from monitoring.services.checks import checks_run
from monitoring.services.ingestion import predictions_ingest
from monitoring.tests import test_monitoring_services as base

live, version = base.live, base.version  # the shared fixtures
_baseline, _records = base._baseline, base._records

pytestmark = pytest.mark.django_db


def test_the_model_card_reports_deployments_checks_and_the_baseline(
    live, version, contributor, validator, gateway
):
    _baseline(version, validator, np.random.default_rng(1))
    predictions_ingest(
        actor=gateway,
        deployment=live,
        records=_records(500, np.random.default_rng(2), shift=1.0),
    )
    end = timezone.now()
    checks_run(deployment=live, window_start=end - timedelta(days=1), window_end=end)
    for template in ("model-card", "eu-ai-act-annex-iv"):
        document = document_request(actor=contributor, version=version, template_name=template)
        markdown = document_generate(document.pk).markdown
        assert "**credit-prod**: Production, Live, 100% of traffic, active" in markdown
        assert "Data drift: warning" in markdown or "Data drift: critical" in markdown
        assert "income" in markdown
        assert "baseline of 5000 reference rows" in markdown


def test_an_undeployed_version_says_so(version, contributor):
    document = document_request(actor=contributor, version=version, template_name="model-card")
    assert "The version is not deployed" in document_generate(document.pk).markdown


def test_deploying_and_retiring_refresh_the_model_card(live, version, manager):
    from governance.models import GeneratedDocument
    from monitoring.services.deployments import deployment_retire

    def latest_card():
        # Requested on commit in production; the test's transaction never commits.
        document = (
            GeneratedDocument.objects.filter(version=version, template__name="model-card")
            .order_by("-id")
            .first()
        )
        return document_generate(document.pk).markdown

    assert "**credit-prod**: Production, Live, 100% of traffic, active" in latest_card()
    deployment_retire(actor=manager, deployment=live, reason="Superseded by the new scorecard.")
    assert "retired" in latest_card()
    assert "Superseded by the new scorecard." in latest_card()
