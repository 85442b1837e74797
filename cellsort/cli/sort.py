"""``cellsort sort``: run the sorter on a recording, a frame source or a synthetic flow video."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from cellsort.cli.console import console, make_table
from cellsort.config import load_config
from cellsort.data.detection import DetectConfig
from cellsort.errors import ConfigError
from cellsort.outputs import check_output_dir
from cellsort.sorter.classifier import CellClassifier
from cellsort.sorter.stream import SorterConfig

MODES = ("auto", "events", "video")


def sorter_config(config: Path | None, threshold: float | None, trigger_col: int | None,
                  detector: str | None = None, **detect) -> SorterConfig:
    """A config file (YAML/JSON :class:`SorterConfig`) with command-line values on top."""
    base = load_config(SorterConfig, config)
    det = load_config(DetectConfig, None, **{**base.detect.model_dump(), **detect})
    return load_config(SorterConfig, None, **{**base.model_dump(), "detect": det.model_dump(),
                                              "threshold": threshold, "trigger_col": trigger_col,
                                              "detector": detector})


def _is_recording(source: str) -> bool:
    from cellsort.data.rtdc import RTDC_SUFFIXES

    return Path(source).suffix.lower() in RTDC_SUFFIXES


def _mode(source: str, mode: str) -> str:
    if mode not in MODES:
        raise ConfigError(f"--mode: {mode!r} is not one of {', '.join(MODES)}")
    is_rtdc = _is_recording(source)
    if mode == "events" and not is_rtdc:
        raise ConfigError(f"{source}: event mode needs an RT-DC recording (.rtdc/.tdms)")
    return mode if mode != "auto" else ("events" if is_rtdc else "video")


def sort_cmd(source: str = typer.Option(..., help='"synthetic", an RT-DC recording (.rtdc/.tdms), '
                                                  'an .npy array (N, H, W) or an image folder.'),
             model: Path = typer.Option(..., help="Student artifact folder."),
             out: Path = typer.Option(Path("runs/sort"), help="Folder for events.csv/.parquet and summary.json."),
             mode: str = typer.Option("auto", help="events: one decision per RT-DC event; video: "
                                                   "detect and track in continuous frames; auto: "
                                                   "events for RT-DC recordings, else video."),
             config: Optional[Path] = typer.Option(None, help="YAML/JSON SorterConfig (trigger, tracking, detect)."),
             frames: int = typer.Option(400, min=10, help="Frames of the synthetic video."),
             seed: int = typer.Option(0, help="Seed of the synthetic video."),
             threshold: Optional[float] = typer.Option(None, help="Gate on the logit margin."),
             trigger_col: Optional[int] = typer.Option(None, help="Video mode: column of the trigger line."),
             k_sigma: Optional[float] = typer.Option(None, help="Video mode: threshold in noise sigmas."),
             min_area: Optional[int] = typer.Option(None, help="Video mode: smallest cell area (px)."),
             max_area: Optional[int] = typer.Option(None, help="Video mode: largest cell area (px)."),
             min_solidity: Optional[float] = typer.Option(None, help="Video mode: smallest solidity."),
             detector: Optional[str] = typer.Option(None, help="Video mode: software (scikit-image "
                                                    "detection and tracking) or fpga (the firmware's "
                                                    "streaming detection and trigger; registers in "
                                                    "--config under fpga)."),
             backend: str = typer.Option("emulator", help="emulator (bit-exact FPGA model) or qkeras."),
             force: bool = typer.Option(False, help="Write into a non-empty --out folder."),
             as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON.")):
    """Classify and decide; print cells/s, stage latencies and decisions per class."""
    from cellsort.sorter.run import run_events, run_video

    cfg = sorter_config(config, threshold, trigger_col, detector, k_sigma=k_sigma, min_area=min_area,
                        max_area=max_area, min_solidity=min_solidity)
    check_output_dir(out, force)
    chosen = "video" if source == "synthetic" and mode in ("auto", "video") else _mode(source, mode)
    classifier = CellClassifier(model, backend=backend)
    if source == "synthetic":
        from cellsort.data.flow import synthetic_flow

        video, truths = zip(*synthetic_flow(frames, seed, classes=classifier.class_names))
        s = run_video(video, classifier, out, cfg, truths, progress=not as_json, n_frames=frames)
    elif chosen == "events":
        s = run_events(source, classifier, out, cfg, progress=not as_json)
    else:
        from cellsort.sorter.sources import open_source, rtdc_background

        background = rtdc_background(source) if _is_recording(source) else None
        s = run_video(open_source(source), classifier, out, cfg, progress=not as_json,
                      background=background)
    if as_json:
        print(json.dumps(s, indent=2, default=float))
        return
    _print(s, classifier.engine, out)


def _print(s: dict, backend: str, out: Path) -> None:
    unit = "events" if s["mode"] == "events" else "frames"
    table = make_table(f"{s['cells']} cells from {s['frames']} {unit}: {s['cells_per_s']:.0f} cells/s, "
                       f"{s['frames_per_s']:.0f} {unit}/s (software, {backend}, measured)",
                       "stage", "p50 µs", "p99 µs", right=("p50 µs", "p99 µs"))
    for stage, v in s["latency_us"].items():
        table.add_row(stage, f"{v['p50']:.0f}", f"{v['p99']:.0f}")
    console.print(table)
    if s["mode"] == "events":
        console.print(f"event mode: one decision per recorded event; centres from {s['centres']}",
                      highlight=False)
    console.print(f"decisions per class: {s['per_class']}; sorted (margin > {s['threshold']:g}): "
                  f"{s['sorted']}; rejected frames: {s['errors']}", highlight=False)
    if "detection" in s:
        d = s["detection"]
        acc = s["decision_accuracy"]
        console.print(f"detection precision {d['precision']:.3f}, recall {d['recall']:.3f}; "
                      f"decision accuracy {'n/a' if acc is None else f'{acc:.3f}'} on "
                      f"{s['decisions_matched']} cells", highlight=False)
    console.print(f"events: {out / 'events.csv'} and {out / 'events.parquet'}", highlight=False)

