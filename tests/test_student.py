"""QKeras students: the paper architecture, quantizers everywhere, artifacts (import: test_import.py)."""
import numpy as np
import pytest

from cellsort.data import DataError, Preprocessing
from cellsort.gate import Gate
from cellsort.student import (
    StudentArtifact,
    build_student,
    list_students,
    load_student,
    save_student,
)


@pytest.mark.paper
def test_paper_student_has_5682_parameters():
    model = build_student("paper")
    assert model.count_params() == 5682
    assert [l.count_params() for l in model.layers if l.count_params()] == [160, 2320, 3202]
    assert model.input_shape == (None, 48, 48, 1) and model.output_shape == (None, 2)
    assert model.get_layer("flatten").output_shape == (None, 1600)


def test_every_layer_is_quantized():
    model = build_student("deep", n_classes=3, input_size=(40, 40), weight_bits=6, act_bits=6)
    kinds = {}
    for layer in model.layers:
        kinds[layer.name] = type(layer).__name__
        if hasattr(layer, "kernel_quantizer"):
            assert layer.kernel_quantizer_internal.bits == 6
            assert layer.bias_quantizer_internal is not None
    assert kinds["pixels_q"] == "QActivation"  # the input quantizer
    assert all(kinds[f"relu{i}"] == "QActivation" for i in (1, 2, 3))
    assert kinds["logits"] == "QDense" and "softmax" not in str(model.layers[-1].get_config())
    assert {"paper", "small", "tiny", "deep"} <= set(list_students())


def test_too_small_input_is_a_clear_error():
    with pytest.raises(ValueError, match="too small"):
        build_student("paper", input_size=(8, 8))


def test_artifact_roundtrip(tmp_path):
    model = build_student("tiny", input_size=(16, 16))
    gate = Gate(threshold=0.5, sort_class=0, purity=0.97, recovery=0.6, met=True, chosen_on="validation", n=40)
    art = StudentArtifact(model, Preprocessing(input_size=(16, 16)), ("B", "T4"), gate, {"x": 1})
    save_student(tmp_path, art)
    back = load_student(tmp_path)
    x = np.random.default_rng(0).normal(size=(3, 16, 16, 1)).astype(np.float32)
    assert np.array_equal(model(x).numpy(), back.model(x).numpy())
    assert back.class_names == ("B", "T4") and back.gate == gate and back.info["x"] == 1
    assert back.threshold == 0.5 and back.sort_class == 0
    save_student(tmp_path / "again", back)  # a loaded artifact saves again, unchanged
    assert load_student(tmp_path / "again").gate == gate
    with pytest.raises(DataError, match="no such student artifact folder"):
        load_student(tmp_path / "nothing")
