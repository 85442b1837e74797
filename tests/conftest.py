"""Shared fixtures: small synthetic data, the real Jurkat file when present."""
from __future__ import annotations

from pathlib import Path

import pytest

from cellsort.data.synth import SynthConfig, synthesize, write_synthetic

#: The real-data check shipped beside the repository (see ../shared/data/jurkat-ifc/README.md).
JURKAT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "jurkat-ifc" / "jurkat_ifc_bf_df.npz"


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
    if not JURKAT.is_file():
        pytest.skip(f"real-data check skipped: {JURKAT} is absent (it ships in ../shared/data)")
    return JURKAT
