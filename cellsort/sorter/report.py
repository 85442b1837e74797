"""Events to CSV and Parquet and a run summary (cells/s, stage latencies p50/p99, decisions per class)."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from cellsort.sorter.stream import SortEvent
from cellsort.tables import write_table

STAGES = ("detect", "crop", "classify", "total")


def write_events(stem: str | Path, events: list[SortEvent]) -> tuple[Path, Path]:
    """One row per event (decisions and rejected frames) to ``stem.csv`` and ``stem.parquet``."""
    fields = ["frame", "timestamp", "track", "row", "col", "class_name", "margin", "sort", "error"]
    columns = {f: [getattr(e, f) for e in events] for f in fields}
    columns.update({f"{s}_us": [e.stage_us.get(s, float("nan")) for e in events] for s in STAGES})
    return write_table(stem, columns)


def summarize(events: list[SortEvent], wall_seconds: float, n_frames: int) -> dict:
    """Throughput, per-stage latency percentiles and decisions per class."""
    decided = [e for e in events if not e.error]
    lat = {s: [e.stage_us[s] for e in decided if s in e.stage_us] for s in STAGES}
    return {"frames": n_frames, "cells": len(decided), "errors": sum(1 for e in events if e.error),
            "cells_per_s": len(decided) / wall_seconds if wall_seconds else 0.0,
            "frames_per_s": n_frames / wall_seconds if wall_seconds else 0.0,
            "latency_us": {s: {"p50": float(np.percentile(v, 50)), "p99": float(np.percentile(v, 99))}
                           for s, v in lat.items() if v},
            "per_class": dict(Counter(e.class_name for e in decided)),
            "sorted": sum(e.sort for e in decided)}
