"""The demo's recommendation rule (:func:`cellsort.explore.candidates.recommend`), a pure function:
exact, fitting, accurate enough, passing both budgets with measured cycles; then the least logic."""
from __future__ import annotations

from cellsort.explore.candidates import folder_name, recommend
from cellsort.records import Candidate
from cellsort.student.design import StudentDesign


def candidate(label, acc, rtl_us, lut=0.1, d2t=None, exact=True, verdict=None, d2t_verdict=None):
    """A candidate row with only the fields the rule reads varied."""
    from cellsort.firmware.rtl.cost import verdict as rtl_verdict

    d2t = rtl_us + 0.1 if d2t is None else d2t
    return Candidate.model_validate({
        "label": label, "design": {"student": "paper"}, "artifact": f"/runs/{label}", "params": 100,
        "test_accuracy": acc, "n_test": 500, "csim": {"bit_exact": 10 if exact else 9, "n": 10},
        "hls": {"by_tool": {}, "resources_method": "analytic"},
        "rtl": {"bit_exact": 500, "n": 500, "cycles": int(rtl_us * 250), "us": rtl_us, "us_after_last_pixel": 0.1,
                "verdict": verdict or rtl_verdict(rtl_us, 14.5), "detection_to_trigger_us": d2t,
                "detection_to_trigger_verdict": d2t_verdict or rtl_verdict(d2t, 24.7), "clock_mhz": 250.0,
                "method": "RTL simulation", "lut_fraction": lut, "resources_method": "estimate",
                "parallelism": {}}})


def test_the_least_logic_among_the_accurate_passing_designs():
    rows = [candidate("paper@48", 0.900, 1.5, lut=0.9), candidate("paper@24", 0.895, 1.3, lut=0.3),
            candidate("paper@12", 0.860, 1.2, lut=0.1)]  # 4 points lower: not within 1 point
    rec = recommend(rows, points=1.0)
    assert rec.beats_paper and rec.label == "paper@24"
    assert "2 passing design(s)" in rec.why and "0.895" in rec.why
    assert recommend(rows, points=5.0).label == "paper@12"  # the rule's tolerance is the caller's


def test_latency_breaks_ties_in_logic():
    rows = [candidate("a", 0.9, 2.0, lut=0.2), candidate("b", 0.9, 1.0, lut=0.2)]
    assert recommend(rows).label == "b"


def test_a_design_that_is_not_exact_fits_nowhere_or_misses_a_budget_is_passed_over():
    ref = candidate("ref", 0.9, 10.0)  # UNCERTAIN: meets 14.5 µs only at the assumed clock
    assert ref.rtl.verdict == "UNCERTAIN"
    rows = [ref, candidate("inexact", 0.95, 1.0, exact=False), candidate("too big", 0.95, 1.0, lut=1.2),
            candidate("slow trigger", 0.95, 1.0, d2t=30.0)]
    rec = recommend(rows)
    assert not rec.beats_paper and rec.label in ("inexact", "too big", "slow trigger")
    for reason in ("not bit-exact", "does not fit the part", "detection to trigger FAIL", "latency UNCERTAIN"):
        assert reason in rec.why, reason


def test_folder_names_are_safe_for_verilator():
    name = folder_name(StudentDesign(student="paper", bin=4))
    assert name and all(c.isalnum() or c in "-_" for c in name)
    assert folder_name(StudentDesign(student="paper", bin=2)) != name
