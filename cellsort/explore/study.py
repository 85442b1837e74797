"""The design-space search: an Optuna multi-objective study over student designs.

Method: each trial draws a design (:mod:`.space`), costs it on the board without training
(calibrated latency with the wrapper's front end, analytic resources; :mod:`cellsort.firmware.cost`)
and prunes it at once when it can never be feasible (resources above the part, or the lower
end of its latency band above the budget). Otherwise it trains the QAT student on a short
schedule and reports two objectives, the validation accuracy (maximised) and the latency point
estimate in µs (minimised), with constraints (resources within capacity, upper end of the band
within the budget) that NSGA-II uses to rank infeasible trials below feasible ones. A trial
whose validation accuracy is still at chance after ``prune_after`` epochs is pruned. Each
complete trial keeps its student artifact in ``DIR/trials/NNNN``; the test split is only read
afterwards, for the Pareto front (:mod:`.front`).

Storage: a SQLite file in the output folder by default (re-running continues the study); any
Optuna RDB URL (``postgresql://...``, ``mysql://...``, ``sqlite:///...``) or an Optuna journal
file (``journal:///path/study.log``) lets many workers on many machines share one study.
``workers`` local processes run on one storage.
"""
from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Literal

from pydantic import Field

from cellsort.config import ConfigError, StrictModel
from cellsort.explore.space import SearchSpace, suggest

STUDY_NAME = "cellsort-explore"


def _finished_states():
    from optuna.trial import TrialState

    return (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


class ExploreConfig(StrictModel):
    """A search: data, board, budget, trials, schedule and space.

    ``trials`` is the study's total: a re-run with the same output continues until the study
    holds that many finished (complete, pruned or failed) trials; parallel workers may each
    finish the trial they started, so a study can end up to ``workers - 1`` trials over.
    """

    data: str
    task: str | None = None
    teacher: str | None = None
    board: str = "coaxlink-ku035"
    hls_tool: Literal["vitis", "vivado"] | None = None
    clock_mhz: float | None = Field(None, gt=0, le=1000)
    budget_us: float = Field(14.5, gt=0, le=1e6)
    trials: int = Field(30, ge=1, le=100_000)
    workers: int = Field(1, ge=1, le=256)
    seed: int = Field(0, ge=0)
    epochs: int = Field(6, ge=1, le=1000)
    prune_after: int = Field(2, ge=1)
    population: int = Field(16, ge=2, le=10_000)
    space: SearchSpace = SearchSpace()


def open_storage(url: str):
    """An Optuna storage for ``url``: ``journal:///path`` (journal file) or an RDB URL."""
    import optuna

    if url.startswith("journal://"):
        from optuna.storages.journal import JournalFileBackend

        path = Path(url[len("journal://"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    engine = {"connect_args": {"timeout": 120}} if url.startswith("sqlite") else {}
    try:
        return optuna.storages.RDBStorage(url, engine_kwargs=engine)
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises many kinds for a bad URL
        raise ConfigError(f"--storage {url!r}: cannot open it ({' '.join(str(exc).split())[:200]})") from exc


def default_storage(out: Path) -> str:
    return f"sqlite:///{(out / 'study.db').resolve()}"


def _constraints(trial) -> list[float]:
    return trial.user_attrs.get("constraints", [1.0])


def create_study(cfg: ExploreConfig, storage, worker: int = 0):
    """Create or load the study (two objectives, NSGA-II with the constraints)."""
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

    sampler = optuna.samplers.NSGAIISampler(population_size=cfg.population, seed=cfg.seed + worker,
                                            constraints_func=_constraints)
    study = optuna.create_study(storage=storage, study_name=STUDY_NAME, sampler=sampler,
                                directions=["maximize", "minimize"], load_if_exists=True)
    saved = study.user_attrs.get("config")
    mine = cfg.model_dump(mode="json", exclude={"trials", "workers"})
    if saved is None:
        study.set_user_attr("config", mine)
    elif saved != mine:
        differs = sorted(k for k in set(saved) | set(mine) if saved.get(k) != mine.get(k))
        raise ConfigError(f"the study in this storage was made with other settings ({', '.join(differs)}); "
                          "use the same ones to continue it, or a new --out/--storage")
    return study


class Objective:
    """One trial: draw, cost, prune or train, report (see the module doc)."""

    def __init__(self, cfg: ExploreConfig, out: Path, log=print):
        from cellsort.data.dataset import task_groups
        from cellsort.data.load import open_dataset
        from cellsort.distill.train import load_soft_targets
        from cellsort.firmware.boards import load_board

        self.cfg, self.out, self.log = cfg, out, log
        self.board = load_board(cfg.board)
        if self.board.capacity is None:
            raise ConfigError(f"board {cfg.board!r} has no capacity: resources cannot be checked")
        self.data = open_dataset(cfg.data, cfg.task)
        self.groups = task_groups(cfg.task, self.data.train.class_names)
        self.cache = load_soft_targets(Path(cfg.teacher) / "soft_targets.npz") if cfg.teacher else None
        if self.cache is not None:  # a teacher of other classes fails here, not in every trial
            from cellsort.distill.targets import merge_matrix

            names = self.data.train.class_names
            merge_matrix([str(c) for c in self.cache["class_names"]], self.groups or {c: [c] for c in names})
        self.space = cfg.space if cfg.teacher else cfg.space.without_teacher()
        self.chance = 1.0 / len(self.data.train.class_names)

    def __call__(self, trial) -> tuple[float, float]:
        import optuna

        from cellsort.distill.train import distill
        from cellsort.firmware.cost import latency_of, resources_of

        try:
            design, method = suggest(trial, self.space)
        except ValueError as exc:
            trial.set_user_attr("pruned_because", f"invalid design: {' '.join(str(exc).split())[:200]}")
            raise optuna.TrialPruned() from None
        model = design.build(len(self.data.train.class_names))
        latency = latency_of(design, self.board, model, hls_tool=self.cfg.hls_tool,
                             clock_mhz=self.cfg.clock_mhz, budget_us=self.cfg.budget_us)
        resources = resources_of(design, self.board, model)
        frac = resources["fraction"]
        constraints = [frac["lut"] - 1, frac["dsp"] - 1, frac["bram18"] - 1,
                       latency["high_us"] - self.cfg.budget_us]
        trial.set_user_attr("design", design.model_dump(mode="json"))
        trial.set_user_attr("label", design.label)
        trial.set_user_attr("method", method)
        trial.set_user_attr("latency", latency)
        trial.set_user_attr("resources", resources)
        trial.set_user_attr("constraints", constraints)
        if not resources["fits"] or latency["low_us"] > self.cfg.budget_us:
            why = "does not fit the part" if not resources["fits"] else "its whole latency band is over budget"
            trial.set_user_attr("pruned_because", why)
            self.log(f"trial {trial.number}: {design.label}, {method}: pruned before training ({why})")
            raise optuna.TrialPruned()

        def stop_hopeless(epoch: int, val: dict) -> None:
            trial.set_user_attr(f"val_accuracy_epoch{epoch}", val["accuracy"])
            if epoch >= self.cfg.prune_after and val["accuracy"] <= self.chance + 0.02:
                trial.set_user_attr("pruned_because", f"validation accuracy {val['accuracy']:.3f} at chance")
                raise optuna.TrialPruned()

        t0 = time.perf_counter()
        folder = self.out / "trials" / f"{trial.number:04d}"
        schedule = design.distill_config(method=method, epochs=self.cfg.epochs,
                                         seed=self.cfg.seed + trial.number)
        summary = distill(self.data, schedule, folder, cache=self.cache if method != "labels" else None,
                          groups=self.groups, progress=False, on_epoch=stop_hopeless, test=False)
        trial.set_user_attr("artifact", str(folder))
        trial.set_user_attr("val", {k: v for k, v in summary.items() if k == "val_accuracy"})
        self.log(f"trial {trial.number}: {design.label}, {method}: validation accuracy "
                 f"{summary['val_accuracy']:.3f}, latency {latency['us']:.2f} µs (band "
                 f"{latency['low_us']:.2f}-{latency['high_us']:.2f}), LUT {100 * frac['lut']:.0f}% "
                 f"({time.perf_counter() - t0:.0f} s)")
        return summary["val_accuracy"], latency["us"]


def _finished(study) -> int:
    return len(study.get_trials(deepcopy=False, states=_finished_states()))


def run_worker(cfg: ExploreConfig, out: Path, storage_url: str, worker: int = 0, log=print,
               objective: Objective | None = None) -> None:
    """Run trials on the shared study until it holds ``cfg.trials`` finished trials."""
    import optuna

    storage = open_storage(storage_url)
    study = create_study(cfg, storage, worker)
    objective = objective or Objective(cfg, out, log)
    stop = optuna.study.MaxTrialsCallback(cfg.trials, states=_finished_states())
    if _finished(study) < cfg.trials:
        study.optimize(objective, callbacks=[stop], catch=(), gc_after_trial=True,
                       n_trials=cfg.trials)


def _spawned_worker(cfg_json: str, out: str, storage_url: str, worker: int) -> None:
    from cellsort.keras_compat import use_legacy_keras

    use_legacy_keras()
    cfg = ExploreConfig.model_validate_json(cfg_json)
    run_worker(cfg, Path(out), storage_url, worker,
               log=lambda msg: print(f"[worker {worker}] {msg}", flush=True))


def explore(cfg: ExploreConfig, out: str | Path, storage_url: str | None = None, log=print) -> dict:
    """Run (or continue) the study with ``cfg.workers`` local processes, then write the front.

    Returns
    -------
    dict
        The summary written to ``out/explore.json`` (see :func:`cellsort.explore.front.write_front`).
    """
    from cellsort.explore.front import write_front

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    storage_url = storage_url or default_storage(out)
    study = create_study(cfg, open_storage(storage_url))  # fails early on a mismatch
    objective = Objective(cfg, out, log)  # and on data, teacher or board the trials could not use
    before = _finished(study)
    log(f"study {STUDY_NAME} in {storage_url}: {before} trial(s) finished, target {cfg.trials}")
    t0 = time.perf_counter()
    if before < cfg.trials:
        if cfg.workers == 1:
            run_worker(cfg, out, storage_url, 0, log, objective)
        else:
            ctx = multiprocessing.get_context("spawn")  # TensorFlow does not survive a fork
            procs = [ctx.Process(target=_spawned_worker, args=(cfg.model_dump_json(), str(out),
                                                                storage_url, w))
                     for w in range(cfg.workers)]
            for p in procs:
                p.start()
            for p in procs:
                p.join()
            bad = [p.exitcode for p in procs if p.exitcode]
            if bad:
                raise RuntimeError(f"{len(bad)} explore worker(s) failed (exit codes {bad})")
    summary = write_front(cfg, out, open_storage(storage_url), log)
    summary.update(storage=storage_url, trials_before=before, seconds=time.perf_counter() - t0)
    from cellsort.atomic import write_json
    from cellsort.provenance import record

    write_json(out / "explore.json", record(cfg, **summary))
    return summary

