"""Typed run records: every result file cellsort writes, as a pydantic model that writes it and
reads it back.

Each record names its file (``FILE``) and declares the fields that readers use (the report,
the demo, scripts); further fields a writer adds are kept (``extra="allow"``). A record is
validated when written and when read, so a writer that stops producing a field fails at once,
and :func:`field_path_exists` lets the report check, in a test, that every field it shows is
declared. Provenance (creation time, versions, config) comes with every record.
"""
from __future__ import annotations

import json
import types
import typing
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cellsort.atomic import write_json
from cellsort.config import validation_problems
from cellsort.errors import DataError
from cellsort.provenance import record

R = TypeVar("R", bound="Record")


class Part(BaseModel):
    """A nested part of a record: declared fields, others kept."""

    model_config = ConfigDict(extra="allow")


class Metrics(Part):
    """Classification metrics of one split (:func:`cellsort.metrics.classification_metrics`)."""

    accuracy: float
    n: int
    balanced_accuracy: float | None = None
    auc: float | None = None


class Record(Part):
    """Base of every result file: provenance plus the record's own fields."""

    FILE: ClassVar[str] = ""
    created: str = ""
    versions: dict[str, str] = Field(default_factory=dict)
    config: Any = None

    @classmethod
    def make(cls: type[R], config=None, **fields) -> R:
        """A new record with provenance (time, versions, ``config``)."""
        return cls.model_validate(record(config, **fields))

    def write(self, folder: str | Path, name: str | None = None) -> Path:
        """Write atomically as ``folder/FILE`` (or ``folder/name``)."""
        return write_json(Path(folder) / (name or self.FILE), self.model_dump(mode="json"))

    @classmethod
    def read(cls: type[R], path: str | Path) -> R:
        """Read and check a record (a folder: its ``FILE``)."""
        path = Path(path)
        path = path / cls.FILE if path.is_dir() else path
        try:
            return cls.model_validate(json.loads(path.read_text()))
        except (OSError, ValueError) as exc:
            problem = validation_problems(exc) if isinstance(exc, ValidationError) else " ".join(str(exc).split())[:160]
            raise DataError(f"{path}: not a readable {cls.__name__} ({problem})") from exc


class Latency(Part):
    """A latency report (:meth:`cellsort.firmware.latency.LatencyReport.to_dict`)."""

    method: str
    hls_tool: str
    clock_mhz: float
    budget_us: float
    total_cycles: int
    total_us: float
    total_us_low: float
    total_us_high: float
    verdict: str
    settle: str | None = None
    per_layer: list[dict] = Field(default_factory=list)


class Trigger(Part):
    """Detection to trigger through the instrument top."""

    method: str
    total_us: float
    total_us_low: float
    total_us_high: float
    budget_us: float
    verdict: str


class Resources(Part):
    method: str
    total: dict


class FirmwareRecord(Record):
    """``firmware.json``: hls4ml conversion, C simulation against the emulator, latency, resources."""

    FILE: ClassVar[str] = "firmware.json"
    board: dict
    n_csim: int
    bit_exact: int
    latency: Latency
    latency_by_tool: dict[str, Latency] = Field(default_factory=dict)
    latency_summary: str
    detection_to_trigger: Trigger | None = None
    resources: Resources
    emulator: dict
    emulator_metrics: Metrics | None = None


class Detection(Part):
    precision: float
    recall: float


class SortRecord(Record):
    """``summary.json`` of ``cellsort sort``: throughput, stage latencies, decisions."""

    FILE: ClassVar[str] = "summary.json"
    mode: str
    frames: int
    cells: int
    errors: int
    cells_per_s: float
    frames_per_s: float
    latency_us: dict[str, dict[str, float]]
    per_class: dict[str, int]
    sorted: int
    threshold: float
    detection: Detection | None = None
    decision_accuracy: float | None = None


class ScoreRecord(Record):
    """``<out>.json`` of ``cellsort score``: the scored recording and its decisions."""

    FILE: ClassVar[str] = "score.json"
    source: str
    output: str
    backend: str
    events: int
    class_names: list[str]
    score_features: list[str]
    margin_feature: str
    threshold: float
    sorted: int
    per_class: dict[str, int]
    positions: str
    classify_us_per_event: float
    table_csv: str | None = None
    table_parquet: str | None = None


class TeacherRecord(Record):
    """``teacher.json``: a trained teacher."""

    FILE: ClassVar[str] = "teacher.json"
    class_names: list[str]
    best_epoch: int
    val_accuracy: float
    test: Metrics
    history: list[dict]
    n_params: int


class StageData(Part):
    data: str
    counts: dict[str, dict[str, int]]


class StageTrain(Part):
    folder: str
    val_accuracy: float
    test: Metrics


class StageFirmware(Part):
    bit_exact: int
    n_csim: int
    latency_us: float
    latency_us_low: float
    latency_us_high: float
    latency_verdict: str
    latency_method: str
    detection_to_trigger_us: float | None = None
    emulator_test: Metrics | None = None


class StageSort(Part):
    gate: dict
    cells: int
    detection: Detection
    decision_accuracy: float | None = None


class CandidateHls(Part):
    """A candidate in the hls4ml flow: the calibrated model per tool, the whole top, resources."""

    by_tool: dict[str, Latency]
    detection_to_trigger_us: float | None = None
    detection_to_trigger_us_high: float | None = None
    detection_to_trigger_verdict: str | None = None
    lut_fraction: float | None = None
    resources_method: str


class CandidateRtl(Part):
    """A candidate in the RTL back end: Verilator's measurement, the verdicts, the logic estimate."""

    bit_exact: int
    n: int
    cycles: int
    us: float
    us_after_last_pixel: float
    verdict: str
    detection_to_trigger_us: float | None = None
    detection_to_trigger_verdict: str | None = None
    frames_matching: int | None = None
    frames: int | None = None
    clock_mhz: float
    method: str
    lut_fraction: float | None = None
    resources_method: str
    parallelism: dict[str, int]


class Count(Part):
    bit_exact: int
    n: int


class Candidate(Part):
    """One candidate design with the evidence of each figure."""

    label: str
    design: dict[str, Any]  # the StudentDesign, as its JSON
    artifact: str
    params: int
    test_accuracy: float
    test_auc: float | None = None
    n_test: int
    csim: Count
    hls: CandidateHls
    rtl: CandidateRtl


class Recommendation(Part):
    label: str
    artifact: str
    beats_paper: bool
    why: str
    exported: str | None = None


class CandidatesRecord(Record):
    """``candidates.json``: the designs tried side by side and the one to build."""

    FILE: ClassVar[str] = "candidates.json"
    board: str
    budget_us: float
    trigger_budget_us: float
    rows: list[Candidate]
    recommended: Recommendation
    rule: str


class StageCandidates(Part):
    folder: str
    recommended: Recommendation


class StageScore(Part):
    events: int
    ml_class_accuracy: float


class RunStages(Part):
    data: StageData | None = None
    teacher: StageTrain | None = None
    distill: StageTrain | None = None
    firmware: StageFirmware | None = None
    candidates: StageCandidates | None = None
    sort: StageSort | None = None
    score: StageScore | None = None


class RunRecord(Record):
    """``run.json`` of the demo: what each stage did and measured."""

    FILE: ClassVar[str] = "run.json"
    stages: RunStages


class ExploreRecord(Record):
    """``explore.json``: the search's state, front and the design exported for the budget."""

    FILE: ClassVar[str] = "explore.json"
    trials: dict[str, int]
    state: dict
    front: list[dict]
    best: dict | None = None
    budget_us: float
    method: str
    storage: str


def field_path_exists(cls: type[BaseModel], path: str) -> bool:
    """Whether ``path`` (``"a.b.c"``) names declared fields of ``cls`` (a ``dict`` field takes
    any key below it; a number indexes a ``list`` field)."""
    tp: Any = cls
    for part in path.split("."):
        origin = typing.get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            tp = next(a for a in typing.get_args(tp) if a is not type(None))
            origin = typing.get_origin(tp)
        if tp is dict or origin is dict:
            return True
        if origin is list:
            if not part.isdigit():
                return False
            tp = typing.get_args(tp)[0]
            continue
        if not (isinstance(tp, type) and issubclass(tp, BaseModel)) or part not in tp.model_fields:
            return False
        tp = tp.model_fields[part].annotation
    return True
