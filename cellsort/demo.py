"""The end-to-end demo on the embedded synthetic data: one run folder, stage by stage."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pydantic import Field

from cellsort.atomic import write_json
from cellsort.config import StrictModel
from cellsort.data.dataset import parse_task
from cellsort.data.flow import synthetic_flow
from cellsort.data.load import open_dataset
from cellsort.data.montage import save_montage
from cellsort.data.synth import SynthConfig, write_synthetic
from cellsort.distill.train import DistillConfig, distill, load_soft_targets
from cellsort.firmware.boards import load_board
from cellsort.firmware.flow import run_firmware
from cellsort.gate import purity_recovery
from cellsort.records import FirmwareRecord, RunRecord
from cellsort.sorter.classifier import CellClassifier
from cellsort.sorter.run import run_video
from cellsort.sorter.stream import SorterConfig
from cellsort.student.artifact import load_student
from cellsort.student.design import StudentDesign
from cellsort.teacher.budget import TEACHER_PRESETS
from cellsort.teacher.train import TeacherConfig, train_teacher


class DemoConfig(StrictModel):
    """What the demo runs: dataset size, seed, the task, and light teacher/student schedules.

    ``distill`` chooses the student: any registered one, its options, the crop and its
    binning (``distill: {student: small, bin: 4}`` in a ``--config`` file).
    """

    n_images: int = Field(6000, ge=30, le=10_000_000)
    seed: int = Field(0, ge=0)
    task: str = "B,T4"
    teacher: TeacherConfig = TEACHER_PRESETS["cpu"]
    distill: DistillConfig = DistillConfig(method="kd-margin", epochs=8)
    board: str = "coaxlink-ku035"
    #: Designs tried beside the paper student (trained as ``distill``, same method and schedule;
    #: one that differs from a trained design only in its RTL parallelism reuses that student).
    candidates: list[StudentDesign] = Field(default_factory=lambda: [
        StudentDesign(student="paper", parallelism="half"), StudentDesign(student="paper", bin=2),
        StudentDesign(student="paper", bin=4)])
    n_csim: int = Field(100, ge=1, le=100_000)
    n_frames: int = Field(400, ge=10, le=1_000_000)


def stage_data(out: Path, cfg: DemoConfig, log) -> dict:
    """Generate (or reuse) the synthetic dataset, summarise it and picture it."""
    folder = out / "data"
    meta = folder / "dataset.json"
    wanted = {"seed": cfg.seed, "n": cfg.n_images, "config": SynthConfig().model_dump(mode="json")}
    if meta.is_file() and {k: json.loads(meta.read_text()).get(k) for k in wanted} == wanted:
        log(f"reusing synthetic data in {folder}")
    else:
        log(f"generating {cfg.n_images} synthetic images into {folder}")
        write_synthetic(folder, cfg.n_images, cfg.seed, progress=True)
    data = open_dataset(folder)
    save_montage(data.train, out / "montage.png")
    task = data.relabel(parse_task(cfg.task))
    return {"data": str(folder), "montage": str(out / "montage.png"),
            "counts": {p: getattr(task, p).counts() for p in ("train", "val", "test")}}


def stage_teacher(out: Path, cfg: DemoConfig, log) -> dict:
    """Train a 3-class (B/T4/T8) teacher, resuming a previous demo run where it stopped."""
    folder = out / "teacher"
    meta = folder / "teacher.json"
    if meta.is_file() and json.loads(meta.read_text())["config"] == cfg.teacher.model_dump(mode="json"):
        log(f"reusing teacher in {folder}")
        summary = json.loads(meta.read_text())
    else:
        log(f"training teacher {cfg.teacher.arch} (width {cfg.teacher.width}) into {folder}")
        summary = train_teacher(open_dataset(out / "data"), cfg.teacher, folder, resume=True)
    return {"folder": str(folder), "val_accuracy": summary["val_accuracy"], "test": summary["test"]}


def stage_distill(out: Path, cfg: DemoConfig, log) -> dict:
    """Distil the teacher into the paper student (QKeras, quantization-aware) for the task."""
    groups = parse_task(cfg.task)
    log(f"distilling into the {cfg.distill.student} student ({cfg.distill.method}), task {cfg.task}")
    summary = distill(open_dataset(out / "data", cfg.task), cfg.distill, out / "student",
                      cache=load_soft_targets(out / "teacher" / "soft_targets.npz"), groups=groups,
                      teacher_ref=str(out / "teacher"))
    log(f"student test accuracy {summary['test']['accuracy']:.3f}, AUC {summary['test']['auc']:.3f}")
    return {"folder": str(out / "student"), "val_accuracy": summary["val_accuracy"],
            "test": summary["test"], "best_epoch": summary["best_epoch"]}


def stage_firmware(out: Path, cfg: DemoConfig, log) -> dict:
    """Convert the student with hls4ml, C-simulate test crops bit-exactly, estimate latency."""
    art = load_student(out / "student")
    board = load_board(cfg.board)
    log(f"converting the student for {board.part} at {board.clock_mhz:.0f} MHz ({board.io_type})")
    test = open_dataset(out / "data", cfg.task).test
    s = run_firmware(art, board, out / "firmware", test.images, cfg.n_csim, test.labels)
    lat = s["latency"]
    log(f"bit-exact: {s['bit_exact']}/{s['n_csim']} (C-sim vs QKeras and the emulator)")
    log(f"latency: {s['latency_summary']}")
    if s["detection_to_trigger"]:
        top = s["detection_to_trigger"]
        log(f"detection to trigger (whole top): {top['total_us']:.2f} µs (band {top['total_us_low']:.2f}-"
            f"{top['total_us_high']:.2f}); published {top['budget_us']:g} µs: {top['verdict']}")
    return {"bit_exact": s["bit_exact"], "n_csim": s["n_csim"], "latency_us": lat["total_us"],
            "latency_us_low": lat["total_us_low"], "latency_us_high": lat["total_us_high"],
            "latency_verdict": lat["verdict"], "latency_method": lat["method"],
            "detection_to_trigger_us": (s["detection_to_trigger"] or {}).get("total_us"),
            "emulator_test": s["emulator_metrics"],
            "resources_total": s["resources"]["total"], "folder": str(out / "firmware")}


def stage_candidates(out: Path, cfg: DemoConfig, log) -> dict:
    """Train the candidate designs beside the paper student, give each its evidence (C-sim, HLS
    model, RTL simulation of the network and of the instrument top on a flow video) and
    recommend one (:mod:`cellsort.explore.candidates`); the recommended student, with its gate,
    is exported to ``out/recommended``."""
    import shutil

    from cellsort.data.detection import estimate_background
    from cellsort.explore.candidates import compare, folder_name

    board = load_board(cfg.board)
    data = open_dataset(out / "data", cfg.task)
    video = np.stack([f for f, _ in synthetic_flow(120, cfg.seed + 7, classes=tuple(parse_task(cfg.task)))])
    main = StudentDesign(student=cfg.distill.student, options=cfg.distill.student_options,
                         crop=cfg.distill.input_size[0], bin=cfg.distill.bin)
    designs = [(main, out / "student", FirmwareRecord.read(out / "firmware").model_dump(mode="json"))]
    trained = {_trained_as(main): designs[0][1:]}
    soft_targets = load_soft_targets(out / "teacher" / "soft_targets.npz")
    for i, design in enumerate(cfg.candidates, 1):
        if _trained_as(design) in trained:  # the same student, another RTL parallelism
            designs.append((design, *trained[_trained_as(design)]))
            continue
        artifact = out / "candidates" / folder_name(design) / "student"
        log(f"distilling candidate {i}/{len(cfg.candidates)}: {design.label}")
        schedule = DistillConfig.for_design(design, **cfg.distill.model_dump(
            exclude={"student", "student_options", "input_size", "bin"}))
        distill(data, schedule, artifact, cache=soft_targets, groups=parse_task(cfg.task),
                teacher_ref=str(out / "teacher"))
        designs.append((design, artifact, None))
        trained[_trained_as(design)] = (artifact, None)
    log(f"evaluating {len(designs)} designs: C simulation, HLS model, RTL simulation (Verilator)")
    rec = compare(designs, data, board, out / "candidates", cfg.n_csim, video, estimate_background(video), log=log)
    target = out / "recommended"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(rec.recommended.artifact, target)
    rec.recommended.exported = str(target)
    rec.write(out / "candidates")
    log(("recommended: " if rec.recommended.beats_paper else "no design beats the paper here: ")
        + rec.recommended.why)
    log(f"exported to {target} (with its gate)")
    return {"folder": str(out / "candidates"), "recommended": rec.recommended.model_dump(mode="json")}


def _trained_as(design: StudentDesign) -> str:
    """What training a design depends on (everything but the RTL parallelism)."""
    return design.model_copy(update={"parallelism": "auto"}).model_dump_json()


def _num(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def stage_sort(out: Path, cfg: DemoConfig, log) -> dict:
    """Sort a synthetic flow-channel video with the recommended student at its gate (chosen on
    validation crops when it was trained); its purity-recovery curve goes to the report."""
    classifier = CellClassifier(out / "recommended")
    gate = classifier.gate.model_dump(mode="json")
    val = open_dataset(out / "data", cfg.task).val
    margins = classifier.classify(val.images).margins
    write_json(out / "sort" / "gate.json", {**gate, "curve": {
        k: [float(x) if np.isfinite(x) else None for x in v]  # None: "sort every cell"
        for k, v in purity_recovery(margins, val.labels, classifier.gate.sort_class).items()}})
    g = classifier.gate
    log(f"gate (from the artifact): sort {classifier.class_names[g.sort_class]} when margin > "
        f"{g.threshold:.3f} (validation purity {_num(g.purity)}, recovery {_num(g.recovery)}"
        f"{'' if g.met else f'; purity {g.min_purity} not reached, arg-max decision'})")
    video, truths = zip(*synthetic_flow(cfg.n_frames, cfg.seed, classes=classifier.class_names))
    s = run_video(np.stack(video), classifier, out / "sort", SorterConfig(), truths,
                  n_frames=cfg.n_frames)
    log(f"sorted {s['cells']} cells in {s['frames']} frames ({s['cells_per_s']:.0f} cells/s in "
        f"software); detection precision {s['detection']['precision']:.3f}, recall "
        f"{s['detection']['recall']:.3f}; decision accuracy {s['decision_accuracy']:.3f}")
    return {"gate": gate, "cells": s["cells"], "detection": s["detection"],
            "decision_accuracy": s["decision_accuracy"], "latency_us": s["latency_us"],
            "folder": str(out / "sort")}


def stage_score(out: Path, cfg: DemoConfig, log) -> dict:
    """Write a synthetic RT-DC recording with dclab and score it as a lab would its own."""
    from cellsort.data.rtdc_synth import write_synthetic_recording
    from cellsort.score import score_recording

    classifier = CellClassifier(out / "recommended")
    labels = write_synthetic_recording(out / "score" / "recording.rtdc", cfg.n_frames, cfg.seed + 1,
                                       classes=classifier.class_names)
    s = score_recording(out / "score" / "recording.rtdc", classifier, out / "score" / "scored.rtdc",
                        force=True)
    import dclab

    with dclab.new_dataset(out / "score" / "scored.rtdc") as ds:
        accuracy = float(np.mean(np.asarray(ds["ml_class"]) == labels))
    log(f"scored {s['events']} RT-DC events into {out / 'score' / 'scored.rtdc'} "
        f"({', '.join(s['score_features'])}); ml_class accuracy against the true classes {accuracy:.3f}")
    return {"events": s["events"], "score_features": s["score_features"], "ml_class_accuracy": accuracy,
            "classify_us_per_event": s["classify_us_per_event"], "file": s["output"]}


def stage_report(out: Path, cfg: DemoConfig, log) -> dict:
    """Write the HTML report of the run (after ``run.json`` holds every other stage)."""
    from cellsort.report import build_report

    rep = build_report(out, out / "report.html")
    log(f"report: {rep.html} ({len(rep.sections)} sections, "
        f"{sum(len(s.figures) for s in rep.sections)} figures)")
    return {"html": str(rep.html), "png_dir": str(rep.png_dir)}


#: Stages in order; the report comes last, built from what the others wrote.
STAGES = [("data", stage_data), ("teacher", stage_teacher), ("distill", stage_distill),
          ("firmware", stage_firmware), ("candidates", stage_candidates), ("sort", stage_sort),
          ("score", stage_score), ("report", stage_report)]


def run_demo(out: str | Path, cfg: DemoConfig = DemoConfig(), log=print) -> dict:
    """Run every stage into ``out`` and write ``out/run.json`` (config, versions, summaries)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = {}
    for name, stage in STAGES:
        log(f"== stage: {name}")
        summary[name] = stage(out, cfg, log)
        RunRecord.make(cfg, stages=summary).write(out)
    return summary
