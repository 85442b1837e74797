"""The cycle model, the budget verdict, resources and board presets."""
import pytest

from cellsort.config import ConfigError
from cellsort.firmware.boards import BoardPreset, list_boards, load_board
from cellsort.firmware.latency import BUDGET_US, estimate_latency
from cellsort.firmware.resources import estimate_resources
from cellsort.student import build_student

BOARD = BoardPreset(name="t", part="xcku035-fbva676-2-e", clock_mhz=200.0)


def test_presets_cover_the_required_parts():
    parts = {load_board(n).part for n in list_boards()}
    assert {"xcku035-fbva676-2-e", "xczu7ev-ffvc1156-2-e", "xcvu9p-flga2104-2L-e"} <= parts
    assert load_board("coaxlink-ku035").clock_period_ns == pytest.approx(5.0)
    with pytest.raises(ConfigError, match="unknown board"):
        load_board("nope")


@pytest.mark.paper
def test_paper_student_streams_its_input_within_budget():
    rep = estimate_latency(build_student("paper"), BOARD)
    assert 48 * 48 <= rep.total_cycles <= rep.total_cycles_upper < 48 * 48 + 200
    assert rep.total_us == pytest.approx(rep.total_cycles / 200.0)
    assert rep.passes and rep.margin_us == pytest.approx(BUDGET_US - rep.total_us_upper)
    assert [r.name for r in rep.per_layer][-1] == "logits"
    assert all(a.done <= b.done for a, b in zip(rep.per_layer, rep.per_layer[1:]))


def test_budget_verdict_fails_when_reuse_doubles_the_interval():
    model = build_student("paper")
    slow = estimate_latency(model, BOARD, reuse_factor=2)
    assert slow.total_cycles > 2 * 48 * 48 and not slow.passes and slow.margin_us < 0


def test_smaller_input_is_faster_and_parallel_differs():
    small = estimate_latency(build_student("paper", input_size=(32, 32)), BOARD)
    assert small.total_cycles < 32 * 32 + 100
    par = estimate_latency(build_student("paper", input_size=(32, 32)), BOARD, io_type="io_parallel")
    assert "io_parallel" in par.method and par.total_cycles != small.total_cycles


def test_resource_counts_follow_shapes():
    res = estimate_resources(build_student("paper"))
    by = {r["name"]: r for r in res["per_layer"]}
    assert by["conv1"]["multipliers"] == 144 and by["conv2"]["multipliers"] == 2304
    assert by["logits"]["multipliers"] == 3200 and res["total"]["multipliers"] == 5648
    assert by["conv1"]["buffer_bits"] == 2 * 48 * 1 * 10  # two rows of the 10-bit input
    halved = estimate_resources(build_student("paper"), reuse_factor=2)
    assert halved["total"]["multipliers"] == 72 + 1152 + 1600
