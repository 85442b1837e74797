"""The one preprocessing definition shared by training, the software sorter and the firmware.

A crop goes through two steps:

1. :meth:`Preprocessing.fit_images` brings 8-bit images to the model's input size, by a
   centred crop/pad (``fit="crop"``, what the instrument's region-of-interest crop does; no
   resampling) or by anti-aliased resizing (``fit="resize"``, software only).
2. :meth:`Preprocessing.normalize` maps each 8-bit pixel ``p`` to ``(p / 255 - mean) / std``.

Because step 2 acts on one 8-bit pixel at a time, it is fully described by the 256-entry
:meth:`Preprocessing.pixel_table`; the firmware stores that table (after the student's input
quantizer) as a ROM, so the normalisation of the HLS wrapper is the training normalisation.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import field_validator
from skimage.transform import resize

from cellsort.config import StrictModel
from cellsort.data.dataset import Dataset
from cellsort.data.intensity import crop_or_pad

#: The published normalisation of LymphoMNIST (mean and std of pixels scaled to [0, 1]).
PAPER_MEAN, PAPER_STD = 0.4819, 0.1484


class Preprocessing(StrictModel):
    """How an 8-bit crop becomes the network input.

    Parameters
    ----------
    input_size : (int, int)
        Model input height and width (paper student: 48 x 48).
    fit : {"crop", "resize"}
        How images of another size reach ``input_size``.
    mean, std : float
        Normalisation of pixels scaled to [0, 1]; default the paper's LymphoMNIST values.
    """

    input_size: tuple[int, int] = (48, 48)
    fit: Literal["crop", "resize"] = "crop"
    mean: float = PAPER_MEAN
    std: float = PAPER_STD

    @field_validator("input_size")
    @classmethod
    def _positive_size(cls, v):
        if min(v) < 4:
            raise ValueError(f"input_size must be at least 4x4, got {v}")
        return v

    @field_validator("std")
    @classmethod
    def _positive_std(cls, v):
        if not v > 0:
            raise ValueError(f"std must be positive, got {v}")
        return v

    @classmethod
    def for_dataset(cls, data: Dataset, input_size: tuple[int, int] = (48, 48),
                    fit: Literal["crop", "resize"] = "crop") -> "Preprocessing":
        """Preprocessing with ``data``'s own mean and std (measured after fitting)."""
        fitted = cls(input_size=input_size, fit=fit).fit_images(data.images)
        x = fitted.astype(np.float64) / 255.0
        return cls(input_size=input_size, fit=fit, mean=float(x.mean()), std=float(x.std()))

    def fit_images(self, images: np.ndarray) -> np.ndarray:
        """Bring uint8 images of shape (N, H, W) or (H, W) to ``input_size``, still uint8."""
        images = np.asarray(images)
        if images.dtype != np.uint8:
            raise TypeError(f"preprocessing expects uint8 pixels, got {images.dtype}")
        single = images.ndim == 2
        stack = images[None] if single else images
        if stack.shape[1:] != tuple(self.input_size):
            if self.fit == "crop":
                stack = np.stack([crop_or_pad(im, self.input_size) for im in stack])
            else:
                stack = np.stack([
                    np.rint(resize(im, self.input_size, order=1, anti_aliasing=True,
                                   preserve_range=True)).astype(np.uint8) for im in stack])
        return stack[0] if single else stack

    def pixel_table(self) -> np.ndarray:
        """Normalised value of each 8-bit pixel code 0..255 (float64, shape (256,))."""
        return (np.arange(256, dtype=np.float64) / 255.0 - self.mean) / self.std

    def normalize(self, pixels: np.ndarray) -> np.ndarray:
        """Normalise uint8 pixels (any shape) to float32 by table look-up."""
        pixels = np.asarray(pixels)
        if pixels.dtype != np.uint8:
            raise TypeError(f"normalize expects uint8 pixels, got {pixels.dtype}")
        return self.pixel_table().astype(np.float32)[pixels]

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Fit and normalise uint8 images (N, H, W) to float32 network input (N, h, w, 1)."""
        return self.normalize(self.fit_images(images))[..., None]
