"""The HTML run report: the demo writes it, every figure is embedded, its numbers are the
run's; and the quiet console (no native log lines, plain progress in logs, whole words)."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cellsort.report.sections import lookup


class _Facts(HTMLParser):
    """Collects every fact cell (data-source/data-path/data-value and its text) and image."""

    def __init__(self):
        super().__init__()
        self.facts, self.images, self._open = [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "td" and "data-path" in attrs:
            self._open = dict(attrs, text="")
        if tag == "img":
            self.images.append(attrs)

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag):
        if tag == "td" and self._open is not None:
            self.facts.append(self._open)
            self._open = None


@pytest.fixture(scope="module")
def tiny_demo(tmp_path_factory):
    """The whole demo at tiny settings (a minute or two), report included."""
    from cellsort.demo import DemoConfig, run_demo
    from cellsort.distill.train import DistillConfig
    from cellsort.teacher.budget import TEACHER_PRESETS

    out = tmp_path_factory.mktemp("demo")
    cfg = DemoConfig(n_images=600, teacher=TEACHER_PRESETS["cpu"].model_copy(
        update={"epochs": 1, "width": 4, "views": 1}),  # another registered student, binned
        distill=DistillConfig(student="small", bin=2, method="kd", epochs=4, min_purity=0.5),
        n_csim=8, n_frames=60)
    run_demo(out, cfg, log=lambda msg: None)
    return out


def _parse(html: Path) -> _Facts:
    parser = _Facts()
    parser.feed(html.read_text())
    return parser


def test_demo_writes_a_report_with_every_figure_embedded(tiny_demo):
    run = json.loads((tiny_demo / "run.json").read_text())
    html = Path(run["stages"]["report"]["html"])
    assert html == tiny_demo / "report.html" and html.is_file()
    page = html.read_text()
    pngs = sorted((tiny_demo / "report_files").glob("*.png"))
    names = {p.stem for p in pngs}
    assert {"data_montage", "data_counts", "teacher_curves", "teacher_confusion", "teacher_roc",
            "student_curves", "student_confusion", "student_roc", "firmware_latency",
            "firmware_resources", "sort_latency", "sort_decisions", "sort_gate",
            "score_histograms"} <= names
    images = _parse(html).images
    assert len(images) == len(pngs)
    for png in pngs:  # the page holds each PNG beside it, byte for byte, as a data URI
        assert f"data:image/png;base64,{base64.b64encode(png.read_bytes()).decode()}" in page
    assert all(img["src"].startswith("data:image/png;base64,") for img in images)
    assert "src=\"http" not in page and "href=\"http" not in page  # self-contained


def test_report_numbers_equal_the_run_files(tiny_demo):
    run = json.loads((tiny_demo / "run.json").read_text())
    facts = _parse(tiny_demo / "report.html").facts
    from_run = [f for f in facts if f["data-source"] == "run.json"]
    paths = {f["data-path"] for f in from_run}
    assert {"stages.distill.test.accuracy", "stages.teacher.test.accuracy", "stages.firmware.bit_exact",
            "stages.firmware.latency_us", "stages.sort.gate.threshold", "stages.score.events"} <= paths
    for fact in facts:
        source = tiny_demo / fact["data-source"]
        doc = json.loads(source.read_text()) if source.is_file() else None
        if doc is None:  # data counts: read from the dataset folder
            continue
        want = lookup(doc, fact["data-path"])
        got = fact["data-value"]
        if isinstance(want, bool) or isinstance(want, str):
            assert got == str(want), fact
        else:
            assert float(got) == float(want), fact
    # the values shown are the run's, rounded only for display
    acc = next(f for f in from_run if f["data-path"] == "stages.distill.test.accuracy")
    assert acc["text"] == f"{run['stages']['distill']['test']['accuracy']:.4f}"
    verdict = next(f for f in facts if f["data-path"] == "latency.verdict")
    assert verdict["text"] == run["stages"]["firmware"]["latency_verdict"]


def test_report_command_on_a_stage_folder_and_on_nothing(tiny_demo, tmp_path):
    from cellsort.cli import main

    out = tmp_path / "student.html"
    assert main(["report", str(tiny_demo / "student"), "--out", str(out)]) == 0
    facts = _parse(out).facts
    assert {f["data-path"] for f in facts} >= {"distill.test.accuracy", "distill.best_epoch"}
    assert (tmp_path / "student_files" / "student_confusion.png").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = subprocess.run([sys.executable, "-m", "cellsort", "report", str(empty)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "holds no cellsort results" in proc.stderr


def test_report_on_a_malformed_result_is_one_line(tmp_path):
    """A teacher.json whose history lacks its fields: exit 2 naming the folder, no traceback."""
    run = tmp_path / "run"
    (run / "teacher").mkdir(parents=True)
    (run / "teacher" / "teacher.json").write_text(json.dumps({"history": [{"epoch": 1}]}))
    proc = subprocess.run([sys.executable, "-m", "cellsort", "report", str(run)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "teacher results are not readable" in proc.stderr and str(run / "teacher") in proc.stderr


# The console ---------------------------------------------------------------------------

NATIVE_NOISE = ("cuInit", "oneDNN", "absl::InitializeLog", "cudart_stub", "UserWarning",
                "WARNING:tensorflow")


def test_model_commands_print_no_native_log_lines(tiny_demo, tmp_path):
    cmd = [sys.executable, "-m", "cellsort", "sort", "--source", "synthetic", "--frames", "20",
           "--model", str(tiny_demo / "student"), "--backend", "qkeras", "--out"]
    proc = subprocess.run(cmd + [str(tmp_path / "quiet")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for marker in NATIVE_NOISE:
        assert marker not in proc.stderr + proc.stdout, marker
    assert "sorting frames: 20/20 (100%)" in proc.stderr  # plain progress: stderr is a pipe
    assert "cells/s" in proc.stdout


def test_progress_prints_plain_lines_when_not_a_terminal(capsys):
    from cellsort.progress import plain_line, track

    assert list(track(range(5), "counting", 5, interval=0.0)) == list(range(5))
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 6 and lines[-1].startswith("counting: 5/5 (100%)")
    assert "about" in lines[0] and "left" in lines[0]
    assert plain_line("x", 3, None, 65.0) == "x: 3 done, 1 min 5 s elapsed"


def test_tables_keep_words_whole():
    from rich.console import Console

    from cellsort.cli.console import make_table

    table = make_table("latency", "layer", "budget", right=("budget",))
    table.add_row("conv2d_with_a_long_name", "budget 14.5 µs")
    console = Console(width=30, file=open(os.devnull, "w"), record=True)
    console.print(table)
    lines = console.export_text().splitlines()
    assert len([line for line in lines if "conv2d" in line]) == 1  # a row stays one line
    assert not any(line.rstrip(" │").endswith("14.5") for line in lines)  # unit kept with number
    assert not any(line.strip(" │") == "µs" for line in lines)


def test_gpu_sized_teacher_on_a_cpu_is_warned_with_the_cpu_preset():
    from cellsort.teacher.budget import TEACHER_PRESETS, cpu_warning, expected_seconds

    paper, cpu = TEACHER_PRESETS["paper"], TEACHER_PRESETS["cpu"]
    small = expected_seconds(cpu.model_copy(update={"epochs": 1}), 64, 3, 48, steps=1)
    assert 0 < small < 60
    text = cpu_warning(paper, 3 * 3600.0)
    assert text is not None and "--preset cpu" in text and "3 h 00 min" in text
    assert cpu_warning(cpu, 30.0) is None


def test_demo_config_file_points_the_demo_at_any_registered_student(tmp_path):
    from cellsort.config import ConfigError, load_config
    from cellsort.demo import DemoConfig

    path = tmp_path / "demo.yaml"
    path.write_text("distill:\n  student: deep\n  bin: 2\n  student_options: {weight_bits: 6}\n")
    cfg = load_config(DemoConfig, path, n_images=None, seed=3)
    assert (cfg.distill.student, cfg.distill.bin, cfg.seed) == ("deep", 2, 3)
    assert cfg.distill.student_options == {"weight_bits": 6}
    path.write_text("distill:\n  student: nosuch\n")
    with pytest.raises(ConfigError, match="nosuch"):
        load_config(DemoConfig, path)


def test_tiny_demo_student_is_binned_and_its_firmware_bit_exact(tiny_demo):
    run = json.loads((tiny_demo / "run.json").read_text())
    prep = json.loads((tiny_demo / "student" / "preprocessing.json").read_text())
    assert prep["bin"] == 2 and run["config"]["distill"]["student"] == "small"
    assert run["stages"]["firmware"]["bit_exact"] == run["stages"]["firmware"]["n_csim"] == 8
