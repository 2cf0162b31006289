"""What the tracking views share: reading MLflow's lists of key/value pairs, page tokens, and
the answer of a run with its metrics, inputs and outputs."""

from __future__ import annotations

import base64
import json

from integrations.mlflow.errors import invalid
from integrations.mlflow.tracking.answers import run_answer
from integrations.mlflow.tracking.selectors import metrics_latest
from integrations.models.mlflow import MlflowLoggedModel, MlflowRun
from registry.models import RunInput

DEFAULT_MAX_RESULTS = 1000
MAX_RESULTS = 50000


def key_value_list(value, what: str) -> dict[str, str]:
    """MLflow's ``[{key, value}]`` as a dict (the last value of a repeated key wins)."""
    if value in (None, ""):
        return {}
    if not isinstance(value, list):
        raise invalid(f"'{what}' must be a list of {{key, value}} objects.")
    pairs = {}
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise invalid(f"Each of '{what}' needs a string 'key'.")
        raw = item.get("value", "")
        if raw is None:
            raw = ""
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            raise invalid(f"The value of {what} '{item['key'][:80]}' must be a string.")
        pairs[item["key"]] = str(raw)
    return pairs


def page_slice(view, request, default: int = DEFAULT_MAX_RESULTS) -> tuple[int, int]:
    """(offset, limit) from ``page_token`` and ``max_results``."""
    limit = view.integer(request, "max_results", default=default)
    if limit is None or limit < 1 or limit > MAX_RESULTS:
        raise invalid(f"max_results must be between 1 and {MAX_RESULTS}.")
    token = view.text(request, "page_token", max_length=200)
    offset = 0
    if token:
        try:
            offset = int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
        except (ValueError, KeyError, TypeError) as exc:
            raise invalid("Invalid page_token.") from exc
        if offset < 0:
            raise invalid("Invalid page_token.")
    return offset, limit


def next_token(offset: int, limit: int, total: int) -> dict:
    if offset + limit >= total:
        return {}
    token = base64.urlsafe_b64encode(json.dumps({"offset": offset + limit}).encode()).decode()
    return {"next_page_token": token}


def runs_answers(mlflow_runs: list[MlflowRun]) -> list[dict]:
    """The answers of runs, in a constant number of queries."""
    pks = [m.run.pk for m in mlflow_runs]
    latest = metrics_latest(pks)
    inputs: dict[int, list[RunInput]] = {pk: [] for pk in pks}
    for link in RunInput.objects.filter(run_id__in=pks).select_related("dataset_version__dataset"):
        inputs[link.run_id].append(link)
    outputs: dict[int, list[MlflowLoggedModel]] = {pk: [] for pk in pks}
    for model in MlflowLoggedModel.objects.filter(run_id__in=pks).order_by("created_at"):
        outputs[model.run_id].append(model)
    return [
        run_answer(m, latest[m.run.pk], inputs[m.run.pk], outputs[m.run.pk]) for m in mlflow_runs
    ]
