import numpy as np
import pytest

from cellsort.data import (
    DataError,
    Dataset,
    SplitSpec,
    make_splits,
    open_dataset,
    read_jurkat,
)
from cellsort.data.splits import apply_splits, read_splits, write_splits


def _labels(n=200):
    return np.random.default_rng(1).integers(0, 3, n)


def test_fraction_split_is_stratified_disjoint_and_deterministic():
    labels = _labels()
    a, b = make_splits(labels, SplitSpec(seed=4)), make_splits(labels, SplitSpec(seed=4))
    assert a == b
    parts = [set(a[k]) for k in ("train", "val", "test")]
    assert sum(map(len, parts)) == 200 and set.union(*parts) == set(range(200))
    assert len(a["val"]) == 20 and len(a["test"]) == 20
    for c in range(3):
        frac = np.mean(labels[a["val"]] == c)
        assert abs(frac - np.mean(labels == c)) < 0.08
    assert make_splits(labels, SplitSpec(seed=5))["val"] != a["val"]


def test_predefined_test_part_halved():
    labels = _labels(100)
    is_test = np.arange(100) >= 80
    s = make_splits(labels, SplitSpec(), is_test)
    assert s["train"] == list(range(80)) and len(s["val"]) == len(s["test"]) == 10


def test_record_must_match_data(tmp_path):
    labels = _labels(50)
    pool = Dataset(np.zeros((50, 4, 4), np.uint8), labels, ("a", "b", "c"), "toy")
    rec = make_splits(labels)
    write_splits(tmp_path, rec)
    assert read_splits(tmp_path) == rec
    other = Dataset(pool.images, np.roll(labels, 1), pool.class_names, "toy")
    with pytest.raises(DataError, match="split record does not match"):
        apply_splits(other, rec)


def test_open_dataset_unknown_format(tmp_path):
    (tmp_path / "x.csv").write_text("a,b")
    with pytest.raises(DataError, match="unknown dataset format"):
        open_dataset(tmp_path / "x.csv")
    with pytest.raises(DataError, match="no such file"):
        open_dataset(tmp_path / "missing.npz")


def test_open_dataset_task_relabels(synth_folder):
    data = open_dataset(synth_folder, task="B:B;T:T4+T8")
    assert data.train.class_names == ("B", "T")
    assert sum(data.test.counts().values()) == 12


def test_jurkat_g1_vs_g2(jurkat_path):
    d = read_jurkat(jurkat_path, "g1-vs-g2")
    assert d.class_names == ("G1", "G2") and d.counts() == {"G1": 900, "G2": 900}
    assert d.images.dtype == np.uint8 and d.image_shape == (40, 40)
    assert 0 < d.meta["intensity_map"]["lo"] < d.meta["intensity_map"]["hi"]


def test_jurkat_splits_and_mitotic_task(jurkat_path):
    data = open_dataset(jurkat_path, task="interphase-vs-mitotic")
    total = sum(sum(getattr(data, p).counts().values()) for p in ("train", "val", "test"))
    assert total == 7918 and data.train.class_names == ("interphase", "mitotic")
    assert data.test.counts()["mitotic"] > 0


def test_jurkat_bad_file(tmp_path):
    bad = tmp_path / "x.npz"
    np.savez(bad, brightfield=np.zeros((2, 4, 4), np.uint16))
    with pytest.raises(DataError, match=r"x.npz: missing arrays"):
        read_jurkat(bad)
    (tmp_path / "y.npz").write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"y.npz: not a readable NumPy file"):
        read_jurkat(tmp_path / "y.npz")
