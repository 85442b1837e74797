"""The end-to-end demo on the embedded synthetic data: one run folder, stage by stage."""
from __future__ import annotations

import json
from pathlib import Path

from cellsort.atomic import write_json
from cellsort.config import StrictModel
from cellsort.data.dataset import parse_task
from cellsort.data.load import open_dataset
from cellsort.data.montage import save_montage
from cellsort.data.synth import SynthConfig, write_synthetic
from cellsort.provenance import record


class DemoConfig(StrictModel):
    """What the demo runs: dataset size, seed and the classification task."""

    n_images: int = 6000
    seed: int = 0
    task: str = "B,T4"


def stage_data(out: Path, cfg: DemoConfig, log) -> dict:
    """Generate (or reuse) the synthetic dataset, summarise it and picture it."""
    folder = out / "data"
    meta = folder / "dataset.json"
    wanted = {"seed": cfg.seed, "n": cfg.n_images, "config": SynthConfig().model_dump(mode="json")}
    if meta.is_file() and {k: json.loads(meta.read_text()).get(k) for k in wanted} == wanted:
        log(f"reusing synthetic data in {folder}")
    else:
        log(f"generating {cfg.n_images} synthetic images into {folder}")
        write_synthetic(folder, cfg.n_images, cfg.seed, progress=True)
    data = open_dataset(folder)
    save_montage(data.train, out / "montage.png")
    task = data.relabel(parse_task(cfg.task))
    return {"data": str(folder), "montage": str(out / "montage.png"),
            "counts": {p: getattr(task, p).counts() for p in ("train", "val", "test")}}


#: Stages in order; later stages (teacher, distillation, firmware, sorter) append here.
STAGES = [("data", stage_data)]


def run_demo(out: str | Path, cfg: DemoConfig = DemoConfig(), log=print) -> dict:
    """Run every stage into ``out`` and write ``out/run.json`` (config, versions, summaries)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = {}
    for name, stage in STAGES:
        log(f"== stage: {name}")
        summary[name] = stage(out, cfg, log)
        write_json(out / "run.json", record(cfg, stages=summary))
    return summary
