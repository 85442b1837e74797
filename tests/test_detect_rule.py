"""Software detection: each step does what it says, and the detections themselves are pinned.

The steps are OpenCV's and scikit-image's; what is pinned is the result (centroids and areas
of a seeded flow video, ``tests/data/detections_flow_seed2.json``, within a tolerance that a
library's rounding cannot exceed but a changed rule would), not any library's order of
summation. Detection against the video's truth is checked in ``test_sorter.py``.
"""
import importlib
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.morphology import disk

from cellsort.data.detection import DetectConfig, detect, estimate_background
from cellsort.data.flow import synthetic_flow

det = importlib.import_module("cellsort.data.detection")
PINNED = Path(__file__).with_name("data") / "detections_flow_seed2.json"


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


@pytest.mark.parametrize("radius", [1, 2, 4, 7])
def test_closing_is_a_binary_closing_with_the_disk(radius):
    rng = np.random.default_rng(radius)
    pad = 2 * radius + 1
    for _ in range(20):
        m = blobs(rng, tuple(int(v) for v in rng.integers(3, 50, 2)), n=3)
        expected = ndi.binary_closing(np.pad(m, pad), disk(radius).astype(bool))[pad:-pad, pad:-pad]
        assert np.array_equal(det._close(m.astype(np.uint8), radius, pad).astype(bool), expected)


def test_holes_filled_and_distance_exact():
    rng = np.random.default_rng(1)
    for _ in range(30):
        m = blobs(rng, tuple(int(v) for v in rng.integers(1, 50, 2)), n=3)
        filled = det._fill_holes(m.astype(np.uint8)).astype(bool)
        assert np.array_equal(filled, ndi.binary_fill_holes(m))
        expected = ndi.distance_transform_edt(np.pad(filled, 1))[1:-1, 1:-1]  # outside: background
        assert np.allclose(det._distance(filled.astype(np.uint8)), expected, atol=1e-3)


@pytest.mark.parametrize("s", [1, 3, 6, 12])
def test_peaks_are_spaced_local_maxima_and_every_piece_keeps_one(s):
    rng = np.random.default_rng(s)
    for _ in range(30):
        mask = ndi.binary_fill_holes(blobs(rng, n=int(rng.integers(1, 5))))
        d = ndi.distance_transform_edt(mask).astype(np.float32)
        labels, n = ndi.label(mask)
        peaks = det._peaks(d, labels, s)
        assert set(labels[peaks[:, 0], peaks[:, 1]]) == set(range(1, n + 1))
        window = ndi.maximum_filter(d, size=2 * s + 1, mode="constant")
        piece_max = np.r_[0, ndi.maximum(d, labels, range(1, n + 1))]
        assert all(d[r, c] == window[r, c] or d[r, c] == piece_max[labels[r, c]] for r, c in peaks)
        for i, (r, c) in enumerate(peaks):
            for r2, c2 in peaks[i + 1:]:
                if labels[r, c] == labels[r2, c2]:
                    assert max(abs(r - r2), abs(c - c2)) > s


def test_touching_cells_are_split():
    yy, xx = np.mgrid[:40, :70]
    mask = (((yy - 20) ** 2 + (xx - 20) ** 2 <= 144) | ((yy - 20) ** 2 + (xx - 44) ** 2 <= 144)).astype(np.uint8)
    labels, count = det._split_touching(mask, 12)
    assert count == 2 and len(np.unique(labels[mask > 0])) == 2


def test_solidity_rejects_ragged_objects():
    ring = np.zeros((30, 30), bool)
    ring[5:25, 5:25] = True
    ring[9:21, 9:25] = False  # a C shape: half its hull is empty
    assert not det._solid(ring, int(ring.sum()), 0.7) and det._solid(ring, int(ring.sum()), 0.3)
    assert det._solid(np.ones((5, 6), bool), 30, 1.0)


def test_detections_are_pinned():
    pinned = json.loads(PINNED.read_text())
    video = pinned["video"]
    frames = np.stack([f for f, _ in synthetic_flow(video["frames"], seed=video["seed"],
                                                    classes=tuple(video["classes"]))])
    background = estimate_background(frames[::3])
    got = [[i, d.row, d.col, d.area] for i, f in enumerate(frames) for d in detect(f, background)]
    want = pinned["detections"]
    assert [g[0] for g in got] == [w[0] for w in want]  # the same number of cells in every frame
    for g, w in zip(got, want):
        assert abs(g[1] - w[1]) <= 0.05 and abs(g[2] - w[2]) <= 0.05, (g, w)
        assert abs(g[3] - w[3]) <= max(2, 0.01 * w[3]), (g, w)


def test_config_ranges():
    with pytest.raises(ValueError, match="max_area"):
        DetectConfig(min_area=100, max_area=50)
