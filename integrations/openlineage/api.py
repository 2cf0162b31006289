"""``POST /api/v1/lineage``: where OpenLineage clients send their events (Marquez's path and
answers: 201 with an empty body, 400 with the reasons). Thin: read the body, call the service.

The body is JSON, or gzip-compressed JSON (``Content-Encoding: gzip``, as openlineage-python
sends with ``compression: gzip``). The compressed size is bounded by the API's body guard; the
decompressed size by the same limit here, read in one bounded step, so a small gzip bomb is a
413 and never expands in memory."""

from __future__ import annotations

import io
import zlib

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.parsers import StewardJSONParser
from core.errors import PayloadTooLarge
from integrations.openlineage.services import openlineage_event_ingest

GZIP_WINDOW = 16 + zlib.MAX_WBITS  # a gzip header and trailer around a deflate stream


def gunzip_bounded(raw: bytes, limit: int) -> bytes:
    """``raw`` decompressed, refusing output beyond ``limit`` bytes without producing it."""
    inflater = zlib.decompressobj(GZIP_WINDOW)
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise ParseError(f"The body is not valid gzip: {exc}.") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"The decompressed body is larger than the limit of {limit} bytes.")
    if not inflater.eof:
        raise ParseError("The gzip body is truncated.")
    if inflater.unused_data:
        raise ParseError("The body has data after its gzip stream.")
    return out


class OpenLineageParser(BaseParser):
    """JSON, plain or gzip-compressed, read with the API's own JSON parser (NUL and depth
    refusals included)."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        encoding = request.META.get("HTTP_CONTENT_ENCODING", "") if request is not None else ""
        raw = stream.read() if stream is not None else b""
        encoding = encoding.strip().lower()
        if encoding == "gzip":
            raw = gunzip_bounded(raw, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        elif encoding not in ("", "identity"):
            raise UnsupportedMediaType(
                encoding,
                detail=f"Content-Encoding '{encoding[:40]}' is not supported: send "
                "gzip or no encoding.",
            )
        return StewardJSONParser().parse(io.BytesIO(raw), media_type, parser_context)


class OpenLineageEventView(APIView):
    """Take in one OpenLineage RunEvent, DatasetEvent or JobEvent, as the token's user."""

    parser_classes = [OpenLineageParser]

    @extend_schema(
        tags=["lineage"],
        request=OpenApiTypes.OBJECT,
        responses={201: OpenApiResponse(description="Accepted (empty body).")},
        summary="OpenLineage event (RunEvent, DatasetEvent or JobEvent, spec 2-x)",
    )
    def post(self, request):
        openlineage_event_ingest(actor=request.user, body=request.data, request=request)
        return Response(status=status.HTTP_201_CREATED)
