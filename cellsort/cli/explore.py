"""``cellsort explore``: search the student family for the accuracy-latency frontier."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from cellsort.cli.console import console
from cellsort.config import load_config


def explore_cmd(
        data: Path = typer.Option(..., help="Dataset (the split recorded with it: train, val, test)."),
        out: Path = typer.Option(..., help="Study folder: study.db, trials/, front.csv/.json/.png, best/."),
        task: Optional[str] = typer.Option(None, help='Classes, e.g. "B,T4".'),
        teacher: Optional[Path] = typer.Option(None, help="Teacher run folder (soft targets): adds KD methods."),
        board: Optional[str] = typer.Option(None, help="Board preset (default coaxlink-ku035)."),
        budget_us: Optional[float] = typer.Option(None, help="Latency budget, µs (default 14.5)."),
        hls_tool: Optional[str] = typer.Option(None, help="vitis or vivado (default: the board's)."),
        clock_mhz: Optional[float] = typer.Option(None, help="Clock (default: the board's)."),
        trials: Optional[int] = typer.Option(None, help="Trials in the study in all (default 30); "
                                             "a re-run continues to this total."),
        epochs: Optional[int] = typer.Option(None, help="Epochs of each trial's QAT student (default 6)."),
        storage: Optional[str] = typer.Option(None, help="Optuna storage shared by many workers: an RDB "
                                              "URL (postgresql://...) or journal:///path/study.log "
                                              "(default: sqlite in --out)."),
        workers: Optional[int] = typer.Option(None, help="Local worker processes on the storage."),
        backend: Optional[str] = typer.Option(None, help="hls (hls4ml, the calibrated latency model; "
                                              "default) or rtl (the RTL back end's exact cycles)."),
        sampler: Optional[str] = typer.Option(None, help="nsga2 (default) or random (each slot's "
                                              "design from the seed and slot alone)."),
        heartbeat_s: Optional[int] = typer.Option(None, help="Seconds between a running trial's "
                                                  "heartbeats; silent for 3, it is retried (default 30)."),
        artifacts: Optional[str] = typer.Option(None, help="Folder every worker shares for trial "
                                                "students (default: the study's database, or "
                                                "beside a journal file)."),
        seed: Optional[int] = typer.Option(None, help="Sampler seed (worker k uses seed + k)."),
        config: Optional[Path] = typer.Option(None, help="YAML/JSON ExploreConfig (search space, ...)."),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON.")):
    """Multi-objective search (Optuna NSGA-II): validation accuracy vs calibrated latency,
    resources and budget as constraints; writes the Pareto front and exports the best design."""
    from cellsort.explore import ExploreConfig, explore

    cfg = load_config(ExploreConfig, config, data=str(data), task=task,
                      teacher=str(teacher) if teacher else None, board=board, budget_us=budget_us,
                      hls_tool=hls_tool, clock_mhz=clock_mhz, trials=trials, epochs=epochs,
                      workers=workers, seed=seed, sampler=sampler, backend=backend, heartbeat_s=heartbeat_s,
                      artifacts=artifacts)
    s = explore(cfg, out, storage, log=(lambda msg: None) if as_json else console.print)
    if as_json:
        print(json.dumps(s, indent=2, default=str))
        return
    console.print(f"slots: {s['state']['slots']} ({s['trials']}; {s['state']['retried']} retried); "
                  f"front of {len(s['front'])}; "
                  + (f"best for {cfg.budget_us:g} µs exported to {s['best']['artifact']}" if s["best"]
                     else f"no front design within {cfg.budget_us:g} µs"))
