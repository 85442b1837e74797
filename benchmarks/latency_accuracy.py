"""Accuracy against calibrated latency across the student family: which design beats 14.5 µs?

For every design of the grid (registered architecture and options, crop, binning), on the
synthetic default (B vs T4, distilled from a 3-class B/T4/T8 teacher) and on the real Jurkat
crops (G1 vs G2, when ``../shared/data/jurkat-ifc`` is present):

- test accuracy and AUC of the QAT student, 3 seeds, mean ± sd, labels-only and KD
  (``kd-margin``: the teacher saw the full-resolution crop, the student its binned view of
  the very same crop and augmentation; measured);
- latency by the calibrated cycle model with the wrapper's front end (crop, binning, the
  board's pixels per clock) for Vitis and Vivado at 200 and 250 MHz, with the band;
- resources (analytic multiplier count) against the KU035 frame-grabber part;
- the fastest design whose mean accuracy is within 1 point of the paper student trained the
  same way (same method, same seeds), judged by the upper end of its Vitis 250 MHz band.

Usage (from the repository root; about 30 minutes on 2 CPU cores, resumable)::

    .venv/bin/python benchmarks/latency_accuracy.py            # writes benchmarks/results/latency_accuracy.json
    .venv/bin/python benchmarks/latency_accuracy.py --quick    # a smoke run (minutes)
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cellsort.atomic import write_json  # noqa: E402
from cellsort.student.design import FAMILY, StudentDesign  # noqa: E402

JURKAT = ROOT.parent / "shared" / "data" / "jurkat-ifc" / "jurkat_ifc_bf_df.npz"

GRID = list(FAMILY)
METHODS = ("labels", "kd-margin")
TIMINGS = [(tool, mhz) for tool in ("vitis", "vivado") for mhz in (200, 250)]
BOARD = "coaxlink-ku035"


def load_data(name: str, work: Path):
    """``(student task, teacher data, groups)`` of a dataset."""
    from cellsort.data.dataset import parse_task
    from cellsort.data.load import open_dataset
    from cellsort.data.synth import write_synthetic

    if name == "synthetic":
        folder = work / "synthetic"
        if not (folder / "dataset.json").is_file():
            write_synthetic(folder, 6000, seed=0)
        return open_dataset(folder, "B,T4"), open_dataset(folder), parse_task("B,T4")
    data = open_dataset(JURKAT, "g1-vs-g2")
    return data, data, None


def teacher_cache(name: str, teacher_data, work: Path):
    """Soft targets of the CPU-preset teacher of a dataset (trained once, then reused)."""
    from cellsort.distill.train import load_soft_targets
    from cellsort.teacher.budget import TEACHER_PRESETS
    from cellsort.teacher.train import train_teacher

    folder = work / f"teacher-{name}"
    if not (folder / "soft_targets.npz").is_file():
        train_teacher(teacher_data, TEACHER_PRESETS["cpu"], folder, resume=True, progress=False)
    summary = json.loads((folder / "teacher.json").read_text())
    return load_soft_targets(folder / "soft_targets.npz"), summary["test"]


def train_one(name: str, data, cache, groups, design: StudentDesign, method: str, seed: int,
              epochs: int, work: Path) -> dict:
    """Test metrics of one distillation run (cached as JSON in ``work/runs``)."""
    from cellsort.distill.train import DistillConfig, distill

    key = f"{name}|{design.label}|{method}|{seed}|{epochs}".replace("/", "-").replace(" ", "_")
    cached = work / "runs" / f"{key}.json"
    if cached.is_file():
        return json.loads(cached.read_text())
    t0 = time.perf_counter()
    cfg = DistillConfig.for_design(design, method=method, seed=seed, epochs=epochs)
    s = distill(data, cfg, work / "artifacts" / key, cache=cache if method != "labels" else None,
                groups=groups, progress=False)
    result = {"test": s["test"], "val_accuracy": s["val_accuracy"], "seconds": time.perf_counter() - t0}
    write_json(cached, result)
    return result


def hardware(design: StudentDesign, board) -> dict:
    """Latency (calibrated model, front end included) per tool and clock, and resources."""
    from cellsort.firmware.cost import latency_of, resources_of

    model = design.build(2)
    return {"params": int(model.count_params()),
            "latency": {f"{tool}@{mhz}": latency_of(design, board, model, hls_tool=tool, clock_mhz=mhz)
                        for tool, mhz in TIMINGS},
            "resources": resources_of(design, board, model)}


def summarise(runs: list[dict]) -> dict:
    acc = np.array([r["test"]["accuracy"] for r in runs])
    auc = np.array([r["test"].get("auc", np.nan) for r in runs])
    return {"accuracy_mean": float(acc.mean()), "accuracy_sd": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
            "auc_mean": float(np.nanmean(auc)), "auc_sd": float(np.nanstd(auc, ddof=1)) if len(auc) > 1 else 0.0,
            "runs": runs}


def fastest_within(rows: list[dict], method: str, points: float = 0.01) -> dict | None:
    """The design with the lowest Vitis 250 MHz band top (then the fewest LUTs) whose mean
    accuracy is within ``points`` of the paper student's (``rows[0]``) for ``method`` and that
    fits the part."""
    ref = rows[0]["accuracy"][method]["accuracy_mean"]
    ok = [r for r in rows if r["accuracy"][method]["accuracy_mean"] >= ref - points
          and r["hardware"]["resources"]["fits"]]
    if not ok:
        return None
    best = min(ok, key=lambda r: (r["hardware"]["latency"]["vitis@250"]["high_us"],
                                  r["hardware"]["resources"]["used"]["lut"]))
    return {"design": best["design"], "label": best["label"], "method": method,
            "accuracy_mean": best["accuracy"][method]["accuracy_mean"], "paper_accuracy_mean": ref,
            "vitis_250": best["hardware"]["latency"]["vitis@250"]}


def print_table(name: str, rows: list[dict]) -> None:
    print(f"\n== {name}: test accuracy (mean ± sd over seeds, measured) and calibrated latency "
          "(µs, model with front end; band) ==")
    head = (f"{'design':<42}{'params':>7}  {'labels':>13}  {'kd-margin':>13}  {'vitis200':>16}  "
            f"{'vitis250':>16}  {'vivado250':>16}  {'LUT%':>5}")
    print(head)
    for r in rows:
        acc = "  ".join(f"{r['accuracy'][m]['accuracy_mean']:.3f}±{r['accuracy'][m]['accuracy_sd']:.3f}"
                        for m in METHODS)
        lat = "  ".join(f"{r['hardware']['latency'][k]['us']:5.2f} [{r['hardware']['latency'][k]['low_us']:.1f}-"
                        f"{r['hardware']['latency'][k]['high_us']:.1f}]".rjust(16)
                        for k in ("vitis@200", "vitis@250", "vivado@250"))
        lut = 100 * r["hardware"]["resources"]["fraction"]["lut"]
        print(f"{r['label']:<42}{r['hardware']['params']:>7}  {acc}  {lat}  {lut:5.0f}")


def main(argv=None) -> int:
    from cellsort.firmware.boards import load_board
    from cellsort.provenance import record

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "latency_accuracy.json")
    ap.add_argument("--work", type=Path, default=ROOT / "runs" / "bench-latency-accuracy")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--quick", action="store_true", help="2 designs, 1 seed, 2 epochs (smoke run)")
    args = ap.parse_args(argv)
    grid, seeds, epochs = GRID, list(range(args.seeds)), args.epochs
    if args.quick:
        grid, seeds, epochs = [GRID[0], GRID[3]], [0], 2
    board = load_board(BOARD)
    names = ["synthetic"] + (["jurkat"] if JURKAT.is_file() else [])
    if "jurkat" not in names:
        print(f"jurkat skipped: {JURKAT} is absent")
    out = {"commands": [" ".join(["python", "benchmarks/latency_accuracy.py", *(argv or sys.argv[1:])])],
           "board": board.model_dump(), "seeds": seeds, "epochs": epochs, "methods": list(METHODS),
           "datasets": {}}
    for name in names:
        data, teacher_data, groups = load_data(name, args.work)
        cache, teacher_test = teacher_cache(name, teacher_data, args.work)
        rows = []
        for design in grid:
            acc = {}
            for method in METHODS:
                runs = []
                for seed in seeds:
                    runs.append(train_one(name, data, cache, groups, design, method, seed, epochs, args.work))
                    print(f"{name} {design.label} {method} seed {seed}: test accuracy "
                          f"{runs[-1]['test']['accuracy']:.3f} ({runs[-1]['seconds']:.0f} s)", flush=True)
                acc[method] = summarise(runs)
            rows.append({"design": design.model_dump(), "label": design.label,
                         "hardware": hardware(design, board), "accuracy": acc})
        out["datasets"][name] = {
            "task": "B vs T4 (teacher: B/T4/T8)" if name == "synthetic" else "G1 vs G2 (experiment 1)",
            "test_crops": int(len(data.test)), "teacher_test": teacher_test, "designs": rows,
            "fastest_within_1_point": {m: fastest_within(rows, m) for m in METHODS}}
        print_table(name, rows)
        for m in METHODS:
            best = out["datasets"][name]["fastest_within_1_point"][m]
            print(f"fastest within 1 point of the paper student ({m}): "
                  + ("none" if best is None else
                     f"{best['label']} — {best['accuracy_mean']:.3f} vs {best['paper_accuracy_mean']:.3f}; "
                     f"Vitis 250 MHz {best['vitis_250']['us']:.2f} µs (band {best['vitis_250']['low_us']:.2f}-"
                     f"{best['vitis_250']['high_us']:.2f})"))
    write_json(args.out, record(None, **out))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
