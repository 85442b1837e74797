import numpy as np
import pytest

from cellsort.data import DataError, Dataset, concat, parse_task


def _ds():
    labels = np.array([0, 1, 2, 0, 1, 2, 2])
    images = np.arange(7, dtype=np.uint8)[:, None, None].repeat(4, 1).repeat(4, 2)
    return Dataset(images, labels, ("B", "T4", "T8"), "toy")


def test_subset_paper_task():
    d = _ds().subset(["B", "T4"])
    assert d.class_names == ("B", "T4")
    assert d.labels.tolist() == [0, 1, 0, 1]
    assert d.images[:, 0, 0].tolist() == [0, 1, 3, 4]


def test_relabel_merges_t_cells():
    d = _ds().relabel(parse_task("B:B;T:T4+T8"))
    assert d.class_names == ("B", "T")
    assert d.counts() == {"B": 2, "T": 5}


def test_relabel_unknown_class():
    with pytest.raises(DataError, match="no class named"):
        _ds().subset(["B", "NK"])


def test_parse_task_forms():
    assert parse_task("B,T4") == {"B": ["B"], "T4": ["T4"]}
    assert parse_task("B:B;T:T4+T8") == {"B": ["B"], "T": ["T4", "T8"]}


def test_validation_errors():
    with pytest.raises(DataError, match="uint8"):
        Dataset(np.zeros((2, 4, 4), np.float32), np.zeros(2, int), ("a",))
    with pytest.raises(DataError, match="outside"):
        Dataset(np.zeros((2, 4, 4), np.uint8), np.array([0, 3]), ("a", "b"))
    with pytest.raises(DataError, match="2 images but labels"):
        Dataset(np.zeros((2, 4, 4), np.uint8), np.array([0]), ("a",))


def test_concat_checks_shapes():
    a = _ds()
    b = Dataset(np.zeros((1, 5, 5), np.uint8), np.array([0]), a.class_names, "other")
    assert len(concat([a, a])) == 14
    with pytest.raises(DataError, match="cannot concatenate"):
        concat([a, b])
