"""A picture of a dataset: one row of example crops per class."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from cellsort.atomic import atomic_open  # noqa: E402
from cellsort.data.dataset import Dataset  # noqa: E402


def montage_figure(data: Dataset, per_class: int = 10, seed: int = 0):
    """A matplotlib figure of ``per_class`` random crops of every class, one row each."""
    rng = np.random.default_rng(seed)
    k = len(data.class_names)
    fig, axes = plt.subplots(k, per_class, figsize=(per_class * 0.9, k * 1.0 + 0.4), squeeze=False)
    for c, name in enumerate(data.class_names):
        idx = np.flatnonzero(data.labels == c)
        pick = rng.choice(idx, size=min(per_class, len(idx)), replace=False) if len(idx) else []
        for j in range(per_class):
            ax = axes[c, j]
            ax.set_xticks([]), ax.set_yticks([])
            if j < len(pick):
                ax.imshow(data.images[pick[j]], cmap="gray", vmin=0, vmax=255)
            if j == 0:
                ax.set_ylabel(f"{name}\n(n={len(idx)})", rotation=0, ha="right", va="center")
    fig.suptitle(data.source, fontsize=8)
    fig.tight_layout()
    return fig


def save_montage(data: Dataset, path: str | Path, per_class: int = 10, seed: int = 0) -> Path:
    """Write :func:`montage_figure` as a PNG."""
    fig = montage_figure(data, per_class, seed)
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=110)
    plt.close(fig)
    return Path(path)
