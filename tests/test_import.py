"""Importing float models people already have: Keras 2 and 3 files, PyTorch checkpoints,
faithful data-chosen formats, and refusal of files that carry code."""
import json

import numpy as np
import pytest
import torch
from torch import nn

from cellsort.cli import main
from cellsort.data import DataError, Preprocessing, synthesize
from cellsort.keras_compat import tf_keras
from cellsort.student import QuantConfig, import_float_model, load_student

CROPS = synthesize(120, seed=3).images


def _paper(k, softmax=True, scale=(1.0, 1.0, 1.0), bn=False, size=48):
    x = inp = k.Input((size, size, 1))
    for i, f in enumerate((16, 16)):
        x = k.layers.Conv2D(f, 3)(x)
        if bn:
            x = k.layers.BatchNormalization()(x)
        x = k.layers.MaxPooling2D(2)(k.layers.ReLU()(x))
    x = k.layers.Dense(2, activation="softmax" if softmax else None)(k.layers.Dropout(0.5)(k.layers.Flatten()(x)))
    model = k.Model(inp, x)
    rng = np.random.default_rng(7)
    weights, j = [], 0
    for w in model.get_weights():
        if w.ndim > 1:
            w = rng.normal(0, 1, w.shape) * np.sqrt(2 / np.prod(w.shape[:-1])) * scale[j]
            j += 1
        elif bn:
            w = np.abs(rng.normal(1, 0.3, w.shape))
        else:
            w = rng.normal(0, 0.3, w.shape)
        weights.append(w.astype(np.float32))
    model.set_weights(weights)
    return model


@pytest.mark.paper
def test_keras3_student_with_large_weights_imports_faithfully_at_8_bits(tmp_path):
    from cellsort.keras_compat import keras3

    keras = keras3()

    # conv2 weights reach ~10 and activations far exceed the old fixed ReLU range of 8
    model = _paper(keras, scale=(8.0, 25.0, 1.0))
    assert np.abs(model.get_weights()[2]).max() > 8
    model.save(tmp_path / "released.h5")
    res = import_float_model(tmp_path / "released.h5", Preprocessing(), CROPS)
    rep = res.report
    assert not rep["anything_clipped"] and rep["widened"]  # ReLU range grown, nothing saturates
    # either 8-bit weights keep 99% of the decisions and a 0.99 margin correlation, or the
    # report names the widths that do
    wider = rep.get("reaches_target")
    assert (rep["argmax_agreement"] >= 0.99 and rep["margin_correlation"] >= 0.99) or (
        wider and wider["argmax_agreement"] >= 0.99 and wider["margin_correlation"] >= 0.99), rep
    assert not any(r["clipped"] for r in rep["layers"] if "weights" in r["format"])
    assert res.model.output_shape == (None, 2)  # softmax dropped: logits out


def test_tf_keras_file_with_batchnorm_folds_it(tmp_path):
    k = tf_keras()
    model = _paper(k, softmax=False, bn=True, size=20)
    model.save(tmp_path / "bn.h5")
    res = import_float_model(tmp_path / "bn.h5", Preprocessing(input_size=(20, 20)), CROPS)
    assert res.report["margin_correlation"] > 0.98
    assert [layer.name for layer in res.model.layers if "conv" in layer.name] == ["conv1", "conv2"]


class _TorchPaper(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1, self.conv2 = nn.Conv2d(1, 16, 3), nn.BatchNorm2d(16), nn.Conv2d(16, 16, 3)
        self.fc = nn.Linear(1600, 2)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


@pytest.mark.paper
def test_pytorch_checkpoint_dict_imports_with_channel_order_and_bn(tmp_path):
    torch.manual_seed(0)
    net = _TorchPaper().eval()
    with torch.no_grad():
        net.bn1.running_mean.uniform_(-0.2, 0.2)
        net.bn1.running_var.uniform_(0.5, 2.0)
    torch.save({"epoch": 3, "model_state_dict": net.state_dict(), "optimizer": {}}, tmp_path / "ckpt.pt")
    prep = Preprocessing()
    res = import_float_model(tmp_path / "ckpt.pt", prep, CROPS)
    x = prep(CROPS[:60])
    with torch.no_grad():
        t = net(torch.from_numpy(x).permute(0, 3, 1, 2)).numpy()
    q = res.model(x).numpy()
    assert np.corrcoef(t[:, 1] - t[:, 0], q[:, 1] - q[:, 0])[0, 1] > 0.98  # wrong order gives ~0


def test_bad_files_and_mismatches_are_clear(tmp_path):
    torch.save({"epoch": 1, "notes": {"a": 1}}, tmp_path / "empty.pt")
    with pytest.raises(DataError, match="no state_dict"):
        import_float_model(tmp_path / "empty.pt", Preprocessing(), CROPS)
    torch.save({"w.weight": torch.zeros(3, 3)}, tmp_path / "bad.pt")
    with pytest.raises(DataError, match="bad.pt"):
        import_float_model(tmp_path / "bad.pt", Preprocessing(), CROPS)
    (tmp_path / "m.onnx").write_bytes(b"")
    with pytest.raises(DataError, match="unknown float model format"):
        import_float_model(tmp_path / "m.onnx", Preprocessing(), CROPS)
    k = tf_keras()
    _paper(k, size=20).save(tmp_path / "small.h5")
    with pytest.raises(DataError, match="takes"):
        import_float_model(tmp_path / "small.h5", Preprocessing(), CROPS)  # 48 vs 20
    with pytest.raises(ValueError):
        QuantConfig(weight_bits=1)


def _lambda_file(tmp_path):
    k = tf_keras()
    marker = str(tmp_path / "marker")
    m = k.Sequential([k.Input((16, 16, 1)), k.layers.Lambda(lambda x: (open(marker, "w").close(), x)[1]),
                      k.layers.Flatten(), k.layers.Dense(2)])
    m.save(tmp_path / "evil.h5")
    (tmp_path / "marker").unlink(missing_ok=True)
    return tmp_path / "evil.h5"


def test_a_lambda_file_is_refused_by_every_command(tmp_path, capsys):
    evil = _lambda_file(tmp_path)
    art = tmp_path / "art"
    art.mkdir()
    (art / "model.h5").write_bytes(evil.read_bytes())
    (art / "preprocessing.json").write_text(Preprocessing(input_size=(16, 16)).model_dump_json())
    (art / "artifact.json").write_text(json.dumps({"class_names": ["B", "T"]}))
    from cellsort.data import write_synthetic

    write_synthetic(tmp_path / "data", 60, seed=1)
    commands = [["student", "import", str(evil), "--out", str(tmp_path / "o"), "--input-size", "16"],
                ["hls", "latency", "--model", str(evil)], ["hls", "latency", "--model", str(art)],
                ["hls", "csim", "--model", str(evil), "--data", str(tmp_path / "data"),
                 "--task", "B,T4", "--n", "2", "--out", str(tmp_path / "p")],
                ["hls", "convert", "--model", str(art), "--out", str(tmp_path / "p2")],
                ["sort", "--source", "synthetic", "--model", str(art), "--out", str(tmp_path / "s")]]
    for argv in commands:
        assert main(argv) == 2, argv
        assert "Lambda" in capsys.readouterr().err, argv
    with pytest.raises(DataError, match="Lambda"):
        load_student(art)
    assert not (tmp_path / "marker").exists()


def test_cli_import_prints_the_agreement_table_and_writes_an_artifact(tmp_path, capsys):
    k = tf_keras()
    _paper(k, size=20).save(tmp_path / "f.h5")
    assert main(["student", "import", str(tmp_path / "f.h5"), "--out", str(tmp_path / "a"),
                 "--input-size", "20", "--normalisation", "unit", "--fit", "resize",
                 "--weight-bits", "6"]) == 0
    out = capsys.readouterr().out
    assert "argmax agreement" in out and "quantized_bits(6," in out and "synthetic" in out
    art = load_student(tmp_path / "a")
    assert art.preprocessing.mean == 0.0 and art.preprocessing.fit == "resize"
    assert art.info["quantization_report"]["n_crops"] == 300
    assert main(["student", "import", str(tmp_path / "f.h5"), "--out", str(tmp_path / "b"),
                 "--input-size", "20", "--normalisation", "nonsense"]) == 2
