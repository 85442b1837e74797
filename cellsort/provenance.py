"""What made an artifact: the config, the package versions and the time."""
from __future__ import annotations

import datetime as _dt
import platform
import sys
from importlib import metadata
from typing import Any

from pydantic import BaseModel

#: Distributions whose versions are recorded with every artifact (when installed).
TRACKED = (
    "cellsort", "numpy", "scipy", "scikit-image", "h5py", "torch", "tensorflow", "tf-keras",
    "qkeras", "hls4ml", "pydantic", "dclab", "pyarrow",
)


def versions() -> dict[str, str]:
    """Return the Python version and the installed versions of :data:`TRACKED` packages."""
    found = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in TRACKED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def record(config: BaseModel | dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """Build a provenance record: config, versions, UTC time, plus ``extra`` fields."""
    if isinstance(config, BaseModel):
        config = config.model_dump(mode="json")
    return {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": versions(),
        "config": config,
        **extra,
    }
