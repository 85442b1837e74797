"""The sorter: frames in, sort decisions out, with the measured time of every stage.

Each frame is checked, cells are detected against the empty-channel background, tracked from
frame to frame, and a cell is classified and decided once, in the frame where its centroid
first reaches the trigger line. The decision fires the trigger when the logit margin of the
gate's class over the others exceeds the gate threshold (the artifact's, unless overridden).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Literal

import numpy as np

from cellsort.config import StrictModel
from cellsort.data.detection import DetectConfig, detect
from cellsort.data.intensity import crop_or_pad
from cellsort.errors import ConfigError
from cellsort.firmware.fpga_detect import FpgaDetectConfig, FpgaDetector
from cellsort.sorter.classifier import CellClassifier


class FrameError(ValueError):
    """A frame that cannot be processed (wrong type, shape, or non-finite values)."""


class SorterConfig(StrictModel):
    """Trigger geometry and tracking.

    Parameters
    ----------
    trigger_col : int
        Column of the trigger line (cells flow towards increasing columns).
    max_step : float
        Largest displacement of a cell between frames (px) for tracking.
    max_row_shift : float
        Largest row change between frames (px).
    threshold : float, optional
        Gate on the logit margin; default the artifact's threshold.
    detector : {"software", "fpga"}
        ``software``: scikit-image detection (:mod:`.detect`) and the tracker above;
        ``fpga``: the firmware's own streaming detection and crossing trigger
        (:mod:`.fpga_detect`, registers in ``fpga``, its ``trigger_col`` the trigger), so the
        software sorter decides exactly as the FPGA top would.
    """

    trigger_col: int = 128
    max_step: float = 24.0
    max_row_shift: float = 6.0
    threshold: float | None = None
    detect: DetectConfig = DetectConfig()
    detector: Literal["software", "fpga"] = "software"
    fpga: FpgaDetectConfig = FpgaDetectConfig()


@dataclass
class SortEvent:
    """One decision (or, with ``error``, one rejected frame)."""

    frame: int
    timestamp: float
    track: int = -1
    row: float = float("nan")
    col: float = float("nan")
    class_name: str = ""
    margin: float = float("nan")
    sort: bool = False
    stage_us: dict = field(default_factory=dict)
    error: str = ""


class Sorter:
    """Detect, crop, classify and decide on a stream of frames.

    Parameters
    ----------
    classifier : CellClassifier
    background : ndarray
        The empty channel (e.g. :func:`~cellsort.data.detection.estimate_background`).
    config : SorterConfig
    """

    def __init__(self, classifier: CellClassifier, background: np.ndarray,
                 config: SorterConfig = SorterConfig()):
        self.classifier, self.config = classifier, config
        self.background = np.asarray(background, np.float64)
        self.threshold = classifier.threshold_for(config.threshold)
        self._tracks: list[dict] = []
        self._next = 0
        self._fpga = None
        if config.detector == "fpga":
            from cellsort.firmware.wrapper import buffer_rows

            prep = classifier.preprocessing
            if min(self.background.shape) < prep.input_size[0]:
                raise ConfigError(f"the fpga detector crops {prep.input_size[0]} px around a cell; "
                                  f"frames of {self.background.shape} are smaller")
            self._fpga = FpgaDetector(self.background, config.fpga, prep.input_size[0], buffer_rows(prep))

    def _check(self, frame: np.ndarray) -> np.ndarray:
        if isinstance(frame, Exception):  # the source could not read this frame
            raise FrameError(str(frame))
        frame = np.asarray(frame)
        if frame.shape != self.background.shape:
            raise FrameError(f"frame shape {frame.shape} differs from the background "
                             f"{self.background.shape}")
        if frame.dtype != np.uint8:
            if not np.issubdtype(frame.dtype, np.number) or not np.all(np.isfinite(frame)):
                raise FrameError(f"frame of dtype {frame.dtype} has non-finite or non-numeric values")
            raise FrameError(f"frame must be uint8 (Mono8), got {frame.dtype}")
        return frame

    def _track(self, dets) -> list[tuple[int, bool, object]]:
        """Match detections to the previous frame's tracks: (track id, newly crossed, det)."""
        cfg, out, new_tracks = self.config, [], []
        free = list(self._tracks)
        for d in sorted(dets, key=lambda d: -d.col):
            best = min((t for t in free if abs(t["row"] - d.row) <= cfg.max_row_shift
                        and 0 <= d.col - t["col"] <= cfg.max_step),
                       key=lambda t: d.col - t["col"], default=None)
            if best is None:
                best = {"id": self._next, "decided": False}
                self._next += 1
            else:
                free.remove(best)
            best.update(row=d.row, col=d.col)
            crossed = not best["decided"] and d.col >= cfg.trigger_col
            best["decided"] |= crossed
            new_tracks.append(best)
            out.append((best["id"], crossed, d))
        self._tracks = new_tracks
        return out

    def _due_fpga(self, frame: np.ndarray):
        """The firmware's detection: the frame's object if it crossed, with its crop."""
        obj, crossed = self._fpga.frame(frame)
        if not crossed:
            return [], None
        self._next += 1
        return [(self._next - 1, obj)], self._fpga.crop_of(frame, obj)[None]

    def process(self, frame: np.ndarray, index: int, timestamp: float) -> list[SortEvent]:
        """Decisions for the cells that reach the trigger line in this frame."""
        t0 = time.perf_counter()
        frame = self._check(frame)
        if self._fpga is not None:
            due, crops = self._due_fpga(frame)
        else:
            dets = detect(frame, self.background, self.config.detect)
            due, crops = [(tid, d) for tid, crossed, d in self._track(dets) if crossed], None
        t1 = time.perf_counter()
        if not due:
            return []
        if crops is None:
            size = self.classifier.preprocessing.input_size
            crops = np.stack([crop_or_pad(frame, size, (d.row, d.col)) for _, d in due])
        t2 = time.perf_counter()
        result = self.classifier.classify(crops)
        t3 = time.perf_counter()
        stage = {"detect": (t1 - t0) * 1e6, "crop": (t2 - t1) * 1e6,
                 "classify": (t3 - t2) * 1e6 / len(due), "total": (t3 - t0) * 1e6}
        return [SortEvent(index, timestamp, tid, d.row, d.col, result.names[i],
                          float(result.margins[i]), bool(result.margins[i] > self.threshold), stage)
                for i, (tid, d) in enumerate(due)]

    def run(self, frames: Iterable[np.ndarray], fps: float = 1000.0) -> Iterator[SortEvent]:
        """Process a stream; a bad frame (or an exception a source yields in its place)
        gives an error event and the stream goes on."""
        for index, frame in enumerate(frames):
            try:
                yield from self.process(frame, index, index / fps)
            except FrameError as exc:
                yield SortEvent(index, index / fps, error=f"frame {index}: {exc}")
