"""Import a float model people already have (Keras 2/3 file or PyTorch state_dict) as a
bit-exact QKeras student with data-chosen fixed-point formats.

Keras files go through the safe loader (architecture checked before any object is built);
any sequential CNN of the supported layers imports, not only the registered shapes. A
PyTorch state_dict has no architecture: its tensors are matched, in order, to a registered
student's (``--name``), convolutions transposed to Keras' layout, BatchNormalization folded,
and the dense layer's inputs reordered from PyTorch's channel-first flatten to channel-last.
Formats come from :mod:`cellsort.student.quantize`; the float network computed by the
importer is checked against the loaded Keras model before anything is quantized.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cellsort.architecture import Architecture, ArchitectureError, read_architecture
from cellsort.data.preprocess import Preprocessing
from cellsort.errors import DataError
from cellsort.student.loader import load_keras_model, load_torch_state
from cellsort.student.quantize import (
    QuantConfig,
    build_qkeras,
    choose_formats,
    float_forward,
    float_steps,
    quantization_report,
)
from cellsort.student.registry import build_student

#: Bit widths tried, in order, when the defaults miss the agreement target.
WIDER = ((10, 10), (12, 12), (14, 14), (16, 16))


@dataclass
class Imported:
    """The quantized student, its float reference and the agreement report."""

    model: object
    steps: list
    report: dict
    config: QuantConfig


def float_network(path: str | Path, name: str = "paper", n_classes: int = 2,
                  input_size: tuple[int, int] = (48, 48)):
    """``(Architecture, steps)`` of a float Keras file or PyTorch state_dict (see module doc)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5", ".keras"):
        model, arch = load_keras_model(path, qkeras=False)
        weights = {layer.name: [np.asarray(w) for w in layer.get_weights()] for layer in model.layers}
        bad = [name for name, ws in weights.items() if any(not np.all(np.isfinite(w)) for w in ws)]
        if bad:
            raise DataError(f"{path}: non-finite weights (NaN or inf) in layer(s) {bad}")
        arch = arch.with_weights(weights)
        steps = float_steps(arch)
        _check_against_keras(model, arch, steps, path)
        return arch, steps
    if suffix in (".pt", ".pth", ".ckpt", ".bin"):
        arch = read_architecture(build_student(name, n_classes, input_size=input_size))
        arch = Architecture(arch.name, arch.input_shape, arch.layers, str(path))
        arch = arch.with_weights(_torch_weights(load_torch_state(path), arch, path))
        return arch, float_steps(arch)
    raise DataError(f"{path}: unknown float model format (expected .h5, .keras, .pt, .pth)")


def _check_against_keras(model, arch, steps, path) -> None:
    """The importer's float pass must equal Keras' own output (softmax applied if present)."""
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (4, *arch.input_shape)).astype(np.float32)
    ref = np.asarray(model(x, training=False), np.float64)
    ours, _ = float_forward(steps, x)
    if arch.layers[-1].kind == "softmax":
        ours = np.exp(ours - ours.max(1, keepdims=True))
        ours /= ours.sum(1, keepdims=True)
    if not np.allclose(ours, ref, rtol=1e-3, atol=1e-4 * max(1.0, float(np.abs(ref).max()))):
        raise DataError(f"{path}: the imported float network does not reproduce the model's own "
                        f"output (max difference {np.abs(ours - ref).max():.3g})")


def _torch_weights(state: dict, arch: Architecture, path: Path) -> dict:
    """Match state_dict modules, in order, to the conv/dense layers of ``arch``; fold each
    BatchNorm (PyTorch's eps 1e-5) into the module before it."""
    groups: dict[str, dict] = {}
    for key, tensor in state.items():
        prefix, _, suffix = key.rpartition(".")
        groups.setdefault(prefix, {})[suffix] = tensor
    modules: list[tuple[str, str, list]] = []
    for prefix, g in groups.items():
        w = g.get("weight")
        if "running_mean" in g:
            if not modules:
                raise DataError(f"{path}: batchnorm {prefix!r} comes before any conv/linear layer")
            kind, name, (kernel, bias) = modules[-1]
            n = g["running_mean"].shape[0]
            gamma, beta = g.get("weight", np.ones(n)), g.get("bias", np.zeros(n))
            scale = gamma / np.sqrt(g["running_var"] + 1e-5)
            k = kernel * (scale[:, None, None, None] if kernel.ndim == 4 else scale[:, None])
            modules[-1] = (kind, name, [k, (bias - g["running_mean"]) * scale + beta])
        elif w is not None and w.ndim in (2, 4):
            modules.append(("conv2d" if w.ndim == 4 else "dense", prefix,
                            [w, g.get("bias", np.zeros(w.shape[0], w.dtype))]))
        else:
            raise DataError(f"{path}: tensors {sorted(g)} of {prefix!r} are neither a conv, a "
                            "linear nor a batchnorm layer")
    targets = arch.of_kind("conv2d", "dense")
    if [m[0] for m in modules] != [t.kind for t in targets]:
        raise DataError(f"{path}: the state_dict holds {[m[0] for m in modules]} layers, the "
                        f"{arch.name!r} student {[t.kind for t in targets]}")
    out = {}
    flat = arch.of_kind("flatten")
    for layer, (kind, prefix, (kernel, bias)) in zip(targets, modules):
        if kind == "conv2d":
            expected = (*layer.attrs["kernel"], layer.in_shape[-1], layer.attrs["filters"])
            kernel = kernel.transpose(2, 3, 1, 0)
        else:
            if flat and len(flat[0].in_shape) == 3 and layer.in_shape == flat[0].out_shape:
                h, wd, c = flat[0].in_shape
                if kernel.shape[1] != h * wd * c:
                    raise DataError(f"{path}: {prefix} has {kernel.shape[1]} inputs, the student "
                                    f"flattens {h}x{wd}x{c} = {h * wd * c}")
                kernel = kernel.reshape(kernel.shape[0], c, h, wd).transpose(0, 2, 3, 1)
                kernel = kernel.reshape(kernel.shape[0], -1)
            kernel = kernel.T
            expected = (layer.in_shape[0], layer.attrs["units"])
        if tuple(kernel.shape) != tuple(expected):
            raise DataError(f"{path}: {prefix} has weights {tuple(kernel.shape)} (Keras layout), "
                            f"the student's {layer.name} needs {tuple(expected)}")
        out[layer.name] = [kernel, bias]
    return out


def quantize_float(steps, input_shape, prep: Preprocessing, images: np.ndarray,
                   cfg: QuantConfig | None = None) -> Imported:
    """Choose formats on the calibration crops ``images`` (uint8), build, and report."""
    cfg = cfg or QuantConfig()
    x = prep(images[:500]).astype(np.float64)
    float_logits, relus = float_forward(steps, x)
    table = prep.pixel_table()
    fmt = choose_formats(steps, float(np.abs(table).max()), relus, cfg)
    model = build_qkeras(steps, input_shape, fmt)
    quant = np.asarray(model(x.astype(np.float32), training=False), np.float64)
    return Imported(model, steps, quantization_report(steps, fmt, float_logits, quant, relus), cfg)


def import_float_model(path, prep: Preprocessing, images: np.ndarray, cfg: QuantConfig | None = None,
                       name: str = "paper", n_classes: int = 2, target: float = 0.99) -> Imported:
    """Import ``path`` and quantize it; if the agreement misses ``target`` at the requested
    widths, also say which wider widths reach it (``report['reaches_target']``)."""
    arch, steps = float_network(path, name, n_classes, prep.network_size)
    if tuple(arch.input_shape[:2]) != prep.network_size or arch.input_shape[-1] != 1:
        raise DataError(f"{path}: the model takes {arch.input_shape}, the preprocessing gives "
                        f"{(*prep.network_size, 1)}")
    if arch.output_shape[-1] != n_classes:
        raise DataError(f"{path}: the model has {arch.output_shape[-1]} outputs for "
                        f"{n_classes} class names")
    result = quantize_float(steps, arch.input_shape, prep, images, cfg)
    rep = result.report
    if rep["argmax_agreement"] < target or not rep["margin_correlation"] >= target:
        for wb, ab in WIDER:
            try:
                trial = quantize_float(steps, arch.input_shape, prep, images,
                                       result.config.model_copy(update={"weight_bits": wb, "act_bits": ab}))
            except ArchitectureError:  # beyond the firmware's exact accumulator
                continue
            if trial.report["argmax_agreement"] >= target and trial.report["margin_correlation"] >= target:
                rep["reaches_target"] = {"weight_bits": wb, "act_bits": ab,
                                         "argmax_agreement": trial.report["argmax_agreement"],
                                         "margin_correlation": trial.report["margin_correlation"]}
                break
    return result
