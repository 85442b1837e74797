"""Cell detection in a frame: background subtraction, threshold, connected components.

Used by the software sorter (:mod:`cellsort.sorter`) and by RT-DC recordings without positions
or masks (:meth:`cellsort.data.rtdc.Recording.centre`). The image operations are OpenCV's
(``cv2``: Gaussian filter, outer contours, connected components, closing with a disk,
flood fill, exact Euclidean distance transform, grey dilation, convex hull) and scikit-image's
(the disk, the watershed of touching cells), so detection is fast without any code of ours
compiled at run time (over 1,000 frames/s of 112x256 on one thread: ``benchmarks/sorter.py``).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np
from pydantic import Field, model_validator
from skimage.morphology import disk
from skimage.segmentation import watershed

from cellsort.config import StrictModel


class DetectConfig(StrictModel):
    """Detection parameters.

    Parameters
    ----------
    k_sigma : float
        Threshold on |frame - background| in units of the robust noise level.
    smooth : float
        Gaussian smoothing (px) of the difference image before thresholding.
    close_radius : int
        Morphological closing (px) that joins a cell's halo, membrane and nucleus.
    min_area, max_area : int
        Accepted object areas (px).
    min_solidity : float
        Rejects ragged objects (debris).
    min_separation : int
        Touching cells are split by a distance-transform watershed when their centres are at
        least this far apart (px).
    """

    k_sigma: float = Field(4.0, gt=0, le=100)
    smooth: float = Field(2.0, ge=0, le=20)
    close_radius: int = Field(4, ge=0, le=30)
    min_area: int = Field(60, ge=1)
    max_area: int = Field(20000, ge=1)
    min_solidity: float = Field(0.7, ge=0, le=1)
    min_separation: int = Field(12, ge=1)

    @model_validator(mode="after")
    def _area_range(self):
        if self.max_area < self.min_area:
            raise ValueError(f"max_area {self.max_area} is below min_area {self.min_area}")
        return self


@dataclass(frozen=True)
class Detection:
    """A detected object: centroid (row, col), area and bounding box (top, left, bottom, right)."""

    row: float
    col: float
    area: int
    bbox: tuple[int, int, int, int]


def estimate_background(frames: np.ndarray) -> np.ndarray:
    """Per-pixel median of a stack of frames (N, H, W): the empty channel."""
    return np.median(np.asarray(frames, np.float64), axis=0)


def detect(frame: np.ndarray, background: np.ndarray, cfg: DetectConfig = DetectConfig()
           ) -> list[Detection]:
    """Find cells in ``frame`` against ``background``.

    Method: the difference to the background is smoothed (Gaussian of ``smooth`` px, reflected
    borders, kernel to four sigmas) and thresholded at ``k_sigma`` robust noise levels (MAD of
    a 4x4-subsampled copy). Everything after that works on small windows: the boxes of the
    8-connected pieces (their outer contours; a piece inside another's hole lies in its box)
    closer than the closing diameter are grouped, and in each group's window the
    mask is closed with a disk of ``close_radius``, holes are filled (flood from the border),
    touching cells are split by a watershed of the distance transform from peaks at least
    ``min_separation`` apart (strongest first), and objects are kept by area and solidity.
    """
    diff = frame.astype(np.float32) - background.astype(np.float32)
    if cfg.smooth:
        size = 2 * int(4.0 * cfg.smooth + 0.5) + 1
        diff = cv2.GaussianBlur(diff, (size, size), cfg.smooth, borderType=cv2.BORDER_REFLECT)
    sample = diff[::4, ::4]
    sigma = 1.4826 * np.median(np.abs(sample - np.median(sample))) + 1e-6
    mask = (np.abs(diff) > cfg.k_sigma * sigma).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = [[t, l, t + h, l + w] for l, t, w, h in map(cv2.boundingRect, contours)]
    pad = 2 * cfg.close_radius + 1
    found = []
    for top, left, window in _groups(boxes, mask.shape, pad):
        region = _fill_holes(_close(mask[window], cfg.close_radius, pad))
        if region.sum() < cfg.min_area:
            continue
        labels, count = _split_touching(region, cfg.min_separation)
        for k in range(1, count + 1):
            rows, cols = np.nonzero(labels == k)
            area = len(rows)
            if not cfg.min_area <= area <= cfg.max_area:
                continue
            r0, c0, r1, c1 = rows.min(), cols.min(), rows.max() + 1, cols.max() + 1
            image = labels[r0:r1, c0:c1] == k
            if _solid(image, area, cfg.min_solidity):
                found.append(Detection(float(rows.mean() + top), float(cols.mean() + left), area,
                                       (int(r0 + top), int(c0 + left), int(r1 + top), int(c1 + left))))
    return found


def _groups(boxes: list[list[int]], shape, pad: int):
    """Windows (top, left, slices) around groups of pieces whose boxes lie within ``pad``."""
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = boxes[i], boxes[j]
                if a[0] - pad < b[2] and b[0] - pad < a[2] and a[1] - pad < b[3] and b[1] - pad < a[3]:
                    boxes[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    for r0, c0, r1, c1 in boxes:
        top, left = max(r0 - pad, 0), max(c0 - pad, 0)
        yield top, left, (slice(top, min(r1 + pad, shape[0])), slice(left, min(c1 + pad, shape[1])))


@functools.lru_cache(maxsize=None)
def _disk(radius: int) -> np.ndarray:
    """scikit-image's disk footprint as an OpenCV kernel (built once per radius)."""
    return disk(radius).astype(np.uint8)


def _close(region: np.ndarray, radius: int, pad: int) -> np.ndarray:
    """Binary closing with a disk of ``radius`` (zeros beyond the window, as the whole frame)."""
    if not radius:
        return region
    padded = cv2.copyMakeBorder(region, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    closed = cv2.morphologyEx(padded, cv2.MORPH_CLOSE, _disk(radius),
                              borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return closed[pad:-pad, pad:-pad]


def _fill_holes(region: np.ndarray) -> np.ndarray:
    """``region`` with every background pixel not reachable from the border set (4-connected)."""
    h, w = region.shape
    outside = np.zeros((h + 2, w + 2), np.uint8)
    outside[1:-1, 1:-1] = region
    cv2.floodFill(outside, None, (0, 0), 2, flags=4)
    return (outside[1:-1, 1:-1] != 2).astype(np.uint8)


def _peaks(distance: np.ndarray, labels: np.ndarray, min_separation: int) -> np.ndarray:
    """Local maxima of ``distance`` over a (2 s + 1)-square, and each piece's own maximum (a
    piece beside a stronger one keeps its peak), strongest first, each more than
    ``s`` = ``min_separation`` (Chebyshev) from a stronger one of its piece: (k, 2) rows and
    columns, by piece."""
    size = 2 * min_separation + 1
    dilated = cv2.dilate(distance, np.ones((size, size), np.uint8), borderType=cv2.BORDER_CONSTANT,
                         borderValue=0)
    candidates = (distance == dilated) & (labels > 0)
    rows, cols = np.nonzero(candidates)
    for k in set(range(1, int(labels.max()) + 1)) - set(labels[rows, cols].tolist()):
        candidates.flat[np.flatnonzero(labels == k)[np.argmax(distance[labels == k])]] = True
    rows, cols = np.nonzero(candidates)
    order = np.lexsort((cols, rows, -distance[rows, cols]))
    rows, cols, piece = rows[order], cols[order], labels[rows[order], cols[order]]
    near = ((np.abs(rows[:, None] - rows[None]) <= min_separation)
            & (np.abs(cols[:, None] - cols[None]) <= min_separation) & (piece[:, None] == piece[None]))
    keep = np.ones(len(rows), bool)
    for i in range(len(rows)):  # greedy, strongest first: a kept peak suppresses its neighbours
        if keep[i]:
            keep[i + 1:] &= ~near[i, i + 1:]
    by_piece = np.argsort(piece[keep], kind="stable")
    return np.stack([rows[keep][by_piece], cols[keep][by_piece]], axis=1).astype(np.int64)


def _distance(mask: np.ndarray) -> np.ndarray:
    """Exact Euclidean distance of each foreground pixel to the background, beyond the window's
    edge counting as background (so a window without background still has finite distances)."""
    framed = cv2.copyMakeBorder(mask, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    return cv2.distanceTransform(framed, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]


def _split_touching(mask: np.ndarray, min_separation: int) -> tuple[np.ndarray, int]:
    """Labels of ``mask`` (4-connected pieces), touching cells split at the saddles of the
    distance transform; the watershed runs only where a piece holds two or more peaks."""
    count, labels = cv2.connectedComponents(mask, connectivity=4)
    distance = _distance(mask)
    peaks = _peaks(distance, labels, min_separation)
    if len(peaks) == count - 1:  # one peak per piece: the pieces are the cells
        return labels, count - 1
    markers = np.zeros(labels.shape, np.int32)
    markers[peaks[:, 0], peaks[:, 1]] = np.arange(1, len(peaks) + 1)
    return watershed(-distance, markers, mask=mask.astype(bool)), len(peaks)


def _solid(image: np.ndarray, area: int, min_solidity: float) -> bool:
    """Solidity, ``area`` over the pixels of the object's convex hull (OpenCV's hull of its pixel
    centres, filled), is at least ``min_solidity``; the hull is computed only when the bounding
    box cannot decide (the hull lies in the box, so ``area / box area`` bounds solidity below)."""
    if area / image.size >= min_solidity:
        return True
    hull = cv2.convexHull(np.argwhere(image)[:, ::-1].astype(np.int32))
    canvas = np.zeros(image.shape, np.uint8)
    cv2.fillConvexPoly(canvas, hull, 1)
    return area / int(canvas.sum()) >= min_solidity
