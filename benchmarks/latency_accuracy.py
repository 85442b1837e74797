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
- the RTL back end (``cellsort.firmware.rtl``, 8 pixels a clock) of the seed-0 kd-margin student,
  at the parallelism that keeps up with the pixel stream (``auto``) and at half of it (``half``,
  where that differs): bit-exact count of 500 crops (test, then validation and training crops)
  against the emulator, cycles from the crop's first and last pixel to the class measured in
  Verilator (from the last pixel it is negative where pooling never reads the crop's last rows),
  µs at 250 MHz (assumed), and with ``--yosys`` the LUT/FF/DSP of Yosys's UltraScale mapping
  (else the analytic count of the generated RTL);
- the fastest design whose mean accuracy is within 1 point of the paper student trained the
  same way (same method, same seeds), judged by the upper end of its Vitis 250 MHz band, and
  the fastest such design in the RTL back end (measured).

Usage (from the repository root; about 30 minutes on 2 CPU cores, resumable)::

    .venv/bin/python benchmarks/latency_accuracy.py            # writes benchmarks/results/latency_accuracy.json
    .venv/bin/python benchmarks/latency_accuracy.py --quick    # a smoke run (minutes)
    .venv/bin/python benchmarks/latency_accuracy.py --yosys    # with Yosys resources (hours)
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


def run_key(name: str, design: StudentDesign, method: str, seed: int, epochs: int) -> str:
    """The name of one distillation run's cache entry and artifact folder."""
    return f"{name}|{design.label}|{method}|{seed}|{epochs}".replace("/", "-").replace(" ", "_")


def train_one(name: str, data, cache, groups, design: StudentDesign, method: str, seed: int,
              epochs: int, work: Path) -> dict:
    """Test metrics of one distillation run (cached as JSON in ``work/runs``)."""
    from cellsort.distill.train import DistillConfig, distill

    key = run_key(name, design, method, seed, epochs)
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


RTL_P, RTL_MHZ, RTL_CROPS = 8, 250.0, 500


def rtl_columns(artifact: Path, data, board, work: Path, yosys: bool) -> dict:
    """The RTL back end of a trained design at each parallelism (``auto``, and ``half`` where it
    differs): built, simulated in Verilator, counted (Yosys, or the analytic count)."""
    from cellsort.firmware.rtl.cost import halved
    from cellsort.firmware.rtl.design import plan_of_artifact
    from cellsort.student.artifact import load_student

    art = load_student(artifact)
    plan, crop, bin_ = plan_of_artifact(art), tuple(art.preprocessing.input_size), art.preprocessing.bin
    half = halved(plan, crop, bin_, RTL_P)
    out = {"auto": rtl_column(art, artifact, {}, data, board, work, yosys)}
    if half != out["auto"]["parallelism"]:
        out["half"] = rtl_column(art, artifact, half, data, board, work, yosys)
    return out


def rtl_column(art, artifact: Path, parallelism: dict, data, board, work: Path, yosys: bool) -> dict:
    """One RTL build of a trained student (``parallelism``: PE per layer, empty for the fewest
    that keep up), simulated on ``RTL_CROPS`` crops; cached in ``work/rtl``."""
    import hashlib

    from cellsort.firmware.rtl import RtlConfig, build, resources, simulate_crops
    from cellsort.firmware.rtl.cost import rtl_cost
    from cellsort.firmware.rtl.design import plan_of_artifact

    # Verilator's make files refuse names with '|', '@' or '('; the folder is named by a hash
    key = artifact.name + json.dumps(parallelism, sort_keys=True) * bool(parallelism)
    folder = work / "rtl" / hashlib.sha256(key.encode()).hexdigest()[:16]
    cached = folder / "column.json"
    if cached.is_file() and (not yosys or "yosys" in json.loads(cached.read_text())):
        col = json.loads(cached.read_text())
        if col["simulation"]["n"] >= RTL_CROPS:
            return col
    rec = build(art, folder, RtlConfig(pixels_per_clock=RTL_P, clock_mhz=RTL_MHZ, parallelism=parallelism),
                board.part)
    crops = np.concatenate([data.test.images, data.val.images, data.train.images])[:RTL_CROPS]
    sim = simulate_crops(folder, art, crops)
    col = {"artifact": artifact.name, "parallelism": {l["name"]: l["pe"] for l in rec["layers"] if l["kind"] == "conv"},
           "crops": "test, then validation and training crops", "simulation": sim,
           "estimate": rtl_cost(plan_of_artifact(art), tuple(art.preprocessing.input_size), art.preprocessing.bin,
                                RTL_P, RTL_MHZ, parallelism or None)["resources"]}
    if yosys:
        res = resources(folder)
        col["yosys"] = {k: res[k] for k in ("lut", "ff", "dsp", "bram18", "logic_depth", "method", "seconds")}
    write_json(cached, col)
    return col


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


def fastest_rtl(rows: list[dict], method: str, board, points: float = 0.01) -> dict | None:
    """The design and parallelism with the lowest measured RTL latency (first pixel to class)
    whose mean accuracy is within ``points`` of the paper student's, bit-exact, and whose LUTs
    (Yosys's, else the estimate) fit the part."""
    ref = rows[0]["accuracy"][method]["accuracy_mean"]

    def luts(col):
        return (col.get("yosys") or col["estimate"])["lut"]

    ok = [(r, par, col) for r in rows for par, col in r["rtl"].items()
          if r["accuracy"][method]["accuracy_mean"] >= ref - points
          and col["simulation"]["bit_exact"] == col["simulation"]["n"] and luts(col) <= board.capacity.lut]
    if not ok:
        return None
    best, par, col = min(ok, key=lambda x: (x[2]["simulation"]["us_first_pixel_to_class"], luts(x[2])))
    sim = col["simulation"]
    return {"label": best["label"], "parallelism": par, "pe": col["parallelism"], "method": method,
            "accuracy_mean": best["accuracy"][method]["accuracy_mean"],
            "paper_accuracy_mean": ref, "us_first_pixel_to_class": sim["us_first_pixel_to_class"],
            "us_last_pixel_to_class": sim["us_last_pixel_to_class"], "bit_exact": sim["bit_exact"],
            "n": sim["n"], "lut": luts(col), "lut_fraction": luts(col) / board.capacity.lut,
            "lut_source": "yosys" if col.get("yosys") else "estimate", "measurement": sim["method"]}


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
    print(f"\n== {name}: RTL back end ({RTL_P} px a clock; Verilator, cycles measured; {RTL_MHZ:g} MHz "
          "assumed) ==")
    print(f"{'design':<42}{'PE':>10}  {'bit-exact':>10}  {'first→class':>14}  {'last→class':>12}  "
          f"{'LUT':>9}  {'FF':>9}  {'DSP':>5}  {'depth':>5}  LUT source")
    for r, col in ((r, col) for r in rows for col in r["rtl"].values()):
        sim, y = col["simulation"], col.get("yosys")
        res = y or col["estimate"]
        pe = ",".join(str(v) for v in col["parallelism"].values())
        print(f"{r['label']:<42}{pe:>10}  {sim['bit_exact']:>5}/{sim['n']:<4}  "
              f"{sim['cycles_first_pixel_to_class']:>5} {sim['us_first_pixel_to_class']:6.2f}µs  "
              f"{sim['cycles_last_pixel_to_class']:>4} {sim['us_last_pixel_to_class']:5.2f}µs  "
              f"{res['lut']:>9,}  {res['ff']:>9,}  {res['dsp']:>5}  "
              f"{(y['logic_depth']['cells'] if y else '-'):>5}  {'Yosys' if y else 'estimate'}")


def main(argv=None) -> int:
    from cellsort.firmware.boards import load_board
    from cellsort.provenance import record

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "latency_accuracy.json")
    ap.add_argument("--work", type=Path, default=ROOT / "runs" / "bench-latency-accuracy")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--quick", action="store_true", help="2 designs, 1 seed, 2 epochs (smoke run)")
    ap.add_argument("--yosys", action="store_true", help="Yosys resources of every RTL design (slow)")
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
            artifact = args.work / "artifacts" / run_key(name, design, "kd-margin", 0, epochs)
            rtl = rtl_columns(artifact, data, board, args.work, args.yosys)
            rows.append({"design": design.model_dump(), "label": design.label,
                         "hardware": hardware(design, board), "accuracy": acc, "rtl": rtl})
        out["datasets"][name] = {
            "task": "B vs T4 (teacher: B/T4/T8)" if name == "synthetic" else "G1 vs G2 (experiment 1)",
            "test_crops": int(len(data.test)), "teacher_test": teacher_test, "designs": rows,
            "fastest_within_1_point": {m: fastest_within(rows, m) for m in METHODS},
            "fastest_rtl_within_1_point": {m: fastest_rtl(rows, m, board) for m in METHODS}}
        print_table(name, rows)
        for m in METHODS:
            best = out["datasets"][name]["fastest_within_1_point"][m]
            print(f"fastest within 1 point of the paper student ({m}): "
                  + ("none" if best is None else
                     f"{best['label']} — {best['accuracy_mean']:.3f} vs {best['paper_accuracy_mean']:.3f}; "
                     f"Vitis 250 MHz {best['vitis_250']['us']:.2f} µs (band {best['vitis_250']['low_us']:.2f}-"
                     f"{best['vitis_250']['high_us']:.2f})"))
            rbest = out["datasets"][name]["fastest_rtl_within_1_point"][m]
            print(f"fastest in the RTL back end within 1 point ({m}): "
                  + ("none" if rbest is None else
                     f"{rbest['label']} PE {rbest['pe']} — {rbest['accuracy_mean']:.3f}; "
                     f"{rbest['us_first_pixel_to_class']:.2f} µs "
                     f"from the first pixel, {rbest['us_last_pixel_to_class']:.2f} µs from the last "
                     f"({rbest['bit_exact']}/{rbest['n']} bit-exact; {rbest['lut']:,} LUT = "
                     f"{rbest['lut_fraction']:.0%}, {rbest['lut_source']})"))
    write_json(args.out, record(None, **out))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
