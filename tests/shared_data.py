"""The real data shipped beside the repository, for the tests of tests/ and firmware_tests/."""
from __future__ import annotations

from pathlib import Path

import pytest

#: The real-data check (see ../shared/data/jurkat-ifc/README.md).
JURKAT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "jurkat-ifc" / "jurkat_ifc_bf_df.npz"


def jurkat_or_skip() -> Path:
    """The Jurkat file, or skip the test with the reason."""
    if not JURKAT.is_file():
        pytest.skip(f"real-data check skipped: {JURKAT} is absent (it ships in ../shared/data)")
    return JURKAT
