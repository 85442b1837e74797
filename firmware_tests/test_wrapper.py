"""The instrument wrapper: ROM from the one preprocessing, g++ testbench on frames, tcl."""
import re

import numpy as np
import pytest

from cellsort.data import Preprocessing
from cellsort.firmware.boards import load_board
from cellsort.firmware.convert import convert
from cellsort.firmware.emulator import Emulator
from cellsort.firmware.fixed import input_format, pixel_codes
from cellsort.firmware.wrapper import run_testbench, write_testbench_data, write_wrapper
from cellsort.sorter import detect, estimate_background, synthetic_flow
from cellsort.student import build_student
from firmware_tests.conftest import perturbed


@pytest.mark.parametrize("crop,b", [(24, 1), (24, 2), (36, 3)], ids=["bin1", "bin2", "bin3"])
def test_wrapper_on_flow_frames_matches_emulator(tmp_path, crop, b):
    """Crop, b x b binning (3 does not divide the 8 pixels of a beat), ROM and network in C++
    against the Python preprocessing and emulator, frame by frame."""
    size = (crop, crop)
    prep = Preprocessing(input_size=size, bin=b)
    model = perturbed(build_student("tiny", input_size=prep.network_size), seed=4)
    board = load_board("coaxlink-ku035")  # 8 pixels per clock
    prj = tmp_path / "prj"
    convert(model, prj, part=board.part, clock_period=board.clock_period_ns).write()
    write_wrapper(prj, model, prep, board)

    # The ROM in the header is the training normalisation after the input quantizer.
    header = (prj / "cellsort_config.h").read_text()
    rom = [float(v) for v in re.search(r"CS_PIXEL_ROM\[256\] = \{(.*)\}", header).group(1).split(",")]
    assert np.array_equal(np.array(rom) * 2 ** input_format(model).frac, pixel_codes(model, prep))
    assert "#define CS_PIXELS_PER_CLOCK 8" in header
    assert f"#define CS_BIN {b}" in header and f"#define CS_IN_W {crop // b}" in header

    frames = np.stack([f for f, _ in synthetic_flow(60, seed=6)])
    bg = estimate_background(frames)
    picked, rois = [], []
    for f in frames[20:]:
        for d in detect(f, bg):
            r, c = int(round(d.row)) - size[0] // 2, int(round(d.col)) - size[1] // 2
            if 0 <= r <= f.shape[0] - size[0] and 0 <= c <= f.shape[1] - size[1]:
                picked.append(f), rois.append((r, c))
        if len(picked) >= 6:
            break
    emulator = Emulator.from_model(model, prep)
    margins = [emulator.margin(prep.fit_images(f[None, r:r + size[0], c:c + size[1]]))[0]
               for f, (r, c) in zip(picked, rois)]
    threshold = float(np.median(margins))  # so both trigger outcomes occur
    write_testbench_data(prj, np.stack(picked), np.array(rois), threshold, emulator, prep)
    matched, total, log = run_testbench(prj)
    assert total == len(picked) >= 4 and matched == total, log
    assert "trigger 1" in log and "trigger 0" in log


def test_wrapper_build_script(tmp_path):
    model, prep = build_student("tiny", input_size=(16, 16)), Preprocessing(input_size=(16, 16))
    board = load_board("zcu104")
    tcl = write_wrapper(tmp_path, model, prep, board).read_text()
    assert "set_top cellsort_top" in tcl and f"set_part {board.part}" in tcl
    assert f"create_clock -period {board.clock_period_ns}" in tcl
    for step in ("csim_design", "csynth_design", "cosim_design"):
        assert step in tcl
    assert (tmp_path / "cellsort_top.cpp").is_file() and (tmp_path / "cellsort_tb.cpp").is_file()


def test_binning_is_the_exact_rounded_integer_mean():
    from cellsort.data.preprocess import bin_pixels

    x = np.array([[[0, 1, 2, 255], [1, 1, 255, 255]]], np.uint8)  # sums 3 and 767 over 4 pixels
    assert bin_pixels(x, 2).tolist() == [[[1, 192]]]  # (3+2)//4 = 1, (767+2)//4 = 192
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (5, 12, 12), dtype=np.uint8)
    got = bin_pixels(x, 3).astype(int)
    want = np.floor(x.reshape(5, 4, 3, 4, 3).astype(float).mean(axis=(2, 4)) + 0.5)
    assert np.array_equal(got, want)
    with pytest.raises(ValueError, match="must divide"):
        Preprocessing(input_size=(48, 48), bin=5)
