"""Shared fixtures: small synthetic data, the real Jurkat file when present."""
from __future__ import annotations

import pytest
from shared_data import jurkat_or_skip

from cellsort.data.synth import SynthConfig, synthesize, write_synthetic


@pytest.fixture(scope="session")
def small_synth():
    """90 synthetic 64x64 crops, 30 per class (seed 7)."""
    return synthesize(90, seed=7)


@pytest.fixture(scope="session")
def synth_folder(tmp_path_factory):
    """A LymphoMNIST-layout folder of 120 synthetic images with its split record."""
    out = tmp_path_factory.mktemp("synth")
    write_synthetic(out, 120, seed=3, config=SynthConfig())
    return out


@pytest.fixture(scope="session")
def jurkat_path():
    """Path of the real Jurkat file, or skip with the reason."""
    return jurkat_or_skip()
