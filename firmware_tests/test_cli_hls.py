"""``cellsort hls csim|latency`` on a small artifact, and the demo's firmware stage."""
import json

import pytest

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


def test_convert_and_build_without_vendor_tools(tmp_path, capsys, monkeypatch):
    from cellsort.firmware.boards import load_board
    from cellsort.firmware.build import check_project

    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no vendor tools, whatever the machine has
    art = _artifact(tmp_path)
    prj = tmp_path / "prj"
    assert main(["hls", "build", "--model", str(art), "--board", "vcu118", "--out", str(prj)]) == 0
    out = capsys.readouterr().out
    assert "not on PATH" in out and "run_vendor.sh" in out
    script = (prj / "run_vendor.sh").read_text()
    assert "vitis_hls -f build_prj.tcl" in script and (prj / "run_vendor.sh").stat().st_mode & 0o111
    assert check_project(prj, load_board("vcu118")) == []
    problems = check_project(prj, load_board("zcu104"))  # another part and clock
    assert any("part" in p for p in problems) and any("clock_period" in p for p in problems)
    from cellsort.firmware.build import check_top

    assert (prj / "build_wrapper.tcl").is_file() and check_top(prj, load_board("vcu118")) == []
    top_problems = check_top(prj, load_board("zcu104"))  # 4 pixels a clock, another part
    assert any("set_part" in p for p in top_problems) and any("pixels per clock" in p for p in top_problems)


def test_latency_of_the_whole_top(tmp_path, capsys):
    """Detection to trigger (calibrated network model + the top's stages) against 24.7 µs."""
    art = _artifact(tmp_path)
    assert main(["hls", "latency", "--model", str(art), "--top", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["budget_us"] == 24.7 and r["verdict"] in ("PASS", "FAIL", "UNCERTAIN")
    assert r["total_cycles"] == sum(r["stages"].values())
    assert r["total_cycles_low"] < r["total_cycles"] < r["total_cycles_high"]
    assert r["network"]["per_layer"][0]["kind"] == "frontend" and "modelled from its loops" in r["method"]
    assert r["resources"]["bram18"] >= 1
    assert main(["hls", "latency", "--model", str(art), "--top"]) == 0
    assert "detection to trigger" in capsys.readouterr().out


@pytest.mark.vendor
def test_vendor_flow_runs_when_tools_present(tmp_path):
    from cellsort.firmware.build import run_vendor, write_vendor_script
    from cellsort.firmware.flow import vendor_tool

    if vendor_tool() is None:
        pytest.skip("Vivado/Vitis HLS is not on PATH: the vendor build cannot run here")
    from cellsort.firmware.boards import load_board
    from cellsort.firmware.convert import to_hls4ml

    art = _artifact(tmp_path)
    from cellsort.student import load_student

    to_hls4ml(load_student(art).model, tmp_path / "prj").write()
    write_vendor_script(tmp_path / "prj", load_board("coaxlink-ku035"))
    report = run_vendor(tmp_path / "prj")
    assert report and "CSynthesisReport" in report


def test_latency_and_csim_accept_a_bare_qkeras_model_file(tmp_path, capsys):
    art = _artifact(tmp_path)
    model_file = art / "model.h5"
    assert main(["hls", "latency", "--model", str(model_file)]) == 0
    assert "PASS" in capsys.readouterr().out
    write_synthetic(tmp_path / "data", 90, seed=2)
    assert main(["hls", "csim", "--model", str(model_file), "--data", str(tmp_path / "data"),
                 "--task", "B,T4", "--n", "4", "--out", str(tmp_path / "prj")]) == 0
    assert "bit-exact: 4/4" in capsys.readouterr().out
