"""Does the teacher help? Train every student recipe on the same split and print a table.

In one run: a 3-class teacher (B/T4/T8); then the paper student (QKeras, quantization-aware,
identical quantizers) trained four ways on the same rows for the task (default B vs T4):

- ``labels``     cross-entropy on labels only (no teacher)
- ``published``  the released recipe: mixup + cross-entropy (no teacher term)
- ``kd``         cross-entropy + KL to the teacher's merged soft targets
- ``kd-margin``  ``kd`` + logit-margin matching (cellsort's default)

Prints test accuracy and AUC per method and seed, and writes the table as JSON.
Run: ``.venv/bin/python benchmarks/distill_table.py [--n 6000] [--seeds 0 1] [--out runs/bench]``.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from cellsort.atomic import write_json
from cellsort.data import open_dataset, write_synthetic
from cellsort.data.dataset import parse_task
from cellsort.distill import DistillConfig, distill, load_soft_targets, merged_probs
from cellsort.metrics import classification_metrics
from cellsort.provenance import record
from cellsort.teacher import TeacherConfig, load_teacher, predict_logits, train_teacher

METHODS = ("labels", "published", "kd", "kd-margin")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, help="Dataset (default: synthetic, generated into --out).")
    ap.add_argument("--n", type=int, default=6000, help="Synthetic images when --data is absent.")
    ap.add_argument("--task", default="B,T4")
    ap.add_argument("--teacher-task", default=None, help="Teacher classes (default: all).")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--epochs", type=int, default=12, help="Student epochs.")
    ap.add_argument("--teacher-epochs", type=int, default=8)
    ap.add_argument("--input-size", type=int, default=48)
    ap.add_argument("--out", type=Path, default=Path("runs/distill_table"))
    args = ap.parse_args()

    t0 = time.time()
    data_path = args.data
    if data_path is None:
        data_path = args.out / "data"
        if not (data_path / "dataset.json").is_file():
            write_synthetic(data_path, args.n, seed=0)
    teacher_cfg = TeacherConfig(arch="resnet10", width=16, input_size=48, epochs=args.teacher_epochs,
                                views=3, patience=args.teacher_epochs)
    teacher = train_teacher(open_dataset(data_path, args.teacher_task), teacher_cfg,
                            args.out / "teacher", resume=True, progress=False)
    cache = load_soft_targets(args.out / "teacher" / "soft_targets.npz")
    groups = parse_task(args.task)
    data = open_dataset(data_path, args.task)
    size = (args.input_size, args.input_size)
    model, _, _ = load_teacher(args.out / "teacher")
    merged = merged_probs(predict_logits(model, data.test.images, teacher_cfg),
                          teacher["class_names"], groups)
    on_task = classification_metrics(data.test.labels, np.log(merged))
    rows = [{"model": f"teacher {teacher_cfg.arch} ({teacher['n_params']:,} params), "
                      f"{len(teacher['class_names'])} classes", "seed": teacher_cfg.seed,
             "test_accuracy": teacher["test"]["accuracy"], "test_auc": teacher["test"].get("auc")},
            {"model": f"teacher merged to {args.task}", "seed": teacher_cfg.seed,
             "test_accuracy": on_task["accuracy"], "test_auc": on_task["auc"]}]
    for seed in args.seeds:
        for method in METHODS:
            cfg = DistillConfig(method=method, epochs=args.epochs, seed=seed, input_size=size)
            s = distill(data, cfg, args.out / f"student_{method}_{seed}", cache=cache,
                        groups=groups, progress=False)
            rows.append({"model": f"student paper ({method})", "seed": seed,
                         "test_accuracy": s["test"]["accuracy"], "test_auc": s["test"]["auc"],
                         "val_accuracy": s["val_accuracy"], "best_epoch": s["best_epoch"]})
            print(f"  {method:<10} seed {seed}: test acc {s['test']['accuracy']:.3f} "
                  f"AUC {s['test']['auc']:.3f}", flush=True)

    print(f"\ndistillation table: task {args.task}, data {data_path}, "
          f"{len(data.train)} train / {len(data.test)} test images, {time.time() - t0:.0f} s")
    print(f"{'model':<48} {'seed':>4} {'test acc':>9} {'test AUC':>9}")
    for r in rows:
        auc = f"{r['test_auc']:.3f}" if r["test_auc"] is not None else "-"
        print(f"{r['model']:<48} {r['seed']:>4} {r['test_accuracy']:>9.3f} {auc:>9}")
    print("\nmean over seeds:")
    for method in METHODS:
        acc = [r["test_accuracy"] for r in rows if r["model"].endswith(f"({method})")]
        auc = [r["test_auc"] for r in rows if r["model"].endswith(f"({method})")]
        print(f"  {method:<10} accuracy {np.mean(acc):.3f} ± {np.std(acc):.3f}   "
              f"AUC {np.mean(auc):.3f} ± {np.std(auc):.3f}")
    write_json(args.out / "distill_table.json", record(None, task=args.task, data=str(data_path),
                                                      teacher=teacher_cfg.model_dump(), rows=rows))
    print(f"wrote {args.out / 'distill_table.json'}")


if __name__ == "__main__":
    main()
