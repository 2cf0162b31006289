"""The example notebook (examples/client_quickstart.ipynb) executed end to end by a real Jupyter
kernel (nbclient) against a live Steward: every cell runs, the version lands with its run and
datasets, and the notebook shows rich HTML, the lineage picture included."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from registry.models import ModelVersion, Run

pytestmark = pytest.mark.django_db(transaction=True)

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "client_quickstart.ipynb"


def _html_outputs(cell) -> list[str]:
    return [
        output["data"]["text/html"]
        for output in cell.get("outputs", [])
        if "text/html" in output.get("data", {})
    ]


def test_the_example_notebook_runs_against_a_live_server(steward_env, team, tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},  # the notebook's files go here
    )

    client.execute()  # raises CellExecutionError, with the cell and its traceback, on failure

    version = ModelVersion.objects.get(registered_model__name="notebook-example")
    assert version.status == "submitted"
    assert version.run is not None and version.run.status == "completed"
    assert {link.role for link in version.dataset_links.all()} == {"train", "test"}
    assert version.python_version and "steward-client" in version.packages
    assert Run.objects.get().params["threshold"] >= 20_000
    html = [text for cell in notebook.cells for text in _html_outputs(cell)]
    assert any("<svg" in text and "loans-train" in text for text in html), "lineage picture"
    assert any("whose turn" in text for text in html), "governance summary"
    assert any("notebook-example v1" in text for text in html), "the version"
    assert (tmp_path / "model.json").exists()
