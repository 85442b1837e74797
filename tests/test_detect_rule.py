"""The fast forms of the detection steps equal the scikit-image/SciPy operations they replace."""
import importlib

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.feature import peak_local_max
from skimage.measure import regionprops
from skimage.morphology import disk
from skimage.segmentation import watershed

detect_module = importlib.import_module("cellsort.sorter.detect")


def blobs(rng, shape=(48, 56), n=4):
    """A mask of overlapping discs and ellipses with holes and specks."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    mask = np.zeros(shape, bool)
    for _ in range(n):
        cy, cx = rng.uniform(4, shape[0] - 4), rng.uniform(4, shape[1] - 4)
        ry, rx = rng.uniform(3, 12, 2)
        mask |= ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
    mask ^= rng.random(shape) < 0.04
    return mask


@pytest.mark.parametrize("radius", [1, 2, 4, 7])
def test_closing_equals_binary_closing(radius):
    rng = np.random.default_rng(radius)
    for _ in range(10):
        mask = blobs(rng)
        expected = ndi.binary_closing(mask, disk(radius).astype(bool))
        assert np.array_equal(detect_module._closing(mask, radius), expected)


def test_split_equals_watershed_of_every_peak():
    rng = np.random.default_rng(0)
    shortcut = 0
    for _ in range(40):
        mask = ndi.binary_fill_holes(blobs(rng, n=int(rng.integers(1, 4))))
        distance = ndi.distance_transform_edt(mask)
        labels, _ = ndi.label(mask)
        peaks = peak_local_max(distance, min_distance=6, labels=labels, exclude_border=False)
        markers = np.zeros_like(labels)
        markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
        expected = watershed(-distance, markers, mask=mask)
        assert np.array_equal(detect_module._split_touching(mask, 6), expected)
        shortcut += len(np.unique(labels[tuple(peaks.T)])) == len(peaks)
    assert 0 < shortcut < 40  # both the shortcut and the watershed were taken


def test_solidity_bound_decides_as_the_hull():
    rng = np.random.default_rng(1)
    for _ in range(20):
        for obj in regionprops(ndi.label(blobs(rng))[0]):
            for threshold in (0.5, 0.7, 0.9):
                assert detect_module._solid(obj, threshold) == (obj.solidity >= threshold)
