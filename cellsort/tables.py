"""Tables written twice: CSV for people and spreadsheets, Parquet (pyarrow) for code.

Events are one row each (:func:`write_table`); a run's summary is one row of flattened keys
(:func:`write_summary`, ``latency_us.classify.p99`` and so on), so runs can be stacked and
compared with pandas, pyarrow or a spreadsheet.
"""
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


def flatten(doc: Mapping, prefix: str = "") -> dict:
    """Nested mappings to one level with dotted keys; lists and other values as JSON-able
    scalars (a list becomes its JSON text)."""
    import json

    out = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        elif isinstance(value, (list, tuple)):
            out[name] = json.dumps(value, default=str)
        else:
            out[name] = value
    return out


def write_summary(stem: str | Path, summary: Mapping) -> tuple[Path, Path]:
    """One flattened row of ``summary`` to ``stem.csv`` and ``stem.parquet``."""
    return write_table(stem, {k: [v] for k, v in flatten(summary).items()})
