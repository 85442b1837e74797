"""Fixtures of the co-simulation suite: students with non-trivial weights and test crops."""
from __future__ import annotations

import numpy as np
import pytest
from shared_data import jurkat_or_skip

from cellsort.data import Preprocessing, synthesize


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
    from cellsort.data import read_jurkat

    return read_jurkat(jurkat_or_skip(), "g1-vs-g2").images[::30]


@pytest.fixture(scope="session")
def prep16():
    return Preprocessing(input_size=(16, 16))
