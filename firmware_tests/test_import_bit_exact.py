"""A float model imported with data-chosen formats converts and C-simulates bit-exactly."""
import numpy as np

from cellsort.data import Preprocessing, synthesize
from cellsort.firmware.boards import load_board
from cellsort.firmware.flow import run_firmware
from cellsort.student import StudentArtifact, import_float_model


def test_imported_keras3_model_is_bit_exact_in_c_simulation(tmp_path):
    from cellsort.keras_compat import keras3

    keras = keras3()

    k = keras
    inp = k.Input((16, 16, 1))
    x = k.layers.Conv2D(4, 3)(inp)
    x = k.layers.BatchNormalization()(x)
    x = k.layers.MaxPooling2D(2)(k.layers.ReLU()(x))
    x = k.layers.Conv2D(6, 3, activation="relu")(x)
    x = k.layers.Dense(3, activation="softmax")(k.layers.Flatten()(x))
    model = k.Model(inp, x)
    rng = np.random.default_rng(4)
    for layer in model.layers:
        w = layer.get_weights()
        if isinstance(layer, k.layers.BatchNormalization):
            w = [rng.uniform(0.5, 2, 4), rng.normal(0, 0.3, 4), rng.normal(0, 0.3, 4), rng.uniform(0.5, 2, 4)]
        elif w:
            w = [rng.normal(0, 3, w[0].shape), rng.normal(0, 0.5, w[1].shape)]
        layer.set_weights([np.asarray(v, np.float32) for v in w])
    model.save(tmp_path / "float.keras")
    prep = Preprocessing(input_size=(16, 16), mean=0.0, std=1.0)
    crops = synthesize(60, seed=2).images
    res = import_float_model(tmp_path / "float.keras", prep, crops, n_classes=3)
    assert res.report["margin_correlation"] > 0.95
    summary = run_firmware(StudentArtifact(res.model, prep, ("a", "b", "c")),
                           load_board("zcu104"), tmp_path / "fw", crops, n_csim=6)
    assert summary["bit_exact"] == 6, summary["mismatches"]
