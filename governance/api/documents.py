"""The documentation API of a version: list its documents and request one, fetch a
document's status and files, read and write the free-text sections.

Reading needs view permission on the version (else 404); a document's files need, besides,
that the user may see every record it names (else 403). Requesting generation needs the
annotate verb (contributors, validators, managers, administrators of the model; not auditors)
and a token's write scope. A free-text section is written by the role it names (developer:
change verb and write scope; validator: validate verb and scope, never the version's registrant
or submitter; manager: approve verb and scope, same independence)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import SCOPE_CHECKED_BY_SERVICE, request_token_scopes
from core.api.pagination import StewardPagination
from core.errors import NotFound
from governance.api.views import _version
from governance.choices import DocumentStatus
from governance.documents.download import document_download_response
from governance.documents.selectors import (
    StalenessCache,
    document_list,
    document_readable,
    free_text_status,
)
from governance.models import GeneratedDocument
from governance.services.documents import document_request, free_text_write
from registry.permissions import Visibility


class GeneratedDocumentSerializer(serializers.ModelSerializer):
    template = serializers.CharField(source="template.name", read_only=True)
    template_title = serializers.CharField(source="template.title", read_only=True)
    template_version = serializers.IntegerField(source="template.version", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    stale = serializers.SerializerMethodField()
    readable = serializers.SerializerMethodField()

    class Meta:
        model = GeneratedDocument
        fields = [
            "id",
            "template",
            "template_title",
            "template_version",
            "status",
            "error",
            "stale",
            "readable",
            "inputs_hash",
            "markdown_sha256",
            "html_sha256",
            "pdf_sha256",
            "pdf_size",
            "attempts",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_stale(self, obj) -> bool | None:
        """Whether a done document no longer matches the version (null until it is done)."""
        if obj.status != DocumentStatus.DONE:
            return None
        return self.context["staleness"].is_stale(obj)

    def get_readable(self, obj) -> bool:
        """Whether you may read its files: false when it names records you may not see."""
        user = self.context["request"].user
        if "visibility" not in self.context:  # one per response: a page costs no more queries
            self.context["visibility"] = Visibility(user)
        return document_readable(user, obj, self.context["visibility"])


class DocumentRequestSerializer(serializers.Serializer):
    template = serializers.SlugField(max_length=64)


class FreeTextSerializer(serializers.Serializer):
    template = serializers.CharField(source="template.name", read_only=True)
    section = serializers.CharField(source="key", read_only=True)
    title = serializers.CharField(read_only=True)
    help = serializers.CharField(read_only=True)
    text = serializers.CharField(read_only=True)
    missing = serializers.BooleanField(read_only=True)
    writer = serializers.CharField(read_only=True)
    written_by = serializers.CharField(read_only=True)
    written_at = serializers.DateTimeField(read_only=True, allow_null=True)


class FreeTextWriteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=20_000, allow_blank=True)


def _document(request, model_name: str, version: int, pk: int):
    found = _version(request, model_name, version)
    document = document_list(found).defer(None).filter(pk=pk).first()
    if document is None:
        raise NotFound("There is no such document of this version.")
    return found, document


@extend_schema(tags=["documents"])
class DocumentListView(APIView):
    """``GET``: the version's documents, newest first (paginated), with status and staleness
    (computed once per template and requester, so a page costs a bounded number of queries).
    ``POST``
    ``{"template": "model-card"}``: generate one; 202 with the queued document, or 200 with
    the existing one when nothing changed since it was made."""

    pagination_class = StewardPagination  # GET is paged; this also tells the OpenAPI schema

    @extend_schema(responses=GeneratedDocumentSerializer(many=True))
    def get(self, request, model_name: str, version: int):
        found = _version(request, model_name, version)
        context = {"staleness": StalenessCache(found), "request": request}
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(document_list(found), request, view=self)
        data = GeneratedDocumentSerializer(page, many=True, context=context).data
        return paginator.get_paginated_response(data)

    @extend_schema(request=DocumentRequestSerializer, responses={202: GeneratedDocumentSerializer})
    def post(self, request, model_name: str, version: int):
        found = _version(request, model_name, version)
        serializer = DocumentRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        document = document_request(
            actor=request.user, version=found, template_name=serializer.validated_data["template"]
        )
        document.refresh_from_db()
        code = status.HTTP_200_OK if document.is_done else status.HTTP_202_ACCEPTED
        data = GeneratedDocumentSerializer(
            document, context={"staleness": StalenessCache(found), "request": request}
        ).data
        return Response(data, status=code)


@extend_schema(tags=["documents"], responses=GeneratedDocumentSerializer)
class DocumentDetailView(APIView):
    """One document's status, hashes and error."""

    def get(self, request, model_name: str, version: int, pk: int):
        found, document = _document(request, model_name, version, pk)
        context = {"staleness": StalenessCache(found), "request": request}
        return Response(GeneratedDocumentSerializer(document, context=context).data)


@extend_schema(
    tags=["documents"],
    parameters=[OpenApiParameter("format", str, enum=["pdf", "md", "html"], required=True)],
    responses={(200, "application/pdf"): bytes},
)
class DocumentDownloadView(APIView):
    """A done document's file (``?format=pdf|md|html``) as an attachment; 409 until done; 403
    when it names records you may not see."""

    def perform_content_negotiation(self, request, force=False):
        # ``format`` names the file here, not a DRF renderer.
        return JSONRenderer(), JSONRenderer.media_type

    def get(self, request, model_name: str, version: int, pk: int):
        _, document = _document(request, model_name, version, pk)
        return document_download_response(
            document, request.query_params.get("format", "pdf"), user=request.user
        )


@extend_schema(tags=["documents"], responses=FreeTextSerializer(many=True))
class FreeTextListView(APIView):
    """The free-text sections of every current template, written or missing."""

    def get(self, request, model_name: str, version: int):
        found = _version(request, model_name, version)
        return Response(FreeTextSerializer(free_text_status(found), many=True).data)


@extend_schema(tags=["documents"], request=FreeTextWriteSerializer, responses=FreeTextSerializer)
class FreeTextDetailView(APIView):
    """``PUT {"text": ...}``: write one free-text section of a template for the version; 403
    unless you hold the role the section names (an API token needs that role's scope)."""

    # The scope depends on the section's writer, known once the template is read.
    required_token_scopes = {"put": SCOPE_CHECKED_BY_SERVICE}

    def put(self, request, model_name: str, version: int, template: str, section: str):
        found = _version(request, model_name, version)
        serializer = FreeTextWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        free_text_write(
            actor=request.user,
            version=found,
            template_name=template,
            section_key=section,
            text=serializer.validated_data["text"],
            token_scopes=request_token_scopes(request),
        )
        row = next(
            s for s in free_text_status(found) if s.template.name == template and s.key == section
        )
        return Response(FreeTextSerializer(row).data)
