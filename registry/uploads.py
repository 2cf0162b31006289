"""A Django upload handler that streams an artifact into the store while hashing it."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from core.downloads import display_filename
from core.errors import PayloadTooLarge
from registry.services.artifacts import artifact_tmp_dir


class UploadTooLarge(PayloadTooLarge):
    pass


def upload_label(name: str | None) -> str:
    """The last component of a client-given file name, without control or invisible
    characters; ``artifact.bin`` when nothing usable is left (``..``, ``/``, empty)."""
    label = display_filename(name or "")
    return label if label not in ("", ".", "..") else "artifact.bin"


class HashedUploadedFile(UploadedFile):
    """A file that has been written to the store's temporary folder, with its digest."""

    def __init__(self, file, *, name, content_type, size, charset, sha256: str, path: Path):
        super().__init__(file, name, content_type, size, charset)
        self.sha256 = sha256
        self.path = path

    def temporary_file_path(self) -> str:
        return str(self.path)


class HashingUploadHandler(FileUploadHandler):
    """Writes each chunk to a temporary file in the artifact store and feeds a SHA-256, so a
    large model is never held in memory and never read twice. Refuses more than
    ``ARTIFACT_MAX_BYTES`` with a 413 as soon as the limit is passed."""

    chunk_size = 1024 * 1024

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        # The client's name is only a label. Reduced here, before Django's UploadedFile sees
        # it: that refuses "..", "/" and the like with an exception after the bytes are on
        # disk, which left the temporary file behind and answered in Django's format.
        self.file_name = upload_label(self.file_name)
        self._digest = hashlib.sha256()
        self._size = 0
        self._file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in file_complete
            dir=artifact_tmp_dir(), prefix="upload-", delete=False
        )

    def receive_data_chunk(self, raw_data, start):
        self._size += len(raw_data)
        if self._size > settings.ARTIFACT_MAX_BYTES:
            self._discard()
            raise UploadTooLarge(
                f"The upload is larger than the limit of {settings.ARTIFACT_MAX_BYTES} bytes."
            )
        self._digest.update(raw_data)
        self._file.write(raw_data)
        return None

    def file_complete(self, file_size):
        self._file.flush()
        self._file.close()
        return HashedUploadedFile(
            open(self._file.name, "rb"),  # noqa: SIM115 - handed to the caller
            name=self.file_name,
            content_type=self.content_type,
            size=self._size,
            charset=self.charset,
            sha256=self._digest.hexdigest(),
            path=Path(self._file.name),
        )

    def upload_interrupted(self):
        self._discard()

    def _discard(self):
        if getattr(self, "_file", None) is not None:
            self._file.close()
            Path(self._file.name).unlink(missing_ok=True)
