"""The instrument top: detection on the pixel stream, crop from the line buffer, binning,
ROM, network and trigger in C++ (g++ testbench) against Python frame by frame."""
import re

import numpy as np
import pytest

from cellsort.data import Preprocessing
from cellsort.firmware.boards import load_board
from cellsort.firmware.convert import to_hls4ml
from cellsort.firmware.emulator import Emulator
from cellsort.firmware.fixed import input_format, pixel_codes
from cellsort.firmware.fpga_detect import FpgaDetectConfig
from cellsort.firmware.wrapper import run_testbench, write_testbench_data, write_wrapper
from cellsort.sorter import estimate_background, synthetic_flow
from cellsort.student import build_student
from firmware_tests.conftest import perturbed


def _project(tmp_path, crop, b, board_name="coaxlink-ku035"):
    prep = Preprocessing(input_size=(crop, crop), bin=b)
    model = perturbed(build_student("tiny", input_size=prep.network_size), seed=4)
    board = load_board(board_name)
    prj = tmp_path / "prj"
    to_hls4ml(model, prj, part=board.part, clock_period=board.clock_period_ns).write()
    write_wrapper(prj, model, prep, board)
    return prj, model, prep, board


def _check(prj, frames, background, detect, model, prep):
    emulator = Emulator.from_model(model, prep)
    first = write_testbench_data(prj, frames, background, detect, 0.0, emulator, prep)
    crossed = [r["margin"] for r in first if r["crossed"]]
    threshold = float(np.median(crossed)) if crossed else 0.0  # so both trigger outcomes occur
    rows = write_testbench_data(prj, frames, background, detect, threshold, emulator, prep)
    matched, total, log = run_testbench(prj)
    assert total == len(frames) and matched == total, log
    return rows, log


@pytest.mark.parametrize("crop,b", [(24, 1), (24, 2), (36, 3)], ids=["bin1", "bin2", "bin3"])
def test_top_on_flow_frames_matches_python(tmp_path, crop, b):
    """Whole frames of the synthetic flow video; bin 3 does not divide a beat's 8 pixels."""
    prj, model, prep, board = _project(tmp_path, crop, b)
    header = (prj / "cellsort_config.h").read_text()
    rom = [float(v) for v in re.search(r"CS_PIXEL_ROM\[256\] = \{(.*)\}", header).group(1).split(",")]
    assert np.array_equal(np.array(rom) * 2 ** input_format(model).frac, pixel_codes(model, prep))
    assert "#define CS_PIXELS_PER_CLOCK 8" in header
    assert f"#define CS_BIN {b}" in header and f"#define CS_IN_W {crop // b}" in header
    frames = np.stack([f for f, _ in synthetic_flow(70, seed=6)])
    background = estimate_background(frames)
    detect = FpgaDetectConfig(threshold=12, min_area=60, window_left=90, window_right=170,
                              trigger_col=128)
    rows, log = _check(prj, frames[10:], background, detect, model, prep)
    assert sum(r["found"] for r in rows) >= 10 and 0 < sum(r["found"] == 0 for r in rows)
    assert sum(r["crossed"] for r in rows) >= 2
    assert "trigger 1" in log and "trigger 0" in log


def test_top_on_rtdc_frames_matches_python(tmp_path):
    """Frames rebuilt from an RT-DC recording written with dclab: each event image with the
    recording's image_bg as the stored background, an empty channel between cells; the frame
    width (250) is not a multiple of the 8 pixels a beat."""
    import dclab

    from cellsort.data.rtdc_synth import write_synthetic_recording

    write_synthetic_recording(tmp_path / "rec.rtdc", 200, seed=3)
    with dclab.new_dataset(tmp_path / "rec.rtdc") as ds:
        images = np.asarray(ds["image"])[:, :, 3:253]
        background = np.asarray(ds["image_bg"])[0][:, 3:253]
    frames = np.stack([f for img in images for f in (img, background)])
    prj, model, prep, board = _project(tmp_path, 24, 2)
    detect = FpgaDetectConfig(threshold=12, min_area=60, window_left=85, window_right=165,
                              trigger_col=100)  # the event cell is the one at mid-channel
    rows, log = _check(prj, frames, background, detect, model, prep)
    events = rows[::2]  # (objects taller than the line buffer, two cells stacked in the
    assert sum(r["found"] for r in events) >= len(events) // 2  # window, are rejected)
    assert sum(r["crossed"] for r in events) >= 4 and not any(r["found"] for r in rows[1::2])


def test_python_detection_finds_the_true_cells():
    """The streaming detection's centroids are the true cells' (isolated cells in the window)."""
    from cellsort.firmware.fpga_detect import FpgaDetector

    video = list(synthetic_flow(120, seed=3))
    frames = np.stack([f for f, _ in video])
    det = FpgaDetector(estimate_background(frames), FpgaDetectConfig(window_left=96, window_right=160,
                                                                     trigger_col=128), 48, 96)
    errors = []
    for frame, cells in video:
        obj, crossed = det.frame(frame)
        near = [c for c in cells if 96 <= c.col < 160]
        if crossed and len(near) == 1:
            errors.append(np.hypot(obj.row - near[0].row, obj.col - near[0].col))
    assert len(errors) >= 3 and np.median(errors) <= 3.0


def test_wrapper_build_script(tmp_path):
    model, prep = build_student("tiny", input_size=(16, 16)), Preprocessing(input_size=(16, 16))
    board = load_board("zcu104")
    tcl = write_wrapper(tmp_path, model, prep, board).read_text()
    assert "set_top cellsort_top" in tcl and f"set_part {board.part}" in tcl
    assert f"create_clock -period {board.clock_period_ns}" in tcl
    for step in ("csim_design", "csynth_design", "cosim_design"):
        assert step in tcl
    assert (tmp_path / "cellsort_top.cpp").is_file() and (tmp_path / "cellsort_tb.cpp").is_file()
    with pytest.raises(ValueError, match="square"):
        write_wrapper(tmp_path, build_student("tiny", input_size=(16, 24)),
                      Preprocessing(input_size=(16, 24)), board)
