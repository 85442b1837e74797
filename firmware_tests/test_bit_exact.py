"""hls4ml C simulation, the integer emulator and QKeras agree bit for bit."""
import numpy as np
import pytest

from cellsort.architecture.fixed import Fixed
from cellsort.data import Preprocessing
from cellsort.firmware.convert import csim_logits, hls_config, to_hls4ml
from cellsort.firmware.emulator import Emulator
from cellsort.firmware.fixed import input_format, pixel_codes
from cellsort.student import build_student
from cellsort.student.design import FAMILY
from firmware_tests.conftest import perturbed


def _qkeras_logits(model, prep, images):
    return model(prep(images), training=False).numpy().astype(np.float64)


def test_fixed_rounds_half_to_even_and_saturates():
    fmt = Fixed(8, 3, signed=False)  # step 1/32, max 255/32
    assert fmt.codes([0.5 / 32, 1.5 / 32, 2.5 / 32, 100.0, -1.0]).tolist() == [0, 2, 2, 255, 0]
    assert Fixed(10, 3).hls() == "fixed<10,3,RND_CONV,SAT>"


def test_normalisation_rom_is_the_training_normalisation():
    model, prep = build_student("paper"), Preprocessing()
    codes = pixel_codes(model, prep)
    fmt = input_format(model)
    assert fmt == Fixed(10, 3) and codes.shape == (256,)
    quantized = model.get_layer("pixels_q").quantizer(prep.pixel_table().astype(np.float32)).numpy()
    assert np.array_equal(codes / 2.0 ** fmt.frac, quantized)


def test_hls_config_precisions_follow_quantizers():
    model = build_student("tiny", input_size=(16, 16))
    cfg = hls_config(model, reuse_factor=2)
    assert cfg["LayerName"]["relu1"]["Precision"]["result"] == "ufixed<8,3,RND_CONV,SAT>"
    assert cfg["LayerName"]["pixels"]["Precision"]["result"] == "fixed<10,3>"
    assert cfg["LayerName"]["conv1"]["Precision"]["accum"] == "fixed<32,16>"
    assert cfg["LayerName"]["conv1"]["ReuseFactor"] == 2 and "softmax" not in str(cfg).lower()


@pytest.mark.parametrize("name,size", [("paper", (48, 48)), ("deep", (40, 40)), ("tiny", (16, 16))])
def test_emulator_equals_qkeras(name, size, crops):
    model, prep = perturbed(build_student(name, input_size=size)), Preprocessing(input_size=size)
    em = Emulator.from_model(model, prep)
    assert np.array_equal(em.logits(prep.fit_images(crops)), _qkeras_logits(model, prep, crops))


@pytest.mark.parametrize("act_bits,products,int8", [(8, "int8", True), (8, "float", False),
                                                   (8, "auto", None), (12, "int8", False)])
def test_emulator_int8_and_float_products_equal_qkeras(act_bits, products, int8, crops):
    """8-bit activations can run as int8 GEMMs, 12-bit ones never; whatever runs (auto picks
    by timing on this CPU) is exact, in any chunking."""
    size = (24, 24)
    model = perturbed(build_student("small", input_size=size, act_bits=act_bits))
    prep = Preprocessing(input_size=size)
    em = Emulator.from_model(model, prep, backend="numpy", products=products)
    chosen = [op.gemm.int8 for op in em._ops if op.gemm is not None][1:]
    if int8 is not None:
        assert chosen == [int8, int8]
    fitted = prep.fit_images(crops)
    expected = _qkeras_logits(model, prep, crops)
    assert np.array_equal(em.logits(fitted), expected)
    assert np.array_equal(em.logits(fitted, chunk=1), expected)
    assert np.array_equal(em.logits(fitted[:1]), expected[:1])


def test_emulator_on_real_jurkat_crops(jurkat_crops):
    size = (40, 40)
    model, prep = perturbed(build_student("paper", input_size=size), seed=3), Preprocessing(input_size=size)
    em = Emulator.from_model(model, prep)
    assert np.array_equal(em.logits(jurkat_crops), _qkeras_logits(model, prep, jurkat_crops))


def test_emulator_rejects_wrong_input():
    model = build_student("tiny", input_size=(16, 16))
    with pytest.raises(TypeError, match="uint8"):
        Emulator.from_model(model, Preprocessing(input_size=(16, 16))).logits(np.zeros((2, 16, 16)))


def _csim_vs_emulator(model, prep, images, tmp_path, io_type="io_stream"):
    hls_model = to_hls4ml(model, tmp_path / "prj", io_type=io_type)
    hls_model.compile()
    fitted = prep.fit_images(images)
    csim = csim_logits(hls_model, pixel_codes(model, prep)[fitted], input_format(model).frac)
    return csim, Emulator.from_model(model, prep).logits(fitted), _qkeras_logits(model, prep, images)


def test_csim_bit_exact_small_student(crops, prep16, tmp_path):
    model = perturbed(build_student("tiny", input_size=(16, 16)))
    csim, emu, qk = _csim_vs_emulator(model, prep16, crops[:20], tmp_path)
    assert np.array_equal(csim, emu) and np.array_equal(csim, qk)
    assert np.ptp(csim[:, 1] - csim[:, 0]) > 0.5  # the logits depend on the image


@pytest.mark.paper
def test_csim_bit_exact_paper_student(crops, tmp_path):
    model, prep = perturbed(build_student("paper"), seed=1, scale=0.2), Preprocessing()
    csim, emu, qk = _csim_vs_emulator(model, prep, crops[:12], tmp_path)
    assert np.array_equal(csim, emu) and np.array_equal(csim, qk)
    assert np.abs(csim).max() > 0.1


def test_layer_trace_locates_a_broken_layer(crops, prep16, tmp_path, monkeypatch):
    from cellsort.firmware import convert as convert_module
    from cellsort.firmware.convert import layer_diff

    model = perturbed(build_student("tiny", input_size=(16, 16)), seed=5)
    exact = layer_diff(model, prep16, crops[:6], tmp_path / "exact")
    assert [r["layer"] for r in exact][:3] == ["conv1", "relu1", "pool1"]
    assert all(r["images_differing"] == 0 for r in exact)
    monkeypatch.setattr(convert_module, "ACCUM", "fixed<12,4>")  # too few fractional bits
    broken = layer_diff(model, prep16, crops[:6], tmp_path / "broken")
    first = next(r for r in broken if r["images_differing"])
    assert first["layer"] == "conv1" and first["max_abs_diff"] > 0


def test_csim_bit_exact_io_parallel_small_student(crops, prep16, tmp_path):
    model = perturbed(build_student("tiny", input_size=(16, 16)), seed=6)
    csim, emu, qk = _csim_vs_emulator(model, prep16, crops[:10], tmp_path, io_type="io_parallel")
    assert np.array_equal(csim, emu) and np.array_equal(csim, qk)


@pytest.mark.slow
def test_csim_bit_exact_io_parallel_paper_student(crops, tmp_path):
    """About 16 minutes of g++ for the full student in io_parallel: run with -m slow."""
    model, prep = perturbed(build_student("paper"), seed=7, scale=0.2), Preprocessing()
    csim, emu, qk = _csim_vs_emulator(model, prep, crops[:8], tmp_path, io_type="io_parallel")
    assert np.array_equal(csim, emu) and np.array_equal(csim, qk)


#: One member per binning, architecture and bit width of the family (each compile ~20 s).
FAMILY_SAMPLE = [d for d in FAMILY if (d.student, d.bin, d.options.get("weight_bits")) in
                 {("paper", 3, None), ("small", 2, None), ("deep", 2, None), ("paper", 4, 4)}]


@pytest.mark.parametrize("design", FAMILY_SAMPLE, ids=lambda d: d.label)
def test_family_converts_and_c_simulates_bit_exactly(design, crops, tmp_path):
    """Every binned member of the student family: built from the registry by name and
    options, QKeras from pixels to logits, bit-exact through hls4ml on binned crops."""
    model = perturbed(design.build(2), seed=design.bin, scale=0.3)
    prep = design.preprocessing()
    assert all(type(layer).__name__ in ("InputLayer", "QActivation", "QConv2D", "MaxPooling2D",
                                        "Flatten", "Dropout", "QDense") for layer in model.layers)
    csim, emu, qk = _csim_vs_emulator(model, prep, crops[:10], tmp_path)
    assert np.array_equal(csim, emu) and np.array_equal(csim, qk)
    assert np.ptp(csim[:, 1] - csim[:, 0]) > 0.1
