"""Cell detection in a frame: background subtraction, threshold, connected components."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from skimage.filters import gaussian
from skimage.feature import peak_local_max
from skimage.measure import label, regionprops
from skimage.morphology import closing, disk, remove_small_objects
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

    k_sigma: float = 4.0
    smooth: float = 2.0
    close_radius: int = 4
    min_area: int = 60
    max_area: int = 3000
    min_solidity: float = 0.7
    min_separation: int = 12


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
    """Find cells in ``frame`` against ``background``."""
    diff = gaussian(frame.astype(np.float64) - background, cfg.smooth)
    sigma = 1.4826 * np.median(np.abs(diff - np.median(diff))) + 1e-9
    mask = closing(np.abs(diff) > cfg.k_sigma * sigma, disk(cfg.close_radius))
    mask = remove_small_objects(ndi.binary_fill_holes(mask), max_size=cfg.min_area - 1)
    found = []
    for region in regionprops(_split_touching(mask, cfg.min_separation)):
        if cfg.min_area <= region.area <= cfg.max_area and region.solidity >= cfg.min_solidity:
            r, c = region.centroid
            found.append(Detection(float(r), float(c), int(region.area), tuple(map(int, region.bbox))))
    return found


def _split_touching(mask: np.ndarray, min_separation: int) -> np.ndarray:
    """Label ``mask``, splitting touching cells at the saddles of the distance transform."""
    distance = ndi.distance_transform_edt(mask)
    labels = label(mask)
    peaks = peak_local_max(distance, min_distance=min_separation, labels=labels, exclude_border=False)
    markers = np.zeros_like(labels)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    return watershed(-distance, markers, mask=mask)
