"""Synthetic bright-field lymphocytes: the embedded default dataset (offline, deterministic).

Optics
------
A cell is a weak phase object with a little absorption. Near focus, bright-field intensity
follows the transport-of-intensity approximation::

    I = I0(x, y) * exp(-a) * (1 - defocus * halo * laplacian(phi))

with ``phi`` the optical thickness (a dome for the cell, a second dome for the nucleus,
modulated by chromatin texture) and ``a`` the absorption. The Laplacian of the cell's edge
gives the dark membrane line and the bright or dark halo, whose polarity flips with the sign
of defocus. The image is then blurred by the point-spread function (wider when out of
focus), lit unevenly, and recorded by a camera with shot and read noise into 8 bits.

Classes
-------
B, T4 and T8 cells differ by distributions that overlap (:data:`DEFAULT_PROFILES`): B cells
are somewhat larger, with a higher nucleus-to-cytoplasm ratio, a more ruffled membrane
(microvilli) and coarser chromatin; T8 lie between T4 and B on most traits. No single trait
separates the classes; a good CNN reaches roughly 90-97 % on B vs T.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from pydantic import Field, field_validator
from skimage.filters import gaussian, laplace

from cellsort.atomic import write_json
from cellsort.config import StrictModel
from cellsort.data.dataset import Dataset
from cellsort.data.idx import write_lymphomnist
from cellsort.data.splits import SplitSpec, make_splits, write_splits
from cellsort.progress import track
from cellsort.provenance import record

Dist = tuple[float, float]  # (mean, standard deviation) of a normal distribution


class CellProfile(StrictModel):
    """Distributions of one class's traits; each a (mean, sd) normal, clipped to sane ranges.

    Parameters
    ----------
    radius : px, cell radius.
    nc_ratio : nucleus radius / cell radius.
    ellipticity : 1 - minor/major axis of the cell outline.
    roughness : relative amplitude of membrane ruffles (angular harmonics 5-12).
    chromatin_scale : px, correlation length of the chromatin texture.
    chromatin_contrast : strength of the chromatin texture.
    nucleus_absorption : absorption of the nucleus at its thickest.
    """

    radius: Dist
    nc_ratio: Dist
    ellipticity: Dist
    roughness: Dist
    chromatin_scale: Dist
    chromatin_contrast: Dist
    nucleus_absorption: Dist

    @field_validator("*")
    @classmethod
    def _dist(cls, v, info):
        mean, sd = v
        if mean < 0 or sd < 0:
            raise ValueError(f"{info.field_name}: mean and sd must be >= 0, got {v}")
        upper = {"radius": 1000, "nc_ratio": 1, "ellipticity": 1}.get(info.field_name)
        if info.field_name == "radius" and mean == 0:
            raise ValueError("radius: mean must be > 0")
        if upper is not None and mean > upper:
            raise ValueError(f"{info.field_name}: mean must be <= {upper}, got {mean}")
        return v


DEFAULT_PROFILES: dict[str, CellProfile] = {
    "B": CellProfile(radius=(14.8, 1.5), nc_ratio=(0.81, 0.045), ellipticity=(0.10, 0.04),
                     roughness=(0.065, 0.02), chromatin_scale=(1.9, 0.3),
                     chromatin_contrast=(1.0, 0.22), nucleus_absorption=(0.21, 0.04)),
    "T4": CellProfile(radius=(12.8, 1.5), nc_ratio=(0.72, 0.045), ellipticity=(0.05, 0.035),
                      roughness=(0.025, 0.012), chromatin_scale=(1.2, 0.25),
                      chromatin_contrast=(0.62, 0.22), nucleus_absorption=(0.16, 0.04)),
    "T8": CellProfile(radius=(13.3, 1.5), nc_ratio=(0.745, 0.045), ellipticity=(0.065, 0.035),
                      roughness=(0.036, 0.014), chromatin_scale=(1.4, 0.28),
                      chromatin_contrast=(0.74, 0.22), nucleus_absorption=(0.18, 0.04)),
}


class SynthConfig(StrictModel):
    """Parameters of the synthetic bright-field microscope and cell population.

    Parameters
    ----------
    image_size : int
        Square crop size in pixels (LymphoMNIST: 64).
    profiles : dict of CellProfile
        Class name to trait distributions; label ``i`` is the ``i``-th entry.
    background : float
        Mean illumination as a fraction of the 8-bit range.
    illumination_gradient : float
        Maximum relative brightness change across the crop (uneven illumination).
    vignette : float
        Relative darkening of the crop corners.
    defocus : float
        Defocus drawn uniformly in [-defocus, +defocus] (arbitrary units; 1 = strong halo).
    halo : float
        Strength of the phase contrast (TIE term) at defocus 1.
    psf_sigma : float
        Point-spread function width in focus (px); grows with |defocus|.
    offset_sd : float
        Standard deviation of the cell's offset from the crop centre (px).
    photons : float
        Photo-electrons per pixel at the mean background (shot noise).
    read_noise : float
        Camera read noise in 8-bit grey levels.
    test_fraction : float
        Fraction written as the ``test`` files (LymphoMNIST: 16k of 80k = 0.2).
    """

    image_size: int = Field(64, le=1024)
    profiles: dict[str, CellProfile] = DEFAULT_PROFILES
    background: float = Field(0.60, gt=0, le=1)
    illumination_gradient: float = Field(0.10, ge=0, lt=1)
    vignette: float = Field(0.05, ge=0, lt=1)
    defocus: float = Field(1.0, ge=0, le=10)
    halo: float = Field(0.35, ge=0, le=10)
    psf_sigma: float = Field(0.7, ge=0, le=20)
    offset_sd: float = Field(1.5, ge=0, le=100)
    photons: float = Field(1500.0, gt=0)
    read_noise: float = Field(1.5, ge=0, le=255)
    test_fraction: float = Field(0.2, gt=0, lt=1)

    @field_validator("image_size")
    @classmethod
    def _size(cls, v):
        if v < 32:
            raise ValueError(f"image_size must be at least 32 px to hold a cell, got {v}")
        return v

    @field_validator("profiles")
    @classmethod
    def _profiles(cls, v):
        if len(v) < 2:
            raise ValueError("need at least two classes")
        return v


@functools.lru_cache(maxsize=4)
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    yy.flags.writeable = xx.flags.writeable = False
    return yy, xx


def _draw(rng: np.random.Generator, dist: Dist, lo: float, hi: float) -> float:
    return float(np.clip(rng.normal(*dist), lo, hi))


def render_cell(profile: CellProfile, config: SynthConfig, rng: np.random.Generator) -> np.ndarray:
    """Render one bright-field crop (uint8, ``image_size`` square) of a cell of ``profile``."""
    s = config.image_size
    radius = _draw(rng, profile.radius, 7.0, 0.3 * s)
    nc = _draw(rng, profile.nc_ratio, 0.5, 0.92)
    ell = _draw(rng, profile.ellipticity, 0.0, 0.3)
    rough = _draw(rng, profile.roughness, 0.0, 0.15)
    c_scale = _draw(rng, profile.chromatin_scale, 0.6, 4.0)
    c_contrast = _draw(rng, profile.chromatin_contrast, 0.0, 2.0)
    n_absorb = _draw(rng, profile.nucleus_absorption, 0.02, 0.5)
    defocus = rng.uniform(-config.defocus, config.defocus)

    cy, cx = (s - 1) / 2 + rng.normal(0, config.offset_sd, size=2)
    yy, xx = _grid(s)
    dy, dx = yy - cy, xx - cx
    rho = np.hypot(dy, dx)
    z = (dx + 1j * dy) / np.maximum(rho, 1e-9)  # exp(i theta), so no trigonometry on arrays

    # Outline: an ellipse with membrane ruffles (angular harmonics 5..12).
    tilt = np.exp(1j * rng.uniform(0, np.pi))
    u = z * np.conj(tilt)  # angle relative to the major axis
    a, b = 1 + ell / 2, 1 - ell / 2
    r_edge = radius / np.sqrt((u.real / a) ** 2 + (u.imag / b) ** 2)
    harmonics = np.zeros_like(rho)
    zk = z ** 4
    for amp, phase0 in zip(rng.normal(0, rough / np.sqrt(8), size=8), rng.uniform(0, 2 * np.pi, size=8)):
        zk = zk * z
        harmonics += amp * (zk * np.exp(1j * phase0)).real
    r_edge = r_edge * (1 + harmonics)
    cell = np.sqrt(np.clip(1 - (rho / r_edge) ** 2, 0, None))

    # Nucleus: an off-centre dome with chromatin texture.
    room = radius * (1 - nc)
    ny, nx = rng.normal(0, 0.5 * room, size=2)
    r_nuc = nc * radius
    nucleus = np.sqrt(np.clip(1 - (np.hypot(dy - ny, dx - nx) / r_nuc) ** 2, 0, None))
    texture = gaussian(rng.normal(size=(s, s)), sigma=c_scale)
    texture /= texture.std() + 1e-12
    chromatin = np.clip(1 + 0.5 * c_contrast * texture, 0, None)

    phase = 1.0 * cell + 0.6 * nucleus * chromatin
    absorb = 0.05 * cell + n_absorb * nucleus * chromatin
    absorb += 0.08 * np.exp(-(((rho / r_edge) - 1) * radius / 0.8) ** 2)  # membrane line

    contrast = 1 - defocus * config.halo * laplace(gaussian(phase, sigma=0.8), ksize=3) * radius
    image = np.exp(-absorb) * np.clip(contrast, 0.2, 2.0)
    image = gaussian(image, sigma=config.psf_sigma * (1 + abs(defocus)))

    # Uneven illumination: a random linear ramp and a mild vignette.
    g = config.illumination_gradient * rng.uniform(0, 1)
    ang = rng.uniform(0, 2 * np.pi)
    ramp = 1 + g * ((xx - s / 2) * np.cos(ang) + (yy - s / 2) * np.sin(ang)) / s
    vignette = 1 - config.vignette * ((xx - s / 2) ** 2 + (yy - s / 2) ** 2) / (s / 2) ** 2
    level = 255 * config.background * rng.uniform(0.9, 1.1)
    signal = level * image * ramp * vignette

    # Camera: shot noise (Gaussian approximation) plus read noise, then 8-bit quantisation.
    gain = level / config.photons
    noisy = signal + rng.normal(size=(s, s)) * np.sqrt(signal * gain + config.read_noise ** 2)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def synthesize(n: int, seed: int = 0, config: SynthConfig = SynthConfig(),
               progress: bool = False) -> Dataset:
    """Generate ``n`` labelled crops, classes balanced; image ``i`` depends only on (seed, i).

    Examples
    --------
    >>> ds = synthesize(6, seed=1)
    >>> ds.images.shape, ds.class_names
    ((6, 64, 64), ('B', 'T4', 'T8'))
    """
    names = tuple(config.profiles)
    profiles = [config.profiles[c] for c in names]
    labels = np.random.default_rng([seed, 2**31]).permutation(np.arange(n) % len(names))
    images = np.empty((n, config.image_size, config.image_size), np.uint8)
    for i in track(range(n), "rendering cells", total=n, enabled=progress):
        images[i] = render_cell(profiles[labels[i]], config, np.random.default_rng([seed, i]))
    return Dataset(images, labels, names, f"synthetic(seed={seed})",
                   {"generator": "cellsort.data.synth", "seed": seed})


def write_synthetic(out: str | Path, n: int, seed: int = 0, config: SynthConfig = SynthConfig(),
                    progress: bool = False) -> dict:
    """Generate a dataset and write it in the LymphoMNIST layout with its split and provenance.

    Writes ``train_images``, ``train_labels``, ``test_images``, ``test_labels`` (IDX),
    ``splits.json`` (train / val / test indices over train-then-test) and ``dataset.json``
    (config, versions, counts).

    Returns
    -------
    dict
        The provenance record written to ``dataset.json``.
    """
    out = Path(out)
    data = synthesize(n, seed, config, progress)
    n_test = int(round(n * config.test_fraction))
    train, test = data.take(np.arange(n - n_test)), data.take(np.arange(n - n_test, n))
    write_lymphomnist(out, train, test)
    is_test = np.arange(n) >= n - n_test
    split = make_splits(data.labels, SplitSpec(seed=42), is_test=is_test)
    write_splits(out, split)
    info = record(config, generator="cellsort.data.synth", seed=seed, n=n,
                  class_names=list(data.class_names), counts=data.counts(),
                  split={k: len(split[k]) for k in ("train", "val", "test")})
    write_json(out / "dataset.json", info)
    return info
