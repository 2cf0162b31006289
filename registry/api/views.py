"""The registry's REST API: parse, call one service or selector, render."""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FileUploadParser, MultiPartParser
from rest_framework.response import Response

from accounts.access import may
from accounts.choices import Verb
from accounts.services import require_administrator
from core.api.pagination import TotalInPagePagination
from core.api.viewsets import ServiceViewSet
from core.downloads import mark_as_download
from core.errors import InvalidInput, NotFound, PayloadTooLarge
from core.idempotency import idempotent_create
from core.safe_files import StoredFileMissing
from registry import selectors, services
from registry.api import serializers as s
from registry.choices import Direction
from registry.filters import (
    DatasetFilter,
    DatasetVersionFilter,
    ModelVersionFilter,
    RegisteredModelFilter,
    RunFilter,
)
from registry.lineage_exports import lineage_export_chosen, lineage_export_renderers
from registry.models import Artifact, ModelRoleAssignment
from registry.services.artifacts import artifact_open
from registry.uploads import HashingUploadHandler

NAME_REGEX = r"[a-z0-9][a-z0-9._-]*"

LINEAGE_PARAMETERS = [
    OpenApiParameter("direction", str, enum=list(Direction.values), default=Direction.BOTH),
    OpenApiParameter("depth", int, description="Hops from the node (1 to the server's limit)."),
]


class LineageMixin:
    """Adds ``GET .../lineage/?direction=&depth=`` to a detail route: the registry's JSON graph,
    or any representation another app registered in ``registry.lineage_exports``
    (``?format=prov-json``)."""

    def get_renderers(self):
        renderers = super().get_renderers()
        # The OpenAPI schema documents the JSON graph only: an export's body has a schema of
        # its own, under a media type the JSON graph may share (PROV-JSON is application/json).
        documenting = getattr(self, "swagger_fake_view", False)
        if getattr(self, "action", None) == "lineage" and not documenting:
            renderers += [renderer() for renderer in lineage_export_renderers()]
        return renderers

    @extend_schema(parameters=LINEAGE_PARAMETERS, responses=s.LineageGraphSerializer)
    @action(detail=True, methods=["get"])
    def lineage(self, request, *args, **kwargs):
        obj = self.get_object()
        graph = selectors.lineage_closure(
            user=request.user,
            root=selectors.lineage_node_of(obj),
            direction=request.query_params.get("direction", Direction.BOTH),
            depth=selectors.lineage_depth_clean(request.query_params.get("depth")),
        )
        if lineage_export_chosen(request.accepted_renderer):
            return Response(graph)  # the export's renderer reads the closure itself
        return Response(s.LineageGraphSerializer(graph).data)


@extend_schema(tags=["models"])
class RegisteredModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = s.RegisteredModelSerializer
    input_serializers = {
        "create": s.RegisteredModelCreateSerializer,
        "partial_update": s.RegisteredModelUpdateSerializer,
    }
    lookup_field = "name"
    lookup_value_regex = NAME_REGEX
    # The total with the page: the window counts the matching rows a count would read, and
    # the answer's subqueries still run for the page's rows only.
    pagination_class = TotalInPagePagination
    filterset_class = RegisteredModelFilter  # its ``search`` is the catalogue page's too
    ordering_fields = ["name", "created_at", "updated_at", "risk_tier"]
    ordering = ["name"]

    def base_queryset(self):
        return selectors.registered_model_list_brief(self.request.user)

    def detail_read(self):
        return selectors.registered_model_answer(self.request.user, self.kwargs["name"])

    @extend_schema(
        request=s.RegisteredModelCreateSerializer, responses={201: s.RegisteredModelSerializer}
    )
    @idempotent_create
    def create(self, request):
        data = self.parse(request)
        model = services.registered_model_create(actor=request.user, **data)
        answer = selectors.registered_model_answer_prepare(model)
        context = self.get_serializer_context()
        return Response(
            self.serializer_class(answer, context=context).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=s.RegisteredModelUpdateSerializer, responses=s.RegisteredModelSerializer)
    def partial_update(self, request, name=None):
        model = self.get_object()
        data = self.parse(request, partial=True)
        model = services.registered_model_update(actor=request.user, model=model, **data)
        return self.render(model)


@extend_schema(tags=["models"])
class ModelVersionViewSet(
    LineageMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet
):
    serializer_class = s.ModelVersionSerializer
    input_serializers = {
        "create": s.ModelVersionCreateSerializer,
        "partial_update": s.ModelVersionUpdateSerializer,
    }
    lookup_field = "version"
    lookup_value_regex = r"[0-9]+"
    pagination_class = TotalInPagePagination
    filterset_class = ModelVersionFilter
    ordering_fields = ["version", "created_at"]
    ordering = ["-version"]

    def registered_model(self):
        found = selectors.registered_model_named(self.request.user, self.kwargs["model_name"])
        if found is None:
            raise Http404("No RegisteredModel matches the given query.")
        return found

    def base_queryset(self):
        return selectors.model_version_list_brief(self.request.user).filter(
            registered_model__name=self.kwargs["model_name"]
        )

    def detail_read(self):
        return selectors.model_version_answer(
            self.request.user, self.kwargs["model_name"], self.kwargs["version"]
        )

    def list(self, request, *args, **kwargs):
        if self._no_filter_asked() and not request.query_params.get("ordering"):
            # Every version of a model is as visible as the model: once it is found, its
            # versions' pages are read by a statement compiled once (registry.selectors_api).
            page = self.paginate_queryset(selectors.model_version_pages(self.registered_model()))
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        response = super().list(request, *args, **kwargs)
        if not response.data["count"]:
            self.registered_model()  # an unknown model is a 404, not an empty list
        return response

    @extend_schema(
        request=s.ModelVersionCreateSerializer, responses={201: s.ModelVersionSerializer}
    )
    @idempotent_create
    def create(self, request, model_name=None):
        registered_model = self.registered_model()
        data = self.parse(request)
        version = services.model_version_register(
            actor=request.user, registered_model=registered_model, **data
        )
        answer = selectors.model_version_answer_prepare(version)
        context = self.get_serializer_context()
        return Response(
            self.serializer_class(answer, context=context).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=s.ModelVersionUpdateSerializer, responses=s.ModelVersionSerializer)
    def partial_update(self, request, model_name=None, version=None):
        instance = self.get_object()
        data = self.parse(request, partial=True)
        instance = services.model_version_update(actor=request.user, version=instance, **data)
        return self.render(instance)


@extend_schema(tags=["datasets"])
class DatasetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = s.DatasetSerializer
    input_serializers = {
        "create": s.DatasetCreateSerializer,
        "partial_update": s.DatasetUpdateSerializer,
    }
    lookup_field = "name"
    lookup_value_regex = NAME_REGEX
    filterset_class = DatasetFilter
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name"]

    def base_queryset(self):
        return selectors.dataset_list(self.request.user)

    @extend_schema(request=s.DatasetCreateSerializer, responses={201: s.DatasetSerializer})
    @idempotent_create
    def create(self, request):
        data = self.parse(request)
        dataset = services.dataset_create(actor=request.user, **data)
        return self.render(dataset, status.HTTP_201_CREATED)

    @extend_schema(request=s.DatasetUpdateSerializer, responses=s.DatasetSerializer)
    def partial_update(self, request, name=None):
        dataset = self.get_object()
        data = self.parse(request, partial=True)
        dataset = services.dataset_update(actor=request.user, dataset=dataset, **data)
        return self.render(dataset)


@extend_schema(tags=["datasets"])
class DatasetVersionViewSet(
    LineageMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet
):
    serializer_class = s.DatasetVersionSerializer
    input_serializers = {"create": s.DatasetVersionCreateSerializer}
    lookup_field = "version"
    lookup_value_regex = r"[0-9]+"
    filterset_class = DatasetVersionFilter
    ordering_fields = ["version", "created_at"]
    ordering = ["-version"]

    def dataset(self):
        return get_object_or_404(
            selectors.dataset_list(self.request.user), name=self.kwargs["dataset_name"]
        )

    def base_queryset(self):
        return selectors.dataset_version_list(self.request.user).filter(
            dataset__name=self.kwargs["dataset_name"]
        )

    def list(self, request, *args, **kwargs):
        self.dataset()
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=s.DatasetVersionCreateSerializer, responses={201: s.DatasetVersionSerializer}
    )
    @idempotent_create
    def create(self, request, dataset_name=None):
        dataset = self.dataset()
        data = self.parse(request)
        version = services.dataset_version_create(actor=request.user, dataset=dataset, **data)
        return self.render(version, status.HTTP_201_CREATED)


@extend_schema(tags=["runs"])
class RunViewSet(LineageMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = s.RunSerializer
    input_serializers = {"create": s.RunCreateSerializer, "partial_update": s.RunUpdateSerializer}
    lookup_field = "uuid"
    lookup_value_regex = r"[0-9a-fA-F-]{36}"
    filterset_class = RunFilter
    ordering_fields = ["created_at", "started_at", "ended_at"]
    ordering = ["-created_at"]

    def base_queryset(self):
        return selectors.run_list(self.request.user)

    @extend_schema(request=s.RunCreateSerializer, responses={201: s.RunSerializer})
    @idempotent_create
    def create(self, request):
        data = self.parse(request)
        run = services.run_create(actor=request.user, **data)
        return self.render(run, status.HTTP_201_CREATED)

    @extend_schema(request=s.RunUpdateSerializer, responses=s.RunSerializer)
    def partial_update(self, request, uuid=None):
        run = self.get_object()
        data = self.parse(request, partial=True)
        run = services.run_update(actor=request.user, run=run, **data)
        return self.render(run)


class RawArtifactParser(FileUploadParser):
    """``application/octet-stream`` bodies; the name comes from ``?filename=`` if given."""

    media_type = "application/octet-stream"

    def get_filename(self, stream, media_type, parser_context):
        request = parser_context["request"]
        return (
            request.query_params.get("filename")
            or super().get_filename(stream, media_type, parser_context)
            or "artifact.bin"
        )


def _discard_received(files) -> None:
    received = files.lists() if hasattr(files, "lists") else ((k, [v]) for k, v in files.items())
    for _, uploads in received:
        for upload in uploads:
            upload.close()
            if hasattr(upload, "path"):
                upload.path.unlink(missing_ok=True)


@extend_schema(tags=["artifacts"])
class ArtifactViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Upload model artifacts (streamed, hashed while streaming, stored once per content) and
    fetch them back."""

    serializer_class = s.ArtifactSerializer
    lookup_field = "sha256"
    lookup_value_regex = r"[0-9a-f]{64}"
    ordering_fields = ["created_at", "size_bytes"]
    ordering = ["-created_at"]
    filterset_fields = ["content_type"]
    search_fields = ["original_name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Artifact.objects.none()
        return selectors.artifact_list(self.request.user)

    def get_object(self):
        # Several uploads may hold the same bytes; the caller reads through the one the store's
        # one question picks. Unknown and not-yours are the same 404.
        artifact = selectors.artifact_readable(self.request.user, self.kwargs["sha256"])
        if artifact is None:
            raise NotFound("Artifact not found.")
        return artifact

    def get_parsers(self):
        request = getattr(self, "request", None)
        if request is None or request.method == "POST":
            return [MultiPartParser(), RawArtifactParser()]
        return super().get_parsers()

    def initialize_request(self, request, *args, **kwargs):
        # The hashing handler must be in place before anything reads the body.
        request.upload_handlers = [HashingUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "ArtifactUpload", {"file": serializers.FileField()}
            ),
            "application/octet-stream": OpenApiTypes.BINARY,
        },
        parameters=[OpenApiParameter("filename", str, description="Name for a raw upload.")],
        responses={201: s.ArtifactSerializer, 200: s.ArtifactSerializer},
    )
    def create(self, request):
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        limit = settings.ARTIFACT_MAX_BYTES
        if declared > limit + 64 * 1024:  # room for multipart headers
            raise PayloadTooLarge(f"The upload is larger than the limit of {limit} bytes.")
        try:
            upload = request.data.get("file")
            if upload is None or not hasattr(upload, "sha256"):
                raise InvalidInput(
                    "Send the artifact as multipart field 'file' "
                    "or as an application/octet-stream body.",
                    field_errors={"file": ["No file was submitted."]},
                )
            artifact, created = services.artifact_store(
                actor=request.user,
                temp_path=upload.path,
                sha256=upload.sha256,
                size_bytes=upload.size,
                original_name=upload.name or "",
                content_type=upload.content_type or "",
            )
        finally:
            # Every file the handler streamed into tmp/ goes, used or not: a part under
            # another field name or a second "file" part would otherwise stay there for good.
            _discard_received(request.FILES)
        return Response(
            s.ArtifactSerializer(artifact).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request, sha256=None):
        artifact = self.get_object()
        try:
            handle = artifact_open(artifact)
        except StoredFileMissing:
            raise NotFound("The artifact's file is missing from the store.") from None
        response = FileResponse(handle, content_type="application/octet-stream")
        mark_as_download(response, artifact.original_name, fallback=f"{artifact.sha256}.bin")
        response["Digest"] = f"sha-256={artifact.sha256}"
        return response


@extend_schema(tags=["access"])
class ModelRoleAssignmentViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Roles held for this model only (e.g. an external validator for one model). Administrators
    grant and revoke; administrators and auditors read."""

    serializer_class = s.ModelRoleAssignmentSerializer
    ordering = ["user__username"]

    def registered_model(self):
        return get_object_or_404(
            selectors.registered_model_visible(self.request.user), name=self.kwargs["model_name"]
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ModelRoleAssignment.objects.none()
        model = self.registered_model()
        if not may(self.request.user, Verb.READ_AUDIT):
            raise PermissionDenied("Only administrators and auditors may read role assignments.")
        return model.role_assignments.select_related("user", "role", "granted_by")

    def create(self, request, model_name=None):
        model = self.registered_model()
        # Permission before validation: a refusal must not say whether the username exists.
        require_administrator(request.user)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        assignment = services.model_role_assign(
            actor=request.user,
            user=data["user"],
            role=data["role"]["name"],
            registered_model=model,
            note=data.get("note", ""),
        )
        return Response(self.get_serializer(assignment).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.model_role_revoke(actor=self.request.user, assignment=instance)
