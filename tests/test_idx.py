import gzip

import numpy as np
import pytest

from cellsort.data import DataError, read_idx, read_lymphomnist, write_idx, write_lymphomnist
from cellsort.data.dataset import Dataset
from cellsort.data.idx import LYMPHO_CLASSES


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.float32, np.float64])
def test_roundtrip_all_types(tmp_path, suffix, dtype):
    a = (np.arange(2 * 3 * 5) - 7).astype(dtype).reshape(2, 3, 5)
    if dtype == np.uint8:
        a = np.abs(a).astype(np.uint8)
    path = write_idx(tmp_path / f"a{suffix}", a)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    b = read_idx(path)
    assert b.dtype == np.dtype(dtype) and np.array_equal(a, b)


def test_header_layout(tmp_path):
    path = write_idx(tmp_path / "x", np.zeros((4, 2), np.uint8))
    raw = path.read_bytes()
    assert raw[:4] == bytes([0, 0, 0x08, 2])
    assert raw[4:12] == (4).to_bytes(4, "big") + (2).to_bytes(4, "big")
    assert len(raw) == 12 + 8


def test_truncated_file_names_file(tmp_path):
    path = write_idx(tmp_path / "train_images", np.zeros((10, 8, 8), np.uint8))
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(DataError, match=r"train_images: truncated.*\(10, 8, 8\)"):
        read_idx(path)


def test_trailing_bytes(tmp_path):
    path = write_idx(tmp_path / "x", np.zeros((3,), np.uint8))
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(DataError, match="trailing bytes"):
        read_idx(path)


def test_wrong_magic(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x12\x34\x08\x01" + (1).to_bytes(4, "big") + b"\x00")
    with pytest.raises(DataError, match=r"bad: wrong magic number 12340801"):
        read_idx(path)


def test_unknown_type_code(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x00\x00\x07\x01" + (1).to_bytes(4, "big") + b"\x00")
    with pytest.raises(DataError, match="wrong magic"):
        read_idx(path)


def test_corrupt_gzip(tmp_path):
    good = gzip.compress(b"\x00\x00\x08\x01" + (100).to_bytes(4, "big") + bytes(100))
    path = tmp_path / "x.gz"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match=r"x.gz: corrupt or truncated gzip"):
        read_idx(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    with pytest.raises(DataError, match="too short"):
        read_idx(path)


def _ds(n, labels=None):
    rng = np.random.default_rng(n)
    images = rng.integers(0, 256, size=(n, 64, 64), dtype=np.uint8)
    labels = rng.integers(0, 3, size=n) if labels is None else labels
    return Dataset(images, labels, LYMPHO_CLASSES)


@pytest.mark.parametrize("compress", [False, True])
def test_lymphomnist_roundtrip(tmp_path, compress):
    train, test = _ds(12), _ds(5)
    files = write_lymphomnist(tmp_path, train, test, compress=compress)
    assert sorted(files) == ["test_images", "test_labels", "train_images", "train_labels"]
    tr, te = read_lymphomnist(tmp_path)
    assert np.array_equal(tr.images, train.images) and np.array_equal(te.labels, test.labels)
    assert tr.class_names == ("B", "T4", "T8")


def test_label_out_of_range(tmp_path):
    write_lymphomnist(tmp_path, _ds(4), _ds(3))
    write_idx(tmp_path / "test_labels", np.array([0, 1, 7], np.uint8))
    with pytest.raises(DataError, match=r"test_labels: label 7 at index 2 is out of range 0..2"):
        read_lymphomnist(tmp_path)


def test_count_mismatch(tmp_path):
    write_lymphomnist(tmp_path, _ds(4), _ds(3))
    write_idx(tmp_path / "train_labels", np.zeros(5, np.uint8))
    with pytest.raises(DataError, match=r"train_labels: 5 labels but train_images holds 4"):
        read_lymphomnist(tmp_path)


def test_wrong_image_dimensions(tmp_path):
    write_lymphomnist(tmp_path, _ds(4), _ds(3))
    write_idx(tmp_path / "train_images", np.zeros((4, 64 * 64), np.uint8))
    with pytest.raises(DataError, match=r"train_images: expected uint8 images of shape \(N, H, W\)"):
        read_lymphomnist(tmp_path)


def test_missing_files(tmp_path):
    with pytest.raises(DataError, match="not a LymphoMNIST folder"):
        read_lymphomnist(tmp_path)


def test_train_test_shape_mismatch(tmp_path):
    write_lymphomnist(tmp_path, _ds(4), _ds(3))
    write_idx(tmp_path / "test_images", np.zeros((3, 32, 32), np.uint8))
    with pytest.raises(DataError, match="train images are"):
        read_lymphomnist(tmp_path)
