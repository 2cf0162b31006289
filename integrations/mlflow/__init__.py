"""The MLflow REST protocol, spoken by Steward: ``mlflow.set_tracking_uri("https://steward...")``
(or only ``MLFLOW_REGISTRY_URI``) and the unchanged MLflow client logs runs, registers models and
loads them, through Steward's permissions and approval workflow.

- ``errors``: MLflow's error body (``{"error_code", "message"}``) for every refusal.
- ``views``: the base view every MLflow route uses (authentication, token scopes, errors).
- ``tracking``: experiments, runs, params, metrics, tags, inputs, MLflow 3 logged models.
- ``artifacts``: the ``mlflow-artifacts`` proxy paths over Steward's content-addressed store.
- ``registry``: registered models, versions, tags, aliases, stages, download URIs.
"""
