"""The calibrated latency model: every public report reproduced, bands, verdicts, refusals."""
import json

import pytest

from cellsort.architecture import ArchitectureError, architecture_from_layers
from cellsort.cli import main
from cellsort.firmware.boards import load_board
from cellsort.firmware.latency import (
    LatencyOptions,
    estimate_latency,
    load_calibration,
    options_for_board,
)
from cellsort.firmware.latency.calibration import ratios
from cellsort.firmware.latency.cycles import model_cycles
from cellsort.student import build_student

REPORTS = load_calibration()
FITTED = [r for r in REPORTS if r.fitted]
CNN = [{"type": "Conv2D", "filters": 8, "kernel": 3}, {"type": "Activation", "activation": "relu"},
       {"type": "MaxPooling2D", "pool": 2}, {"type": "Flatten"}, {"type": "Dense", "units": 2}]


def test_calibration_set_records_sources_and_tools():
    assert len(REPORTS) >= 10
    tools = {r.record["tool"] for r in REPORTS}
    assert tools == {"vitis", "vivado"}
    for rep in REPORTS:
        src = rep.record["source"]
        assert src["repo"].count("/") == 1 and src["path"] and len(src["commit"]) == 40
        assert rep.reported_cycles > 0 and rep.record["clock_period_ns"] > 0


def test_excluded_reports_say_why():
    for rep in REPORTS:
        assert rep.fitted or len(rep.record["excluded"]) > 20
    assert len(FITTED) >= 10


@pytest.mark.parametrize("rep", FITTED, ids=[r.id for r in FITTED])
def test_model_reproduces_every_report_within_15_percent_and_inside_its_band(rep):
    est = estimate_latency(rep.architecture, rep.options)
    assert abs(est.total_cycles / rep.reported_cycles - 1) <= 0.15
    assert est.total_cycles_low <= rep.reported_cycles <= est.total_cycles_high
    assert est.evidence[0].startswith("calibrated on")


def test_vitis_line_buffer_costs_three_cycles_a_pixel_on_the_paper_student():
    model = build_student("paper")
    vitis = estimate_latency(model, LatencyOptions(hls_tool="vitis", clock_mhz=200))
    legacy = estimate_latency(model, LatencyOptions(hls_tool="vitis", hls4ml_version="0.7"))
    vivado = estimate_latency(model, LatencyOptions(hls_tool="vivado"))
    assert 3 * 48 * 48 <= vitis.total_cycles < 3 * 48 * 48 + 100
    assert vitis.verdict == "FAIL" and vitis.total_us_low > 14.5
    # Vivado HLS 2020.1 reaches II 1 (hls4ml 0.6 and 0.8 reports): one pixel a cycle
    assert 48 * 48 <= vivado.total_cycles < 48 * 48 + 100
    assert vivado.verdict == "PASS" and vivado.total_us_high <= 14.5
    # Vitis with hls4ml < 0.8 inlined the line buffer (AlexNet report, Vitis 2022.1)
    assert 48 * 48 <= legacy.total_cycles < 48 * 48 + 100
    assert [r.name for r in vitis.per_layer] == ["conv1", "relu1", "pool1", "conv2", "relu2",
                                                 "pool2", "logits"]


def test_verdict_uses_the_band():
    model = build_student("paper")
    cycles = estimate_latency(model).total_cycles
    rep = estimate_latency(model, LatencyOptions(budget_us=cycles / 200.0))  # budget = estimate
    assert rep.total_cycles_low < cycles < rep.total_cycles_high
    assert rep.verdict == "UNCERTAIN" and "csynth" in rep.settle


def test_reuse_factor_does_not_multiply_the_vitis_interval():
    arch = architecture_from_layers((32, 32, 1), CNN)
    rf1 = estimate_latency(arch, LatencyOptions(reuse_factor=1)).total_cycles
    rf16 = estimate_latency(arch, LatencyOptions(reuse_factor=16)).total_cycles
    assert rf16 < 1.2 * rf1  # Vitis keeps II 3-5 at RF 16 and 100 (lolbraa reports)
    vivado16 = estimate_latency(arch, LatencyOptions(hls_tool="vivado", reuse_factor=16))
    assert 32 * 32 * 3 <= vivado16.total_cycles < 32 * 32 * 16  # below II = RF


def test_same_padding_gets_a_zero_padding_stage_and_costs_more_words():
    same = architecture_from_layers((16, 16, 1), [{"type": "Conv2D", "filters": 4, "kernel": 5,
                                                   "padding": "same"}])
    cycles, rows = model_cycles(same, LatencyOptions())
    assert [r.kind for r in rows] == ["zeropad2d", "conv2d"]
    assert rows[1].words_in == 20 * 20 and cycles >= 3 * 400


def test_batchnorm_folds_into_a_float_conv_and_softmax_costs_its_tables():
    arch = architecture_from_layers((8, 8, 1), [
        {"type": "Conv2D", "filters": 4, "kernel": 3}, {"type": "BatchNormalization"},
        {"type": "Activation", "activation": "relu"}, {"type": "Flatten"},
        {"type": "Dropout", "rate": 0.5}, {"type": "Dense", "units": 2}, {"type": "Softmax"}])
    kinds = [r.kind for r in model_cycles(arch, LatencyOptions())[1]]
    assert kinds == ["conv2d", "activation", "dense", "softmax"]
    stable = estimate_latency(arch, LatencyOptions(softmax="stable")).total_cycles
    skipped = estimate_latency(arch, LatencyOptions(softmax="skip")).total_cycles
    assert stable > 1024 > 4 * skipped  # Vitis rebuilds the 1,024-entry exp table every call
    legacy = estimate_latency(arch, LatencyOptions(hls4ml_version="0.7", softmax="stable"))
    assert legacy.total_cycles < 300  # tables folded into ROMs (Vitis 2022.1, Vivado 2020.1)


def test_extrapolation_widens_the_band_and_says_why():
    arch = architecture_from_layers((32, 32, 1), [{"type": "Conv2D", "filters": 4, "kernel": 7},
                                                  {"type": "Flatten"}, {"type": "Dense", "units": 2},
                                                  {"type": "Softmax"}])
    base = estimate_latency(arch, LatencyOptions(hls_tool="vivado", softmax="stable"))
    res = estimate_latency(arch, LatencyOptions(hls_tool="vivado", softmax="legacy"))
    assert any("7x7" in e for e in base.evidence)
    assert any("legacy softmax" in e for e in res.evidence)
    width = lambda r: r.total_cycles_high / r.total_cycles_low  # noqa: E731
    assert width(res) > width(base) > 1.0


def test_options_are_validated():
    for bad in ({"reuse_factor": 0}, {"reuse_factor": -2}, {"io_type": "bogus"},
                {"hls_tool": "quartus"}, {"clock_mhz": 0}, {"strategy": "fast"}):
        with pytest.raises(ValueError):
            LatencyOptions(**bad)
    opts = options_for_board(load_board("vcu118"))
    assert opts.clock_mhz == 250.0 and opts.hls_tool == "vitis"


def _save(model, path):
    model.save(path)
    return str(path)


def test_cli_refuses_unsupported_layers_and_bad_options(tmp_path, capsys):
    from cellsort.keras_compat import tf_keras

    keras = tf_keras()
    lstm = keras.Sequential([keras.Input((10, 4)), keras.layers.LSTM(4), keras.layers.Dense(2)])
    path = _save(lstm, tmp_path / "lstm.h5")
    assert main(["hls", "latency", "--model", path]) == 2
    assert "LSTM" in capsys.readouterr().err
    cnn = keras.Sequential([keras.Input((16, 16, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                            keras.layers.BatchNormalization(), keras.layers.Flatten(),
                            keras.layers.Dense(2, activation="softmax")])
    path = _save(cnn, tmp_path / "cnn.h5")
    for bad in (["--reuse-factor", "0"], ["--reuse-factor", "-2"], ["--io-type", "bogus"],
                ["--hls-tool", "quartus"], ["--clock-mhz", "-5"], ["--layer-reuse", "conv2d=0"], ["--layer-reuse", "nosuch=2"],
                ["--layer-reuse", "nonsense"]):
        assert main(["hls", "latency", "--model", path, *bad]) == 2, bad
    capsys.readouterr()
    assert main(["hls", "latency", "--model", path, "--json", "--hls-tool", "vivado"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("total_cycles", "total_cycles_low", "total_cycles_high", "total_us", "clock_mhz",
                "hls_tool", "verdict", "per_layer"):
        assert key in out
    assert out["hls_tool"] == "vivado" and out["total_cycles"] > 14 * 14
    name = out["per_layer"][0]["name"]
    assert main(["hls", "latency", "--model", path, "--json", "--hls-tool", "vivado",
                 "--layer-reuse", f"{name}=16"]) == 0
    slower = json.loads(capsys.readouterr().out)
    assert slower["per_layer"][0]["ii"] != out["per_layer"][0]["ii"]
    assert out["verdict"] in ("PASS", "FAIL", "UNCERTAIN")


def test_report_is_put_beside_the_model(tmp_path, capsys):
    """A csynth.xml in the vendor's format: totals and the band check come back."""
    xml = tmp_path / "csynth.xml"
    xml.write_text("<profile><UserAssignments><Part>xcku035-fbva676-2-e</Part>"
                   "<TargetClockPeriod>5.00</TargetClockPeriod></UserAssignments>"
                   "<PerformanceEstimates><SummaryOfTimingAnalysis><EstimatedClockPeriod>4.1"
                   "</EstimatedClockPeriod></SummaryOfTimingAnalysis><SummaryOfOverallLatency>"
                   "<Best-caseLatency>6950</Best-caseLatency><Worst-caseLatency>6950"
                   "</Worst-caseLatency><Interval-min>6913</Interval-min><Interval-max>6913"
                   "</Interval-max></SummaryOfOverallLatency></PerformanceEstimates></profile>")
    from cellsort.data import Preprocessing
    from cellsort.student import StudentArtifact, save_student

    art = save_student(tmp_path / "art", StudentArtifact(build_student("paper"),
                                                        Preprocessing(input_size=(48, 48)), ("B", "T")))
    assert main(["hls", "latency", "--model", str(art), "--report", str(xml), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["vendor_report"]["report_cycles"] == 6950
    assert out["vendor_report"]["report_inside_band"] is True
    (tmp_path / "bad.xml").write_text("<profile/>")
    assert main(["hls", "latency", "--model", str(art), "--report", str(tmp_path / "bad.xml")]) == 2


def test_every_tool_with_reports_has_ratios():
    assert len(ratios("vitis", "io_stream")) >= 5 and len(ratios("vivado", "io_stream")) >= 2


def test_unknown_rule_is_refused_not_zero():
    from cellsort.firmware.latency.rules import timing_for
    from cellsort.firmware.latency.stages import Stage

    with pytest.raises(ArchitectureError, match="no latency rule"):
        timing_for(Stage("x", "lstm", 1, 1, 1, 1, 1, 1), None, LatencyOptions())
