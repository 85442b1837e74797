"""Detection as the FPGA does it: one pass over the pixel stream, integer arithmetic only.

The same algorithm runs in the HLS top (``hls/wrapper/cellsort_top.cpp``, ``detect_crop``)
and here; the C++ testbench checks them against each other frame by frame. Per frame:

1. A pixel is foreground when ``|pixel - background| > threshold`` (8-bit codes; the
   background is stored on the FPGA, as RT-DC systems keep ``image_bg``) and its column lies
   in the detection window ``[window_left, window_right)``.
2. Rows are read top to bottom. An object starts at the first row with foreground pixels and
   grows while rows have them; it ends after ``max_gap + 1`` rows without any, or at the end
   of the frame. Running sums give its area (foreground pixels), the sums of their rows and
   columns, and its row and column extent.
3. The centroid is the rounded mean, ``(2 * sum + area) // (2 * area)``; objects whose area
   is outside ``[min_area, max_area]`` are rejected. The crop is the ``crop`` x ``crop``
   window centred on the centroid, shifted inside the frame; it is complete when its last
   row has arrived and the object has ended (``ready_row``), and is cut from the line buffer
   that holds the last ``buffer_rows`` rows (an object needing more is rejected).
4. The first accepted object of a frame is classified; the sort pulse fires when its centroid
   column has crossed ``trigger_col`` since the previous frame's (one decision per cell).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import Field, model_validator

from cellsort.config import StrictModel


class FpgaDetectConfig(StrictModel):
    """Parameters of the streaming detection (runtime registers of the HLS top).

    The default window is 80 pixels wide around the default trigger column (128), so that one
    cell is in it at a time in a flow channel; cells side by side in one window merge.
    """

    threshold: int = Field(12, ge=1, le=254)
    min_area: int = Field(60, ge=1, le=1 << 20)
    max_area: int = Field(4000, ge=1, le=1 << 20)
    window_left: int = Field(88, ge=0, le=65_535)
    window_right: int = Field(168, ge=1, le=65_535)
    max_gap: int = Field(2, ge=0, le=15)
    trigger_col: int = Field(128, ge=0, le=65_535)

    @model_validator(mode="after")
    def _ranges(self):
        if self.max_area < self.min_area:
            raise ValueError(f"max_area {self.max_area} is below min_area {self.min_area}")
        if self.window_right <= self.window_left:
            raise ValueError(f"window_right {self.window_right} must exceed window_left {self.window_left}")
        return self


@dataclass(frozen=True)
class StreamObject:
    """One object of a frame as the streaming pass sees it."""

    area: int
    row: int            # rounded centroid
    col: int
    top: int            # extent
    bottom: int
    left: int
    right: int
    crop_top: int       # the crop window's top-left corner
    crop_left: int
    ready_row: int      # the frame row after which the crop is complete
    accepted: bool


def background_codes(background: np.ndarray) -> np.ndarray:
    """The 8-bit background the FPGA stores: ``background`` rounded (half to even), clipped."""
    return np.clip(np.rint(np.asarray(background, np.float64)), 0, 255).astype(np.uint8)


def rounded_mean(total: int, n: int) -> int:
    """``round(total / n)`` with halves rounded up, in integers: ``(2 total + n) // (2 n)``."""
    return (2 * total + n) // (2 * n)


def stream_objects(frame: np.ndarray, background: np.ndarray, cfg: FpgaDetectConfig,
                   crop: int, buffer_rows: int) -> list[StreamObject]:
    """Every object of ``frame`` found by the streaming pass (see the module doc)."""
    frame, background = np.asarray(frame), np.asarray(background)
    if frame.shape != background.shape or frame.dtype != np.uint8 or background.dtype != np.uint8:
        raise ValueError(f"frame {frame.shape} {frame.dtype} and background {background.shape} "
                         f"{background.dtype} must be uint8 images of one shape")
    h, w = frame.shape
    if crop > h or crop > w:
        raise ValueError(f"crop {crop} does not fit a {h}x{w} frame")
    cols = np.arange(w)
    in_window = (cols >= cfg.window_left) & (cols < cfg.window_right)
    fg = (np.abs(frame.astype(np.int16) - background.astype(np.int16)) > cfg.threshold) & in_window
    counts = fg.sum(axis=1)            # the per-row statistics the stream accumulates
    col_sums = fg @ cols
    has = counts > 0
    lefts = np.where(has, fg.argmax(axis=1), w)
    rights = np.where(has, w - 1 - fg[:, ::-1].argmax(axis=1), -1)
    objects, state = [], None
    for r in range(h):
        if has[r]:
            if state is None:
                state = {"area": 0, "sr": 0, "sc": 0, "top": r, "left": w, "right": -1}
            n = int(counts[r])
            state["area"] += n
            state["sr"] += r * n
            state["sc"] += int(col_sums[r])
            state.update(bottom=r, left=min(state["left"], int(lefts[r])),
                         right=max(state["right"], int(rights[r])), gap=0)
        elif state is not None:
            state["gap"] += 1
            if state["gap"] > cfg.max_gap:
                objects.append(_close(state, r, h, w, cfg, crop, buffer_rows))
                state = None
    if state is not None:  # the frame's end closes an open object
        objects.append(_close(state, h - 1, h, w, cfg, crop, buffer_rows))
    return objects


def _close(s: dict, end_row: int, h: int, w: int, cfg: FpgaDetectConfig, crop: int,
           buffer_rows: int) -> StreamObject:
    area = s["area"]
    row, col = rounded_mean(s["sr"], area), rounded_mean(s["sc"], area)
    top = min(max(row - crop // 2, 0), h - crop)
    left = min(max(col - crop // 2, 0), w - crop)
    ready = max(end_row, top + crop - 1)
    accepted = cfg.min_area <= area <= cfg.max_area and ready - top + 1 <= buffer_rows
    return StreamObject(area, row, col, s["top"], s["bottom"], s["left"], s["right"], top, left,
                        ready, accepted)


class FpgaDetector:
    """The streaming detector with its one register of state: the previous frame's centroid
    column, for the one-decision-per-cell trigger."""

    def __init__(self, background: np.ndarray, cfg: FpgaDetectConfig, crop: int, buffer_rows: int):
        self.background = background_codes(background)
        self.cfg, self.crop, self.buffer_rows = cfg, crop, buffer_rows
        self.previous_col: int | None = None

    def frame(self, frame: np.ndarray) -> tuple[StreamObject | None, bool]:
        """The frame's first accepted object (or None) and whether it crossed the trigger."""
        found = next((o for o in stream_objects(frame, self.background, self.cfg, self.crop,
                                                self.buffer_rows) if o.accepted), None)
        if found is None:
            self.previous_col = None
            return None, False
        prev, t = self.previous_col, self.cfg.trigger_col
        crossed = found.col >= t and (prev is None or prev < t)
        self.previous_col = found.col
        return found, crossed

    def crop_of(self, frame: np.ndarray, obj: StreamObject) -> np.ndarray:
        """The crop the line buffer gives for ``obj``."""
        return frame[obj.crop_top:obj.crop_top + self.crop, obj.crop_left:obj.crop_left + self.crop]
