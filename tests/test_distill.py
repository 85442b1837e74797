"""Quantization-aware distillation on small data: pairing, methods, determinism, artifacts."""
import numpy as np
import pytest

from cellsort.data import DataError, Dataset, synthesize
from cellsort.data.splits import SplitSpec, apply_splits, make_splits
from cellsort.distill import DistillConfig, distill
from cellsort.distill.train import training_rows
from cellsort.student import load_student

GROUPS = {"B": ["B"], "T4": ["T4"]}


@pytest.fixture(scope="module")
def task_data():
    pool = synthesize(150, seed=21)
    pool = Dataset(pool.images[:, 16:48, 16:48].copy(), pool.labels, pool.class_names, "synth")
    data = apply_splits(pool, make_splits(pool.labels, SplitSpec(val_fraction=0.2, test_fraction=0.2)))
    return data, data.relabel(GROUPS)


@pytest.fixture(scope="module")
def cache(task_data):
    """A fake 3-class teacher that is confident and right, with two views per image."""
    full, _ = task_data
    logits = np.eye(3, dtype=np.float32)[full.train.labels] * 6.0
    flipped = full.train.images[:, :, ::-1]
    return {"images": np.concatenate([full.train.images, flipped]),
            "logits": np.concatenate([logits, logits]),
            "labels": np.concatenate([full.train.labels, full.train.labels]),
            "class_names": np.asarray(full.train.class_names)}


CFG = DistillConfig(student="tiny", input_size=(24, 24), epochs=2, batch_size=32)


def test_rows_pair_each_view_with_its_own_targets(task_data, cache):
    full, data = task_data
    rows = training_rows(data, cache, GROUPS)
    assert len(rows["images"]) == 2 * len(data.train)
    keep = np.isin(cache["labels"], [0, 1])
    assert np.array_equal(rows["images"], cache["images"][keep])
    assert np.array_equal(rows["teacher_logits"].argmax(1), rows["labels"])  # target ↔ own image


def test_kd_needs_teacher_and_margin_needs_two_classes(task_data, tmp_path):
    full, data = task_data
    with pytest.raises(DataError, match="needs a teacher"):
        distill(data, CFG.model_copy(update={"method": "kd"}), tmp_path, progress=False)
    with pytest.raises(DataError, match="two-class"):
        distill(full, CFG, tmp_path, cache={}, progress=False)


@pytest.mark.parametrize("method", ["labels", "published", "kd", "kd-margin"])
def test_methods_train_and_save_artifact(task_data, cache, tmp_path, method):
    _, data = task_data
    summary = distill(data, CFG.model_copy(update={"method": method}), tmp_path, cache=cache,
                      groups=GROUPS, progress=False)
    art = load_student(tmp_path)
    assert art.class_names == ("B", "T4") and art.info["distill"]["method"] == method
    assert 0 <= summary["test"]["accuracy"] <= 1 and len(summary["history"]) == 2
    assert np.isfinite(summary["history"][-1]["train_loss"])


def test_deterministic_given_seed(task_data, cache, tmp_path):
    _, data = task_data
    runs = [distill(data, CFG, tmp_path / str(i), cache=cache, groups=GROUPS, progress=False)
            for i in range(2)]
    assert runs[0]["history"] == runs[1]["history"]
    w = [load_student(tmp_path / str(i)).model.get_weights() for i in range(2)]
    assert all(np.array_equal(a, b) for a, b in zip(*w))
