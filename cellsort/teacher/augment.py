"""Augmentations suited to bright-field cells, on 8-bit crops, deterministic per generator.

Cells have no preferred orientation, so flips and 90° rotations are free; small affine
jitter models position and size changes; contrast/brightness and blur model illumination and
focus. Views stay uint8, so the student sees exactly the pixels the teacher saw.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from pydantic import Field

from cellsort.config import StrictModel


class AugmentConfig(StrictModel):
    """Strength of each augmentation (0 disables it)."""

    flips: bool = True
    rot90: bool = True
    shift_px: float = Field(2.0, ge=0, le=64)
    scale: float = Field(0.06, ge=0, le=0.9)
    rotate_deg: float = Field(15.0, ge=0, le=180)
    contrast: float = Field(0.15, ge=0, lt=1)
    brightness: float = Field(0.06, ge=0, le=1)
    blur_sigma: float = Field(0.8, ge=0, le=10)


def augment(images: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator) -> torch.Tensor:
    """Augment a uint8 batch (N, H, W) into new uint8 views, drawing from ``gen``."""
    n, h, w = images.shape
    x = images.float().unsqueeze(1) / 255.0
    u = torch.rand(n, 8, generator=gen)
    if cfg.flips:
        x = torch.where((u[:, 0] < 0.5).view(n, 1, 1, 1), x.flip(-1), x)
    if cfg.rot90:
        k = (u[:, 1] * 4).long()
        x = torch.stack([torch.rot90(xi, int(ki), (1, 2)) for xi, ki in zip(x, k)]) if h == w else x
    angle = (u[:, 2] * 2 - 1) * math.radians(cfg.rotate_deg)
    scale = 1 + (u[:, 3] * 2 - 1) * cfg.scale
    shift = (u[:, 4:6] * 2 - 1) * cfg.shift_px * 2 / torch.tensor([w, h])
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1),
                         torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    mean = x.mean(dim=(2, 3), keepdim=True)
    gain = 1 + (u[:, 6] * 2 - 1).view(n, 1, 1, 1) * cfg.contrast
    x = (x - mean) * gain + mean + (u[:, 7] * 2 - 1).view(n, 1, 1, 1) * cfg.brightness
    if cfg.blur_sigma > 0:
        sigma = torch.rand(1, generator=gen).item() * cfg.blur_sigma
        if sigma > 0.2:
            x = _blur(x, sigma)
    return (x.clamp(0, 1) * 255).round().to(torch.uint8).squeeze(1)


def _blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    r = max(1, int(math.ceil(2 * sigma)))
    t = torch.arange(-r, r + 1, dtype=x.dtype)
    k = torch.exp(-t ** 2 / (2 * sigma ** 2))
    k = k / k.sum()
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1))
