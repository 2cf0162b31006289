"""``Idempotency-Key`` on create endpoints: a client that sends a create again with the same key
gets the first answer instead of a second row.

One decorator, :func:`idempotent_create`, on an API view's create handler (it runs after DRF
has authenticated the caller, so keys are per user whatever the authentication):

- no header: the handler runs as before, and nothing else happens (no query);
- a new key: the key is claimed (a row committed at once, so a concurrent duplicate sees it),
  the handler runs, and a 2xx answer is stored once rendered; any other answer, or an
  exception, removes the claim, so the client may retry after an error;
- a known key with the same method, path and body: the stored answer, byte for byte, with the
  same status and ``Idempotent-Replayed: true``;
- a known key with another request: 422 ``idempotency_key_reused``;
- a known key whose first request is still being served: 409 ``idempotency_key_in_flight``
  with ``Retry-After``.

Keys are kept ``STEWARD_IDEMPOTENCY_KEEP_HOURS`` (24 by default): older ones are ignored here
and deleted by :func:`idempotency_records_prune` (celery beat, ``manage.py
prune_idempotency_keys``). The semantics follow the IETF httpapi draft "The Idempotency-Key
HTTP Header Field".
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpResponse, RawPostDataException
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from core.models import IdempotencyRecord

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX_LENGTH = 255
# Visible ASCII only: what any HTTP stack passes through unchanged (a UUID, a ULID, a hash).
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_KEY_RE = re.compile(KEY_PATTERN)
# A claim whose request never finished (the process was killed) is taken over after this.
IN_FLIGHT_TIMEOUT = timedelta(minutes=10)

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    {"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH, "pattern": KEY_PATTERN},
    location=OpenApiParameter.HEADER,
    required=False,
    description="A key of your choice (a UUID) that makes the create safe to retry: the same "
    "key with the same request answers the first answer (with `Idempotent-Replayed: true`), "
    "with another request 422, while the first is still being served 409. Kept per user for "
    "STEWARD_IDEMPOTENCY_KEEP_HOURS.",
)


def _keep() -> timedelta:
    return timedelta(hours=settings.STEWARD_IDEMPOTENCY_KEEP_HOURS)


def _error(status: int, message: str, code: str, **headers: str) -> Response:
    return Response({"message": message, "code": code}, status=status, headers=headers or None)


def request_fingerprint(request) -> str:
    """SHA-256 of the method, the full path and the body's bytes. The body is read before the
    view parses it (Django keeps it for the parser); if something already consumed the stream,
    the parsed data stands in for it."""
    try:
        body = request.body
    except RawPostDataException:  # pragma: no cover - no create route reads the stream first
        body = repr(request.data).encode()
    digest = hashlib.sha256()
    digest.update(f"{request.method}\n{request.get_full_path()}\n".encode())
    digest.update(body)
    return digest.hexdigest()


@dataclass(frozen=True)
class Outcome:
    """What a key found: a fresh claim to serve, a stored answer to replay, or a refusal."""

    claim: IdempotencyRecord | None = None
    replay: IdempotencyRecord | None = None
    refusal: Response | None = None


def idempotency_claim(*, user, key: str, method: str, path: str, fingerprint: str) -> Outcome:
    """Claim ``key`` for this request, or say what an earlier request with it left. The claim
    is committed at once (its own transaction), so a concurrent duplicate sees it."""
    for _ in range(3):  # a claim released or expired meanwhile: look again
        now = timezone.now()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user,
                    key=key,
                    method=method,
                    path=path[:500],
                    fingerprint=fingerprint,
                    created_at=now,
                )
            return Outcome(claim=record)
        except IntegrityError:
            pass
        found = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if found is None:
            continue
        if found.created_at < now - _keep():
            IdempotencyRecord.objects.filter(pk=found.pk, created_at=found.created_at).delete()
            continue
        if found.fingerprint != fingerprint:
            return Outcome(
                refusal=_error(
                    422,
                    f"This Idempotency-Key was already used for another request ({found.method} "
                    f"{found.path}, or a different body); use a new key for a new request.",
                    "idempotency_key_reused",
                )
            )
        if found.status_code is not None:
            return Outcome(replay=found)
        if found.created_at < now - IN_FLIGHT_TIMEOUT:
            taken = IdempotencyRecord.objects.filter(
                pk=found.pk, status_code__isnull=True, created_at=found.created_at
            ).update(created_at=now)
            if taken:
                found.created_at = now
                return Outcome(claim=found)
            continue
        return Outcome(
            refusal=_error(
                409,
                "A request with this Idempotency-Key is still being served; retry in a moment.",
                "idempotency_key_in_flight",
                **{"Retry-After": "1"},
            )
        )
    return Outcome(
        refusal=_error(
            409,
            "This Idempotency-Key is changing hands; retry in a moment.",
            "idempotency_key_in_flight",
            **{"Retry-After": "1"},
        )
    )


def idempotency_complete(claim: IdempotencyRecord, response) -> None:
    """Store a successful answer for replay (its rendered bytes and content type)."""
    try:
        IdempotencyRecord.objects.filter(pk=claim.pk, status_code__isnull=True).update(
            status_code=response.status_code,
            body=bytes(response.content),
            content_type=response.get("Content-Type", ""),
            completed_at=timezone.now(),
        )
    except DatabaseError:
        # The row stays claimed and is taken over after IN_FLIGHT_TIMEOUT; the answer itself
        # has already been made and is sent.
        logger.exception("could not store the answer for Idempotency-Key %s", claim.key)


def idempotency_release(claim: IdempotencyRecord) -> None:
    """Forget a claim whose request failed, so the same key may be sent again."""
    try:
        IdempotencyRecord.objects.filter(pk=claim.pk, status_code__isnull=True).delete()
    except DatabaseError:
        logger.exception("could not release Idempotency-Key %s", claim.key)


def idempotency_replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.body), status=record.status_code, content_type=record.content_type
    )
    response[REPLAYED_HEADER] = "true"
    return response


def idempotent_create(handler):
    """Decorate a DRF view's create handler (``create`` of a viewset, ``post`` of an APIView)
    with Idempotency-Key handling; it also documents the header in the OpenAPI schema."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not _KEY_RE.match(key):
            return _error(
                400,
                f"The {HEADER} header must be 1 to {KEY_MAX_LENGTH} visible ASCII characters "
                "(a UUID is a good key).",
                "invalid",
            )
        outcome = idempotency_claim(
            user=request.user,
            key=key,
            method=request.method,
            path=request.get_full_path(),
            fingerprint=request_fingerprint(request),
        )
        if outcome.refusal is not None:
            return outcome.refusal
        if outcome.replay is not None:
            return idempotency_replay(outcome.replay)
        claim = outcome.claim
        try:
            response = handler(view, request, *args, **kwargs)
        except BaseException:
            idempotency_release(claim)
            raise
        if not 200 <= response.status_code < 300:
            idempotency_release(claim)
        elif hasattr(response, "add_post_render_callback"):
            # The bytes exist only once DRF's renderer has run, after the view returns.
            response.add_post_render_callback(
                lambda rendered: idempotency_complete(claim, rendered)
            )
        else:
            idempotency_complete(claim, response)
        return response

    return extend_schema(parameters=[IDEMPOTENCY_PARAMETER])(wrapper)


def idempotency_records_prune(*, now=None) -> int:
    """Delete the records older than the keep period (their keys may be used again). Returns
    how many went."""
    now = now or timezone.now()
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - _keep()).delete()
    return deleted
