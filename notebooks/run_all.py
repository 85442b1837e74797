"""Execute every walkthrough notebook in place, so the committed copies show their outputs.

Usage (from the repository root): ``.venv/bin/python notebooks/run_all.py`` (``make notebooks``).
The test suite executes them too (``tests/test_notebooks.py``), without saving.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        book = nbformat.read(path, as_version=4)
        NotebookClient(book, timeout=1800, kernel_name="python3",
                       resources={"metadata": {"path": str(ROOT)}}).execute()
        nbformat.write(book, path)
        print(f"executed {path.relative_to(ROOT)}")
