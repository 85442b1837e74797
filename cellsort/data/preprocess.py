"""The one preprocessing definition shared by training, the software sorter and the firmware.

A crop goes through three steps:

1. :meth:`Preprocessing.fit_images` brings 8-bit images to the crop size ``input_size``, by a
   centred crop/pad (``fit="crop"``, what the instrument's region-of-interest crop does; no
   resampling) or by anti-aliased resizing (``fit="resize"``, software only);
2. then reduces the crop by ``bin`` x ``bin`` binning: each network pixel is the exact integer
   mean of its ``b*b`` crop pixels, rounded half up, ``(sum + b*b // 2) // (b*b)`` (still one
   8-bit code), so the network sees ``input_size / bin`` pixels (:attr:`network_size`);
3. :meth:`Preprocessing.normalize` maps each 8-bit pixel ``p`` to ``(p / 255 - mean) / std``.

Steps 2 and 3 are integer operations and a 256-entry table (:meth:`pixel_table`); the
firmware's front end (``hls/wrapper``) bins with the same integer arithmetic and stores the
table (after the student's input quantizer) as a ROM, so what the network sees on the FPGA
is what it saw in training.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, field_validator, model_validator
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
        Crop height and width (paper student: 48 x 48).
    fit : {"crop", "resize"}
        How images of another size reach ``input_size``.
    bin : int
        Side of the square binning after the crop (1: none); it must divide both sides, and
        the network input is :attr:`network_size` = ``input_size / bin``.
    mean, std : float
        Normalisation of pixels scaled to [0, 1]; default the paper's LymphoMNIST values.
    """

    input_size: tuple[int, int] = (48, 48)
    fit: Literal["crop", "resize"] = "crop"
    bin: int = Field(1, ge=1, le=16)
    mean: float = PAPER_MEAN
    std: float = PAPER_STD

    @field_validator("input_size")
    @classmethod
    def _positive_size(cls, v):
        if min(v) < 4:
            raise ValueError(f"input_size must be at least 4x4, got {v}")
        return v

    @model_validator(mode="after")
    def _bin_divides(self):
        h, w = self.input_size
        if h % self.bin or w % self.bin:
            raise ValueError(f"bin {self.bin} must divide the crop size {tuple(self.input_size)}")
        if min(h, w) // self.bin < 2:
            raise ValueError(f"bin {self.bin} leaves less than 2x2 pixels of {tuple(self.input_size)}")
        return self

    @property
    def network_size(self) -> tuple[int, int]:
        """Height and width of the network input (the crop after binning)."""
        return self.input_size[0] // self.bin, self.input_size[1] // self.bin

    @field_validator("std")
    @classmethod
    def _positive_std(cls, v):
        if not v > 0:
            raise ValueError(f"std must be positive, got {v}")
        return v

    @classmethod
    def for_dataset(cls, data: Dataset, input_size: tuple[int, int] = (48, 48),
                    fit: Literal["crop", "resize"] = "crop", bin: int = 1) -> "Preprocessing":
        """Preprocessing with ``data``'s own mean and std (measured after fitting and binning)."""
        fitted = cls(input_size=input_size, fit=fit, bin=bin).fit_images(data.images)
        x = fitted.astype(np.float64) / 255.0
        return cls(input_size=input_size, fit=fit, bin=bin, mean=float(x.mean()), std=float(x.std()))

    def fit_images(self, images: np.ndarray) -> np.ndarray:
        """Bring uint8 images of shape (N, H, W) or (H, W) to ``input_size`` and bin them to
        :attr:`network_size`, still uint8 (the network's pixels before normalisation)."""
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
        stack = bin_pixels(stack, self.bin)
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
        """Fit, bin and normalise uint8 images (N, H, W) to float32 network input (N, h, w, 1)."""
        return self.normalize(self.fit_images(images))[..., None]


def bin_pixels(stack: np.ndarray, b: int) -> np.ndarray:
    """``b`` x ``b`` binning of uint8 images (N, H, W), H and W multiples of ``b``: the exact
    integer mean of each block rounded half up, ``(sum + b*b // 2) // (b*b)`` (uint8)."""
    if b == 1:
        return stack
    n, h, w = stack.shape
    sums = stack.reshape(n, h // b, b, w // b, b).sum(axis=(2, 4), dtype=np.int64)
    return ((sums + (b * b) // 2) // (b * b)).astype(np.uint8)
