"""The SciPy steps of detection, compiled: the same results, at a fraction of the call cost.

``detect_ops.c`` holds C twins of ``scipy.ndimage.gaussian_filter`` (float32, mode
``reflect``), ``binary_closing`` with a disk, ``binary_fill_holes``,
``distance_transform_edt`` and scikit-image's ``peak_local_max`` with labels. Each returns
what the library returns, bit for bit (``tests/test_detect_rule.py``): the Gaussian with
SciPy's own weights and order of summation, the rest with exact integer algorithms or
comparisons only. They are built once by :mod:`cellsort.cbuild`; where no C
compiler works every function calls SciPy instead (with one warning).
"""
from __future__ import annotations

import ctypes
import functools
import warnings
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi
from skimage.feature import peak_local_max
from skimage.morphology import disk

from cellsort.cbuild import NativeUnavailable, address, build

_SOURCE = Path(__file__).with_name("detect_ops.c")
_P = ctypes.c_void_p
_I = ctypes.c_int64
_SIGNATURES = {"gaussian": ([_P, _P, _I, _I, _P, _I], ctypes.c_int),
               "closing": ([_P, _P, _I, _I, _P, _I], ctypes.c_int),
               "fill_holes": ([_P, _P, _I, _I], ctypes.c_int),
               "distance": ([_P, _P, _I, _I], ctypes.c_int),
               "peaks": ([_P, _P, _I, _I, _I, _I, _P], ctypes.c_int64)}


@functools.lru_cache(maxsize=None)
def _library():
    """The compiled library, or None (with a warning) where it cannot be built."""
    try:
        lib = build(_SOURCE.read_text())
    except NativeUnavailable as e:
        warnings.warn(f"compiled detection steps unavailable ({str(e).splitlines()[0]}); SciPy runs "
                      "them instead (same results, slower)", RuntimeWarning, stacklevel=3)
        return None
    for name, (args, result) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, result
    return lib


def available() -> bool:
    """Whether the compiled steps run (else SciPy does)."""
    return _library() is not None


def _call(name: str, *args) -> int:
    result = getattr(_library(), name)(*args)
    if result < 0:
        raise MemoryError(f"{name}: out of memory")
    return result


@functools.lru_cache(maxsize=16)
def gaussian_weights(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """SciPy's weights of ``gaussian_filter1d`` from the centre outwards, read off its
    impulse response (so they are its own numbers, not a re-derivation)."""
    radius = int(truncate * float(sigma) + 0.5)
    impulse = np.zeros(2 * radius + 1)
    impulse[radius] = 1.0
    response = ndi.gaussian_filter1d(impulse, sigma, mode="constant", truncate=truncate)
    return np.ascontiguousarray(response[radius:])


def gaussian(image: np.ndarray, sigma: float, truncate: float = 4.0) -> np.ndarray:
    """``ndi.gaussian_filter(image, sigma, truncate=truncate)`` of a float32 2-D image."""
    image = np.ascontiguousarray(image, np.float32)
    if _library() is None or image.size == 0:
        return ndi.gaussian_filter(image, sigma, truncate=truncate)
    wt = gaussian_weights(float(sigma), truncate)
    out = np.empty_like(image)
    _call("gaussian", address(image), address(out), *image.shape, address(wt), len(wt) - 1)
    return out


@functools.lru_cache(maxsize=8)
def _disk_halves(radius: int) -> np.ndarray:
    """Half width of each row of scikit-image's ``disk(radius)`` (each row a centred run)."""
    d = disk(radius).astype(bool)
    return np.array([int(row.sum()) // 2 if row.any() else -1 for row in d], np.int64)


def closing(mask: np.ndarray, radius: int) -> np.ndarray:
    """``ndi.binary_closing(mask, disk(radius))``, outside the array False."""
    mask = np.ascontiguousarray(mask, bool)
    if _library() is None or mask.size == 0:
        return ndi.binary_closing(mask, disk(radius).astype(bool))
    out = np.empty_like(mask)
    _call("closing", address(mask), address(out), *mask.shape, address(_disk_halves(radius)), radius)
    return out


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """``ndi.binary_fill_holes(mask)`` (holes: background not 4-connected to the edge)."""
    mask = np.ascontiguousarray(mask, bool)
    if _library() is None or mask.size == 0:
        return ndi.binary_fill_holes(mask)
    out = np.empty_like(mask)
    _call("fill_holes", address(mask), address(out), *mask.shape)
    return out


def distance(mask: np.ndarray) -> np.ndarray:
    """``ndi.distance_transform_edt(mask)``: distance to the nearest False pixel."""
    mask = np.ascontiguousarray(mask, bool)
    if _library() is None or mask.all():  # no background (or no pixels): SciPy's own answer
        return ndi.distance_transform_edt(mask)
    out = np.empty(mask.shape, np.float64)
    _call("distance", address(mask), address(out), *mask.shape)
    return out


def peaks(distance_map: np.ndarray, labels: np.ndarray, min_distance: int) -> np.ndarray:
    """``peak_local_max(distance_map, min_distance=min_distance, labels=labels,
    exclude_border=False)``: (row, col) of each label's peaks, labels in order."""
    d = np.ascontiguousarray(distance_map, np.float64)
    lab = np.ascontiguousarray(labels, np.int32)
    if _library() is None or d.size == 0:
        return peak_local_max(d, min_distance=min_distance, labels=labels, exclude_border=False)
    coords = np.empty((d.size, 2), np.int64)
    n = _call("peaks", address(d), address(lab), *d.shape, int(lab.max(initial=0)), min_distance, address(coords))
    return coords[:n].copy()
