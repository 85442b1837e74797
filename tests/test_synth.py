import json

import numpy as np
import pytest
from skimage.filters import gaussian

from cellsort.config import ConfigError, load_config
from cellsort.data import SynthConfig, open_dataset, read_lymphomnist, synthesize
from cellsort.data.synth import DEFAULT_PROFILES, render_cell


def test_deterministic_per_seed_and_index():
    a, b = synthesize(12, seed=5), synthesize(12, seed=5)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    c = synthesize(12, seed=6)
    assert not np.array_equal(a.images, c.images)


def test_balanced_classes_and_shape(small_synth):
    assert small_synth.images.shape == (90, 64, 64)
    assert small_synth.counts() == {"B": 30, "T4": 30, "T8": 30}


def test_looks_like_bright_field(small_synth):
    """Background near the configured level; a darker, textured cell in the centre."""
    x = small_synth.images.astype(float)
    border = np.concatenate([x[:, :4, :].ravel(), x[:, -4:, :].ravel()])
    centre = x[:, 24:40, 24:40]
    assert abs(border.mean() / 255 - SynthConfig().background) < 0.06
    assert centre.std(axis=(1, 2)).mean() > 2 * x[:, :6, :6].std(axis=(1, 2)).mean()
    assert (centre.min(axis=(1, 2)) < border.mean() - 25).mean() > 0.9


def _bright_halo_fraction(defocus: float) -> float:
    """Mean fraction of pixels clearly brighter than the background (the bright halo)."""
    cfg = SynthConfig(defocus=defocus, illumination_gradient=0.0)
    fractions = []
    for seed in range(20):
        img = render_cell(DEFAULT_PROFILES["B"], cfg, np.random.default_rng(seed)).astype(float)
        background = np.median(np.concatenate([img[:6].ravel(), img[-6:].ravel()]))
        fractions.append((gaussian(img, 1, preserve_range=True) > 1.06 * background).mean())
    return float(np.mean(fractions))


def test_defocus_makes_the_halo():
    """In focus there is no bright halo; defocus (phase contrast) creates one."""
    in_focus, defocused = _bright_halo_fraction(1e-6), _bright_halo_fraction(1.0)
    assert in_focus < 0.01 and defocused > 5 * in_focus


def test_class_traits_differ_on_average(small_synth):
    """B cells are larger than T4 cells on average (dark area), but the classes overlap."""
    dark = (small_synth.images < small_synth.images[:, :4, :4].mean() - 12).sum(axis=(1, 2))
    b, t4 = dark[small_synth.labels == 0], dark[small_synth.labels == 1]
    assert b.mean() > t4.mean()
    assert b.min() < t4.max()  # overlap: not trivially separable by size


def test_write_synthetic_layout(synth_folder):
    train, test = read_lymphomnist(synth_folder)
    assert len(train) == 96 and len(test) == 24
    meta = json.loads((synth_folder / "dataset.json").read_text())
    assert meta["seed"] == 3 and meta["config"]["image_size"] == 64 and "numpy" in meta["versions"]
    split = json.loads((synth_folder / "splits.json").read_text())
    assert len(split["val"]) == 12 and len(split["test"]) == 12 and split["seed"] == 42
    assert set(split["val"]).isdisjoint(split["test"]) and min(split["val"] + split["test"]) >= 96


def test_recorded_split_is_used(synth_folder):
    data = open_dataset(synth_folder)
    assert (len(data.train), len(data.val), len(data.test)) == (96, 12, 12)
    assert data.record["labels_sha256"]


def test_config_validation(tmp_path):
    bad = tmp_path / "synth.yaml"
    bad.write_text("image_size: 16\n")
    with pytest.raises(ConfigError, match=r"synth.yaml: invalid SynthConfig: image_size"):
        load_config(SynthConfig, bad)
    bad.write_text("backgroud: 0.5\n")
    with pytest.raises(ConfigError, match="backgroud: Extra inputs are not permitted"):
        load_config(SynthConfig, bad)


def test_custom_size_and_profiles():
    cfg = SynthConfig(image_size=40, profiles={k: DEFAULT_PROFILES[k] for k in ("B", "T4")})
    d = synthesize(4, seed=0, config=cfg)
    assert d.images.shape == (4, 40, 40) and d.class_names == ("B", "T4")
