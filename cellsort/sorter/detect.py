"""Cell detection in a frame: background subtraction, threshold, connected components."""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from skimage.feature import peak_local_max
from skimage.measure import regionprops
from skimage.morphology import disk
from skimage.segmentation import watershed

from pydantic import Field, model_validator

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
    """A detected object: centroid (row, col), area and bounding box."""

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

    Method: the difference to the background is smoothed (Gaussian, ``smooth`` px) and
    thresholded at ``k_sigma`` robust noise levels (MAD of a 4x4-subsampled copy). Everything
    after that works on small windows: connected pieces closer than the closing diameter are
    grouped, and in each group's window the mask is closed (disk of ``close_radius``), holes
    are filled, touching cells are split at the saddles of the distance transform (peaks at
    least ``min_separation`` apart), and objects are kept by area and solidity. This equals
    the same operations on the whole frame, at a fraction of the cost for a few cells.
    """
    diff = frame.astype(np.float32) - background.astype(np.float32)
    if cfg.smooth:
        diff = ndi.gaussian_filter(diff, cfg.smooth, truncate=4.0)
    sample = diff[::4, ::4]
    sigma = 1.4826 * np.median(np.abs(sample - np.median(sample))) + 1e-6
    mask = np.abs(diff) > cfg.k_sigma * sigma
    pieces, _ = ndi.label(mask, structure=np.ones((3, 3)))
    found = []
    pad = 2 * cfg.close_radius + 1
    for top, left, window in _groups(ndi.find_objects(pieces), mask.shape, pad):
        region = mask[window]
        if cfg.close_radius:
            region = _closing(np.pad(region, pad), cfg.close_radius)[pad:-pad, pad:-pad]
        region = ndi.binary_fill_holes(region)
        if region.sum() < cfg.min_area:
            continue
        for obj in regionprops(_split_touching(region, cfg.min_separation)):
            if cfg.min_area <= obj.area <= cfg.max_area and _solid(obj, cfg.min_solidity):
                r, c = obj.centroid
                b = obj.bbox
                found.append(Detection(float(r + top), float(c + left), int(obj.area),
                                       (b[0] + top, b[1] + left, b[2] + top, b[3] + left)))
    return found


def _groups(boxes, shape, pad: int):
    """Windows (top, left, slices) around groups of pieces whose boxes lie within ``pad``."""
    boxes = [[b[0].start, b[1].start, b[0].stop, b[1].stop] for b in boxes if b is not None]
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


@functools.lru_cache(maxsize=8)
def _disk_rows(radius: int) -> tuple[tuple[int, int], ...]:
    """The disk of ``radius`` (scikit-image's ``disk``: ``dy² + dx² <= r²``) as rows
    ``(dy, half width)``; each row of a disk is one run centred on its axis."""
    d = disk(radius).astype(bool)
    return tuple((dy - radius, int(row.sum()) // 2) for dy, row in enumerate(d))


def _closing(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary closing with the disk of ``radius``, outside the array False (as
    ``ndi.binary_closing``, same result).

    Method: dilation by a disk is the union over its rows ``(dy, h)`` of the mask dilated
    along rows by ``2h + 1`` pixels (a 1-D running maximum) and shifted by ``dy``; the
    erosion is the intersection of 1-D running minima, shifted alike. One running filter per
    distinct row width, instead of one pass per disk pixel.
    """
    rows = _disk_rows(radius)
    widths = sorted({h for _, h in rows})
    m = mask.view(np.uint8)
    runs = {h: ndi.maximum_filter1d(m, 2 * h + 1, axis=1, mode="constant") if h else m for h in widths}
    grown = np.zeros_like(m)
    for dy, h in rows:
        _or_shifted(grown, runs[h], dy)
    runs = {h: ndi.minimum_filter1d(grown, 2 * h + 1, axis=1, mode="constant") if h else grown
            for h in widths}
    shrunk = np.ones_like(m)
    for dy, h in rows:
        _and_shifted(shrunk, runs[h], -dy)
    return shrunk.astype(bool)


def _or_shifted(acc: np.ndarray, rows: np.ndarray, dy: int) -> None:
    """``acc[y] |= rows[y - dy]`` (rows shifted down by ``dy``, zeros shifted in)."""
    if dy >= 0:
        acc[dy:] |= rows[:len(rows) - dy]
    else:
        acc[:dy] |= rows[-dy:]


def _and_shifted(acc: np.ndarray, rows: np.ndarray, dy: int) -> None:
    """``acc[y] &= rows[y - dy]``, zeros (outside the array) shifted in."""
    if dy >= 0:
        acc[dy:] &= rows[:len(rows) - dy]
        acc[:dy] = 0
    else:
        acc[:dy] &= rows[-dy:]
        acc[dy:] = 0


def _solid(obj, min_solidity: float) -> bool:
    """``obj.solidity >= min_solidity``, the convex hull computed only when the bounding box
    cannot decide: the hull lies in the box, so ``area / box area`` bounds solidity below."""
    return obj.area >= min_solidity * obj.image.size or obj.solidity >= min_solidity


def _split_touching(mask: np.ndarray, min_separation: int) -> np.ndarray:
    """Label ``mask``, splitting touching cells at the saddles of the distance transform.

    The watershed runs only where a piece holds two or more peaks: flooding a piece from
    its single marker labels all of it, and a piece without a marker stays unlabelled.
    """
    distance = ndi.distance_transform_edt(mask)
    labels, n = ndi.label(mask)
    peaks = peak_local_max(distance, min_distance=min_separation, labels=labels, exclude_border=False)
    owner = labels[tuple(peaks.T)]
    if len(np.unique(owner)) == len(peaks):
        marker_of = np.zeros(n + 1, labels.dtype)
        marker_of[owner] = np.arange(1, len(peaks) + 1)
        return marker_of[labels]
    markers = np.zeros_like(labels)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    return watershed(-distance, markers, mask=mask)
