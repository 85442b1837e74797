"""Detection quality against the ground truth of a synthetic video."""
from __future__ import annotations

import numpy as np

from cellsort.data.detection import Detection
from cellsort.data.flow import TrueCell


def match_frame(detections: list[Detection], truths: list[TrueCell], width: int, margin: int = 16,
                tolerance: float = 8.0, isolation: float = 32.0) -> dict[str, int]:
    """Count true/false positives and misses in one frame.

    Only positions at least ``margin`` px from the left/right edges are scored. Recall counts
    isolated cells (no other cell within ``isolation`` px), since touching cells may
    legitimately merge; a detection is correct when it lies within ``tolerance`` px of any
    true cell.
    """
    def scored(col):
        return margin <= col < width - margin

    pos = np.array([(t.row, t.col) for t in truths]).reshape(-1, 2)
    tp = fp = 0
    for d in detections:
        if not scored(d.col):
            continue
        near = np.hypot(*(pos - (d.row, d.col)).T) <= tolerance if len(pos) else np.array([])
        tp, fp = (tp + 1, fp) if near.any() else (tp, fp + 1)
    missed = found = 0
    for i, t in enumerate(truths):
        others = np.delete(pos, i, axis=0)
        if not scored(t.col) or (len(others) and np.hypot(*(others - (t.row, t.col)).T).min() < isolation):
            continue
        hit = any(np.hypot(d.row - t.row, d.col - t.col) <= tolerance for d in detections)
        found, missed = (found + 1, missed) if hit else (found, missed + 1)
    return {"tp": tp, "fp": fp, "found": found, "missed": missed}


def detection_scores(counts: list[dict[str, int]]) -> dict[str, float]:
    """Precision and recall from per-frame counts."""
    total = {k: sum(c[k] for c in counts) for k in ("tp", "fp", "found", "missed")}
    return {"precision": total["tp"] / max(1, total["tp"] + total["fp"]),
            "recall": total["found"] / max(1, total["found"] + total["missed"]), **total}
