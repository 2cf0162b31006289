"""A request body streamed into the artifact store's temporary folder, hashed on the way and
refused as soon as it passes the upload limit: a model file is never held in memory."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from core.errors import InvalidInput
from registry.services.artifacts import artifact_tmp_dir
from registry.uploads import UploadTooLarge

CHUNK_SIZE = 1024 * 1024


@dataclass(frozen=True)
class StreamedBody:
    path: Path
    sha256: str
    size_bytes: int


def _too_large() -> UploadTooLarge:
    return UploadTooLarge(
        f"The artifact is larger than the limit of {settings.ARTIFACT_MAX_BYTES} bytes."
    )


def request_body_stream_to_tmp(request) -> StreamedBody:
    """Write the body of ``request`` (a Django or DRF request) to a temporary file in the
    store. A declared length over the limit is refused before a byte is read; a body that
    grows past it is refused, and its file removed, at the chunk that passes it."""
    limit = settings.ARTIFACT_MAX_BYTES
    declared = request.META.get("CONTENT_LENGTH") or ""
    if not declared.isdigit():
        raise InvalidInput("An artifact upload needs a Content-Length header.")
    if int(declared) > limit:
        raise _too_large()
    digest, size = hashlib.sha256(), 0
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, renamed by the caller
        dir=artifact_tmp_dir(), prefix="mlflow-", delete=False
    )
    path = Path(handle.name)
    try:
        with handle:
            while chunk := request.read(CHUNK_SIZE):
                size += len(chunk)
                if size > limit:
                    raise _too_large()
                digest.update(chunk)
                handle.write(chunk)
        if size != int(declared):
            # A client that went away mid-upload: never keep part of a file as the file.
            raise InvalidInput(
                f"The upload ended after {size} of its {declared} declared bytes; nothing was kept."
            )
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise InvalidInput("The upload was interrupted; nothing was kept.") from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return StreamedBody(path, digest.hexdigest(), size)
