"""The Pareto front of a study: table, plot, test figures and the exported best design.

Method: among complete trials that meet every constraint, a trial is on the front when no
other is at least as accurate on validation and at least as fast (latency point estimate)
and strictly better in one. Only the front's students are run on the test split (through the
bit-exact emulator, the firmware's arithmetic): the test split never chose anything. The best
design for the budget is the front's most accurate trial whose latency band's upper end is
within the budget; its artifact is copied to ``DIR/best`` ready for ``cellsort hls csim``.
A trial run on another machine is fetched from the study's artifact store into
``DIR/trials/NNNN`` first (:mod:`.artifacts`); one that is in no store and not here stays on
the front without test figures and is not exported.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from cellsort.atomic import write_json

COLUMNS = ["trial", "slot", "label", "method", "student", "bin", "weight_bits", "act_bits", "reuse_factor",
           "val_accuracy", "test_accuracy", "test_auc", "latency_us", "latency_low_us",
           "latency_high_us", "lut", "dsp", "bram18", "lut_fraction", "artifact_here"]


def feasible_trials(study) -> list:
    """Complete trials whose constraints all hold (<= 0)."""
    from optuna.trial import TrialState

    return [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if all(c <= 0 for c in t.user_attrs.get("constraints", [1.0]))]


def local_artifact(t, out: Path, store) -> Path | None:
    """The trial's student folder here: ``DIR/trials/NNNN`` (fetched from the store when another
    worker trained it), or None where it is nowhere to be found."""
    from cellsort.explore.artifacts import download_folder
    from cellsort.explore.storage import slot_of

    folder = out / "trials" / f"{slot_of(t):04d}"
    if (folder / "artifact.json").is_file():
        return folder
    if store is not None and t.user_attrs.get("artifact_id"):
        folder.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        return download_folder(store, t.user_attrs["artifact_id"], folder)
    return None


def pareto(points: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows of ``points`` = (accuracy ↑, latency ↓)."""
    keep = []
    for i, (acc, lat) in enumerate(points):
        dominated = np.any((points[:, 0] >= acc) & (points[:, 1] <= lat)
                           & ((points[:, 0] > acc) | (points[:, 1] < lat)))
        if not dominated:
            keep.append(i)
    return np.asarray(keep, int)


def _test_metrics(artifact: str, data) -> dict:
    from cellsort.firmware.emulator import Emulator
    from cellsort.metrics import classification_metrics
    from cellsort.student.artifact import load_student

    art = load_student(artifact)
    emu = Emulator.from_model(art.model, art.preprocessing, art.class_names)
    return classification_metrics(data.test.labels, emu.logits(art.preprocessing.fit_images(data.test.images)))


def _row(t, test: dict) -> dict:
    d, lat, res = t.user_attrs["design"], t.user_attrs["latency"], t.user_attrs["resources"]
    from cellsort.explore.storage import slot_of

    return {"trial": t.number, "slot": slot_of(t), "label": t.user_attrs["label"], "method": t.user_attrs["method"],
            "student": d["student"], "bin": d["bin"], "weight_bits": d["options"].get("weight_bits"),
            "act_bits": d["options"].get("act_bits"), "reuse_factor": d["reuse_factor"],
            "val_accuracy": t.values[0], "test_accuracy": test.get("accuracy"),
            "test_auc": test.get("auc"), "latency_us": lat["us"], "latency_low_us": lat["low_us"],
            "latency_high_us": lat["high_us"], "lut": res["used"]["lut"], "dsp": res["used"]["dsp"],
            "bram18": res["used"]["bram18"], "lut_fraction": res["fraction"]["lut"]}


def plot_front(all_rows: list[dict], front: list[dict], budget_us: float, path: Path) -> Path:
    """Validation accuracy against latency, colour = multiplier LUTs; the front joined."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cellsort.atomic import atomic_open

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    lat = [r["latency_us"] for r in all_rows]
    sc = ax.scatter(lat, [r["val_accuracy"] for r in all_rows], c=[r["lut"] for r in all_rows],
                    cmap="viridis", s=28, edgecolors="none", label="feasible trials")
    ordered = sorted(front, key=lambda r: r["latency_us"])
    ax.plot([r["latency_us"] for r in ordered], [r["val_accuracy"] for r in ordered], "r-o", mfc="none",
            ms=9, lw=1, label="Pareto front")
    ax.axvline(budget_us, color="grey", ls="--", lw=0.8, label=f"budget {budget_us:g} µs")
    ax.set(xlabel="latency, µs (calibrated model, front end included)", ylabel="validation accuracy",
           title="accuracy vs latency")
    fig.colorbar(sc, ax=ax, label="multiplier LUTs (analytic)")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=110)
    plt.close(fig)
    return path


def write_front(cfg, out: Path, storage_url: str, log=print) -> dict:
    """Front CSV/JSON, plot and best artifact for ``cfg.budget_us``; returns the summary, with
    the study's state (slots by state, retries) under ``state``."""
    import optuna

    from cellsort.data.load import open_dataset
    from cellsort.explore.artifacts import open_store
    from cellsort.explore.storage import (
        STUDY_NAME,
        open_storage,
        reachable,
        study_state,
    )
    from cellsort.tables import write_table

    storage = open_storage(storage_url, cfg.heartbeat_s)
    with reachable(storage_url):
        study = optuna.load_study(study_name=STUDY_NAME, storage=storage)
        trials = feasible_trials(study)
        state = study_state(study)
        spec = study.user_attrs.get("artifact_store")
        store = open_store(spec, storage) if spec else None
    summary = {"trials": state["by_state"], "state": state, "front": [], "best": None,
               "budget_us": cfg.budget_us, "method": __doc__.split("\n\n")[1].replace("\n", " ")}
    if not trials:
        log("no feasible complete trial yet: no front")
        return summary
    points = np.array([[t.values[0], t.values[1]] for t in trials])
    front_idx = set(pareto(points).tolist())
    data = open_dataset(cfg.data, cfg.task)
    rows, front = [], []
    folders = {}
    for i, t in enumerate(trials):
        folder = local_artifact(t, out, store) if i in front_idx else None
        folders[t.number] = folder
        row = _row(t, _test_metrics(str(folder), data) if folder is not None else {})
        row["artifact_here"] = folder is not None
        rows.append(row)
        if i in front_idx:
            front.append(row)
    front.sort(key=lambda r: r["latency_us"])
    write_table(out / "front", {c: [r[c] for r in front] for c in COLUMNS})
    write_json(out / "front.json", front)
    plot_front(rows, front, cfg.budget_us, out / "front.png")
    within = [r for r in front if r["latency_high_us"] <= cfg.budget_us and r["artifact_here"]]
    summary["front"] = front
    if within:
        best = max(within, key=lambda r: (r["val_accuracy"], -r["latency_us"]))
        target = out / "best"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(folders[best["trial"]], target)
        summary["best"] = {**best, "artifact": str(target)}
        log(f"best within {cfg.budget_us:g} µs: trial {best['trial']} {best['label']} ({best['method']}), "
            f"validation {best['val_accuracy']:.3f}, test {best['test_accuracy']:.3f}, latency "
            f"{best['latency_us']:.2f} µs (band {best['latency_low_us']:.2f}-{best['latency_high_us']:.2f}) "
            f"-> {target}")
    log(f"front: {len(front)} of {len(trials)} feasible trials; {out / 'front.csv'}, {out / 'front.png'}")
    return summary
