"""The base of every MLflow route: who may call (a Steward API token as
``MLFLOW_TRACKING_TOKEN``, or ``MLFLOW_TRACKING_USERNAME``/``PASSWORD`` through Basic auth
against local and directory accounts; never a browser session, so no cross-site request can
ride a signed-in user's cookie), what a token needs (``required_token_scopes`` per method, read
for GET, write otherwise, as in Steward's own API), how parameters are read (query string for
GET, JSON body for every other method, DELETE included) and how errors are answered (MLflow's
body, see ``errors``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from accounts.api.permissions import TokenScopePermission
from accounts.authentication import BearerTokenAuthentication, ThrottledBasicAuthentication
from core.api.parsers import StewardJSONParser
from integrations.mlflow.errors import invalid, mlflow_exception_handler

MISSING = object()


@extend_schema(exclude=True)
class MlflowView(APIView):
    """One MLflow endpoint. Subclasses implement ``get``/``post``/``patch``/``delete`` and read
    their fields with ``self.field(request, name)``."""

    authentication_classes = [BearerTokenAuthentication, ThrottledBasicAuthentication]
    permission_classes = [IsAuthenticated, TokenScopePermission]
    parser_classes = [StewardJSONParser]
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self):
        return mlflow_exception_handler

    def get_authenticate_header(self, request):
        # A 401 names the scheme the client used (Bearer or Basic), so the MLflow client's
        # UNAUTHENTICATED is a 401 and never the API's "403 without credentials".
        return BearerTokenAuthentication().authenticate_header(request) or 'Basic realm="mlflow"'

    @staticmethod
    def params(request) -> dict[str, Any]:
        """The request's fields: the query string of a GET, the JSON object body otherwise."""
        if request.method == "GET":
            return {key: request.query_params.getlist(key) for key in request.query_params}
        data = request.data
        if data in (None, "") or (hasattr(data, "keys") and not data):
            return {}
        if not isinstance(data, dict):
            raise invalid("The request body must be a JSON object.")
        return data

    def field(self, request, name: str, *, required: bool = False, default: Any = None) -> Any:
        """One field, as MLflow's server reads it: a query parameter (its last value) for GET,
        a body field otherwise. A required field that is missing or empty is
        INVALID_PARAMETER_VALUE, named as MLflow names it."""
        values = self.params(request)
        value = values.get(name, MISSING)
        if request.method == "GET" and value is not MISSING:
            value = value[-1] if value else MISSING
        if value is MISSING or value is None or value == "":
            if required:
                raise invalid(f"Missing value for required parameter '{name}'.")
            return default
        return value

    def text(self, request, name: str, *, required: bool = False, max_length: int = 1000) -> str:
        """A string field (numbers are taken as their text, as MLflow's proto parsing does)."""
        value = self.field(request, name, required=required, default="")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise invalid(f"Invalid value for parameter '{name}': expected a string.")
        value = str(value)
        if "\x00" in value:
            raise invalid(f"Invalid value for parameter '{name}': it contains a NUL character.")
        if len(value) > max_length:
            raise invalid(f"Parameter '{name}' is longer than {max_length} characters.")
        return value

    def integer(self, request, name: str, *, default: int | None = None) -> int | None:
        value = self.field(request, name, default=default)
        if value is None or isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            return int(str(value))
        except ValueError as exc:
            raise invalid(f"Invalid value for parameter '{name}': expected an integer.") from exc
