"""Config loading, atomic writes, provenance and the Keras 2/3 shim."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from cellsort.atomic import atomic_open, write_json, write_npz
from cellsort.config import ConfigError, StrictModel, load_config
from cellsort.keras_compat import keras2_for_hls4ml, tf_keras
from cellsort.provenance import record


class _Cfg(StrictModel):
    lr: float = 0.1
    epochs: int = 3


def test_load_config_yaml_json_and_overrides(tmp_path):
    (tmp_path / "a.yaml").write_text("lr: 0.5\n")
    (tmp_path / "b.json").write_text('{"epochs": 7}')
    assert load_config(_Cfg, tmp_path / "a.yaml", epochs=9) == _Cfg(lr=0.5, epochs=9)
    assert load_config(_Cfg, tmp_path / "b.json").epochs == 7
    assert load_config(_Cfg, None, lr=None).lr == 0.1


@pytest.mark.parametrize("text,match", [
    ("lr: [unclosed", "not valid yaml"),
    ("- 1\n- 2\n", "expected a mapping"),
    ("epochs: many\n", "epochs: Input should be a valid integer"),
])
def test_load_config_errors_name_the_file(tmp_path, text, match):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match) as info:
        load_config(_Cfg, path)
    assert "bad.yaml" in str(info.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(_Cfg, tmp_path / "nope.yaml")


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"a": 1})
    with pytest.raises(RuntimeError):
        with atomic_open(target, "w") as fh:
            fh.write("partial")
            raise RuntimeError("crash mid-write")
    assert json.loads(target.read_text()) == {"a": 1}
    assert os.listdir(tmp_path) == ["out.json"]


def test_write_npz_and_numpy_json(tmp_path):
    write_npz(tmp_path / "a.npz", x=np.arange(3))
    assert np.load(tmp_path / "a.npz")["x"].tolist() == [0, 1, 2]
    write_json(tmp_path / "b.json", {"v": np.float32(1.5), "a": np.arange(2)})
    assert json.loads((tmp_path / "b.json").read_text()) == {"v": 1.5, "a": [0, 1]}


def test_provenance_records_config_and_versions():
    rec = record(_Cfg(lr=0.2), stage="x")
    assert rec["config"] == {"lr": 0.2, "epochs": 3} and rec["stage"] == "x"
    assert rec["versions"]["numpy"] == np.__version__ and "python" in rec["versions"]


def test_importing_cellsort_sets_no_environment_variable():
    """Only the libraries it loads may touch the environment (torch's KMP_*, OpenCV's loader
    path); cellsort's Keras switch waits until a model is loaded."""
    code = ("import os; before = dict(os.environ); import cellsort, cellsort.cli; "
            "print(sorted(k for k, v in os.environ.items() if before.get(k) != v))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={k: v for k, v in os.environ.items() if not k.startswith("TF_")})
    changed = eval(run.stdout.strip())  # noqa: S307 - a list of names printed by the child
    assert not [k for k in changed if k.startswith(("TF_", "KERAS", "CELLSORT"))], changed


def test_keras_shim_swaps_and_restores():
    k2 = tf_keras()  # the shim is applied where a model is loaded
    assert os.environ["TF_USE_LEGACY_KERAS"] == "1"
    assert k2.__version__.startswith("2.")
    before = sys.modules.get("keras")
    with keras2_for_hls4ml():
        import keras

        assert keras is k2 and keras.__version__ < "3.0"
    assert sys.modules.get("keras") is before


def test_hls4ml_parses_qkeras_model_through_shim():
    """Without the shim hls4ml would send this tf-keras model to its Keras 3 parser."""
    import hls4ml

    from cellsort.student import build_student

    model = build_student("tiny", input_size=(12, 12))
    with keras2_for_hls4ml():
        cfg = hls4ml.utils.config_from_keras_model(model, granularity="name")
    assert {"conv1", "relu1", "logits"} <= set(cfg["LayerName"])


def test_public_api_resolves_lazily():
    import cellsort

    for name in cellsort.__all__:
        assert getattr(cellsort, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        cellsort.nope


def test_registry_refuses_a_second_registration_and_names_the_known_ones():
    from cellsort.registry import Registry
    from cellsort.teacher.nets import TEACHERS, register_teacher

    reg = Registry("widget")
    reg.register("a", "b")(len)
    assert reg.names() == ["a", "b"] and reg.get("a") is len and reg.values() == [len, len]
    with pytest.raises(ValueError, match="widget 'a' is already registered"):
        reg.add("a", print)
    with pytest.raises(KeyError, match="unknown widget 'c'; available: a, b"):
        reg.get("c")
    with pytest.raises(ValueError, match="teacher 'resnet18' is already registered"):
        register_teacher("resnet18")(lambda n_classes, width: None)  # no silent overwrite
    assert TEACHERS.find("nope") is None


def test_records_are_typed_and_the_report_reads_declared_fields_only(tmp_path):
    from cellsort.errors import DataError
    from cellsort.records import FirmwareRecord, RunRecord, SortRecord, field_path_exists
    from cellsort.report.sections import facts_from

    assert field_path_exists(RunRecord, "stages.firmware.latency_us")
    assert field_path_exists(FirmwareRecord, "resources.total.lut_mult")  # a dict below: any key
    assert not field_path_exists(RunRecord, "stages.firmware.latency_usec")
    rec = SortRecord.make(None, mode="video", frames=3, cells=1, errors=0, cells_per_s=2.0,
                          frames_per_s=6.0, latency_us={}, per_class={"B": 1}, sorted=1, threshold=0.5)
    path = rec.write(tmp_path)
    assert SortRecord.read(tmp_path) == rec and path.name == "summary.json"
    assert [f.value for f in facts_from(rec, "summary.json", [("cells", "cells", "{:d}")])] == [1]
    with pytest.raises(TypeError, match="does not declare"):
        facts_from(rec, "summary.json", [("cells", "cell_count", "{:d}")])
    (tmp_path / "summary.json").write_text('{"mode": "video"}')  # a writer that lost its fields
    with pytest.raises(DataError, match="not a readable SortRecord"):
        SortRecord.read(tmp_path)
