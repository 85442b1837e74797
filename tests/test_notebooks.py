"""The walkthrough notebooks execute top to bottom (nbclient), so they cannot rot."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_every_stage_has_a_notebook():
    names = {p.stem for p in NOTEBOOKS}
    assert {"01_data", "02_teacher_distillation", "03_firmware", "04_sorting_rtdc"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("CELLSORT_RUNS", str(tmp_path))
    book = nbformat.read(path, as_version=4)
    NotebookClient(book, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    errors = [o for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    assert any(c.get("outputs") for c in book.cells if c.cell_type == "code")
    assert any(tmp_path.iterdir()), "the notebook wrote nothing under CELLSORT_RUNS"
