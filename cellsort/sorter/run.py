"""Run the sorter over a whole source into a folder: events (CSV, Parquet) and summary JSON.

Two modes: :func:`run_video` for continuous frames (detect, track, decide at the trigger
line) and :func:`run_events` for RT-DC recordings, whose events are already one cell each.
"""
from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Iterable

import numpy as np

from cellsort.data.detection import detect, estimate_background
from cellsort.errors import DataError
from cellsort.progress import track
from cellsort.records import SortRecord
from cellsort.sorter.classifier import CellClassifier
from cellsort.sorter.evaluate import detection_scores, match_frame
from cellsort.sorter.report import summarize, write_events
from cellsort.sorter.stream import Sorter, SorterConfig, SortEvent
from cellsort.tables import write_summary


def _finish(out: Path, events: list[SortEvent], summary: dict, config: SorterConfig) -> dict:
    write_events(out / "events", events)
    SortRecord.make(config, **summary).write(out)
    write_summary(out / "summary", summary)
    return summary


def _background(head: list) -> np.ndarray:
    """Median of the readable frames among ``head`` that share the commonest shape."""
    usable = [f for f in head if isinstance(f, np.ndarray) and f.ndim == 2 and f.dtype == np.uint8]
    if not usable:
        raise DataError("no readable uint8 frame among the first frames to estimate a background from")
    shapes = [f.shape for f in usable]
    common = max(set(shapes), key=shapes.count)
    return estimate_background(np.stack([f for f in usable if f.shape == common]))


def run_video(frames: Iterable[np.ndarray], classifier: CellClassifier, out: str | Path,
              config: SorterConfig = SorterConfig(), truths=None, progress: bool = True,
              background: np.ndarray | None = None, n_frames: int | None = None) -> dict:
    """Sort every frame of a continuous video, read lazily one frame at a time.

    The background is ``background`` when given (e.g. a recording's ``image_bg``), else the
    median of the first 100 frames. A frame that cannot be used (other size or type, or an
    error the source yields in its place) becomes an error event; the stream goes on. With
    ``truths`` (synthetic video) the summary adds detection precision/recall and the decision
    accuracy against the true classes.
    """
    out = Path(out)
    frames = iter(frames)
    head = list(itertools.islice(frames, 100)) if background is None else []
    if background is None:
        background = _background(head)
    stream = itertools.chain(head, frames)
    if truths is not None:
        stream = list(stream)  # synthetic video: kept to score detection against the truth
    seen = [0]

    def counted():
        for frame in stream:
            seen[0] += 1
            yield frame

    sorter = Sorter(classifier, background, config)
    t0 = time.perf_counter()
    events = list(sorter.run(track(counted(), "sorting frames", n_frames, progress)))
    if seen[0] == 0:
        raise DataError("the source holds no frames")
    summary = summarize(events, time.perf_counter() - t0, seen[0])
    summary.update(mode="video", threshold=sorter.threshold)
    if truths is not None:
        summary["detection"] = detection_scores(
            [match_frame(detect(f, background, config.detect), t, f.shape[1])
             for f, t in zip(stream, truths)])
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

    threshold = classifier.threshold_for(config.threshold)
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
