"""Shared data for the documentation tests: a Credit Risk version with a dataset, a run and a
metric, as the contributor registered it."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.factories import (
    DatasetFactory,
    DatasetVersionFactory,
    ModelVersionFactory,
    RegisteredModelFactory,
    RunFactory,
)


@pytest.fixture
def doc_version(contributor, team):
    dataset = DatasetFactory(name="loans", owner_team=team)
    dataset_version = DatasetVersionFactory(
        dataset=dataset, schema={"columns": [{"name": "income"}, {"name": "age"}]}
    )
    run = RunFactory(team=team, inputs=[(dataset_version, "train")])
    model = RegisteredModelFactory(name="credit-model", owner_team=team)
    return ModelVersionFactory(
        actor=contributor,
        registered_model=model,
        run=run,
        metrics={"auc": 0.913, "ks": 0.42},
        params={"max_depth": 6},
        datasets=[(dataset_version, "train")],
    )


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF."""
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)
