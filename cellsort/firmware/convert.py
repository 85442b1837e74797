"""Convert a QKeras student to an hls4ml project whose C simulation is bit-exact.

Precisions are set per layer from the QKeras quantizers (not left to hls4ml's defaults):

- the input and ``pixels_q``: the input quantizer's format (the firmware feeds codes
  from the normalisation ROM, :func:`~cellsort.firmware.fixed.pixel_codes`);
- weights and biases: their quantizers' formats (hls4ml reads them from QKeras);
- quantized ReLUs: ``ap_ufixed<bits, integer, AP_RND_CONV, AP_SAT>`` like ``tf.round`` + clip;
- convolution and dense accumulators and results: ``ap_fixed<32,16>``, wide enough that
  every sum is exact (products carry at most 16 fractional bits in these students);
- the logits come out directly: the student has no softmax, so none is generated.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cellsort.architecture.fixed import format_of
from cellsort.firmware.fixed import input_format
from cellsort.keras_compat import import_hls4ml, keras2_for_hls4ml

#: Exact accumulator/result type of convolutions and dense layers.
ACCUM = "fixed<32,16>"


def hls_config(model, reuse_factor: int = 1, strategy: str = "Latency", trace: bool = False) -> dict:
    """hls4ml configuration (granularity ``name``) with the exact precisions described above.

    ``trace`` makes every layer's output observable in C simulation (:func:`layer_diff`).
    """
    hls4ml = import_hls4ml()

    with keras2_for_hls4ml():
        cfg = hls4ml.utils.config_from_keras_model(model, granularity="name")
    cfg["Model"].update(ReuseFactor=reuse_factor, Strategy=strategy, Precision="fixed<32,16>")
    in_fmt = input_format(model)
    for layer in model.layers:
        entry = cfg["LayerName"].setdefault(layer.name, {})
        if trace:
            entry["Trace"] = True
        kind = type(layer).__name__
        if layer.name in ("pixels", "pixels_q"):
            entry["Precision"] = {"result": in_fmt.hls(quantized=False)}
        elif kind == "QActivation":
            entry["Precision"] = {"result": format_of(layer.quantizer).hls()}
        elif kind in ("QConv2D", "QDense"):
            prec = entry.setdefault("Precision", {})
            prec.update(accum=ACCUM, result=ACCUM)
            entry["ReuseFactor"] = reuse_factor
        elif kind == "MaxPooling2D":
            entry.pop("Precision", None)  # takes its input's type
    return cfg


def to_hls4ml(model, output_dir: str | Path, backend: str = "Vitis", io_type: str = "io_stream",
            part: str = "xcku035-fbva676-2-e", clock_period: float = 5.0, reuse_factor: int = 1,
            project_name: str = "cellsort_student", trace: bool = False):
    """Write an hls4ml project for ``model`` and return the hls4ml ``ModelGraph``."""
    hls4ml = import_hls4ml()

    cfg = hls_config(model, reuse_factor, trace=trace)
    with keras2_for_hls4ml():
        return hls4ml.converters.convert_from_keras_model(
            model, hls_config=cfg, output_dir=str(output_dir), backend=backend, io_type=io_type,
            part=part, clock_period=clock_period, project_name=project_name)


def csim_logits(hls_model, codes: np.ndarray, in_frac: int) -> np.ndarray:
    """Run the compiled C simulation on input codes (N, h, w) and return float64 logits."""
    x = np.ascontiguousarray((codes.astype(np.float64) / 2.0 ** in_frac)[..., None])
    return np.asarray(hls_model.predict(x), np.float64).reshape(len(codes), -1)


def layer_diff(model, prep, images: np.ndarray, output_dir: str | Path) -> list[dict]:
    """Compare every layer of the C simulation with QKeras on uint8 crops.

    Returns one row per traced layer, in network order: ``layer``, ``images_differing`` and
    ``max_abs_diff``. The first row with differing images is where bit-exactness breaks.
    """
    from cellsort.firmware.fixed import pixel_codes
    from cellsort.keras_compat import tf_keras

    keras = tf_keras()
    fitted = prep.fit_images(images)
    hls_model = to_hls4ml(model, output_dir, trace=True)
    codes = pixel_codes(model, prep)[fitted]
    fmt_frac = input_format(model).frac
    x = np.ascontiguousarray((codes.astype(np.float64) / 2.0 ** fmt_frac)[..., None])
    _, traced = hls_model.trace(x)
    names = [layer.name for layer in model.layers if layer.name in traced]
    probe = keras.Model(model.input, [model.get_layer(n).output for n in names])
    outputs = probe(prep.normalize(fitted)[..., None], training=False)
    rows = []
    for name, ref in zip(names, outputs if len(names) > 1 else [outputs]):
        ref = np.asarray(ref, np.float64).reshape(len(fitted), -1)
        got = np.asarray(traced[name], np.float64).reshape(len(fitted), -1)
        diff = np.abs(got - ref)
        rows.append({"layer": name, "images_differing": int((diff.max(axis=1) > 0).sum()),
                     "max_abs_diff": float(diff.max())})
    return rows
