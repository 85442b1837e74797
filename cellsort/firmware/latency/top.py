"""Detection to trigger through the whole instrument top (``hls/wrapper/cellsort_top.cpp``).

Method ("calibrated cycle model of the network; the top's own stages modelled from its loop
structure"): time starts when the last beat of the cell's last needed row (``ready_row`` in
:mod:`cellsort.firmware.fpga_detect`) enters the top, and ends when the trigger is written:

1. **window complete**: the row-end update of the object state, whose two rounded-mean
   divisions (49-bit integers) HLS builds as pipelined dividers of about one cycle a quotient
   bit (:data:`DIVIDE_CYCLES`), plus the state update (:data:`ROW_END_CYCLES`);
2. **crop, binning, ROM and network**: the line buffer is read a beat a cycle
   (``crop / P + 2`` beats a crop row, one crop row a word), binned a crop row a cycle and
   normalised a pixel a cycle into the network; this read-out is the network's front end
   (:class:`~cellsort.firmware.latency.options.FrontEnd` with rows of that many beats), timed
   with the network by the calibrated dataflow model, band included;
3. **trigger**: the decision reads the logits and the detection record (:data:`DECIDE_CYCLES`).

The top's own cycles (1 and 3) are in no vendor report: they widen the band by 25% of
themselves. The budget is the published 24.7 µs detection to trigger. Resources of the
detection stage (analytic count): the line buffer, and the per-pixel comparators, adders and
the two dividers of the row-end update; the stored background is read over AXI (m_axi), a
beat a cycle, from the board's memory.
"""
from __future__ import annotations

import math

from cellsort.firmware.latency.calibration import EXTRAPOLATION
from cellsort.firmware.latency.estimate import estimate_latency
from cellsort.firmware.latency.options import FrontEnd

#: Published detection-to-trigger latency to beat (µs).
TRIGGER_BUDGET_US = 24.7
DIVIDE_CYCLES = 52      # a 49-bit unsigned division, pipelined (about a cycle a quotient bit)
ROW_END_CYCLES = 3      # the object state update around the divisions
DECIDE_CYCLES = 3       # margin, arg-max, crossing test and the trigger write
BRAM18_BITS = 18 * 1024


def crop_beats(crop: int, pixels_per_clock: int) -> int:
    """Beats a crop row can touch in the line buffer (``CS_CROP_BEATS``)."""
    return crop // pixels_per_clock + 2


def detection_to_trigger(model, prep, board, max_width: int = 512, **overrides) -> dict:
    """Detection-to-trigger latency of the top on ``board`` (see the module doc).

    Returns
    -------
    dict
        Stages (cycles), total cycles and µs with the band, verdict against 24.7 µs, the
        method, the network's own report, and the detection stage's resources.
    """
    from cellsort.firmware.latency.options import options_for_board
    from cellsort.firmware.wrapper import buffer_rows

    p = board.pixels_per_clock
    crop = prep.input_size[0]
    readout = FrontEnd(crop=tuple(prep.input_size), bin=prep.bin, pixels_per_clock=p,
                       frame_width=crop_beats(crop, p) * p)
    net = estimate_latency(model, options_for_board(board, frontend=readout, **overrides))
    own_start, own_end = DIVIDE_CYCLES + ROW_END_CYCLES, DECIDE_CYCLES
    own = own_start + own_end
    total = own + net.total_cycles
    widen = math.ceil(own * EXTRAPOLATION)
    low, high = net.total_cycles_low + own - widen, net.total_cycles_high + own + widen
    mhz = net.clock_mhz
    us, low_us, high_us = total / mhz, low / mhz, high / mhz
    verdict = "PASS" if high_us <= TRIGGER_BUDGET_US else "FAIL" if low_us > TRIGGER_BUDGET_US else "UNCERTAIN"
    method = (f"{net.method}, for the crop read-out, binning, ROM and network; the top's row-end "
              f"update and decision ({own} cycles) modelled from its loops, band widened "
              f"{100 * EXTRAPOLATION:.0f}% of them")
    return {"stages": {"window complete (row-end update)": own_start,
                       "crop read-out, binning, ROM and network": net.total_cycles,
                       "trigger": own_end},
            "total_cycles": total, "total_cycles_low": low, "total_cycles_high": high,
            "total_us": us, "total_us_low": low_us, "total_us_high": high_us,
            "clock_mhz": mhz, "hls_tool": net.hls_tool, "budget_us": TRIGGER_BUDGET_US,
            "verdict": verdict, "method": method, "network": net.to_dict(),
            "resources": detection_resources(prep, p, buffer_rows(prep), max_width)}


def detection_resources(prep, pixels_per_clock: int, rows: int, max_width: int) -> dict:
    """Analytic count of the detection stage: line-buffer bits and BRAM18, and LUTs (per
    pixel lane: an 8-bit difference and absolute value, the threshold and window compares
    and the row count and column sum adders, ~90 LUTs; two pipelined 49-bit dividers, ~49²
    LUTs each; the read-out shifter of a crop row, 8 LUTs a crop pixel)."""
    beats = -(-max_width // pixels_per_clock)
    bits = rows * beats * 8 * pixels_per_clock
    luts = 90 * pixels_per_clock + 2 * 49 * 49 + 8 * prep.input_size[1]
    return {"method": "analytic count from the top's structure", "line_buffer_bits": bits,
            "bram18": math.ceil(bits / BRAM18_BITS), "lut": luts, "dsp": 0,
            "background": "read over AXI (m_axi) from the board's memory"}
