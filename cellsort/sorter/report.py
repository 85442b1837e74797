"""Events to CSV and a run summary (cells/s, stage latencies p50/p99, decisions per class)."""
from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import numpy as np

from cellsort.atomic import write_text
from cellsort.sorter.stream import SortEvent

STAGES = ("detect", "crop", "classify", "total")


def write_events_csv(path: str | Path, events: list[SortEvent]) -> Path:
    """One row per event (decisions and rejected frames), written atomically."""
    buf = io.StringIO()
    fields = ["frame", "timestamp", "track", "row", "col", "class_name", "margin", "sort", "error",
              *(f"{s}_us" for s in STAGES)]
    writer = csv.DictWriter(buf, fieldnames=fields)
    writer.writeheader()
    for e in events:
        row = {k: v for k, v in asdict(e).items() if k != "stage_us"}
        row.update({f"{s}_us": e.stage_us.get(s, "") for s in STAGES})
        writer.writerow(row)
    return write_text(path, buf.getvalue())


def summarize(events: list[SortEvent], wall_seconds: float, n_frames: int) -> dict:
    """Throughput, per-stage latency percentiles and decisions per class."""
    decided = [e for e in events if not e.error]
    lat = {s: [e.stage_us[s] for e in decided] for s in STAGES}
    return {"frames": n_frames, "cells": len(decided), "errors": sum(1 for e in events if e.error),
            "cells_per_s": len(decided) / wall_seconds if wall_seconds else 0.0,
            "frames_per_s": n_frames / wall_seconds if wall_seconds else 0.0,
            "latency_us": {s: {"p50": float(np.percentile(v, 50)), "p99": float(np.percentile(v, 99))}
                           for s, v in lat.items() if v},
            "per_class": dict(Counter(e.class_name for e in decided)),
            "sorted": sum(e.sort for e in decided)}
