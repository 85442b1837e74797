"""How hard is the synthetic default? Train a small CNN on B vs T4 (and B vs T) and print accuracy.

The synthetic generator is meant to be like the real data: a good CNN should reach roughly
90-97 %, not 100 %. Run: ``.venv/bin/python benchmarks/synth_separability.py [--n 12000]``.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from torch import nn

from cellsort.data import Preprocessing, synthesize
from cellsort.data.dataset import parse_task
from cellsort.data.splits import SplitSpec, apply_splits, make_splits


def small_cnn(n_classes: int) -> nn.Module:
    def block(i, o):
        return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(),
                             nn.Conv2d(o, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(),
                             nn.MaxPool2d(2))
    return nn.Sequential(block(1, 24), block(24, 48), block(48, 96), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Dropout(0.3), nn.Linear(96, n_classes))


def train_eval(task: str, data, epochs: int, seed: int) -> dict:
    torch.manual_seed(seed)
    d = data.relabel(parse_task(task))
    prep = Preprocessing(input_size=(48, 48))
    tensors = {p: (torch.from_numpy(prep(getattr(d, p).images)).permute(0, 3, 1, 2),
                   torch.from_numpy(getattr(d, p).labels)) for p in ("train", "val", "test")}
    model = small_cnn(len(d.train.class_names))
    opt = torch.optim.AdamW(model.parameters(), 2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 4e-3, total_steps=epochs * (len(d.train) // 64 + 1))
    x, y = tensors["train"]
    best = (0.0, None)
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(x)).split(64):
            xb = x[idx]
            if np.random.rand() < 0.5:
                xb = xb.flip(-1)
            loss = nn.functional.cross_entropy(model(torch.rot90(xb, np.random.randint(4), (2, 3))), y[idx])
            opt.zero_grad(), loss.backward(), opt.step(), sched.step()
        val = accuracy(model, *tensors["val"])
        if val >= best[0]:
            best = (val, {k: v.clone() for k, v in model.state_dict().items()})
    model.load_state_dict(best[1])
    return {"task": task, "val_acc": best[0], "test_acc": accuracy(model, *tensors["test"]),
            "n_train": len(d.train), "n_test": len(d.test)}


@torch.no_grad()
def accuracy(model, x, y) -> float:
    model.eval()
    return float((model(x).argmax(1) == y).float().mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=12000)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    t0 = time.time()
    pool = synthesize(args.n, seed=args.seed)
    is_test = np.arange(args.n) >= int(0.8 * args.n)
    data = apply_splits(pool, make_splits(pool.labels, SplitSpec(seed=42), is_test))
    rows = [train_eval(task, data, args.epochs, args.seed) for task in ("B,T4", "B:B;T:T4+T8", "T4,T8")]
    print(f"synthetic separability (small CNN, {args.epochs} epochs, n={args.n}, seed={args.seed}, "
          f"{time.time() - t0:.0f} s)")
    for r in rows:
        print(f"  {r['task']:<12} test accuracy {r['test_acc']:.3f}  (val {r['val_acc']:.3f}, "
              f"{r['n_train']} train / {r['n_test']} test)")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
