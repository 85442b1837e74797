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


def rtl_cost_of(design: StudentDesign, board: BoardPreset, model=None, clock_mhz: float = 250.0,
                budget_us: float = 14.5) -> tuple[dict, dict]:
    """Latency and resources of the design in the RTL back end, in :func:`latency_of` and
    :func:`resources_of`'s shapes: cycles by the RTL schedule (exact), the band from the assumed
    clock down to half of it, the verdict by :func:`~cellsort.firmware.rtl.cost.verdict`; logic
    by the analytic count of the generated RTL (:mod:`cellsort.firmware.rtl.cost`)."""
    from cellsort.firmware.plan import read_plan
    from cellsort.firmware.rtl.cost import parallelism_of, rtl_cost, verdict

    model = model if model is not None else design.build(2)
    prep = design.preprocessing()
    plan = read_plan(model, prep)
    crop = tuple(prep.input_size)
    par = parallelism_of(design.parallelism, plan, crop, design.bin, board.pixels_per_clock)
    c = rtl_cost(plan, crop, design.bin, board.pixels_per_clock, clock_mhz, par)
    latency = {"us": c["us"], "low_us": c["us"], "high_us": 2 * c["us"], "cycles": c["cycles"],
               "verdict": verdict(c["us"], budget_us),
               "budget_us": budget_us, "clock_mhz": clock_mhz, "hls_tool": "rtl",
               "method": f"{c['method']}; clock assumed {clock_mhz:g} MHz (band: down to half of it)",
               "parallelism": c["parallelism"]}
    used = {k: c["resources"][k] for k in ("lut", "dsp", "bram18")}
    cap = board.capacity
    fraction = {k: v / getattr(cap, k) for k, v in used.items()} if cap else {}
    return latency, {"method": c["resources"]["method"], "used": used, "fraction": fraction,
                     "fits": all(f <= 1 for f in fraction.values()) if cap else None}
