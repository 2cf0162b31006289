"""MLflow's artifact proxy: ``PUT/GET/DELETE /api/2.0/mlflow-artifacts/artifacts/<path>`` and
``GET /api/2.0/mlflow-artifacts/artifacts?path=<dir>``. Uploads stream to the store; downloads
stream from it. Paths are cleaned and split before anything is read (``paths``)."""

from __future__ import annotations

from django.http import FileResponse
from rest_framework.response import Response

from integrations.mlflow.artifacts.paths import artifact_path_clean
from integrations.mlflow.artifacts.selectors import (
    artifact_directory_list,
    artifact_files_under,
    artifact_target_resolve,
)
from integrations.mlflow.artifacts.services import (
    artifact_file_put,
    artifact_files_delete,
    artifact_target_require_change,
)
from integrations.mlflow.artifacts.streaming import request_body_stream_to_tmp
from integrations.mlflow.errors import does_not_exist
from integrations.mlflow.views import MlflowView
from registry.services.artifacts import artifact_open


class ArtifactListView(MlflowView):
    def get(self, request):
        raw = self.text(request, "path")
        if not artifact_path_clean(raw):
            return Response({})  # above every root: nothing Steward lists
        target = artifact_target_resolve(request.user, raw)
        files = [
            {"path": entry.path, "is_dir": entry.is_dir}
            | ({} if entry.is_dir else {"file_size": entry.file_size})
            for entry in artifact_directory_list(target)
        ]
        return Response({"files": files} if files else {})


class ArtifactFileView(MlflowView):
    def get(self, request, path: str):
        target = artifact_target_resolve(request.user, path)
        found = artifact_files_under(target.location.root, target.location.path).filter(
            path=target.location.path
        )
        row = found.first() if target.location.path else None
        if row is None:
            raise does_not_exist(f"No artifact file at '{target.location.full}'.")
        response = FileResponse(
            artifact_open(row.artifact), content_type="application/octet-stream"
        )
        response["Content-Length"] = str(row.artifact.size_bytes)
        return response

    def put(self, request, path: str):
        target = artifact_target_resolve(request.user, path)
        # Refused before a byte is read when the caller may not write here.
        artifact_target_require_change(request.user, target)
        body = request_body_stream_to_tmp(request)
        artifact_file_put(
            actor=request.user,
            target=target,
            body=body,
            content_type=request.META.get("CONTENT_TYPE", ""),
        )
        return Response({})

    def delete(self, request, path: str):
        target = artifact_target_resolve(request.user, path)
        artifact_files_delete(actor=request.user, target=target)
        return Response({})
