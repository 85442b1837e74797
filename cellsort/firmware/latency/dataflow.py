"""Word-level timing of an io_stream DATAFLOW region (and the sum of an io_parallel design).

Method: every stage is a process that reads its input stream word by word. Word ``k`` is
accepted at ``t_k = max(a_k, t_{k-1} + ii_{k-1}, startup)`` where ``a_k`` is the time the
upstream stage wrote it and ``ii`` the achieved initiation interval of the stage's loop for
that word. A window stage (convolution, pooling) writes output ``(r, c)`` ``depth`` cycles
after accepting the input word that completes its window; an element-wise stage writes each
word ``depth`` cycles after accepting it; a dense stage writes its result ``compute + depth``
cycles after its last input word. hls4ml sizes every FIFO to the whole map, so no stage waits
for space downstream. A stage is done when its last word is written and its last input
accepted, and never before one cycle after its producer is done (as the vendor tools count a
DATAFLOW chain); the latency is when the last stage is done plus the region's start/finish
overhead. Pure NumPy, exact for the stated rules; the rules' numbers come from
:mod:`cellsort.firmware.latency.rules`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cellsort.firmware.latency.stages import Stage


@dataclass(frozen=True)
class StageTiming:
    """How one stage spends its cycles (from the registered rule of its kind)."""

    ii: np.ndarray | int       # achieved II per input word (array) or for every word
    depth: int                 # cycles from accepting the completing word to writing
    startup: int = 0           # cycles before the first word can be accepted (table set-up)
    compute: int = 0           # dense: cycles of the multiply pass after the last word
    note: str = ""


def accept_times(arrivals: np.ndarray, ii, startup: int) -> np.ndarray:
    """``t_k = max(a_k, t_{k-1} + ii_{k-1})`` with ``t_0 >= startup``, in closed form.

    With ``S_k`` the prefix sum of the intervals, ``t_k = S_k + max_{j<=k}(a_j - S_j)``.
    """
    a = np.asarray(arrivals, np.int64).copy()
    a[0] = max(a[0], startup)
    steps = np.broadcast_to(np.asarray(ii, np.int64), a.shape)
    s = np.concatenate([[0], np.cumsum(steps[:-1])])
    return s + np.maximum.accumulate(a - s)


def window_completing_index(stage: Stage) -> np.ndarray:
    """Raster index of the input word that completes each output window (raster order)."""
    kh, kw = stage.attrs.get("kernel") or stage.attrs["pool"]
    sh, sw = stage.attrs["strides"]
    rows = np.arange(stage.out_rows) * sh + kh - 1
    cols = np.arange(stage.out_cols) * sw + kw - 1
    return (rows[:, None] * stage.in_cols + cols[None, :]).ravel()


def zeropad_sources(stage: Stage) -> np.ndarray:
    """For each padded output word, the raster index of its input word, or -1 for padding."""
    top, _, left, _ = stage.attrs["padding"]
    r = np.arange(stage.out_rows)[:, None] - top
    c = np.arange(stage.out_cols)[None, :] - left
    inside = (r >= 0) & (r < stage.in_rows) & (c >= 0) & (c < stage.in_cols)
    return np.where(inside, r * stage.in_cols + c, -1).ravel()


def stage_outputs(stage: Stage, timing: StageTiming, arrivals: np.ndarray):
    """Accept times of the inputs and write times of the outputs of one stage."""
    if stage.kind == "zeropad2d":
        src = zeropad_sources(stage)
        need = np.where(src >= 0, arrivals[np.maximum(src, 0)], 0)
        t = accept_times(need, timing.ii, timing.startup)
        return t, t + timing.depth
    t = accept_times(arrivals, timing.ii, timing.startup)
    if stage.kind in ("conv2d", "pool2d"):
        return t, t[window_completing_index(stage)] + timing.depth
    if stage.kind in ("dense", "global_pool2d"):
        return t, np.array([t[-1] + timing.compute + timing.depth])
    return t, t + timing.depth


#: Pipeline depths of the front end's two loops (beat in → binned row out; row in → pixel out).
FRONTEND_BIN_DEPTH, FRONTEND_ROM_DEPTH = 3, 2


def frontend_arrivals(fe, n_words: int) -> np.ndarray:
    """When each network input word leaves the top's front end (``hls/wrapper``), cycle 0
    being the crop's first beat.

    The crop's rows arrive a beat a cycle, ``row_beats`` beats a row (from a camera region of
    interest as wide as the crop, or from the line buffer's read-out, :mod:`.top`), so crop
    row ``r`` has all its pixels after beat ``r * row_beats + ceil(crop_w / P) - 1``;
    ``bin_crop`` lets bin row ``i`` leave as one word :data:`FRONTEND_BIN_DEPTH` cycles after
    its last row. ``normalise`` turns each word into ``crop_w / bin`` pixels, one a cycle,
    :data:`FRONTEND_ROM_DEPTH` cycles after reading it (hls4ml's input FIFO never fills: the
    network's first convolution reads no faster).
    """
    (h, w), b, p = fe.crop, fe.bin, fe.pixels_per_clock
    rows, cols = h // b, w // b
    if rows * cols != n_words:
        raise ValueError(f"front end gives {rows}x{cols} pixels, the network reads {n_words}")
    row_done = (np.arange(1, rows + 1) * b - 1) * fe.row_beats + -(-w // p) - 1 + FRONTEND_BIN_DEPTH
    out, free = np.empty((rows, cols), np.int64), 0
    for i, ready in enumerate(row_done):
        start = max(int(ready) + 1, free)
        out[i] = start + np.arange(cols) + FRONTEND_ROM_DEPTH
        free = start + cols
    return out.ravel()


def simulate_stream(stages: list[Stage], timings: list[StageTiming], overhead: int,
                    arrivals: np.ndarray | None = None) -> list[int]:
    """Finish cycle of every stage (last word written) in a DATAFLOW region; see module doc.

    ``arrivals``: when the network's input words arrive (default one a cycle from cycle 0).
    """
    if arrivals is None:
        arrivals = np.arange(stages[0].in_tokens, dtype=np.int64)
    done, prev = [], 0
    for stage, timing in zip(stages, timings):
        accepted, arrivals = stage_outputs(stage, timing, arrivals)
        prev = max(int(arrivals.max()), int(accepted[-1]) + 1, prev + 1)
        done.append(prev + overhead)
    return done


def simulate_parallel(stages: list[Stage], timings: list[StageTiming], overhead: int,
                      arrivals: np.ndarray | None = None) -> list[int]:
    """io_parallel: stages run one after another, once the whole input is there (the last of
    ``arrivals``, default cycle 0). A convolution computes one output pixel per ``RF`` cycles
    (hls4ml's partition loop); a dense layer takes its pass; pooling and activations are
    combinational logic inside the pipeline (a cycle each); a softmax its table set-up and
    depth."""
    done, t = [], 0 if arrivals is None else int(np.max(arrivals)) + 1
    for stage, timing in zip(stages, timings):
        if stage.kind == "conv2d":
            t += stage.out_rows * stage.out_cols * stage.reuse_factor + timing.depth - stage.reuse_factor + 1
        elif stage.kind == "dense":
            t += timing.compute + timing.depth
        else:
            t += timing.startup + 1
        done.append(t + overhead)
    return done
