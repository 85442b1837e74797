"""Where a study lives and how workers share it: storages, slots, heartbeats, locks.

Method ("slots"): a study of ``N`` trials holds exactly ``N`` slots. The first worker (under a
lock on the storage: an advisory lock on PostgreSQL and MySQL, a file lock beside a SQLite or
journal file) enqueues the missing slots as waiting trials, each with its slot number; workers
only ever take a waiting trial (a state change the storage makes atomically) and never create
one, so parallel workers cannot run more than ``N``. A trial whose worker dies stops sending
heartbeats (RDB storages); the next worker to look fails it and Optuna's retry callback
enqueues a copy for the same slot (same design, same seed), so a slot is counted once, by its
latest trial. Journal storages have no heartbeat: a killed worker's trial stays running.
"""
from __future__ import annotations

import contextlib
import fcntl
import threading
import time
from pathlib import Path
from typing import Iterator

from cellsort.errors import ConfigError, UserError

STUDY_NAME = "cellsort-explore"


class StorageUnavailable(UserError):
    """The study's storage (a database server, a file) cannot be reached; the message names it."""


def open_storage(url: str, heartbeat_s: int = 30):
    """An Optuna storage for ``url``: ``journal:///path`` (journal file) or an RDB URL, with a
    heartbeat every ``heartbeat_s`` and stale trials retried (RDB). Workers that open a new
    database at once race to create Optuna's tables; the loser tries again."""
    import warnings

    import optuna

    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    if url.startswith("journal://"):
        from optuna.storages.journal import JournalFileBackend

        path = Path(url[len("journal://"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    engine = {"connect_args": {"timeout": 120}} if url.startswith("sqlite") else {"pool_pre_ping": True}
    attempt = 0
    while True:
        try:
            return optuna.storages.RDBStorage(
                url, engine_kwargs=engine, heartbeat_interval=heartbeat_s, grace_period=3 * heartbeat_s,
                failed_trial_callback=optuna.storages.RetryFailedTrialCallback(max_retry=3))
        except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises many kinds for a bad URL
            from sqlalchemy.exc import IntegrityError, ProgrammingError

            if isinstance(exc, (IntegrityError, ProgrammingError)) and attempt < 5:
                attempt += 1
                time.sleep(0.5 * attempt)  # another worker is creating the tables
                continue
            raise ConfigError(f"--storage {redact(url)}: cannot open it ({_reason(exc)})") from exc


def default_storage(out: Path) -> str:
    """The embedded default: a SQLite file in the output folder."""
    return f"sqlite:///{(out / 'study.db').resolve()}"


def redact(url: str) -> str:
    """``url`` without its password."""
    if "://" in url and "@" in url.split("://", 1)[1]:
        scheme, rest = url.split("://", 1)
        cred, host = rest.rsplit("@", 1)
        return f"{scheme}://{cred.split(':', 1)[0]}:***@{host}" if ":" in cred else url
    return url


def _reason(exc: BaseException) -> str:
    """The first line of a database error, short, without SQLAlchemy's background link."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return " ".join((text[0] if text else type(exc).__name__).split())[:160]


def _connection_error(exc: BaseException):
    """The database driver's connection error behind ``exc`` (Optuna wraps them), or None."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, (OperationalError, DBAPIError)):
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


@contextlib.contextmanager
def reachable(url: str) -> Iterator[None]:
    """Turn a lost database connection inside the block into :class:`StorageUnavailable`."""
    try:
        yield
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - the drivers' connection errors have many types
        lost = _connection_error(exc)
        if lost is None:
            raise
        raise StorageUnavailable(f"the study storage {redact(url)} cannot be reached "
                                 f"({_reason(lost)}); the study is intact: run the worker again "
                                 "once it is back") from exc


@contextlib.contextmanager
def storage_lock(url: str, storage) -> Iterator[None]:
    """A lock every worker of the study shares (see the module doc)."""
    if url.startswith("journal://") or url.startswith("sqlite"):
        path = Path(url[len("journal://"):] if url.startswith("journal://") else
                    url.split(":///", 1)[1] if ":///" in url else "study.db")
        lock = path.with_name(path.name + ".lock")
        with open(lock, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return
    from sqlalchemy import text

    dialect = storage.engine.dialect.name
    sql = {"postgresql": ("SELECT pg_advisory_lock(:k)", "SELECT pg_advisory_unlock(:k)"),
           "mysql": ("SELECT GET_LOCK(:n, 600)", "SELECT RELEASE_LOCK(:n)")}.get(dialect)
    if sql is None:
        raise ConfigError(f"--storage {redact(url)}: {dialect} has no lock cellsort can share; use "
                          "PostgreSQL, MySQL, SQLite or a journal file")
    with storage.engine.connect() as conn:
        conn.execute(text(sql[0]), {"k": 0x63656C6C, "n": STUDY_NAME})
        try:
            yield
        finally:
            conn.execute(text(sql[1]), {"k": 0x63656C6C, "n": STUDY_NAME})
            conn.commit()


def slot_of(trial) -> int:
    """The slot a trial fills (retries keep their original's)."""
    return int(trial.user_attrs.get("slot", trial.number))


def reserve_slots(study, storage, url: str, total: int, params_for=None) -> int:
    """Enqueue the slots ``0..total-1`` the study does not hold yet (under the shared lock);
    ``params_for(slot)`` fixes a slot's design (None: the sampler draws it). Returns the number
    of slots added."""
    with storage_lock(url, storage):
        held = {slot_of(t) for t in study.get_trials(deepcopy=False)}
        missing = [k for k in range(total) if k not in held]
        for k in missing:
            study.enqueue_trial(params_for(k) if params_for else {}, user_attrs={"slot": k},
                                skip_if_exists=False)
    return len(missing)


def take_waiting(storage, study_id: int) -> int | None:
    """The id of a waiting trial this worker now runs (set RUNNING atomically), or None."""
    import optuna
    from optuna.trial import TrialState

    for t in storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.WAITING,)):
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, t.number)
        try:
            if storage.set_trial_state_values(trial_id, state=TrialState.RUNNING):
                return trial_id
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
    return None


def has_heartbeat(storage) -> bool:
    import optuna

    return isinstance(storage, optuna.storages.RDBStorage) and storage.get_heartbeat_interval() is not None


@contextlib.contextmanager
def heartbeat(storage, trial_id: int) -> Iterator[None]:
    """Record the trial's heartbeat every interval while the block runs (RDB storages); a
    beat that cannot reach the storage is left to the trial's own next write to report."""
    if not has_heartbeat(storage):
        yield
        return
    stop = threading.Event()

    def beat():
        while not stop.wait(storage.get_heartbeat_interval()):
            try:
                storage.record_heartbeat(trial_id)
            except Exception:  # noqa: BLE001 - the main thread reports a lost storage
                return

    storage.record_heartbeat(trial_id)
    thread = threading.Thread(target=beat, name=f"heartbeat-{trial_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def study_state(study) -> dict:
    """The state of every slot (its latest trial): counts by state, the retried trials, and
    the slots still waiting or running."""
    latest: dict[int, object] = {}
    trials = study.get_trials(deepcopy=False)
    for t in trials:
        k = slot_of(t)
        if k not in latest or t.number > latest[k].number:
            latest[k] = t
    states: dict[str, int] = {}
    for t in latest.values():
        states[t.state.name.lower()] = states.get(t.state.name.lower(), 0) + 1
    return {"slots": len(latest), "by_state": states,
            "retried": sum(1 for t in trials if t.system_attrs.get("failed_trial") is not None),
            "trials_in_storage": len(trials)}


def finished(state: dict) -> int:
    """Slots whose latest trial is complete, pruned or failed."""
    return sum(state["by_state"].get(s, 0) for s in ("complete", "pruned", "fail"))


def wait_for_others(storage, study, poll_s: float) -> bool:
    """Whether other workers' trials are still running (so a stale one may come back as a
    retry); waits ``poll_s`` first. Without heartbeats nothing can come back: False."""
    from optuna.trial import TrialState

    if not has_heartbeat(storage):
        return False
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    if running:
        time.sleep(poll_s)
    return bool(running)
