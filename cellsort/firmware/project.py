"""The firmware project of a student: what ``cellsort hls convert`` writes, as a library call.

:func:`open_student` is how every firmware command takes its model (an artifact folder, or a
bare QKeras file with the paper's normalisation), checked once: the model must be a
quantized cellsort student that the integer plan (:mod:`cellsort.firmware.plan`) can run bit
for bit; a float model is refused with the command that imports it. :func:`convert` writes
the hls4ml project, the vendor build script and, for streaming designs, the instrument top,
and checks the generated tcl statically.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cellsort.errors import DataError, one_line
from cellsort.firmware.boards import BoardPreset


def check_quantized(model, prep, where: str) -> None:
    """DataError naming ``where`` unless ``model`` is a quantized student the plan can run."""
    from cellsort.firmware.plan import read_plan

    if "pixels_q" not in {layer.name for layer in model.layers}:
        raise DataError(f"{where}: not a quantized cellsort student (no input quantizer "
                        "'pixels_q'); turn a float model into one with `cellsort student import`")
    try:
        read_plan(model, prep)
    except (ValueError, KeyError) as exc:
        raise DataError(f"{where}: not a quantized cellsort student ({one_line(exc)[:120]}); "
                        "turn a float model into one with `cellsort student import`") from exc


def open_student(path: str | Path):
    """The :class:`~cellsort.student.artifact.StudentArtifact` of an artifact folder, or of a bare
    QKeras model file wrapped with default preprocessing and classes ``class0..``; checked by
    :func:`check_quantized`."""
    from cellsort.data.preprocess import Preprocessing
    from cellsort.student.artifact import (
        StudentArtifact,
        load_qkeras_model,
        load_student,
    )

    path = Path(path)
    if path.is_dir():
        art = load_student(path)
        where = str(path / "model.h5")
    else:
        model = load_qkeras_model(path)
        names = tuple(f"class{i}" for i in range(model.output_shape[-1]))
        art = StudentArtifact(model, Preprocessing(input_size=tuple(model.input_shape[1:3])), names)
        where = str(path)
    check_quantized(art.model, art.preprocessing, where)
    return art


@dataclass(frozen=True)
class Project:
    """A written firmware project: its folder, vendor script, wrapper script and check results."""

    folder: Path
    vendor_script: Path
    wrapper_script: Path | None
    problems: tuple[str, ...]


def convert(artifact, out: str | Path, board: BoardPreset) -> Project:
    """Write the firmware project of ``artifact`` (a StudentArtifact or a path for
    :func:`open_student`) for ``board`` into ``out`` and check it statically.

    Returns
    -------
    Project
        ``problems`` lists what the static checks of the generated tcl found (none: ready for
        the vendor tools).
    """
    from cellsort.firmware.build import check_project, check_top, write_vendor_script
    from cellsort.firmware.convert import to_hls4ml
    from cellsort.firmware.wrapper import write_wrapper

    art = artifact if hasattr(artifact, "model") else open_student(artifact)
    out = Path(out)
    to_hls4ml(art.model, out, backend=board.backend, io_type=board.io_type, part=board.part,
              clock_period=board.clock_period_ns, reuse_factor=board.reuse_factor).write()
    script = write_vendor_script(out, board)
    problems = check_project(out, board)
    wrapper = None
    if board.io_type == "io_stream":  # the instrument top streams pixels into the network
        wrapper = write_wrapper(out, art.model, art.preprocessing, board, art.gate)
        problems += check_top(out, board)
    return Project(out, script, wrapper, tuple(problems))
