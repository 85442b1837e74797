"""What a student design costs on a board: calibrated latency (front end included) and
resources against the part's capacity, without training it (the weights do not matter)."""
from __future__ import annotations

from cellsort.firmware.boards import BoardPreset
from cellsort.student.design import StudentDesign


def latency_options(design: StudentDesign, board: BoardPreset, **overrides):
    """Latency options on ``board`` with the design's reuse factor and front end."""
    from cellsort.firmware.latency import FrontEnd, options_for_board

    frontend = FrontEnd.of(design.preprocessing(), board.pixels_per_clock)
    return options_for_board(board, reuse_factor=design.reuse_factor, frontend=frontend, **overrides)


def latency_of(design: StudentDesign, board: BoardPreset, model=None, **overrides) -> dict:
    """Latency by the calibrated cycle model: µs, band, cycles, verdict and method."""
    from cellsort.firmware.latency import estimate_latency

    rep = estimate_latency(model if model is not None else design.build(2),
                           latency_options(design, board, **overrides))
    return {"us": rep.total_us, "low_us": rep.total_us_low, "high_us": rep.total_us_high,
            "cycles": rep.total_cycles, "verdict": rep.verdict, "budget_us": rep.budget_us,
            "clock_mhz": rep.clock_mhz, "hls_tool": rep.hls_tool, "method": rep.method}


def resources_of(design: StudentDesign, board: BoardPreset, model=None) -> dict:
    """Multiplier LUTs, DSPs and BRAM18 (analytic count) and their fraction of the part."""
    from cellsort.firmware.resources import estimate_resources

    res = estimate_resources(model if model is not None else design.build(2), design.reuse_factor)
    total = res["total"]
    used = {"lut": total["lut_mult"], "dsp": total["dsp"], "bram18": total["bram18"]}
    cap = board.capacity
    fraction = {k: v / getattr(cap, k) for k, v in used.items()} if cap else {}
    return {"method": res["method"], "used": used, "fraction": fraction,
            "fits": all(f <= 1 for f in fraction.values()) if cap else None}
