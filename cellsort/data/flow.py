"""Synthetic flow-channel video: cells of known class and position crossing the field of view.

Each arriving cell is rendered once with the optics of the synthetic dataset
(:func:`cellsort.data.synth.render_cell`, noise-free), turned into a transmission map
(crop / its background), and multiplied into the channel background at its position as it
moves downstream at a fixed speed. Camera noise is added per frame. Arrivals are Poisson.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from cellsort.config import StrictModel
from cellsort.data.synth import SynthConfig, render_cell


class FlowConfig(StrictModel):
    """Channel geometry, flow and camera of the simulated video.

    Parameters
    ----------
    height, width : int
        Frame size in pixels (default 112 x 256: cells stay a half crop away from the walls).
    wall : int
        Thickness of the dark channel walls at the top and bottom (px).
    speed : int
        Cell displacement per frame (px), left to right.
    arrival_rate : float
        Mean number of cells entering per frame (Poisson).
    level : float
        Background brightness (fraction of 255).
    noise : float
        Camera noise (grey levels, standard deviation).
    """

    height: int = 112
    width: int = 256
    wall: int = 6
    speed: int = 8
    arrival_rate: float = 0.08
    level: float = 0.6
    noise: float = 2.0


@dataclass(frozen=True)
class TrueCell:
    """Ground truth of one cell in one frame."""

    cell_id: int
    row: float
    col: float
    label: int


def _transmission(label: int, names: tuple[str, ...], synth: SynthConfig, rng) -> np.ndarray:
    clean = synth.model_copy(update={"photons": 1e12, "read_noise": 0.0, "illumination_gradient": 0.0,
                                     "vignette": 0.0, "offset_sd": 0.0})
    crop = render_cell(synth.profiles[names[label]], clean, rng).astype(np.float64)
    border = np.concatenate([crop[:4].ravel(), crop[-4:].ravel(), crop[:, :4].ravel(), crop[:, -4:].ravel()])
    s = crop.shape[0]
    r = np.hypot(*np.mgrid[0:s, 0:s] - (s - 1) / 2)
    taper = np.clip((s / 2 - r) / 6, 0, 1)  # fades the map to 1 at its edges: no seams
    return 1 + (crop / np.median(border) - 1) * taper


def synthetic_flow(n_frames: int, seed: int = 0, flow: FlowConfig = FlowConfig(),
                   synth: SynthConfig = SynthConfig(), classes: tuple[str, ...] = ("B", "T4")
                   ) -> Iterator[tuple[np.ndarray, list[TrueCell]]]:
    """Yield ``n_frames`` uint8 frames with the true cells (centre inside the frame) of each."""
    rng = np.random.default_rng(seed)
    h, w = flow.height, flow.width
    background = np.full((h, w), 255 * flow.level)
    background[: flow.wall] *= 0.45
    background[h - flow.wall:] *= 0.45
    half = synth.image_size // 2
    cells: list[dict] = []
    next_id = 0
    for _ in range(n_frames):
        for _ in range(rng.poisson(flow.arrival_rate)):
            label = int(rng.integers(len(classes)))
            row = rng.uniform(flow.wall + half // 2 + 8, h - flow.wall - half // 2 - 8)
            cells.append({"id": next_id, "row": row, "col": -half + rng.uniform(0, flow.speed),
                          "label": label, "map": _transmission(label, classes, synth, rng)})
            next_id += 1
        frame = background.copy()
        truths = []
        for c in cells:
            r0, c0 = int(round(c["row"])) - half, int(round(c["col"])) - half
            rs, cs = slice(max(r0, 0), min(r0 + 2 * half, h)), slice(max(c0, 0), min(c0 + 2 * half, w))
            if rs.start < rs.stop and cs.start < cs.stop:
                frame[rs, cs] *= c["map"][rs.start - r0: rs.stop - r0, cs.start - c0: cs.stop - c0]
            if 0 <= c["col"] < w:
                truths.append(TrueCell(c["id"], float(c["row"]), float(c["col"]), c["label"]))
        frame += rng.normal(0, flow.noise, frame.shape)
        yield np.clip(np.rint(frame), 0, 255).astype(np.uint8), truths
        for c in cells:
            c["col"] += flow.speed
        cells = [c for c in cells if c["col"] - half < w]
