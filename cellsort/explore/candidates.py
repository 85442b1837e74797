"""A few student designs side by side, each with the evidence for its figures, and the one to build.

Each candidate is trained (quantization-aware distillation), converted with hls4ml and
C-simulated against the bit-exact emulator, timed by the calibrated HLS model (every tool at the
board's clock, with the band) and, in the RTL back end, built and simulated cycle by cycle in
Verilator: the network on test crops and the instrument top on frames of a flow video (its
detection to trigger). Verdicts against the published 14.5 µs and 24.7 µs:

- HLS model: PASS when the band's upper end is within budget, FAIL when its lower end is over,
  else UNCERTAIN (a C-synthesis report settles it);
- RTL: the cycles are measured, the clock is assumed (:func:`cellsort.firmware.rtl.cost.verdict`):
  PASS when the design meets the budget even at half the assumed clock, UNCERTAIN when only at
  the assumed clock (Vivado's timing report of ``vivado_project.tcl`` settles it), else FAIL.

Recommendation (:func:`recommend`): among the candidates bit-exact in both simulations, whose
logic fits the part and whose test accuracy is within ``points`` of the reference (the paper
student, the first row), those that pass both budgets in the RTL back end; of these the one
with the least logic (the most room left on the frame grabber), ties broken by latency. Where
none passes, the most accurate design is named with the reason.
"""
from __future__ import annotations

from pathlib import Path

from cellsort.records import Candidate, CandidatesRecord, Recommendation
from cellsort.student.design import StudentDesign

BUDGET_US, TRIGGER_BUDGET_US = 14.5, 24.7
RULE = ("bit-exact in C simulation and RTL, logic within the part, test accuracy within {points:g} point(s) "
        "of the paper student; of those passing {budget:g} µs and {trigger:g} µs in the RTL back end (measured cycles, "
        "PASS even at half the assumed clock), the least logic")


def evaluate(design: StudentDesign, data, artifact: Path, board, out: Path, n_csim: int, frames,
             background, fw: dict, rtl_clock_mhz: float = 250.0, log=print) -> Candidate:
    """The evidence for one trained candidate (its artifact folder), written under ``out``.

    ``fw``: its :func:`~cellsort.firmware.flow.run_firmware` summary (C simulation, HLS model);
    ``frames`` and ``background``: the flow video the instrument top is simulated on.
    """
    from cellsort.firmware.fpga_detect import FpgaDetectConfig
    from cellsort.firmware.rtl import RtlConfig, build, simulate_crops, simulate_frames
    from cellsort.firmware.rtl.cost import parallelism_of, rtl_cost, verdict
    from cellsort.firmware.rtl.design import plan_of_artifact
    from cellsort.student.artifact import load_student

    art = load_student(artifact)
    log(f"  {design.label}: C-sim bit-exact {fw['bit_exact']}/{fw['n_csim']}; {fw['latency_summary']}")
    plan = plan_of_artifact(art)
    crop, bin_, ppc = tuple(art.preprocessing.input_size), art.preprocessing.bin, board.pixels_per_clock
    par = parallelism_of(design.parallelism, plan, crop, bin_, ppc)
    rec = build(art, out / "rtl", RtlConfig(pixels_per_clock=ppc, clock_mhz=rtl_clock_mhz, parallelism=par),
                board.part)
    net = simulate_crops(out / "rtl", art, data.test.images[:max(n_csim, 200)])
    top = simulate_frames(out / "rtl", art, frames, background, FpgaDetectConfig()) if rec["top"] else None
    d2t_rtl = top["us_detection_to_trigger"] if top else None
    log(f"  {design.label}: RTL {net['bit_exact']}/{net['n']} bit-exact, {net['cycles_first_pixel_to_class']} "
        f"cycles = {net['us_first_pixel_to_class']:.2f} µs first pixel to class"
        + (f"; detection to trigger {d2t_rtl:.2f} µs, {top['frames_matching']}/{top['frames']} frames as Python"
           if d2t_rtl else ""))
    estimate = rtl_cost(plan, crop, bin_, ppc, rtl_clock_mhz, par)["resources"]
    d2t = fw["detection_to_trigger"] or {}
    cap = board.capacity
    return Candidate.model_validate({
        "label": design.label, "design": design.model_dump(mode="json"), "artifact": str(artifact),
        "params": int(art.model.count_params()), "test_accuracy": fw["emulator_metrics"]["accuracy"],
        "test_auc": fw["emulator_metrics"].get("auc"), "n_test": fw["emulator_metrics"]["n"],
        "csim": {"bit_exact": fw["bit_exact"], "n": fw["n_csim"]},
        "hls": {"by_tool": {tool: {k: v for k, v in r.items() if k != "per_layer"}
                            for tool, r in fw["latency_by_tool"].items()},
                "detection_to_trigger_us": d2t.get("total_us"),
                "detection_to_trigger_us_high": d2t.get("total_us_high"),
                "detection_to_trigger_verdict": d2t.get("verdict"),
                "lut_fraction": fw["resources"]["total"]["lut_mult"] / cap.lut if cap else None,
                "resources_method": fw["resources"]["method"]},
        "rtl": {"bit_exact": net["bit_exact"], "n": net["n"], "cycles": net["cycles_first_pixel_to_class"],
                "us": net["us_first_pixel_to_class"], "us_after_last_pixel": net["us_last_pixel_to_class"],
                "verdict": verdict(net["us_first_pixel_to_class"], BUDGET_US),
                "detection_to_trigger_us": d2t_rtl,
                "detection_to_trigger_verdict": verdict(d2t_rtl, TRIGGER_BUDGET_US) if d2t_rtl else None,
                "frames_matching": top["frames_matching"] if top else None, "frames": top["frames"] if top else None,
                "clock_mhz": rtl_clock_mhz, "method": net["method"],
                "lut_fraction": estimate["lut"] / cap.lut if cap else None, "resources_method": estimate["method"],
                "parallelism": {l["name"]: l["pe"] for l in rec["layers"] if l["kind"] == "conv"}},
    })


def _exact(c: Candidate) -> bool:
    return c.csim.bit_exact == c.csim.n and c.rtl.bit_exact == c.rtl.n


def recommend(rows: list[Candidate], points: float = 1.0) -> Recommendation:
    """The design to build (see the module doc), with the reason in words; ``rows[0]`` is the
    reference (the paper student trained the same way)."""
    ref = rows[0]
    close = [r for r in rows if _exact(r) and (r.rtl.lut_fraction or 0) <= 1
             and r.test_accuracy >= ref.test_accuracy - points / 100]
    passing = [r for r in close if r.rtl.verdict == "PASS" and r.rtl.detection_to_trigger_verdict in ("PASS", None)]
    if passing:
        best = min(passing, key=lambda r: (r.rtl.lut_fraction or 0, r.rtl.us))
        rtl = best.rtl
        why = (f"{best.label}: test accuracy {best.test_accuracy:.3f} against the paper student's "
               f"{ref.test_accuracy:.3f} on this data, {rtl.us:.2f} µs from the crop's first pixel to the class "
               f"against the published {BUDGET_US:g} µs"
               + (f" and {rtl.detection_to_trigger_us:.2f} µs from detection to trigger against "
                  f"{TRIGGER_BUDGET_US:g} µs"
                  if rtl.detection_to_trigger_us else "")
               + f" (RTL simulation in Verilator, cycles measured, {rtl.clock_mhz:g} MHz assumed: it passes even at "
                 f"half that clock); bit-exact {best.csim.bit_exact}/{best.csim.n} in C simulation and "
                 f"{rtl.bit_exact}/{rtl.n} in RTL; the least logic of the {len(passing)} passing design(s) "
                 f"(about {100 * (rtl.lut_fraction or 0):.0f}% of the LUTs, estimated)")
        return Recommendation(label=best.label, artifact=best.artifact, beats_paper=True, why=why)
    best = max(rows, key=lambda r: r.test_accuracy)
    reasons = "; ".join(f"{r.label}: {_why_not(r, ref, points)}" for r in rows)
    return Recommendation(label=best.label, artifact=best.artifact, beats_paper=False, why=(
        f"no candidate passes both budgets with measured evidence on this data ({reasons}); "
        f"{best.label} is the most accurate ({best.test_accuracy:.3f})"))


def _why_not(r: Candidate, ref: Candidate, points: float) -> str:
    if not _exact(r):
        return "not bit-exact"
    if (r.rtl.lut_fraction or 0) > 1:
        return (f"does not fit the part by the analytic logic count ({r.rtl.lut_fraction:.0%} of the LUTs; "
                "`cellsort rtl resources` or Vivado settles it)")
    if r.test_accuracy < ref.test_accuracy - points / 100:
        return f"accuracy {r.test_accuracy:.3f} more than {points:g} point(s) below"
    return f"latency {r.rtl.verdict}, detection to trigger {r.rtl.detection_to_trigger_verdict}"


def compare(designs: list[tuple[StudentDesign, Path, dict | None]], data, board, out: Path, n_csim: int,
            frames, background, points: float = 1.0, log=print) -> CandidatesRecord:
    """Evaluate ``(design, trained artifact, firmware summary or None)`` in order (the first is
    the reference), recommend one, and write ``out/candidates.json``. An artifact is converted
    and C-simulated once, however many designs (RTL parallelisms) share it."""
    from cellsort.firmware.flow import run_firmware
    from cellsort.student.artifact import load_student

    summaries: dict[str, dict] = {}
    rows = []
    for design, artifact, firmware in designs:
        if firmware is None and str(artifact) not in summaries:
            summaries[str(artifact)] = run_firmware(load_student(artifact), board,
                                                    out / folder_name(design) / "firmware",
                                                    data.test.images, n_csim, data.test.labels)
        rows.append(evaluate(design, data, artifact, board, out / folder_name(design), n_csim, frames, background,
                             firmware or summaries[str(artifact)], log=log))
    choice = recommend(rows, points)
    rec = CandidatesRecord.make({"points": points, "n_csim": n_csim, "board": board.part}, board=board.part,
                                budget_us=BUDGET_US, trigger_budget_us=TRIGGER_BUDGET_US, rows=rows,
                                recommended=choice, rule=RULE.format(points=points, budget=BUDGET_US,
                                                                  trigger=TRIGGER_BUDGET_US))
    rec.write(out)
    return rec


def folder_name(design: StudentDesign) -> str:
    """A folder name made of letters, digits, ``-`` and ``_`` only (Verilator's make files refuse
    ``@``, ``(``, ``|`` and spaces)."""
    import re

    return re.sub(r"[^A-Za-z0-9_-]+", "_", design.label.replace("@", "-")).strip("_")
