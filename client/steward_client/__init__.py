"""Steward's Python client: register model versions with their provenance (code, environment,
data, artifact) captured automatically, record runs, follow governance, log predictions.

    from steward_client import Steward
    steward = Steward()  # STEWARD_URL / STEWARD_TOKEN, or what `steward login` stored
    version = steward.register_version(model="credit-scoring", artifact="model.pkl",
                                       datasets={"train": "train.csv"}, metrics={"auc": 0.91})
"""

from __future__ import annotations

__version__ = "0.1.0"

from steward_client.client import Steward  # noqa: E402
from steward_client.data import Data  # noqa: E402
from steward_client.errors import (  # noqa: E402
    APIError,
    AuthenticationFailed,
    ConfigurationError,
    Conflict,
    ConnectionFailed,
    InvalidInput,
    LocalInputError,
    NotFound,
    PermissionDenied,
    StewardError,
)

__all__ = [
    "APIError",
    "AuthenticationFailed",
    "ConfigurationError",
    "Conflict",
    "ConnectionFailed",
    "Data",
    "InvalidInput",
    "LocalInputError",
    "NotFound",
    "PermissionDenied",
    "Steward",
    "StewardError",
    "__version__",
]
