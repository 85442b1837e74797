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

import numpy as np
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
    from cellsort.student.design import StudentDesign
    from cellsort.teacher.budget import TEACHER_PRESETS

    out = tmp_path_factory.mktemp("demo")
    cfg = DemoConfig(n_images=600, teacher=TEACHER_PRESETS["cpu"].model_copy(
        update={"epochs": 1, "width": 4, "views": 1}),  # another registered student, binned
        distill=DistillConfig(student="small", bin=2, method="kd", epochs=4, min_purity=0.5),
        candidates=[StudentDesign(student="tiny", bin=4), StudentDesign(student="small", bin=2, parallelism="half")],
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


def test_report_opens_with_the_verdict_and_the_frontier(tiny_demo):
    """The first section names the design to build, in words, with the candidates side by side."""
    cand = json.loads((tiny_demo / "candidates" / "candidates.json").read_text())
    best = cand["recommended"]
    page = (tiny_demo / "report.html").read_text()
    first = page.index("<section")
    assert page.index("Verdict:", first) < page.index("Run summary", first)
    verdict = page[first:page.index("</section>", first)]
    assert ("build " + best["label"]) in verdict if best["beats_paper"] else "no design beats" in verdict
    assert 'data-name="candidates_frontier"' in verdict
    cells = [f for f in _parse(tiny_demo / "report.html").facts if f["data-source"] == "candidates/candidates.json"]
    assert {f"rows.{i}.rtl.us" for i in range(len(cand["rows"]))} <= {f["data-path"] for f in cells}
    assert len(cand["rows"]) == 3 and all(r["csim"]["bit_exact"] == r["csim"]["n"] for r in cand["rows"])
    ref, half = cand["rows"][0], cand["rows"][2]  # the same student, half the RTL parallelism: not retrained
    assert half["artifact"] == ref["artifact"] and half["test_accuracy"] == ref["test_accuracy"]
    assert all(half["rtl"]["parallelism"][k] <= v for k, v in ref["rtl"]["parallelism"].items())
    assert half["rtl"]["cycles"] >= ref["rtl"]["cycles"]
    # the exported design is the recommended one, gate included
    exported = json.loads((tiny_demo / "recommended" / "artifact.json").read_text())
    chosen = json.loads((Path(best["artifact"]) / "artifact.json").read_text())
    assert exported["gate"] == chosen["gate"] and exported["model_name"] == chosen["model_name"]


CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
                 if Path(p).is_file()), None)


@pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium on this machine (Debian package chromium)")
def test_verdict_fills_a_laptop_first_screen_in_a_real_browser(tiny_demo, tmp_path):
    """Headless Chromium at 1366x768: the verdict box (its green edge) and the frontier plot are on
    the first screen."""
    from PIL import Image

    shot = tmp_path / "first_screen.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1366,768",
                    (tiny_demo / "report.html").as_uri()], capture_output=True, timeout=120, check=True)
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert img.shape[:2] == (768, 1366)
    edge = (np.abs(img - [0x2a, 0x9d, 0x3f]).sum(axis=2) < 30)  # the answer's border colour
    rows = np.flatnonzero(edge.any(axis=1))
    assert rows.size and rows.min() < 300 and rows.max() == 767  # starts high and fills the screen
    plot = img[250:700, 500:1300]
    assert (np.abs(plot - [0xe6, 0x39, 0x46]).sum(axis=2) < 40).any()  # an RTL point of the frontier


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
