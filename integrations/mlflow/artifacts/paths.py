"""Artifact paths as MLflow's artifact proxy names them, checked and split.

Every path a client sends (in the URL of ``PUT/GET/DELETE .../artifacts/<path>``, in
``?path=`` of a listing, in a model version's source) is cleaned here before anything reads it:
no NUL or control character, no backslash, not absolute, no ``..``; ``.`` and empty components
are dropped. Steward keeps files only under two kinds of root:

- a run's: ``<experiment id>/<run id>/artifacts``
- a logged model's: ``<experiment id>/models/<model id>/artifacts``

The path never reaches the file system: the bytes are stored by content hash, and the path is
only a row's key (``MlflowArtifactFile.root`` + ``path``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import InvalidInput, NotFound

MAX_PATH_LENGTH = 1000
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")


def artifact_path_clean(raw: str) -> str:
    """``raw`` as a relative, '/'-separated path without empty or ``.`` components; refused
    (400) if it is absolute, climbs (``..``) or holds a NUL, control character or backslash."""
    if not isinstance(raw, str):
        raise InvalidInput("An artifact path must be a string.")
    if len(raw) > MAX_PATH_LENGTH:
        raise InvalidInput(f"An artifact path is at most {MAX_PATH_LENGTH} characters.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        raise InvalidInput("An artifact path cannot contain NUL or control characters.")
    if "\\" in raw:
        raise InvalidInput("An artifact path uses '/' only, never a backslash.")
    if raw.startswith("/"):
        raise InvalidInput("An artifact path is relative; absolute paths are refused.")
    parts = [part for part in raw.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise InvalidInput("An artifact path cannot contain '..'.")
    if parts and re.match(r"^[A-Za-z]:$", parts[0]):
        raise InvalidInput("An artifact path is relative; a drive letter is refused.")
    return "/".join(parts)


def run_root(experiment_id: int, run_hex: str) -> str:
    return f"{experiment_id}/{run_hex}/artifacts"


def model_root(experiment_id: int, model_id: str) -> str:
    return f"{experiment_id}/models/{model_id}/artifacts"


@dataclass(frozen=True)
class ArtifactLocation:
    """A cleaned path split into the root it lies under and the rest."""

    experiment_id: int
    root: str
    path: str  # relative to the root; "" is the root itself
    run_hex: str = ""
    model_id: str = ""

    @property
    def full(self) -> str:
        return f"{self.root}/{self.path}" if self.path else self.root


def artifact_location_parse(raw: str) -> ArtifactLocation:
    """The root and relative path ``raw`` names; NotFound when it lies under no root Steward
    keeps files in (so a path outside them answers as absent, whatever it names)."""
    parts = artifact_path_clean(raw).split("/")
    if parts and parts[0].isdigit() and len(parts[0]) <= 18:
        experiment_id = int(parts[0])
        if len(parts) >= 3 and _RUN_ID.match(parts[1]) and parts[2] == "artifacts":
            return ArtifactLocation(
                experiment_id,
                run_root(experiment_id, parts[1]),
                "/".join(parts[3:]),
                run_hex=parts[1],
            )
        if (
            len(parts) >= 4
            and parts[1] == "models"
            and _MODEL_ID.match(parts[2])
            and parts[3] == "artifacts"
        ):
            return ArtifactLocation(
                experiment_id,
                model_root(experiment_id, parts[2]),
                "/".join(parts[4:]),
                model_id=parts[2],
            )
    raise NotFound(
        "No artifact root at this path: Steward keeps files under "
        "<experiment>/<run>/artifacts and <experiment>/models/<model>/artifacts only."
    )
