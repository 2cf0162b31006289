"""How Steward's OpenAPI schema is made: descriptions of its own authentication classes (imported
in CoreConfig.ready), the schema class that knows which read-only fields may be null, and the
postprocessing hook that documents the error body on every operation."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.authentication import BasicScheme, SessionScheme
from drf_spectacular.openapi import AutoSchema


class AuditedSessionScheme(SessionScheme):
    target_class = "core.audit.AuditedSessionAuthentication"


class AuditedBasicScheme(BasicScheme):
    target_class = "core.audit.AuditedBasicAuthentication"


# Every error the API answers has the body core.api.exceptions.steward_exception_handler writes.
ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": "Steward's error body: a message for people, a code for programs, and the "
    "field errors of a 400.",
    "properties": {
        "message": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "description": "Field name (or non_field_errors) to what is wrong with it; for a "
            "batch (predictions, ground truth), one entry per refused record.",
            "oneOf": [
                {"type": "object", "additionalProperties": {}},
                {"type": "array", "items": {"type": "object", "additionalProperties": {}}},
            ],
        },
    },
    "required": ["message", "code"],
}
# The statuses any operation may answer with that body: bad input, no or bad credentials, not
# allowed, not found (or not visible), conflict with the current state, too large, wrong media
# type, and not acceptable (an Accept header the API cannot satisfy).
ERROR_RESPONSES = {
    "400": "Invalid input; `errors` names the fields.",
    "401": "Credentials were presented and refused.",
    "403": "Not signed in, or not allowed to do this.",
    "404": "No such object, or one you may not see.",
    "406": "None of the accepted media types can be produced.",
    "409": "Conflicts with the current state (duplicate, wrong state).",
    "413": "The request body is larger than the configured limit.",
    "415": "The request body's media type is not accepted here.",
}
HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}


def error_responses_document(result, generator, request, public):
    """drf-spectacular postprocessing hook: declare the error body as the documented response
    of every error status on every operation, so clients (and the fuzz tests) know what a 4xx
    carries. Responses a view already documents are left as they are."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    reference = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_RESPONSES.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    },
                )
            if any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", [])):
                # core.idempotency: the same key sent with another request.
                responses.setdefault(
                    "422",
                    {
                        "description": "The Idempotency-Key was already used for another request.",
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result


def follows_nullable_relation(field) -> bool:
    """Whether a serializer field's source walks through a nullable model field (a
    ``granted_by`` that may be unset, ``registered_model.name`` of a rule that has none): its
    value in a response may then be null."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    for attr in getattr(field, "source_attrs", None) or []:
        if model is None:
            return False
        try:
            model_field = model._meta.get_field(attr)
        except FieldDoesNotExist:
            return False
        if model_field.null:
            return True
        model = model_field.related_model
    return False


class StewardAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus: a field the server fills in (read-only, or with a
    ``None`` default) is documented as nullable when it can be null, so a response with
    ``"retired_by": null`` matches its schema without every serializer repeating
    ``allow_null=True``."""

    def _get_serializer_field_meta(self, field, direction):
        meta = super()._get_serializer_field_meta(field, direction)
        may_be_null = field.default is None or (
            field.read_only and follows_nullable_relation(field)
        )
        if direction == "response" and may_be_null:
            meta["nullable"] = True
        return meta
