"""The pixel-parallel RTL back end: simulated cycle by cycle in Verilator, bit-exact against the
emulator, its cycle schedule equal to what the simulation measures, the instrument top deciding
frame by frame as Python does, resources from Yosys. Small designs here; the full-size paper
student is in ``benchmarks/latency_accuracy.py``."""
from __future__ import annotations

import json

import numpy as np
import pytest

from cellsort.data import Preprocessing
from cellsort.errors import ConfigError
from cellsort.firmware.plan import read_plan
from cellsort.firmware.rtl import RtlConfig, build, simulate_crops, simulate_frames
from cellsort.firmware.rtl.layers import network_layers, parse_parallelism
from cellsort.firmware.rtl.simulate import VerilatorUnavailable, verilator
from cellsort.student import StudentArtifact, build_student
from firmware_tests.conftest import perturbed


@pytest.fixture(scope="module", autouse=True)
def needs_verilator():
    try:
        verilator()
    except VerilatorUnavailable as exc:
        pytest.skip(f"RTL simulation skipped: {exc}")


def _artifact(name: str, crop: int, b: int, seed: int = 3, gate: float = 0.0):
    from cellsort.gate import Gate

    prep = Preprocessing(input_size=(crop, crop), bin=b)
    model = perturbed(build_student(name, input_size=prep.network_size), seed=seed)
    return StudentArtifact(model, prep, ("B", "T4"), Gate(threshold=gate))


CROPS = np.random.default_rng(0).integers(0, 256, (160, 48, 48), dtype=np.uint8)


@pytest.mark.parametrize("name,crop,b,p,par", [
    ("tiny", 16, 1, 4, None), ("small", 24, 2, 8, None), ("tiny", 36, 3, 8, None),
    ("tiny", 16, 1, 4, "conv1=1"), ("small", 24, 1, 16, "conv1=4,conv2=2")],
    ids=["tiny16-p4", "small24-bin2-p8", "tiny36-bin3-p8", "slow-conv1", "p16"])
def test_network_is_bit_exact_and_its_cycles_are_the_schedule(tmp_path, name, crop, b, p, par):
    art = _artifact(name, crop, b, gate=0.01)
    rec = build(art, tmp_path, RtlConfig(pixels_per_clock=p, parallelism=parse_parallelism(par)))
    r = simulate_crops(tmp_path, art, CROPS)
    assert r["bit_exact"] == r["n"] == len(CROPS) and not r["overflow"]
    assert r["schedule_agrees"]
    assert r["cycles_first_pixel_to_class"] == rec["predicted"]["cycles_first_pixel_to_class"]
    assert r["cycles_last_pixel_to_class"] < r["cycles_first_pixel_to_class"]
    # crops come a beat a cycle (one idle cycle a row), as often as the slowest layer allows
    assert r["interval_cycles"] >= crop * (-(-crop // p) + 1)
    if par is None:  # each layer keeps up: the input's own interval
        assert r["interval_cycles"] == crop * (-(-crop // p) + 1)


def test_a_slower_layer_gets_a_deeper_ring_and_stays_exact(tmp_path):
    art = _artifact("tiny", 16, 1)
    fast = build(art, tmp_path / "fast", RtlConfig(pixels_per_clock=8))
    slow = build(art, tmp_path / "slow", RtlConfig(pixels_per_clock=8, parallelism={"conv2": 1, "conv1": 1}))
    ring = {layer["name"]: layer["ring_rows"] for layer in slow["layers"]}
    assert ring["conv1"] >= {layer["name"]: layer["ring_rows"] for layer in fast["layers"]}["conv1"]
    assert simulate_crops(tmp_path / "slow", art, CROPS[:40])["bit_exact"] == 40


@pytest.mark.parametrize("crop,b,p", [(24, 1, 8), (24, 2, 8), (48, 4, 16)])
def test_instrument_top_decides_every_frame_as_python(tmp_path, crop, b, p):
    from cellsort.data.detection import estimate_background
    from cellsort.data.flow import synthetic_flow
    from cellsort.firmware.fpga_detect import FpgaDetectConfig

    art = _artifact("tiny", crop, b)
    build(art, tmp_path, RtlConfig(pixels_per_clock=p))
    frames = np.stack([f for f, _ in synthetic_flow(90, seed=4, classes=("B", "T4"))])
    r = simulate_frames(tmp_path, art, frames, estimate_background(frames), FpgaDetectConfig())
    assert r["frames_matching"] == r["frames"] == 90 and r["cells"] >= 20 and not r["error"]
    assert 0 < r["cycles_detection_to_trigger"] < 2000


def test_instrument_top_on_frames_of_an_rtdc_recording(tmp_path):
    from cellsort.data.rtdc_synth import write_synthetic_recording
    from cellsort.firmware.fpga_detect import FpgaDetectConfig
    from cellsort.sorter.sources import frames_from_rtdc, rtdc_background

    write_synthetic_recording(tmp_path / "rec.rtdc", 300, seed=5)
    frames = np.stack(list(frames_from_rtdc(tmp_path / "rec.rtdc")))
    art = _artifact("tiny", 24, 2)
    build(art, tmp_path / "d", RtlConfig(pixels_per_clock=8))
    r = simulate_frames(tmp_path / "d", art, frames, rtdc_background(tmp_path / "rec.rtdc"), FpgaDetectConfig())
    assert r["frames_matching"] == r["frames"] == len(frames) and r["cells"] >= len(frames) // 2


def test_real_jurkat_crops_are_bit_exact(tmp_path, jurkat_crops):
    art = _artifact("small", 32, 2)  # 40x40 crops, cut to the student's 32 as the instrument would
    build(art, tmp_path, RtlConfig(pixels_per_clock=8))
    r = simulate_crops(tmp_path, art, jurkat_crops)
    assert r["bit_exact"] == r["n"] == len(jurkat_crops) >= 50


def test_three_classes_sort_the_gate_class_against_the_rest(tmp_path):
    from cellsort.gate import Gate

    prep = Preprocessing(input_size=(16, 16))
    model = perturbed(build_student("tiny", 3, input_size=(16, 16)), seed=8)
    art = StudentArtifact(model, prep, ("B", "T4", "T8"), Gate(threshold=0.0, sort_class=2))
    build(art, tmp_path, RtlConfig(pixels_per_clock=4))
    assert simulate_crops(tmp_path, art, CROPS[:60])["bit_exact"] == 60


def test_what_cannot_be_streamed_is_refused_by_name():
    art = _artifact("tiny", 16, 1)
    plan = read_plan(art.model, art.preprocessing)
    with pytest.raises(ConfigError, match="no layer \\['conv9'\\]"):
        network_layers(plan, (16, 16), 1, 4, {"conv9": 2})
    with pytest.raises(ConfigError, match="conv1: a pooled convolution takes PE 1 or an even PE"):
        network_layers(plan, (16, 16), 1, 4, {"conv1": 3})
    with pytest.raises(ConfigError, match="LAYER=PE"):
        parse_parallelism("conv1:2")


def test_cli_build_sim_resources(tmp_path):
    from cellsort.cli import main
    from cellsort.student import save_student

    save_student(tmp_path / "art", _artifact("tiny", 16, 1))
    assert main(["rtl", "build", "--model", str(tmp_path / "art"), "--out", str(tmp_path / "d"),
                 "--pixels-per-clock", "4", "--json"]) == 0
    rec = json.loads((tmp_path / "d" / "rtl.json").read_text())
    assert rec["files"] == {"network": "cellsort_net.v", "top": "cellsort_top.v"}
    tcl = (tmp_path / "d" / "vivado_project.tcl").read_text()
    assert "xcku035-fbva676-2-e" in tcl and "report_timing_summary" in tcl
    assert main(["rtl", "sim", "--design", str(tmp_path / "d"), "--n", "30", "--n-frames", "40", "--json"]) == 0
    sim = json.loads((tmp_path / "d" / "sim.json").read_text())
    assert sim["network"]["bit_exact"] == 30 and sim["top"]["frames_matching"] == 40
    assert "Verilator" in sim["network"]["method"] and "assumed" in sim["network"]["method"]
    assert main(["rtl", "resources", "--design", str(tmp_path / "d"), "--json"]) == 0
    res = json.loads((tmp_path / "d" / "resources_network.json").read_text())
    assert res["lut"] > 100 and res["ff"] > 100 and res["logic_depth"]["cells"] > 0
    assert "Yosys" in res["method"] and "not Vivado" in res["method"]
    assert main(["rtl", "build", "--model", str(tmp_path / "art"), "--out", str(tmp_path / "e"),
                 "--parallelism", "nope=2"]) == 2
