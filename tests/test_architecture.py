"""Architectures read as data: Keras 2 and 3 files, shapes, and refusal of code and unknowns."""
import json
import zipfile

import pytest

from cellsort.architecture import ArchitectureError, read_architecture


@pytest.fixture(scope="module")
def keras3():
    from cellsort.keras_compat import keras3

    return keras3()


@pytest.fixture(scope="module")
def keras2():
    from cellsort.keras_compat import tf_keras

    return tf_keras()


def _paper(k):
    return k.Sequential([k.Input((48, 48, 1)), k.layers.Conv2D(16, 3, activation="relu"),
                         k.layers.MaxPooling2D(2), k.layers.Conv2D(16, 3, activation="relu"),
                         k.layers.MaxPooling2D(2), k.layers.Flatten(), k.layers.Dropout(0.5),
                         k.layers.Dense(2), k.layers.Softmax()])


@pytest.mark.parametrize("flavour,suffix", [("keras3", ".h5"), ("keras3", ".keras"),
                                            ("keras2", ".h5")])
def test_reads_the_paper_student_from_keras2_and_keras3_files(tmp_path, request, flavour, suffix):
    k = request.getfixturevalue(flavour)
    path = tmp_path / f"m{suffix}"
    _paper(k).save(path)
    arch = read_architecture(path)
    assert arch.input_shape == (48, 48, 1)
    kinds = [layer.kind for layer in arch.layers]
    assert kinds == ["conv2d", "activation", "pool2d", "conv2d", "activation", "pool2d",
                     "flatten", "dropout", "dense", "softmax"]
    assert arch.layers[3].out_shape == (21, 21, 16) and arch.output_shape == (2,)


def test_same_padding_and_strides_are_inferred(tmp_path, keras3):
    k = keras3
    m = k.Sequential([k.Input((15, 17, 2)), k.layers.Conv2D(4, 5, strides=2, padding="same"),
                      k.layers.AveragePooling2D(3, strides=1, padding="same"),
                      k.layers.GlobalAveragePooling2D()])
    m.save(tmp_path / "m.keras")
    arch = read_architecture(tmp_path / "m.keras")
    conv, pool, gap = arch.layers
    assert conv.out_shape == tuple(m.layers[0].output.shape[1:])
    assert conv.attrs["padding"] == (2, 2, 2, 2)  # TF: total (out-1)*s+k-in, extra after
    assert pool.out_shape == conv.out_shape and gap.out_shape == (4,)


def test_lambda_is_refused_before_any_code_runs(tmp_path, keras2):
    k = keras2
    marker = str(tmp_path / "pwned")
    m = k.Sequential([k.Input((8, 8, 1)),
                      k.layers.Lambda(lambda x: (open(marker, "w").close(), x)[1]),
                      k.layers.Flatten(), k.layers.Dense(2)])
    m.save(tmp_path / "lambda.h5")
    (tmp_path / "pwned").unlink(missing_ok=True)
    with pytest.raises(ArchitectureError, match="Lambda"):
        read_architecture(tmp_path / "lambda.h5")
    assert not (tmp_path / "pwned").exists()


def test_custom_objects_unknown_layers_and_branches_are_refused(tmp_path, keras3):
    k = keras3
    inp = k.Input((8, 8, 1))
    a, b = k.layers.Conv2D(2, 3)(inp), k.layers.Conv2D(2, 3)(inp)
    k.Model(inp, k.layers.Add()([a, b])).save(tmp_path / "branch.keras")
    with pytest.raises(ArchitectureError, match="Add|sequential|feeds"):
        read_architecture(tmp_path / "branch.keras")
    cfg = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 4]}},
        {"module": "evil.pkg", "class_name": "Dense", "config": {"name": "d", "units": 2}}]}}
    (tmp_path / "custom.json").write_text(json.dumps(cfg))
    with pytest.raises(ArchitectureError, match="custom object"):
        read_architecture(tmp_path / "custom.json")
    cfg["config"]["layers"][1] = {"class_name": "MyLayer", "config": {"name": "mine"}}
    (tmp_path / "unknown.json").write_text(json.dumps(cfg))
    with pytest.raises(ArchitectureError, match="'mine' \\(MyLayer\\) is not a supported layer"):
        read_architecture(tmp_path / "unknown.json")


def test_unreadable_files_name_the_problem(tmp_path, keras3):
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(ArchitectureError, match="junk.h5"):
        read_architecture(tmp_path / "junk.h5")
    with zipfile.ZipFile(tmp_path / "empty.keras", "w") as z:
        z.writestr("other.txt", "x")
    with pytest.raises(ArchitectureError, match="cannot read"):
        read_architecture(tmp_path / "empty.keras")
    k = keras3
    m = k.Sequential([k.Input((4,)), k.layers.Dense(2)])
    m.save_weights(tmp_path / "w.weights.h5")
    with pytest.raises(ArchitectureError, match="weights only"):
        read_architecture(tmp_path / "w.weights.h5")
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(ArchitectureError, match="unknown model format"):
        read_architecture(tmp_path / "x.txt")
