"""Score every event of an RT-DC recording and write the scores back for dclab users.

Method: each event is cropped at its cell position (:meth:`Recording.crops`), classified by
the student (by default the bit-exact firmware emulator), and the class probabilities
(softmax of the logits) become one ``ml_score_???`` feature per class, the logit margin a
``userdef`` feature. The output is a new recording made by dclab's own export (every innate
and basin feature of the source, its logs and tables; the source is never opened for
writing) with those features appended, plus the same events as CSV and Parquet.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from cellsort.atomic import atomic_path
from cellsort.data.rtdc import Recording, open_recording
from cellsort.errors import ConfigError, DataError
from cellsort.progress import track
from cellsort.provenance import record
from cellsort.records import ScoreRecord
from cellsort.score.names import score_features
from cellsort.sorter.classifier import CellClassifier
from cellsort.tables import write_summary, write_table

#: dclab's free scalar features; the logit margin goes into one of them.
USERDEF = tuple(f"userdef{i}" for i in range(10))


def classify_recording(rec: Recording, classifier: CellClassifier, batch: int = 1024,
                       progress: bool = False) -> dict:
    """Probabilities, margins and labels of every event, with the classification time.

    Returns
    -------
    dict
        ``probabilities`` (N, C), ``margins`` (N,), ``labels`` (N,), ``classify_seconds``.
    """
    size = classifier.preprocessing.input_size
    probs, margins, labels, seconds = [], [], [], 0.0
    batches = rec.crops(size, batch)
    for _, crops in track(batches, f"scoring {rec.n_events} events", -(-rec.n_events // batch), progress):
        result = classifier.classify(crops)
        probs.append(result.probabilities)
        margins.append(result.margins)
        labels.append(result.labels)
        seconds += result.seconds
    return {"probabilities": np.concatenate(probs), "margins": np.concatenate(margins),
            "labels": np.concatenate(labels), "classify_seconds": seconds}


def _check_out(source: Path, out: Path, force: bool) -> None:
    if out.suffix != ".rtdc":
        raise DataError(f"{out}: the scored recording must end in .rtdc")
    if out.resolve() == source.resolve():
        raise DataError(f"{out}: is the source recording; write the scores to a new file")
    if out.is_dir():
        raise DataError(f"{out}: is a folder; give a file name ending in .rtdc")
    if out.exists() and not force:
        raise DataError(f"{out}: exists; use --force to replace it")


def _exported_features(ds) -> list[str]:
    """Innate and basin features of the source, in dclab's order, without contours (which dclab
    does not export by default and which the mask already holds)."""
    names = list(dict.fromkeys([*ds.features_innate, *ds.features_basin]))
    return [f for f in names if f != "contour"]


def score_recording(source: str | Path, classifier: CellClassifier, out: str | Path,
                    codes: str | None = None, margin_feature: str = "userdef0",
                    batch: int = 1024, force: bool = False, progress: bool = False,
                    threshold: float | None = None) -> dict:
    """Score ``source`` and write ``out`` (.rtdc) plus ``out`` with .csv, .parquet and .json
    (the summary) endings.

    Parameters
    ----------
    source : path-like
        RT-DC recording (any variant dclab reads).
    classifier : CellClassifier
    out : path-like
        New ``.rtdc`` file; refused if it exists unless ``force``.
    codes : str, optional
        Comma-separated three-character score codes (see :func:`score_features`).
    margin_feature : str
        ``userdef0`` … ``userdef9``: where the logit margin goes.
    threshold : float, optional
        Gate on the margin for the ``sort`` column; default the artifact's gate.

    Returns
    -------
    dict
        Summary: files, features, events, decisions per class, threshold, timing, method.
    """
    source, out = Path(source), Path(out)
    if margin_feature not in USERDEF:
        raise ConfigError(f"--margin-feature: {margin_feature!r} is not one of {', '.join(USERDEF)}")
    features = score_features(classifier.class_names, codes)
    _check_out(source, out, force)
    t0 = time.perf_counter()
    with open_recording(source) as rec:
        clash = sorted({*features, margin_feature} & set(rec.dataset.features_innate))
        if clash:
            raise DataError(f"{source}: already holds {clash}; choose other --score-names or "
                            f"--margin-feature")
        result = classify_recording(rec, classifier, batch, progress)
        gate = classifier.threshold_for(threshold)
        sort = result["margins"] > gate
        summary = record(None, source=str(source), output=str(out), model=str(classifier.artifact_path),
                         backend=classifier.engine, events=rec.n_events,
                         class_names=list(classifier.class_names), score_features=features,
                         margin_feature=margin_feature, threshold=gate,
                         sort_class=classifier.class_names[classifier.gate.sort_class],
                         per_class={n: int((result["labels"] == i).sum())
                                    for i, n in enumerate(classifier.class_names)},
                         sorted=int(sort.sum()),
                         positions=rec.centre_method,
                         classify_us_per_event=result["classify_seconds"] / rec.n_events * 1e6)
        _write_recording(rec, out, features, margin_feature, result, summary)
        columns = {"event": np.arange(rec.n_events)}
        for name in ("frame", "time", "pos_x", "pos_y"):
            values = rec.scalar(name)
            if values is not None:
                columns[name] = values
        if rec.centres is not None:
            columns["row_px"], columns["col_px"] = rec.centres[:, 0], rec.centres[:, 1]
    columns["class_name"] = [classifier.class_names[i] for i in result["labels"]]
    for i, feat in enumerate(features):
        columns[feat] = result["probabilities"][:, i]
    columns["margin"] = result["margins"]
    columns["sort"] = sort
    csv_path, parquet_path = write_table(out.with_suffix(""), columns)
    summary.update(table_csv=str(csv_path), table_parquet=str(parquet_path),
                   seconds=time.perf_counter() - t0)
    ScoreRecord.model_validate(summary).write(out.parent, out.with_suffix(".json").name)
    write_summary(out.with_name(out.stem + "_summary"), summary)
    return summary


def _write_recording(rec: Recording, out: Path, features: list[str], margin_feature: str,
                     result: dict, summary: dict) -> None:
    """dclab export of the source plus the score features, moved into place when complete."""
    import dclab

    with atomic_path(out, suffix=".rtdc") as tmp:
        rec.dataset.export.hdf5(tmp, features=_exported_features(rec.dataset), filtered=False,
                                logs=True, tables=True, basins=False, override=True)
        with dclab.RTDCWriter(tmp, mode="append") as writer:
            for i, feat in enumerate(features):
                writer.store_feature(feat, result["probabilities"][:, i].astype(np.float64))
            writer.store_feature(margin_feature, result["margins"].astype(np.float64))
            writer.store_log("cellsort-score", json.dumps(summary, indent=1).splitlines())
