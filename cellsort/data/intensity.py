"""Bring arbitrary images to the common form: 8-bit grayscale of a fixed size."""
from __future__ import annotations

import numpy as np


def to_uint8(images: np.ndarray, percentiles: tuple[float, float] = (0.1, 99.9),
             source: str = "images") -> tuple[np.ndarray, dict]:
    """Map a stack of images to uint8 with one linear map for the whole stack.

    8-bit input is returned unchanged. Other types are scaled so that the given
    percentiles of all pixels land on 0 and 255 (one map per dataset, so relative
    brightness between cells is kept).

    Returns
    -------
    images : ndarray of uint8
    mapping : dict
        ``{"lo": ..., "hi": ...}`` of the linear map, or ``{}`` for 8-bit input.

    Raises
    ------
    DataError
        Pixels that are not real numbers (complex, object, bool) or not finite (NaN, inf):
        one such pixel would move the map of every image. ``source`` names them.
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images, {}
    check_pixels(images, source)
    values = images.astype(np.float64)
    lo, hi = np.percentile(values, percentiles)
    if hi <= lo:
        hi = lo + 1.0
    scaled = np.clip((values - lo) / (hi - lo) * 255.0, 0, 255)
    return np.rint(scaled).astype(np.uint8), {"lo": float(lo), "hi": float(hi),
                                               "percentiles": list(percentiles)}


def check_pixels(images: np.ndarray, source: str) -> None:
    """DataError unless ``images`` hold real, finite numbers (integers or floats)."""
    from cellsort.errors import DataError

    if images.dtype.kind not in "uif":
        kind = {"c": "complex", "O": "object", "b": "boolean"}.get(images.dtype.kind, str(images.dtype))
        raise DataError(f"{source}: {kind} pixel values ({images.dtype}); expected real numbers")
    if images.dtype.kind == "f" and not np.isfinite(images).all():
        bad = np.argwhere(~np.isfinite(images))[0]
        raise DataError(f"{source}: NaN or infinite pixel value at index {tuple(int(i) for i in bad)}")


def crop_or_pad(image: np.ndarray, size: tuple[int, int], center: tuple[float, float] | None = None
                ) -> np.ndarray:
    """Cut a ``size`` window centred on ``center`` (default: image centre), padding with edge values.

    This is the region-of-interest crop the instrument performs: no resampling, so the
    pixel scale of the training images is the pixel scale of the camera.
    """
    h, w = image.shape[:2]
    oh, ow = size
    cy, cx = ((h - 1) / 2, (w - 1) / 2) if center is None else center
    top = int(round(cy - (oh - 1) / 2))
    left = int(round(cx - (ow - 1) / 2))
    pad = ((max(0, -top), max(0, top + oh - h)), (max(0, -left), max(0, left + ow - w)))
    if any(p for pair in pad for p in pair):
        image = np.pad(image, pad + ((0, 0),) * (image.ndim - 2), mode="edge")
        top += pad[0][0]
        left += pad[1][0]
    return image[top:top + oh, left:left + ow]
