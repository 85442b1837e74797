"""Resources and board presets (the cycle model is tested in test_latency_model.py)."""
import pytest

from cellsort.config import ConfigError
from cellsort.firmware.boards import list_boards, load_board
from cellsort.firmware.resources import estimate_resources
from cellsort.student import build_student


def test_presets_cover_the_required_parts():
    parts = {load_board(n).part for n in list_boards()}
    assert {"xcku035-fbva676-2-e", "xczu7ev-ffvc1156-2-e", "xcvu9p-flga2104-2L-e"} <= parts
    assert load_board("coaxlink-ku035").clock_period_ns == pytest.approx(5.0)
    with pytest.raises(ConfigError, match="unknown board"):
        load_board("nope")


def test_resource_counts_follow_shapes():
    res = estimate_resources(build_student("paper"))
    by = {r["name"]: r for r in res["per_layer"]}
    assert by["conv1"]["multipliers"] == 144 and by["conv2"]["multipliers"] == 2304
    assert by["logits"]["multipliers"] == 3200 and res["total"]["multipliers"] == 5648
    assert by["conv1"]["buffer_bits"] == 2 * 48 * 1 * 10  # two rows of the 10-bit input
    halved = estimate_resources(build_student("paper"), reuse_factor=2)
    assert halved["total"]["multipliers"] == 72 + 1152 + 1600
