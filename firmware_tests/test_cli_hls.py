"""``cellsort hls csim|latency`` on a small artifact, and the demo's firmware stage."""
import json

from cellsort.cli import main
from cellsort.data import Preprocessing, write_synthetic
from cellsort.student import StudentArtifact, build_student, save_student
from firmware_tests.conftest import perturbed


def _artifact(tmp_path):
    model = perturbed(build_student("tiny", input_size=(16, 16)), seed=2)
    save_student(tmp_path / "student", StudentArtifact(model, Preprocessing(input_size=(16, 16)),
                                                        ("B", "T4")))
    return tmp_path / "student"


def test_csim_prints_bit_exact_count(tmp_path, capsys):
    art = _artifact(tmp_path)
    write_synthetic(tmp_path / "data", 90, seed=1)
    assert main(["hls", "csim", "--model", str(art), "--data", str(tmp_path / "data"), "--n", "5",
                 "--out", str(tmp_path / "prj")]) == 0
    out = capsys.readouterr().out
    assert "bit-exact: 5/5" in out
    report = json.loads((tmp_path / "prj/firmware.json").read_text())
    assert report["bit_exact"] == 5 and report["latency"]["method"].startswith("analytic model")
    assert (tmp_path / "prj/hls/firmware/cellsort_student.cpp").is_file()


def test_latency_prints_verdict(tmp_path, capsys):
    art = _artifact(tmp_path)
    assert main(["hls", "latency", "--model", str(art), "--board", "zcu104"]) == 0
    text = capsys.readouterr().out
    assert "PASS" in text and "cycles" in text and "µs" in text
    assert main(["hls", "latency", "--model", str(art), "--board", "nope"]) == 2
