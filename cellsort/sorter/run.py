"""Run the sorter over a whole source into a folder: events (CSV, Parquet) and summary JSON.

Two modes: :func:`run_video` for continuous frames (detect, track, decide at the trigger
line) and :func:`run_events` for RT-DC recordings, whose events are already one cell each.
"""
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
from cellsort.sorter.report import summarize, write_events
from cellsort.sorter.stream import Sorter, SorterConfig, SortEvent


def _finish(out: Path, events: list[SortEvent], summary: dict, config: SorterConfig) -> dict:
    write_events(out / "events", events)
    write_json(out / "summary.json", record(config, **summary))
    return summary


def run_video(frames: np.ndarray, classifier: CellClassifier, out: str | Path,
              config: SorterConfig = SorterConfig(), truths=None, progress: bool = True,
              background: np.ndarray | None = None) -> dict:
    """Sort every frame of a continuous video.

    The background is ``background`` when given (e.g. a recording's ``image_bg``), else the
    median of up to 100 frames spread over the video. With ``truths`` (synthetic video) the
    summary adds detection precision/recall and the decision accuracy against the true classes.
    """
    out = Path(out)
    frames = np.asarray(frames)
    if background is None:
        background = estimate_background(frames[:: max(1, len(frames) // 100)])
    sorter = Sorter(classifier, background, config)
    t0 = time.perf_counter()
    events = list(sorter.run(track(frames, "sorting frames", len(frames), progress)))
    summary = summarize(events, time.perf_counter() - t0, len(frames))
    summary.update(mode="video", threshold=sorter.threshold)
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
    return _finish(out, events, summary, config)


def run_events(path: str | Path, classifier: CellClassifier, out: str | Path,
               config: SorterConfig = SorterConfig(), progress: bool = True) -> dict:
    """Decide every event of an RT-DC recording once (:func:`~cellsort.sorter.events.sort_events`)."""
    from cellsort.data.rtdc import open_recording
    from cellsort.sorter.events import sort_events

    threshold = classifier.threshold if config.threshold is None else config.threshold
    with open_recording(path) as rec:
        t0 = time.perf_counter()
        events = list(track(sort_events(rec, classifier, threshold), "sorting events",
                            rec.n_events, progress))
        summary = summarize(events, time.perf_counter() - t0, rec.n_events)
        summary.update(mode="events", centres=rec.centre_method, threshold=threshold)
    return _finish(Path(out), events, summary, config)


def _true_cell(cells, event, tolerance: float = 8.0):
    """The true cell at an event's position, if any."""
    near = [c for c in cells if np.hypot(c.row - event.row, c.col - event.col) <= tolerance]
    return near[0] if near else None
