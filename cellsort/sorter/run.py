"""Run the sorter over a whole recording into a folder: events CSV and summary JSON."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from cellsort.atomic import write_json
from cellsort.progress import track
from cellsort.provenance import record
from cellsort.sorter.classifier import CellClassifier
from cellsort.sorter.detect import detect, estimate_background
from cellsort.sorter.evaluate import detection_scores, match_frame
from cellsort.sorter.report import summarize, write_events_csv
from cellsort.sorter.stream import Sorter, SorterConfig


def run_sort(frames: np.ndarray, classifier: CellClassifier, out: str | Path,
             config: SorterConfig = SorterConfig(), truths=None, progress: bool = True) -> dict:
    """Sort every frame; background = median of up to 100 frames spread over the recording.

    With ``truths`` (synthetic video) the summary adds detection precision/recall and the
    decision accuracy against the true classes.
    """
    out = Path(out)
    frames = np.asarray(frames)
    background = estimate_background(frames[:: max(1, len(frames) // 100)])
    sorter = Sorter(classifier, background, config)
    t0 = time.perf_counter()
    events = list(sorter.run(track(frames, "sorting frames", len(frames), progress)))
    wall = time.perf_counter() - t0
    summary = summarize(events, wall, len(frames))
    summary["threshold"] = sorter.threshold
    if truths is not None:
        summary["detection"] = detection_scores(
            [match_frame(detect(f, background, config.detect), t, frames.shape[2])
             for f, t in zip(frames, truths)])
        right = []
        for e in events:
            cell = _true_cell(truths[e.frame], e) if not e.error else None
            if cell is not None:
                right.append(classifier.class_names[cell.label] == e.class_name)
        summary["decision_accuracy"] = float(np.mean(right)) if right else None
        summary["decisions_matched"] = len(right)
    write_events_csv(out / "events.csv", events)
    write_json(out / "summary.json", record(config, **summary))
    return summary


def _true_cell(cells, event, tolerance: float = 8.0):
    """The true cell at an event's position, if any."""
    near = [c for c in cells if np.hypot(c.row - event.row, c.col - event.col) <= tolerance]
    return near[0] if near else None
