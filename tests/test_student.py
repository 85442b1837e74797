"""QKeras students: the paper architecture, quantizers everywhere, artifacts, float import."""
import numpy as np
import pytest
import torch
from torch import nn

from cellsort.data import DataError, Preprocessing
from cellsort.keras_compat import tf_keras
from cellsort.student import (StudentArtifact, build_student, import_float_student, list_students,
                              load_student, save_student)


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
    art = StudentArtifact(model, Preprocessing(input_size=(16, 16)), ("B", "T4"), 0.5, {"x": 1})
    save_student(tmp_path, art)
    back = load_student(tmp_path)
    x = np.random.default_rng(0).normal(size=(3, 16, 16, 1)).astype(np.float32)
    assert np.array_equal(model(x).numpy(), back.model(x).numpy())
    assert back.class_names == ("B", "T4") and back.threshold == 0.5 and back.info["x"] == 1
    with pytest.raises(DataError, match="missing model.h5"):
        load_student(tmp_path / "nothing")


def _float_keras_paper(softmax: bool):
    keras = tf_keras()
    L = keras.layers
    x = inp = keras.Input((48, 48, 1))
    for f in (16, 16):
        x = L.MaxPooling2D(2)(L.Conv2D(f, 3, activation="relu")(x))
    x = L.Dense(2, activation="softmax" if softmax else None)(L.Dropout(0.5)(L.Flatten()(x)))
    return keras.Model(inp, x)


def _inputs(n=4):
    pixels = np.random.default_rng(1).integers(0, 256, (n, 48, 48), dtype=np.uint8)
    return Preprocessing()(pixels)


@pytest.mark.paper
def test_import_keras_float_student_with_softmax(tmp_path):
    keras = tf_keras()
    fl = _float_keras_paper(softmax=True)
    fl.save(tmp_path / "float.h5")
    q = import_float_student(tmp_path / "float.h5")
    x = _inputs()
    logits_float = keras.Model(fl.input, fl.layers[-1].input @ fl.layers[-1].kernel + fl.layers[-1].bias)(x)
    q_out = q(x).numpy()
    assert q_out.shape == (4, 2)
    # Post-training quantization keeps the decision function close to the float model.
    assert np.corrcoef(q_out[:, 1] - q_out[:, 0],
                       np.asarray(logits_float[:, 1] - logits_float[:, 0]))[0, 1] > 0.9


class _TorchPaper(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 16, 3), nn.Conv2d(16, 16, 3)
        self.fc = nn.Linear(1600, 2)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        return torch.softmax(self.fc(x.flatten(1)), dim=1)


@pytest.mark.paper
def test_import_pytorch_state_dict_keeps_flatten_order(tmp_path):
    torch.manual_seed(0)
    net = _TorchPaper()
    torch.save(net.state_dict(), tmp_path / "student.pt")
    q = import_float_student(tmp_path / "student.pt")
    x = _inputs(16)
    with torch.no_grad():
        t = net.fc(torch.max_pool2d(torch.relu(net.conv2(torch.max_pool2d(torch.relu(
            net.conv1(torch.from_numpy(x).permute(0, 3, 1, 2))), 2))), 2).flatten(1)).numpy()
    qo = q(x).numpy()
    margin_t, margin_q = t[:, 1] - t[:, 0], qo[:, 1] - qo[:, 0]
    assert np.corrcoef(margin_t, margin_q)[0, 1] > 0.9  # a wrong flatten order gives ~0


def test_import_rejects_wrong_shapes_and_formats(tmp_path):
    torch.save({"w.weight": torch.zeros(3, 3)}, tmp_path / "bad.pt")
    with pytest.raises(DataError, match="bad.pt"):
        import_float_student(tmp_path / "bad.pt")
    (tmp_path / "m.onnx").write_bytes(b"")
    with pytest.raises(DataError, match="unknown float model format"):
        import_float_student(tmp_path / "m.onnx")
