"""The built wheel carries every file the package opens at run time, and a non-editable copy
finds them from another folder (boards, the instrument top's sources, calibration, the report
template)."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(out), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    (found,) = out.glob("cellsort-*.whl")
    return found


def _data_files() -> set[str]:
    """Every non-Python file inside the package folder (the hls/ link followed)."""
    package = ROOT / "cellsort"
    files = set()
    for folder, _, names in os.walk(package, followlinks=True):
        for name in names:
            path = Path(folder) / name
            if path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts:
                files.add(str(path.relative_to(ROOT)))
    return files


def test_every_package_data_file_is_in_the_wheel(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    data = _data_files()
    assert {"cellsort/firmware/hls/boards/coaxlink-ku035.yaml", "cellsort/firmware/hls/wrapper/cellsort_top.cpp",
            "cellsort/firmware/latency/calibration.yaml", "cellsort/report/templates/report.html.j2"} <= data
    assert data <= names, sorted(data - names)
    # the boards shipped are the repository's hls/ boards, byte for byte
    for board in (ROOT / "hls" / "boards").glob("*.yaml"):
        assert zipfile.ZipFile(wheel).read(f"cellsort/firmware/hls/boards/{board.name}") == board.read_bytes()


SMOKE = """
import cellsort, sys
from pathlib import Path
assert Path(cellsort.__file__).is_relative_to(Path(sys.argv[1])), cellsort.__file__
from cellsort.firmware.boards import list_boards, load_board
from cellsort.firmware.wrapper import SOURCES, WRAPPER_DIR
from cellsort.firmware.latency import load_calibration
from cellsort.report.build import render
assert {"coaxlink-ku035", "vcu118", "zcu104"} <= set(list_boards())
for name in list_boards():
    load_board(name)
for name in SOURCES:
    assert (WRAPPER_DIR / name).read_text()
assert len(load_calibration()) > 5
assert "<html" in render([], "t", "r", "p").lower()
print("ok")
"""


def test_a_non_editable_copy_runs_from_another_folder(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = subprocess.run([sys.executable, "-c", SMOKE, str(site)], cwd=elsewhere, capture_output=True,
                         text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(site)})
    assert run.returncode == 0 and run.stdout.strip().endswith("ok"), run.stderr[-3000:]
