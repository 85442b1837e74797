"""The design-space search: an Optuna multi-objective study over student designs.

Method: each trial draws a design (:mod:`.space`), costs it on the board without training
(calibrated latency with the wrapper's front end, analytic resources; :mod:`cellsort.firmware.cost`)
and prunes it at once when it can never be feasible (resources above the part, or the lower
end of its latency band above the budget). Otherwise it trains the QAT student on a short
schedule and reports two objectives, the validation accuracy (maximised) and the latency point
estimate in µs (minimised), with constraints (resources within capacity, upper end of the band
within the budget) that NSGA-II uses to rank infeasible trials below feasible ones. A trial
whose validation accuracy is still at chance after ``prune_after`` epochs is pruned. Each
complete trial keeps its student artifact in ``DIR/trials/NNNN`` (NNNN its slot) and uploads
it to the study's artifact store (:mod:`.artifacts`); the test split is only read afterwards,
for the Pareto front (:mod:`.front`).

Sharing: a SQLite file in the output folder by default (re-running continues the study); any
Optuna RDB URL (``postgresql+psycopg://...``, ``mysql://...``, ``sqlite:///...``) or an Optuna
journal file (``journal:///path/study.log``) lets many workers on many machines share one
study. Workers fill exactly ``trials`` slots (:mod:`.storage`): never more, a dead worker's
trial retried by another. With ``sampler: random`` every slot's design is drawn from
``(seed, slot)`` alone, so any number of workers gives the study a single worker gives;
NSGA-II's later generations depend on which trials finished first.
"""
from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from cellsort.config import ConfigError, StrictModel
from cellsort.explore.space import SearchSpace, draw, suggest
from cellsort.explore.storage import (
    STUDY_NAME,
    default_storage,
    finished,
    heartbeat,
    open_storage,
    reachable,
    reserve_slots,
    slot_of,
    study_state,
    take_waiting,
    wait_for_others,
)


class ExploreConfig(StrictModel):
    """A search: data, board, budget, trials, schedule, space and how workers share it.

    ``trials`` is the study's total: a re-run with the same output continues until the study
    holds that many slots, each finished once (complete, pruned or failed), however many
    workers run. ``heartbeat_s``: how often a running trial tells the storage it is alive; a
    trial silent for three heartbeats is failed and retried by another worker (RDB storages).
    ``backend``: ``hls`` (hls4ml: the calibrated latency model and the analytic multiplier count)
    or ``rtl`` (the RTL back end: its exact cycle schedule, at ``clock_mhz`` or 250 MHz assumed,
    and its analytic logic count; the space's ``parallelisms`` are searched).
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
    sampler: Literal["nsga2", "random"] = "nsga2"
    backend: Literal["hls", "rtl"] = "hls"
    heartbeat_s: int = Field(30, ge=1, le=3600)
    artifacts: str | None = None
    space: SearchSpace = SearchSpace()

    @model_validator(mode="after")
    def _parallelism_needs_rtl(self):
        if self.backend != "rtl" and set(self.space.parallelisms) != {"auto"}:
            raise ValueError("space.parallelisms other than auto need backend: rtl")
        return self


#: Settings that may differ between the workers of one study (the rest must agree).
PER_WORKER = {"trials", "workers", "heartbeat_s", "artifacts", "data", "teacher"}


def _constraints(trial) -> list[float]:
    return trial.user_attrs.get("constraints", [1.0])


def create_study(cfg: ExploreConfig, storage, storage_url: str, worker: int = 0):
    """Create or load the study (two objectives, NSGA-II with the constraints, or random);
    a new study records its config and its artifact store."""
    import warnings

    import optuna

    from cellsort.explore.artifacts import store_spec

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    sampler = (optuna.samplers.NSGAIISampler(population_size=cfg.population, seed=cfg.seed + worker,
                                             constraints_func=_constraints)
               if cfg.sampler == "nsga2" else optuna.samplers.RandomSampler(seed=cfg.seed + worker))
    with reachable(storage_url):
        study = optuna.create_study(storage=storage, study_name=STUDY_NAME, sampler=sampler,
                                    directions=["maximize", "minimize"], load_if_exists=True)
        saved = study.user_attrs.get("config")
        mine = cfg.model_dump(mode="json", exclude=PER_WORKER)
        if saved is None:
            study.set_user_attr("config", mine)
            study.set_user_attr("artifact_store", store_spec(storage_url, cfg.artifacts))
        elif {k: v for k, v in saved.items() if k not in PER_WORKER} != mine:
            differs = sorted(k for k in set(saved) | set(mine) - PER_WORKER
                             if k not in PER_WORKER and saved.get(k) != mine.get(k))
            raise ConfigError(f"the study in this storage was made with other settings "
                              f"({', '.join(differs)}); use the same ones to continue it, or a new "
                              "--out/--storage")
    return study


class Objective:
    """One trial: draw, cost, prune or train, report (see the module doc)."""

    def __init__(self, cfg: ExploreConfig, out: Path, log=print, store=None):
        from cellsort.data.dataset import task_groups
        from cellsort.data.load import open_dataset
        from cellsort.distill.train import load_soft_targets
        from cellsort.firmware.boards import load_board

        self.cfg, self.out, self.log, self.store = cfg, out, log, store
        self.board = load_board(cfg.board)
        if self.board.capacity is None:
            raise ConfigError(f"board {cfg.board!r} has no capacity: resources cannot be checked")
        self.data = open_dataset(cfg.data, cfg.task)
        self.data.require_parts("a design search")
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

        from cellsort.distill.train import DistillConfig, distill
        from cellsort.firmware.cost import latency_of, resources_of, rtl_cost_of

        try:
            design, method = suggest(trial, self.space)
        except ValueError as exc:
            trial.set_user_attr("pruned_because", f"invalid design: {' '.join(str(exc).split())[:200]}")
            raise optuna.TrialPruned() from None
        model = design.build(len(self.data.train.class_names))
        if self.cfg.backend == "rtl":
            latency, resources = rtl_cost_of(design, self.board, model, self.cfg.clock_mhz or 250.0,
                                             self.cfg.budget_us)
        else:
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
        slot = slot_of(trial)
        folder = self.out / "trials" / f"{slot:04d}"
        schedule = DistillConfig.for_design(design, method=method, epochs=self.cfg.epochs,
                                            seed=self.cfg.seed + slot)
        summary = distill(self.data, schedule, folder, cache=self.cache if method != "labels" else None,
                          groups=self.groups, progress=False, on_epoch=stop_hopeless, test=False)
        trial.set_user_attr("artifact", str(folder))
        if self.store is not None:
            from cellsort.explore.artifacts import upload_folder

            trial.set_user_attr("artifact_id", upload_folder(self.store, trial, folder))
        trial.set_user_attr("val", {k: v for k, v in summary.items() if k == "val_accuracy"})
        self.log(f"trial {trial.number} (slot {slot}): {design.label}, {method}: validation accuracy "
                 f"{summary['val_accuracy']:.3f}, latency {latency['us']:.2f} µs (band "
                 f"{latency['low_us']:.2f}-{latency['high_us']:.2f}), LUT {100 * frac['lut']:.0f}% "
                 f"({time.perf_counter() - t0:.0f} s)")
        return summary["val_accuracy"], latency["us"]


def _run_trial(study, storage, trial_id: int, objective) -> None:
    """Run the waiting trial this worker took, with its heartbeat, and record its end."""
    import optuna
    from optuna.trial import TrialState

    study.sampler.before_trial(study, storage.get_trial(trial_id))
    trial = optuna.trial.Trial(study, trial_id)
    with heartbeat(storage, trial_id):
        try:
            values = objective(trial)
        except optuna.exceptions.UpdateFinishedTrialError:
            return  # its heartbeat was late: another worker failed it and retries its slot
        except optuna.TrialPruned:
            values = TrialState.PRUNED
        except BaseException:
            if not storage.get_trial(trial_id).state.is_finished():
                study.tell(trial, state=TrialState.FAIL)
            raise
    if storage.get_trial(trial_id).state.is_finished():
        return  # failed as stale meanwhile; the retry of its slot counts instead
    if values is TrialState.PRUNED:
        study.tell(trial, state=TrialState.PRUNED)
    else:
        study.tell(trial, values)


def _space_params(cfg: ExploreConfig, objective: Objective):
    """``sampler: random``: each slot's design from ``(seed, slot)`` alone (None: NSGA-II draws)."""
    if cfg.sampler != "random":
        return None
    return lambda slot: draw(objective.space, cfg.seed, slot)


def run_worker(cfg: ExploreConfig, out: Path, storage_url: str, worker: int = 0, log=print,
               objective: Objective | None = None) -> None:
    """Take waiting slots of the shared study until none is left (see :mod:`.storage`);
    stale trials of dead workers are failed and come back as retries, which this worker waits
    for while other trials still run."""
    import optuna

    from cellsort.explore.artifacts import open_store

    storage = open_storage(storage_url, cfg.heartbeat_s)
    with reachable(storage_url):
        study = create_study(cfg, storage, storage_url, worker)
        store = open_store(study.user_attrs["artifact_store"], storage)
        objective = objective or Objective(cfg, out, log)
        objective.store = store
        reserve_slots(study, storage, storage_url, cfg.trials, _space_params(cfg, objective))
        study_id = storage.get_study_id_from_name(STUDY_NAME)
        while True:
            optuna.storages.fail_stale_trials(study)
            trial_id = take_waiting(storage, study_id)
            if trial_id is not None:
                _run_trial(study, storage, trial_id, objective)
            elif not wait_for_others(storage, study, min(cfg.heartbeat_s, 5)):
                return


def _spawned_worker(cfg_json: str, out: str, storage_url: str, worker: int) -> None:
    """A local worker process: one line and exit 2 for a user-facing error, as the CLI does."""
    import sys

    from cellsort.errors import UserError, one_line

    cfg = ExploreConfig.model_validate_json(cfg_json)
    try:
        run_worker(cfg, Path(out), storage_url, worker,
                   log=lambda msg: print(f"[worker {worker}] {msg}", flush=True))
    except UserError as exc:
        print(f"[worker {worker}] error: {one_line(exc)}", file=sys.stderr, flush=True)
        sys.exit(2)


def explore(cfg: ExploreConfig, out: str | Path, storage_url: str | None = None, log=print) -> dict:
    """Run (or continue) the study with ``cfg.workers`` local processes, then write the front.

    Returns
    -------
    dict
        The summary written to ``out/explore.json`` (see :func:`cellsort.explore.front.write_front`).
    """
    from cellsort.explore.front import write_front
    from cellsort.explore.storage import StorageUnavailable

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    storage_url = storage_url or default_storage(out)
    storage = open_storage(storage_url, cfg.heartbeat_s)
    study = create_study(cfg, storage, storage_url)  # fails early on a mismatch
    objective = Objective(cfg, out, log)  # and on data, teacher or board the trials could not use
    with reachable(storage_url):
        before = study_state(study)
    log(f"study {STUDY_NAME} in {storage_url}: {finished(before)} of {cfg.trials} slot(s) finished")
    t0 = time.perf_counter()
    if finished(before) < cfg.trials:
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
                raise StorageUnavailable(f"{len(bad)} of {cfg.workers} explore workers stopped "
                                         f"(exit codes {bad}; their lines above say why); the study "
                                         "is intact: run explore again to continue it")
    summary = write_front(cfg, out, storage_url, log)
    summary.update(storage=storage_url, trials_before=finished(before), seconds=time.perf_counter() - t0)
    from cellsort.records import ExploreRecord

    ExploreRecord.make(cfg, **summary).write(out)
    return summary
