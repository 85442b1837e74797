"""The sections of a run report: one registered rule per kind of run folder.

Each rule has a ``match`` (does this folder hold that kind of result?) and a ``build`` (the
section: figures with their method, and figures-as-numbers read from the folder's files). A
report walks the run folder and its sub-folders and applies every rule that matches, so a
demo run, a single teacher run, a student artifact, a firmware folder, a sort or score
output each give what they hold. New kinds of results add a rule here.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from cellsort.records import (
    CandidatesRecord,
    ExploreRecord,
    FirmwareRecord,
    RunRecord,
    ScoreRecord,
    SortRecord,
    TeacherRecord,
)
from cellsort.registry import Registry
from cellsort.report import figures as F
from cellsort.student.design import StudentDesign


@dataclass
class Fact:
    """One number shown in the report, with the file and JSON path it was read from."""

    label: str
    value: Any
    source: str
    path: str
    fmt: str = "{:.4g}"
    method: str = ""
    suffix: str = ""  # shown after the value (its band, "/n", a verdict), not part of it

    @property
    def text(self) -> str:
        if isinstance(self.value, (int, float)) and not isinstance(self.value, bool):
            return self.fmt.format(self.value)
        return str(self.value)


@dataclass
class Figure:
    """One plot: a file name, a caption that states its method, and the PNG."""

    name: str
    caption: str
    png: bytes

    @property
    def b64(self) -> str:
        """The PNG as base64, for a data URI."""
        import base64

        return base64.b64encode(self.png).decode("ascii")


@dataclass
class Table:
    """Rows side by side: each cell a :class:`Fact` (read from a file) or plain words."""

    header: list[str]
    rows: list[list[Fact | str]]
    caption: str = ""


@dataclass
class Section:
    title: str
    folder: str
    facts: list[Fact] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)
    lead: list[str] = field(default_factory=list)  # the answer in plain words, shown first
    tables: list[Table] = field(default_factory=list)


@dataclass
class Rule:
    name: str
    order: int
    match: Callable[[Path], bool]
    build: Callable[[Path, "Context"], Section]


@dataclass
class Context:
    """The report's root folder (paths in the report are relative to it)."""

    root: Path

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root)) or "."
        except ValueError:
            return str(path)


#: Section rules by name.
SECTION_RULES: Registry[Rule] = Registry("report section")


def rule(name: str, order: int, match: Callable[[Path], bool]):
    """Register a section rule (``order`` places it in the report)."""
    def register(build):
        SECTION_RULES.add(name, Rule(name, order, match, build))
        return build
    return register


def ordered_rules() -> list[Rule]:
    """The section rules in report order."""
    return sorted(SECTION_RULES.values(), key=lambda r: r.order)


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def lookup(doc: dict, path: str):
    """``doc["a"]["b"]`` for ``path="a.b"`` (``"rows.0.x"`` indexes a list); None where a key is
    missing."""
    for key in path.split("."):
        if isinstance(doc, list) and key.isdigit() and int(key) < len(doc):
            doc = doc[int(key)]
        elif isinstance(doc, dict) and key in doc:
            doc = doc[key]
        else:
            return None
    return doc


def facts_from(rec, source: str, spec: list[tuple[str, str, str]], method: str = "") -> list[Fact]:
    """Facts for each ``(label, field path, format)`` of ``spec`` present in the record ``rec``
    (a :class:`~cellsort.records.Record`; every path must name declared fields of it)."""
    from cellsort.records import field_path_exists

    doc = rec.model_dump(mode="json")
    out = []
    for label, path, fmt in spec:
        if not field_path_exists(type(rec), path):
            raise TypeError(f"the report reads {path!r}, which {type(rec).__name__} does not declare")
        value = lookup(doc, path)
        if value is not None:
            out.append(Fact(label, value, source, path, fmt, method))
    return out


def _has(kind, key: str | None = None) -> Callable[[Path], bool]:
    """Match a folder holding the record ``kind`` (a Record class or a file name) whose JSON has
    ``key``."""
    name = kind if isinstance(kind, str) else kind.FILE

    def match(folder: Path) -> bool:
        path = folder / name
        if not path.is_file():
            return False
        if key is None:
            return True
        try:
            return key in read_json(path)
        except ValueError:
            return False
    return match


def _prediction_figures(folder: Path, who: str, split: str = "test") -> list[Figure]:
    from cellsort.metrics import read_predictions

    path = folder / "predictions.npz"
    if not path.is_file():
        return []
    p = read_predictions(path)
    names = [str(n) for n in p["class_names"]]
    how = f"measured on the {split} split ({len(p['labels'])} crops, {path.name})"
    out = [Figure(f"{who}_confusion", f"{who.capitalize()} confusion matrix; {how}.",
                  F.png_bytes(F.confusion(p["labels"], p["logits"], names, f"{who}: confusion")))]
    if len(np.unique(p["labels"])) >= 2:
        out.append(Figure(f"{who}_roc", f"{who.capitalize()} ROC; {how}.",
                          F.png_bytes(F.roc(p["labels"], p["logits"], names, f"{who}: ROC"))))
    return out


METRICS = [("test accuracy", "test.accuracy", "{:.4f}"),
           ("test balanced accuracy", "test.balanced_accuracy", "{:.4f}"),
           ("test AUC", "test.auc", "{:.4f}"), ("test crops", "test.n", "{:d}"),
           ("best validation accuracy", "val_accuracy", "{:.4f}"), ("best epoch", "best_epoch", "{:d}")]


#: Method of each demo stage's headline figures.
RUN_METHODS = {"teacher": "measured on the test split", "distill": "measured on the test split",
               "firmware": "bit-exact emulator / calibrated cycle model (see note)",
               "sort": "measured (gate on validation, detection on the synthetic video's truth)",
               "score": "measured against the synthetic recording's true classes",
               "data": "counted"}


def _candidate_row(rec: CandidatesRecord, i: int, src: str, tools: list[str], role: str) -> list:
    """One candidate's cells: every number a Fact read from ``candidates.json``."""
    row, at = rec.rows[i], f"rows.{i}"
    doc = row.model_dump(mode="json")

    def fact(path, fmt, method, suffix=""):
        return Fact(path.rsplit(".", 1)[-1], lookup(doc, path), src, f"{at}.{path}", fmt, method, suffix)

    rtl = row.rtl
    cells: list = [row.label + (f" ({role})" if role else ""), fact("params", "{:,d}", "counted"),
                   fact("test_accuracy", "{:.3f}", f"bit-exact emulator, {row.n_test} test crops"),
                   fact("csim.bit_exact", "{:d}", "C-simulated (hls4ml)", f"/{row.csim.n}")]
    for tool in tools:
        lat = row.hls.by_tool.get(tool)
        cells.append(fact(f"hls.by_tool.{tool}.total_us", "{:.2f}", lat.method,
                          f" ({lat.total_us_low:.2f}–{lat.total_us_high:.2f}) {lat.verdict}") if lat else "")
    cells += [fact("rtl.us", "{:.2f}", rtl.method, f" ({rtl.cycles:,} cycles) {rtl.verdict}"),
              fact("rtl.bit_exact", "{:d}", "RTL simulation (Verilator) vs the emulator", f"/{rtl.n}"),
              fact("rtl.detection_to_trigger_us", "{:.2f}", rtl.method,
                   f" {rtl.detection_to_trigger_verdict}") if rtl.detection_to_trigger_us is not None else "",
              fact("rtl.lut_fraction", "{:.0%}", rtl.resources_method) if rtl.lut_fraction is not None else ""]
    return cells


@rule("verdict", -10, _has(CandidatesRecord, "rows"))
def verdict_section(folder: Path, ctx: Context) -> Section:
    """The answer first: which design to build, whether it beats the paper and on what evidence;
    then every candidate side by side and the frontier plot."""
    rec = CandidatesRecord.read(folder)
    src = ctx.rel(folder / CandidatesRecord.FILE)
    i = next(k for k, r in enumerate(rec.rows) if r.label == rec.recommended.label)
    best, ref = rec.rows[i], rec.rows[0]
    rtl = best.rtl
    is_paper = ref.design.get("student") == "paper"
    who = "the paper's student" if is_paper else f"the reference student ({ref.label})"
    whose = f"{who} trained the same way on this data"
    if rec.recommended.beats_paper:
        title = f"Verdict: build {best.label}; it beats the published {rec.budget_us:g} µs"
        trigger = (f", and triggers the sorter {rtl.detection_to_trigger_us:.2f} µs after it detects the cell "
                   f"(published: {rec.trigger_budget_us:g} µs)" if rtl.detection_to_trigger_us is not None else "")
        pe = ", ".join(f"{k}={v}" for k, v in rtl.parallelism.items())
        same = best.artifact == ref.artifact and i != 0
        which = (f"Build {best.label}: {who} itself, with another RTL parallelism "
                 f"({pe} output pixels a cycle) that leaves more of the part free. " if same else f"Build {best.label}. ")
        acc = (f"at its test accuracy of {best.test_accuracy:.1%} on this data" if same else
               f"at test accuracy {best.test_accuracy:.1%} against {ref.test_accuracy:.1%} for {whose}")
        lead = [f"{which}It classifies a cell {rtl.us:.2f} µs after the crop's first pixel "
                f"arrives (published: {rec.budget_us:g} µs){trigger}, {acc}.",
                f"Evidence: cycles measured in RTL simulation (Verilator) at an assumed {rtl.clock_mhz:g} MHz "
                "(it meets both budgets even at half that clock; Vivado's timing report settles the clock); "
                f"bit-exact on {best.csim.bit_exact}/{best.csim.n} test crops in C simulation (hls4ml) and "
                f"{rtl.bit_exact}/{rtl.n} in RTL simulation"
                + (f"; {rtl.frames_matching}/{rtl.frames} video frames decided as the Python model does"
                   if rtl.frames else "") + "."]
    else:
        title = "Verdict: no design beats the paper on this data with measured evidence"
        lead = [f"No candidate beats the published {rec.budget_us:g} µs at the accuracy of {whose} "
                f"with measured evidence. The most accurate is {best.label} "
                f"({best.test_accuracy:.1%}); the reasons for each design are below."]
    section = Section(title, ctx.rel(folder), lead=lead)
    section.notes = [f"Why: {rec.recommended.why}.", f"Rule: {rec.rule}."]
    if rec.recommended.exported:
        section.notes.append(f"The recommended student, with its sort gate, is exported to "
                             f"{rec.recommended.exported}.")
    section.facts = facts_from(rec, src, [
        ("recommended design", f"rows.{i}.label", "{}"), ("beats the paper", "recommended.beats_paper", "{}"),
        ("its test accuracy", f"rows.{i}.test_accuracy", "{:.4f}"),
        ("paper student's test accuracy (this data)", "rows.0.test_accuracy", "{:.4f}"),
        ("its latency, first pixel to class, µs", f"rows.{i}.rtl.us", "{:.2f}"),
        ("its detection to trigger, µs", f"rows.{i}.rtl.detection_to_trigger_us", "{:.2f}"),
        ("C-sim crops bit-exact", f"rows.{i}.csim.bit_exact", "{:d}"),
        ("C-sim crops compared", f"rows.{i}.csim.n", "{:d}"),
        ("RTL crops bit-exact", f"rows.{i}.rtl.bit_exact", "{:d}"), ("RTL crops compared", f"rows.{i}.rtl.n", "{:d}")],
        "see the table's methods")
    tools = sorted({t for r in rec.rows for t in r.hls.by_tool})
    clocks = {t: next(r.hls.by_tool[t].clock_mhz for r in rec.rows if t in r.hls.by_tool) for t in tools}
    header = (["design", "parameters", f"test accuracy ({ref.n_test} crops)", "C-sim bit-exact"]
              + [f"HLS model {t} {clocks[t]:g} MHz, µs (band)" for t in tools]
              + [f"RTL {rtl.clock_mhz:g} MHz, µs (cycles)", "RTL bit-exact", "RTL detection to trigger, µs",
                 "LUTs (RTL, est.)"])
    first = "paper student" if is_paper else "reference"
    roles = {0: first, i: "recommended"} if i else {0: f"{first}, recommended"}
    section.tables = [Table(header, [_candidate_row(rec, k, src, tools, roles.get(k, ""))
                                     for k in range(len(rec.rows))],
                            f"Verdicts against {rec.budget_us:g} µs and {rec.trigger_budget_us:g} µs. "
                            "HLS model: PASS when the band's top is within budget, FAIL when its bottom is over, "
                            "else UNCERTAIN (a C-synthesis report settles it). RTL: cycles measured, clock assumed: "
                            "PASS at half the clock, UNCERTAIN only at the assumed clock. RTL times run from the "
                            "crop's first pixel to the class. Methods: hover a number.")]
    drawn: set[str] = set()  # a student's HLS figures once, however many RTL builds share it
    points = []
    for k, r in enumerate(rec.rows):
        points.append({"label": StudentDesign.model_validate(r.design).short_label, "accuracy": r.test_accuracy,
                       "rtl_us": r.rtl.us, "tag": roles.get(k, ""),
                       "role": "recommended" if k == i else ("reference" if k == 0 else ""),
                       "hls": {} if r.artifact in drawn else
                       {t: (v.total_us, v.total_us_low, v.total_us_high) for t, v in r.hls.by_tool.items()}})
        drawn.add(r.artifact)
    section.figures = [Figure(
        "candidates_frontier", "Test accuracy against latency of every candidate: squares the calibrated "
        "HLS model per tool with its band, circles the RTL simulation (cycles measured, clock assumed), "
        f"the dashed line the published {rec.budget_us:g} µs and the star the paper's latency at the reference's "
        "accuracy on this data.", F.png_bytes(F.frontier(points, rec.budget_us, "accuracy against latency")))]
    return section


@rule("run", 0, _has(RunRecord, "stages"))
def run_section(folder: Path, ctx: Context) -> Section:
    """The demo's headline numbers, straight from ``run.json``."""
    doc = RunRecord.read(folder)
    src = ctx.rel(folder / RunRecord.FILE)
    spec = [("teacher test accuracy", "stages.teacher.test.accuracy", "{:.4f}"),
            ("student test accuracy (QKeras)", "stages.distill.test.accuracy", "{:.4f}"),
            ("student test AUC (QKeras)", "stages.distill.test.auc", "{:.4f}"),
            ("firmware test accuracy (bit-exact emulator)", "stages.firmware.emulator_test.accuracy", "{:.4f}"),
            ("C-sim crops bit-exact", "stages.firmware.bit_exact", "{:d}"),
            ("C-sim crops compared", "stages.firmware.n_csim", "{:d}"),
            ("latency, µs (calibrated model)", "stages.firmware.latency_us", "{:.2f}"),
            ("latency band low, µs", "stages.firmware.latency_us_low", "{:.2f}"),
            ("latency band high, µs", "stages.firmware.latency_us_high", "{:.2f}"),
            ("latency verdict", "stages.firmware.latency_verdict", "{}"),
            ("detection to trigger, µs (whole top, model)", "stages.firmware.detection_to_trigger_us", "{:.2f}"),
            ("sort gate (margin >)", "stages.sort.gate.threshold", "{:.3f}"),
            ("gate validation purity", "stages.sort.gate.purity", "{:.3f}"),
            ("gate validation recovery", "stages.sort.gate.recovery", "{:.3f}"),
            ("cells sorted in the flow video", "stages.sort.cells", "{:d}"),
            ("detection precision", "stages.sort.detection.precision", "{:.3f}"),
            ("detection recall", "stages.sort.detection.recall", "{:.3f}"),
            ("decision accuracy (video)", "stages.sort.decision_accuracy", "{:.3f}"),
            ("RT-DC events scored", "stages.score.events", "{:d}"),
            ("RT-DC ml_class accuracy", "stages.score.ml_class_accuracy", "{:.3f}")]
    section = Section("Run summary", ctx.rel(folder), [
        Fact(f.label, f.value, f.source, f.path, f.fmt, RUN_METHODS[f.path.split(".")[1]])
        for f in facts_from(doc, src, spec)])
    section.facts = [f if f.path != "stages.firmware.bit_exact" else
                     Fact(f.label, f.value, f.source, f.path, f.fmt, "C-simulated (hls4ml) vs QKeras and the emulator")
                     for f in section.facts]
    if doc.stages.candidates is not None:
        section.notes.append(f"The student and firmware figures here are the first design's (stage distill); "
                             f"the verdict compares every candidate, and sort and score use the recommended "
                             f"{doc.stages.candidates.recommended.label}.")
    if doc.stages.firmware is not None:
        section.notes.append(f"Latency method: {doc.stages.firmware.latency_method}.")
    section.details = {"versions": json.dumps(doc.versions, indent=1),
                       "config": json.dumps(doc.config or {}, indent=1)}
    return section


@rule("data", 10, _has("dataset.json"))
def data_section(folder: Path, ctx: Context) -> Section:
    """Montage of the training crops and the class counts of each split."""
    from cellsort.data.load import open_dataset
    from cellsort.data.montage import montage_figure

    data = open_dataset(folder)
    counts = {p: getattr(data, p).counts() for p in ("train", "val", "test")}
    section = Section(f"Data: {data.train.source}", ctx.rel(folder))
    section.figures = [
        Figure("data_montage", "Ten random training crops per class (as stored, 8-bit).",
               F.png_bytes(montage_figure(data.train))),
        Figure("data_counts", "Images per class and split (the split recorded with the data).",
               F.png_bytes(F.class_counts(counts, "class counts")))]
    for part, per_class in counts.items():
        for name, n in per_class.items():
            section.facts.append(Fact(f"{part} {name}", int(n), ctx.rel(folder), f"{part}.{name}", "{:d}",
                                      "counted from the data"))
    return section


@rule("teacher", 20, _has(TeacherRecord, "history"))
def teacher_section(folder: Path, ctx: Context) -> Section:
    doc = TeacherRecord.read(folder)
    cfg = doc.config or {}
    section = Section(f"Teacher: {cfg.get('arch')} (width {cfg.get('width')}, "
                      f"{doc.n_params:,} parameters)", ctx.rel(folder),
                      facts_from(doc, ctx.rel(folder / TeacherRecord.FILE), METRICS, "measured"))
    section.figures = [Figure("teacher_curves", "Teacher training loss and validation metrics per "
                              "epoch (measured).", F.png_bytes(F.learning_curves(doc.history, "teacher")))]
    section.figures += _prediction_figures(folder, "teacher")
    section.details = {"config": json.dumps(cfg, indent=1)}
    return section


@rule("student", 30, _has("artifact.json", "class_names"))
def student_section(folder: Path, ctx: Context) -> Section:
    from cellsort.student.artifact import read_artifact

    meta, _ = read_artifact(folder)
    distill = meta.distill or {}
    src = ctx.rel(folder / "artifact.json")
    title = (f"Student: {meta.model_name} ({meta.n_params or 0:,} parameters, "
             f"{distill.get('method', 'imported')})")
    section = Section(title, ctx.rel(folder),
                      facts_from(meta, src, [(lbl, f"distill.{p}", fmt) for lbl, p, fmt in METRICS],
                                 "measured (QKeras, quantization-aware)"))
    section.facts += facts_from(meta, src, [("sort gate (margin >)", "gate.threshold", "{:.3f}"),
                                            ("gate purity", "gate.purity", "{:.3f}"),
                                            ("gate recovery", "gate.recovery", "{:.3f}")],
                                "chosen on the validation split when trained")
    if distill.get("history"):
        section.figures.append(Figure("student_curves", "Student (QAT) training loss and validation "
                                      "metrics per epoch (measured).",
                                      F.png_bytes(F.learning_curves(distill["history"], "student"))))
    section.figures += _prediction_figures(folder, "student")
    section.details = {"config": json.dumps(distill.get("config", {}), indent=1)}
    return section


@rule("firmware", 40, _has(FirmwareRecord, "latency"))
def firmware_section(folder: Path, ctx: Context) -> Section:
    rec = FirmwareRecord.read(folder)
    doc = rec
    src = ctx.rel(folder / FirmwareRecord.FILE)
    board = rec.board
    section = Section(f"Firmware: {board.get('part')} at {board.get('clock_mhz', 0):g} MHz "
                      f"({board.get('io_type')})", ctx.rel(folder))
    section.facts = facts_from(doc, src, [
        ("C-sim crops bit-exact (vs QKeras and emulator)", "bit_exact", "{:d}"),
        ("C-sim crops compared", "n_csim", "{:d}")], "C-simulated (hls4ml compiled model)")
    section.facts += facts_from(doc, src, [
        ("firmware test accuracy", "emulator_metrics.accuracy", "{:.4f}"),
        ("firmware test AUC", "emulator_metrics.auc", "{:.4f}")], "bit-exact emulator on the test split")
    lat = rec.latency.model_dump()
    section.facts += facts_from(doc, src, [
        ("latency, cycles", "latency.total_cycles", "{:,d}"), ("latency, µs", "latency.total_us", "{:.2f}"),
        ("band low, µs", "latency.total_us_low", "{:.2f}"), ("band high, µs", "latency.total_us_high", "{:.2f}"),
        ("budget, µs", "latency.budget_us", "{:g}"), ("verdict", "latency.verdict", "{}")],
        "calibrated cycle model (method in the note above)")
    section.notes.append(f"Latency method: {lat['method']}.")
    top = rec.detection_to_trigger.model_dump() if rec.detection_to_trigger else None
    if top:
        section.facts += facts_from(doc, src, [
            ("detection to trigger, µs", "detection_to_trigger.total_us", "{:.2f}"),
            ("detection to trigger, band low µs", "detection_to_trigger.total_us_low", "{:.2f}"),
            ("detection to trigger, band high µs", "detection_to_trigger.total_us_high", "{:.2f}"),
            ("published detection to trigger, µs", "detection_to_trigger.budget_us", "{:g}"),
            ("detection-to-trigger verdict", "detection_to_trigger.verdict", "{}")],
            "whole instrument top: calibrated network model + the top's stages (note below)")
        section.notes.append(f"Detection to trigger method: {top['method']}.")
    per_tool = {k: v.model_dump() for k, v in rec.latency_by_tool.items()} or {lat["hls_tool"]: lat}
    section.figures.append(Figure(
        "firmware_latency", "Per-layer latency by tool: bars are each stage's own latency, dots when "
        "its last word leaves, the green band the calibrated range of the total, the dashed line the "
        "budget. Methods: " + "; ".join(f"{tool}: {rep['method']}" for tool, rep in per_tool.items()) + ".",
        F.png_bytes(F.latency_layers(per_tool, lat["budget_us"], "latency per layer"))))
    res = rec.resources.model_dump()
    total = res.get("total", {})
    used = {"lut": total.get("lut_mult", 0), "dsp": total.get("dsp", 0), "bram18": total.get("bram18", 0)}
    section.figures.append(Figure(
        "firmware_resources", f"Resources against the part's capacity. Method: {res.get('method')} "
        "(multiplier LUTs only: control logic and FIFOs in registers are not counted; a synthesis "
        "report settles it).",
        F.png_bytes(F.resources_vs_capacity(used, board.get("capacity"), board.get("part", "")))))
    section.facts += facts_from(doc, src, [
        ("multiplier LUTs", "resources.total.lut_mult", "{:,d}"), ("DSP", "resources.total.dsp", "{:,d}"),
        ("BRAM18", "resources.total.bram18", "{:,d}")], res.get("method", ""))
    if lat.get("settle"):
        section.notes.append(f"UNCERTAIN: {lat['settle']}.")
    return section


@rule("sort", 50, _has(SortRecord, "latency_us"))
def sort_section(folder: Path, ctx: Context) -> Section:
    import pyarrow.parquet as pq

    doc = SortRecord.read(folder)
    src = ctx.rel(folder / SortRecord.FILE)
    section = Section(f"Sorting ({doc.mode} mode)", ctx.rel(folder), facts_from(doc, src, [
        ("cells decided", "cells", "{:d}"), ("frames / events read", "frames", "{:d}"),
        ("cells per second (software)", "cells_per_s", "{:.0f}"),
        ("frames per second (software)", "frames_per_s", "{:.0f}"), ("sorted", "sorted", "{:d}"),
        ("rejected frames", "errors", "{:d}"), ("threshold (margin >)", "threshold", "{:.3f}"),
        ("detection precision", "detection.precision", "{:.3f}"),
        ("detection recall", "detection.recall", "{:.3f}"),
        ("decision accuracy", "decision_accuracy", "{:.3f}")], "measured (software, one run)"))
    events_path = folder / "events.parquet"
    if events_path.is_file():
        events = pq.read_table(events_path).to_pydict()
        ok = [not e for e in events["error"]]
        stage_us = {s: np.asarray(events[f"{s}_us"], np.float64)[ok]
                    for s in ("detect", "crop", "classify", "total") if f"{s}_us" in events}
        section.figures.append(Figure("sort_latency", "Per-cell software latency of each stage "
                                      "(measured wall time on this machine, not the FPGA).",
                                      F.png_bytes(F.stage_histograms(stage_us, "stage latency"))))
        if any(ok):
            times = np.asarray(events["timestamp"], np.float64)[ok]
            section.figures.append(Figure(
                "sort_decisions", "Decisions per class and sort pulses over the source's time "
                "(from events.parquet).", F.png_bytes(F.decisions_over_time(
                    times, [c for c, k in zip(events["class_name"], ok) if k],
                    np.asarray(events["sort"], bool)[ok], "decisions over time", "timestamp"))))
    gate_path = folder / "gate.json"
    if gate_path.is_file():
        gate = read_json(gate_path)
        curve = {k: [np.nan if x is None else x for x in v] for k, v in gate["curve"].items()}
        section.figures.append(Figure("sort_gate", "Purity against recovery of 'sort when margin > t' "
                                      "on the validation split, with the artifact's gate (measured).",
                                      F.png_bytes(F.purity_recovery_curve(curve, gate, "sort gate"))))
    return section


def _is_score(path: Path) -> bool:
    try:
        return "score_features" in read_json(path)
    except ValueError:
        return False


@rule("score", 60, lambda folder: any(_is_score(p) for p in folder.glob("*.json")))
def score_section(folder: Path, ctx: Context) -> Section:
    import pyarrow.parquet as pq

    path = next(p for p in sorted(folder.glob("*.json")) if _is_score(p))
    doc = ScoreRecord.read(path)
    section = Section(f"RT-DC scores: {Path(doc.output).name}", ctx.rel(folder), facts_from(
        doc, ctx.rel(path), [("events scored", "events", "{:d}"), ("sorted", "sorted", "{:d}"),
                             ("threshold (margin >)", "threshold", "{:.3f}"),
                             ("classify µs per event", "classify_us_per_event", "{:.1f}")],
        f"measured ({doc.backend})"))
    for name, n in doc.per_class.items():
        section.facts.append(Fact(f"decided {name}", n, ctx.rel(path), f"per_class.{name}", "{:d}",
                                  f"measured ({doc.backend})"))
    table = Path(doc.table_parquet or "")
    table = table if table.is_file() else path.with_suffix(".parquet")
    if table.is_file():
        cols = pq.read_table(table).to_pydict()
        scores = {f: cols[f] for f in doc.score_features if f in cols}
        section.figures.append(Figure("score_histograms", "Distribution of each ml_score_??? feature "
                                      "written into the recording (bit-exact emulator).",
                                      F.png_bytes(F.score_histograms(scores, "scores"))))
    section.notes.append(f"Centres from {doc.positions}; gate in Shape-Out/DCscope on "
                         f"{', '.join(doc.score_features)} or {doc.margin_feature} (margin).")
    return section


@rule("explore", 70, _has(ExploreRecord, "front"))
def explore_section(folder: Path, ctx: Context) -> Section:
    """The search's Pareto front (its plot) and the design exported for the budget."""
    doc = ExploreRecord.read(folder)
    src = ctx.rel(folder / ExploreRecord.FILE)
    section = Section(f"Design search: {len(doc.front)} designs on the front", ctx.rel(folder))
    for state, n in doc.trials.items():
        section.facts.append(Fact(f"trials {state}", n, src, f"trials.{state}", "{:d}", "Optuna study"))
    section.facts += facts_from(doc, src, [
        ("budget, µs", "budget_us", "{:g}"), ("best: trial", "best.trial", "{:d}"),
        ("best: design", "best.label", "{}"), ("best: method", "best.method", "{}"),
        ("best: validation accuracy", "best.val_accuracy", "{:.4f}"),
        ("best: test accuracy (emulator)", "best.test_accuracy", "{:.4f}"),
        ("best: latency, µs", "best.latency_us", "{:.2f}"),
        ("best: band high, µs", "best.latency_high_us", "{:.2f}")],
        "validation chose; test measured on the front only; latency by the calibrated model")
    plot = folder / "front.png"
    if plot.is_file():
        section.figures.append(Figure("explore_front", "Validation accuracy against calibrated latency "
                                      "of the feasible trials (colour: multiplier LUTs), the Pareto "
                                      "front joined. " + doc.method, plot.read_bytes()))
    return section
