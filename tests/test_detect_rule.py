"""Detection's fast steps equal the SciPy/scikit-image operations they stand for, bit for bit."""
import importlib

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.feature import peak_local_max
from skimage.measure import regionprops
from skimage.morphology import disk
from skimage.segmentation import watershed

from cellsort.sorter import fast_ops
from cellsort.sorter import detect, estimate_background, synthetic_flow

detect_module = importlib.import_module("cellsort.sorter.detect")


def blobs(rng, shape=(48, 56), n=4):
    """A mask of overlapping discs and ellipses with holes and specks."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    mask = np.zeros(shape, bool)
    for _ in range(n):
        cy, cx = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
        ry, rx = rng.uniform(2, 12, 2)
        mask |= ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
    mask ^= rng.random(shape) < 0.04
    return mask


def shapes(rng, count=60):
    """Random sizes from one pixel up, some of them thin lines (flat distance ridges)."""
    for i in range(count):
        shape = tuple(int(v) for v in rng.integers(1, 50, 2))
        if i % 5 == 4:
            m = np.zeros(shape, bool)
            m[shape[0] // 2, :] = True
            m[:, shape[1] // 3] = True
            yield m
        else:
            yield blobs(rng, shape, n=int(rng.integers(1, 5)))


@pytest.fixture(scope="module", autouse=True)
def compiled():
    if not fast_ops.available():
        pytest.skip("no C compiler here: detection runs SciPy itself, nothing to compare")


def test_gaussian_equals_scipy():
    rng = np.random.default_rng(0)
    for m in shapes(rng):
        image = (rng.normal(0, 30, m.shape) * m + rng.normal(0, 2, m.shape)).astype(np.float32)
        for sigma in (0.6, 2.0, 3.7):
            assert np.array_equal(fast_ops.gaussian(image, sigma),
                                  ndi.gaussian_filter(image, sigma, truncate=4.0)), (m.shape, sigma)


@pytest.mark.parametrize("radius", [1, 2, 4, 7])
def test_closing_equals_binary_closing(radius):
    rng = np.random.default_rng(radius)
    for m in shapes(rng, 30):
        assert np.array_equal(fast_ops.closing(m, radius), ndi.binary_closing(m, disk(radius).astype(bool)))


def test_fill_holes_and_distance_equal_scipy():
    rng = np.random.default_rng(1)
    for m in shapes(rng):
        assert np.array_equal(fast_ops.fill_holes(m), ndi.binary_fill_holes(m))
        assert np.array_equal(fast_ops.distance(m), ndi.distance_transform_edt(m))
    full = np.ones((5, 7), bool)  # no background at all
    assert np.array_equal(fast_ops.distance(full), ndi.distance_transform_edt(full))


@pytest.mark.parametrize("min_distance", [1, 2, 6, 12])
def test_peaks_equal_peak_local_max(min_distance):
    rng = np.random.default_rng(min_distance)
    for m in shapes(rng):
        d = ndi.distance_transform_edt(ndi.binary_fill_holes(m))
        labels, _ = ndi.label(d > 0)
        expected = peak_local_max(d, min_distance=min_distance, labels=labels, exclude_border=False)
        assert np.array_equal(fast_ops.peaks(d, labels, min_distance), expected), m.shape


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
                assert detect_module._solid(obj.image, int(obj.area), threshold) == (obj.solidity >= threshold)


def test_detections_equal_with_and_without_the_compiled_steps(monkeypatch):
    frames = np.stack([f for f, _ in synthetic_flow(60, seed=2, classes=("B", "T4"))])
    background = estimate_background(frames[::3])
    fast = [detect(f, background) for f in frames]
    monkeypatch.setattr(fast_ops, "_library", lambda: None)  # SciPy and scikit-image themselves
    assert [detect(f, background) for f in frames] == fast
    assert sum(map(len, fast)) > 30


def test_no_compiler_warns_and_uses_scipy(monkeypatch):
    monkeypatch.setenv("CC", "no-such-compiler-cellsort")
    fast_ops._library.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="SciPy runs them instead"):
            assert not fast_ops.available()
        m = blobs(np.random.default_rng(3))
        assert np.array_equal(fast_ops.fill_holes(m), ndi.binary_fill_holes(m))
    finally:
        monkeypatch.delenv("CC")
        fast_ops._library.cache_clear()
    assert fast_ops.available()
