"""Event mode: sort an RT-DC recording whose instrument already found the cells.

Each event of a recording is one detected cell, so it is decided exactly once: crop at its
position (:meth:`~cellsort.data.rtdc.Recording.crops`), classify, gate on the logit margin.
No tracking and no video background are involved (video mode is for continuous frames).
"""
from __future__ import annotations

import time
from typing import Iterator

import numpy as np

from cellsort.data.rtdc import Recording
from cellsort.sorter.classifier import CellClassifier
from cellsort.sorter.stream import SortEvent


def sort_events(rec: Recording, classifier: CellClassifier, threshold: float | None = None,
                batch: int = 256) -> Iterator[SortEvent]:
    """One :class:`SortEvent` per recorded event, in order.

    ``frame`` is the recording's ``frame`` number when it has one (else the event index),
    ``track`` the event index, ``timestamp`` its ``time`` in s (else NaN). Stage times are
    per event (batch time / batch size), measured.
    """
    threshold = classifier.threshold_for(threshold)
    size = classifier.preprocessing.input_size
    frames, times = rec.scalar("frame"), rec.scalar("time")
    frames = np.arange(rec.n_events) if frames is None else frames
    times = np.full(rec.n_events, np.nan) if times is None else times
    for start in range(0, rec.n_events, batch):
        t0 = time.perf_counter()
        stop = min(start + batch, rec.n_events)
        crops, centres = rec.crop_batch(start, stop, size)
        t1 = time.perf_counter()
        result = classifier.classify(crops)
        t2 = time.perf_counter()
        n = stop - start
        stage = {"crop": (t1 - t0) * 1e6 / n, "classify": (t2 - t1) * 1e6 / n,
                 "total": (t2 - t0) * 1e6 / n}
        for k, i in enumerate(range(start, stop)):
            yield SortEvent(int(frames[i]), float(times[i]), i, float(centres[k, 0]), float(centres[k, 1]),
                            result.names[k], float(result.margins[k]),
                            bool(result.margins[k] > threshold), stage)
