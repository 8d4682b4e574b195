"""tests/notebooks/reprs.ipynb, executed headless: what a notebook user sees of a table,
a batch stream and a dataset. Skipped when nbclient, nbformat or ipykernel is missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = Path(__file__).parent / "notebooks" / "reprs.ipynb"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Each tagged cell's result, by tag: its data by MIME type."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path_factory.mktemp("notebook"))}},
    )
    client.execute()
    found: dict[str, dict[str, Any]] = {}
    for cell in notebook.cells:
        for tag in cell.get("metadata", {}).get("tags", []):
            results = [o for o in cell.outputs if o["output_type"] == "execute_result"]
            assert len(results) == 1, f"cell {tag!r} has no result"
            found[tag] = results[0]["data"]
    return found


def test_table_shows_schema_and_rows_as_html(outputs: dict[str, dict[str, Any]]) -> None:
    table = outputs["table"]
    assert table["text/plain"] == "Table(2 rows; n: LONG, region: STRING, day: DATE)"
    html = table["text/html"]
    assert "<caption>Table (2 rows, 3 columns)</caption>" in html
    assert "<th>region<br><small>STRING</small></th>" in html
    assert "<tr><td>1</td><td>west</td><td>2024-01-01</td></tr>" in html
    assert "<tr><td>2</td><td>east</td><td>2024-01-02</td></tr>" in html


def test_stream_shows_its_state_as_html(outputs: dict[str, dict[str, Any]]) -> None:
    assert "BatchStream (open, 3 columns)" in outputs["open-stream"]["text/html"]
    assert "BatchStream (consumed, 3 columns)" in outputs["consumed-stream"]["text/html"]


def test_dataset_shows_id_and_base_url(outputs: dict[str, dict[str, Any]]) -> None:
    text = outputs["dataset"]["text/plain"]
    assert text.startswith('Dataset("') and 'base_url="http://127.0.0.1:' in text
