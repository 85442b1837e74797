"""Fixtures of the co-simulation suite: students with non-trivial weights and test crops."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cellsort.data import Preprocessing, synthesize

JURKAT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "jurkat-ifc" / "jurkat_ifc_bf_df.npz"


def perturbed(model, seed: int = 0, scale: float = 0.4):
    """Give a student random weights fixed by ``seed``, large enough that every layer matters."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, scale, w.shape) for w in model.get_weights()])
    return model


@pytest.fixture(scope="session")
def crops():
    """uint8 synthetic crops (64x64), 40 of them."""
    return synthesize(40, seed=5).images


@pytest.fixture(scope="session")
def jurkat_crops():
    """Real Jurkat bright-field crops (40x40), or skip with the reason."""
    if not JURKAT.is_file():
        pytest.skip(f"real-data check skipped: {JURKAT} is absent (it ships in ../shared/data)")
    from cellsort.data import read_jurkat

    return read_jurkat(JURKAT, "g1-vs-g2").images[::30]


@pytest.fixture(scope="session")
def prep16():
    return Preprocessing(input_size=(16, 16))
