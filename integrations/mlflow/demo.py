"""The demo's model that arrived through the MLflow client.

A data scientist at the demo bank, Carla (``contributor``), trains a churn classifier in a
notebook that logs to MLflow; her notebook points at Steward instead of an MLflow server and is
otherwise unchanged. This seed step runs that notebook code for real: the ``mlflow`` client
talks HTTP to a Steward served in this process (on a free local port for the duration of the
step), signs in with her demo password, and logs the run, its data, its artifacts and the
registered model. What Steward records is what any MLflow user would get: a Steward run with the
same id, a dataset version, and a draft version of ``customer-churn`` in the approval workflow.

Imports of mlflow, pandas and scikit-learn stay inside the function: ``ready()`` registers this
hook and must not pay for them."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application
from django.db import connection

from registry.models import RegisteredModel

DEMO_MODEL = "customer-churn"
DEMO_EXPERIMENT = "customer-churn"
DEMO_USER = "contributor"

_CLIENT_ENV = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
}


@contextlib.contextmanager
def _steward_served() -> Iterator[str]:
    """Serve this process's Steward over HTTP on a free local port; yield its URL."""

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - the base class's signature
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(get_wsgi_application())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _notebook(tracking_uri: str) -> str:
    """Carla's notebook, as she would write it for MLflow. Returns the run id."""
    # The demo's MLflow, pandas and scikit-learn are the optional "demo" extra.
    import mlflow
    import numpy as np
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, roc_auc_score
    from sklearn.model_selection import train_test_split

    features, churned = make_classification(
        n_samples=1200, n_features=6, n_informative=4, random_state=11, weights=[0.8, 0.2]
    )
    columns = ["tenure", "monthly_charges", "support_calls", "late_payments", "usage", "plan"]
    frame = pd.DataFrame(features, columns=columns).assign(churned=churned)
    train, test = train_test_split(frame, test_size=0.25, random_state=11)

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    mlflow.set_experiment(DEMO_EXPERIMENT)
    with mlflow.start_run(run_name="logreg-baseline") as run:
        params = {"C": 0.5, "max_iter": 500, "class_weight": "balanced"}
        mlflow.log_params(params)
        mlflow.set_tag("purpose", "Monthly churn scoring for retention offers")
        training = mlflow.data.from_pandas(
            train, source="s3://bank-warehouse/churn/2026-11/customers.parquet", name="churn"
        )
        mlflow.log_input(training, context="training")
        model = LogisticRegression(**params).fit(train[columns], train["churned"])
        scores = model.predict_proba(test[columns])[:, 1]
        mlflow.log_metrics(
            {
                "accuracy": float(accuracy_score(test["churned"], scores > 0.5)),
                "roc_auc": float(roc_auc_score(test["churned"], scores)),
            }
        )
        mlflow.sklearn.log_model(
            model,
            name="model",
            input_example=train[columns].head(3).astype(np.float64),
            registered_model_name=DEMO_MODEL,
        )
        return run.info.run_id


def mlflow_demo_seed() -> list[str]:
    """Log and register ``customer-churn`` through the real MLflow client, once."""
    from registry.demo import DEMO_PASSWORD  # registry.demo needs the optional "demo" extra

    if RegisteredModel.objects.filter(name=DEMO_MODEL).exists():
        return []
    if connection.in_atomic_block:
        # The client's requests are served on other connections, which cannot see rows this
        # one has not committed (the demo users): only ``seed_demo`` itself, which commits as
        # it goes, can run this step. Tests that seed inside a transaction get the rest.
        return []
    try:
        import mlflow  # noqa: F401 - the client is what this step demonstrates
    except ImportError:
        return []
    with (
        _steward_served() as url,
        _environment(
            {
                **_CLIENT_ENV,
                "MLFLOW_TRACKING_USERNAME": DEMO_USER,
                "MLFLOW_TRACKING_PASSWORD": DEMO_PASSWORD,
            }
        ),
    ):
        run_id = _notebook(url)
    return [f"model {DEMO_MODEL} (through the MLflow client, run {run_id})"]
