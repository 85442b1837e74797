"""Event tables written twice: CSV for people and spreadsheets, Parquet (pyarrow) for code."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from cellsort.atomic import atomic_path


def write_table(stem: str | Path, columns: Mapping[str, np.ndarray | list]) -> tuple[Path, Path]:
    """Write ``columns`` (equal lengths) to ``stem.csv`` and ``stem.parquet``, atomically.

    Returns
    -------
    (Path, Path)
        The CSV and Parquet files.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    table = pa.table({name: np.asarray(values) if not isinstance(values, list) else values
                      for name, values in columns.items()})
    stem = Path(stem)
    csv_path, parquet_path = stem.with_suffix(".csv"), stem.with_suffix(".parquet")
    with atomic_path(csv_path) as tmp:
        pa_csv.write_csv(table, tmp)
    with atomic_path(parquet_path) as tmp:
        pq.write_table(table, tmp)
    return csv_path, parquet_path
