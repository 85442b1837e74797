"""The firmware flow on a student artifact: convert, C-simulate against the emulator, estimate."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from cellsort.firmware.boards import BoardPreset
from cellsort.firmware.convert import csim_logits, layer_diff, to_hls4ml
from cellsort.firmware.emulator import Emulator
from cellsort.firmware.fixed import input_format, pixel_codes
from cellsort.firmware.latency import FrontEnd, estimate_latency, options_for_board
from cellsort.firmware.latency.tools import TOOLS
from cellsort.firmware.latency.top import detection_to_trigger
from cellsort.firmware.resources import estimate_resources
from cellsort.metrics import classification_metrics, write_predictions
from cellsort.records import FirmwareRecord
from cellsort.student.artifact import StudentArtifact

VENDOR_TOOLS = ("vitis_hls", "vivado_hls")  # what run_vendor.sh invokes


def vendor_tool() -> str | None:
    """The first Vivado/Vitis HLS executable on PATH, or None."""
    return next((t for t in VENDOR_TOOLS if shutil.which(t)), None)


def run_firmware(art: StudentArtifact, board: BoardPreset, out: str | Path, images: np.ndarray,
                 n_csim: int = 100, labels: np.ndarray | None = None) -> dict:
    """Convert ``art`` for ``board`` into ``out/hls``, C-simulate ``n_csim`` crops, compare.

    Parameters
    ----------
    images : ndarray of uint8
        Test crops (any size; fitted with the artifact's preprocessing).
    labels : ndarray, optional
        Their labels: the emulator's (= the firmware's) metrics are then reported too.

    Returns
    -------
    dict
        ``bit_exact`` (K of N C-sim logits equal to the emulator's and to QKeras'), the
        first mismatches, emulator scores of all ``images``, latency and resources.
    """
    out = Path(out)
    model, prep = art.model, art.preprocessing
    fitted = prep.fit_images(images)
    t0 = time.perf_counter()
    hls_model = to_hls4ml(model, out / "hls", backend=board.backend, io_type=board.io_type,
                        part=board.part, clock_period=board.clock_period_ns,
                        reuse_factor=board.reuse_factor)
    hls_model.compile()
    t_convert = time.perf_counter() - t0
    sub = fitted[:n_csim]
    t0 = time.perf_counter()
    csim = csim_logits(hls_model, pixel_codes(model, prep)[sub], input_format(model).frac)
    t_csim = time.perf_counter() - t0
    emulator = Emulator.from_model(model, prep, art.class_names)
    t0 = time.perf_counter()
    emu_all = emulator.logits(fitted)
    t_emu = time.perf_counter() - t0
    qkeras = model(prep.normalize(sub)[..., None], training=False).numpy().astype(np.float64)
    same_emu = np.all(csim == emu_all[: len(sub)], axis=1)
    same_qk = np.all(csim == qkeras, axis=1)
    bad = np.flatnonzero(~(same_emu & same_qk))[:5]
    frontend = FrontEnd.of(prep, board.pixels_per_clock)
    by_tool = {tool: estimate_latency(model, options_for_board(board, hls_tool=tool, frontend=frontend))
               for tool in TOOLS}
    latency = by_tool[board.backend.lower()]  # the board's own tool
    top = detection_to_trigger(model, prep, board) if board.io_type == "io_stream" and \
        prep.input_size[0] == prep.input_size[1] else None
    summary = {
        "board": board.model_dump(), "n_csim": int(len(sub)),
        "bit_exact": int(np.sum(same_emu & same_qk)),
        "bit_exact_vs_emulator": int(same_emu.sum()), "bit_exact_vs_qkeras": int(same_qk.sum()),
        "mismatches": [{"index": int(i), "csim": csim[i].tolist(), "emulator": emu_all[i].tolist(),
                        "qkeras": qkeras[i].tolist()} for i in bad],
        "seconds": {"convert_and_compile": t_convert, "csim": t_csim, "emulator_all": t_emu},
        "throughput_images_per_s": {"csim": len(sub) / t_csim, "emulator": len(fitted) / t_emu},
        "emulator": {"backend": emulator.backend, "isa": emulator.isa},
        "latency": latency.to_dict(), "latency_summary": latency.summary(),
        "latency_by_tool": {tool: rep.to_dict() for tool, rep in by_tool.items()},
        "detection_to_trigger": top,
        "resources": estimate_resources(model, board.reuse_factor),
        "vendor_tool": vendor_tool(),
    }
    if len(bad):
        rows = layer_diff(model, prep, sub[bad], out / "trace")
        summary["layer_diff"] = rows
        summary["first_differing_layer"] = next((r for r in rows if r["images_differing"]), None)
    if labels is not None:
        summary["emulator_metrics"] = classification_metrics(labels, emu_all)
        write_predictions(out / "predictions.npz", labels, emu_all, art.class_names)
    FirmwareRecord.make(None, **summary).write(out)
    return summary
