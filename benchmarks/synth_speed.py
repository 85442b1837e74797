"""Time the synthetic generator (goal: 20,000 64x64 images in under a minute on one core).

Run: ``.venv/bin/python benchmarks/synth_speed.py [--n 20000]``.
"""
from __future__ import annotations

import argparse
import time

from cellsort.data import synthesize


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    data = synthesize(args.n, seed=args.seed)
    dt = time.perf_counter() - t0
    print(f"synthesize: {args.n} images of {data.image_shape[0]}x{data.image_shape[1]} in "
          f"{dt:.1f} s ({args.n / dt:.0f} images/s, {1e3 * dt / args.n:.2f} ms/image); "
          f"goal < 60 s for 20,000: {'met' if dt * 20000 / args.n < 60 else 'NOT met'}")


if __name__ == "__main__":
    main()
