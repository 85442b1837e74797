"""Read a model's architecture from its file as data: no Keras object is built, no code runs.

Formats: Keras 2 (tf-keras) and Keras 3 ``.h5`` (the ``model_config`` attribute), Keras 3
``.keras`` archives (``config.json``), architecture JSON (``model.to_json()``), and an
in-memory Keras model (its ``get_config()``). Sequential and chain-shaped functional models
are accepted; every layer class must have a rule in :mod:`cellsort.architecture.layers` and
every nested object must come from Keras or QKeras.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from cellsort.architecture.layers import rule_for
from cellsort.architecture.spec import Architecture, ArchitectureError, LayerSpec

#: Modules whose serialised objects may appear in a config (nothing else is trusted).
TRUSTED_MODULES = ("keras", "tf_keras", "qkeras", "tensorflow")
#: Classes that carry code; named in the refusal so the user knows why.
CODE_LAYERS = {"Lambda", "TFOpLambda", "SlicingOpLambda", "TorchModuleWrapper", "JaxLayer",
               "FlaxLayer"}
_INPUT_LAYERS = {"InputLayer"}


def read_architecture(source, *, name: str | None = None) -> Architecture:
    """Parse the architecture of a model file (or an in-memory Keras model).

    Parameters
    ----------
    source : path-like or keras Model
        ``.h5``/``.hdf5``, ``.keras``, ``.json``, or a Keras/QKeras model object.

    Raises
    ------
    ArchitectureError
        Unreadable file, no architecture stored, a Lambda/custom/unknown layer (named),
        a non-sequential graph, or an inconsistent shape.
    """
    if hasattr(source, "get_config") and hasattr(source, "layers"):
        config = {"class_name": type(source).__name__, "config": source.get_config()}
        return parse_model_config(config, name or getattr(source, "name", "model"), None)
    path = Path(source)
    config, version = _load_config(path)
    return parse_model_config(config, str(path), version)


def model_architecture(model) -> Architecture:
    """The architecture of a loaded Keras/QKeras model with every layer's weights attached:
    a quantized layer's kernel and bias as its own quantizers make them (the values the
    firmware holds), other layers' as stored."""
    weights = {}
    for layer in model.layers:
        values = [np.asarray(w) for w in layer.get_weights()]
        quantizers = (getattr(layer, "kernel_quantizer_internal", None),
                      getattr(layer, "bias_quantizer_internal", None))
        if values and quantizers[0] is not None:
            values = [np.asarray(q(w).numpy()) if q is not None else w
                      for q, w in zip(quantizers, values)] + values[2:]
        weights[layer.name] = values
    return read_architecture(model).with_weights(weights)


def _load_config(path: Path) -> tuple[dict, str | None]:
    if not path.is_file():
        raise ArchitectureError(f"{path}: no such model file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".h5", ".hdf5"):
            import h5py

            with h5py.File(path, "r") as f:
                raw = f.attrs.get("model_config")
                version = f.attrs.get("keras_version")
            if raw is None:
                raise ArchitectureError(f"{path}: holds weights only, no model architecture "
                                        "(save the whole model, not save_weights)")
            text = raw.decode() if isinstance(raw, bytes) else str(raw)
            version = version.decode() if isinstance(version, bytes) else version
        elif suffix == ".keras":
            with zipfile.ZipFile(path) as archive:
                text = archive.read("config.json").decode()
                meta = json.loads(archive.read("metadata.json")) if "metadata.json" in archive.namelist() else {}
            version = meta.get("keras_version")
        elif suffix == ".json":
            text, version = path.read_text(), None
        else:
            raise ArchitectureError(f"{path}: unknown model format {suffix!r} "
                                    "(expected .h5, .hdf5, .keras or .json)")
        config = json.loads(text)
    except ArchitectureError:
        raise
    except (OSError, KeyError, zipfile.BadZipFile, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArchitectureError(f"{path}: cannot read the model architecture ({exc})") from exc
    if not isinstance(config, dict):
        raise ArchitectureError(f"{path}: the stored architecture is not a JSON object")
    return config, version


def _check_trusted(obj, where: str) -> None:
    """Refuse any serialised object whose module is not Keras/QKeras (custom objects)."""
    if isinstance(obj, dict):
        module = obj.get("module")
        registered = obj.get("registered_name")
        if "class_name" in obj and obj.get("class_name") in CODE_LAYERS:
            raise ArchitectureError(f"{where}: {obj['class_name']} objects hold code and are refused")
        if isinstance(module, str) and module.split(".")[0] not in TRUSTED_MODULES:
            raise ArchitectureError(f"{where}: custom object {obj.get('class_name')!r} from module "
                                    f"{module!r} is refused (only Keras and QKeras objects load)")
        if isinstance(registered, str) and ">" in registered:
            raise ArchitectureError(f"{where}: custom object {registered!r} is refused "
                                    "(only Keras and QKeras objects load)")
        for value in obj.values():
            _check_trusted(value, where)
    elif isinstance(obj, list):
        for value in obj:
            _check_trusted(value, where)


def _input_shape(layer_cfg: dict) -> tuple[int, ...] | None:
    for key in ("batch_shape", "batch_input_shape"):
        shape = layer_cfg.get(key)
        if shape:
            return tuple(shape[1:])
    return None


def _inbound(layer: dict) -> list[str]:
    """Names of the layers feeding ``layer`` (Keras 2 and Keras 3 functional formats)."""
    names = []

    def walk(node):
        if isinstance(node, dict):
            history = node.get("config", {}).get("keras_history") if "config" in node else None
            if history:
                names.append(history[0])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            if len(node) >= 3 and isinstance(node[0], str) and isinstance(node[1], int):
                names.append(node[0])  # Keras 2: [name, node_index, tensor_index, kwargs]
            else:
                for value in node:
                    walk(value)

    walk(layer.get("inbound_nodes", []))
    return names


def _chain(layers: list[dict], where: str) -> list[dict]:
    """Order a functional model's layers as one chain; refuse branches and merges."""
    if not any("inbound_nodes" in layer for layer in layers):
        return layers
    by_name = {layer.get("name") or layer.get("config", {}).get("name"): layer for layer in layers}
    feeds: dict[str, str] = {}
    for name, layer in by_name.items():
        inbound = sorted(set(_inbound(layer)))
        if len(inbound) > 1:
            raise ArchitectureError(f"{where}: layer {name!r} merges {inbound}: only sequential "
                                    "models are supported")
        if inbound:
            if inbound[0] in feeds:
                raise ArchitectureError(f"{where}: layer {inbound[0]!r} feeds several layers: "
                                        "only sequential models are supported")
            feeds[inbound[0]] = name
    starts = [n for n, layer in by_name.items() if not _inbound(layer)]
    if len(starts) != 1:
        raise ArchitectureError(f"{where}: expected one input, found {starts}")
    order = [starts[0]]
    while order[-1] in feeds:
        order.append(feeds[order[-1]])
    return [by_name[n] for n in order]


def parse_model_config(config: dict, where: str, keras_version: str | None = None) -> Architecture:
    """Turn a serialised Keras model config into an :class:`Architecture` (see module doc)."""
    _check_trusted(config, where)
    cls = config.get("class_name")
    body = config.get("config")
    if cls not in ("Sequential", "Functional", "Model") or not isinstance(body, dict):
        raise ArchitectureError(f"{where}: model class {cls!r} is not supported "
                                "(Sequential or a chain-shaped functional model)")
    layers = body.get("layers")
    if not isinstance(layers, list) or not layers:
        raise ArchitectureError(f"{where}: the architecture lists no layers")
    shape = None
    specs: list[LayerSpec] = []
    for layer in _chain(layers, where):
        lcls, lcfg = layer.get("class_name"), layer.get("config") or {}
        lname = lcfg.get("name") or layer.get("name") or "?"
        if shape is None:
            shape = _input_shape(lcfg) or (tuple(body["build_input_shape"][1:])
                                           if body.get("build_input_shape") else None)
            if shape is None:
                raise ArchitectureError(f"{where}: the input shape is not stored")
            if not all(isinstance(d, int) and d > 0 for d in shape):
                raise ArchitectureError(f"{where}: input shape {shape} is not fully known")
            input_shape = shape
        if lcls in _INPUT_LAYERS:
            continue
        rule = rule_for(lcls)
        if rule is None:
            why = "holds code" if lcls in CODE_LAYERS else "is not a supported layer"
            raise ArchitectureError(f"{where}: layer {lname!r} ({lcls}) {why}; refused before "
                                    "any model object is built")
        steps = rule(lname, lcls, lcfg, shape)
        specs.extend(steps)
        shape = steps[-1].out_shape
    if not specs:
        raise ArchitectureError(f"{where}: the architecture has no computing layer")
    return Architecture(body.get("name", "model"), input_shape, tuple(specs), where, keras_version)


def architecture_from_layers(input_shape, layers: list[dict], name: str = "model",
                             where: str = "layer list") -> Architecture:
    """Build an :class:`Architecture` from a plain list ``[{"type": "Conv2D", ...}, ...]``.

    Each entry names a Keras class under ``type`` and gives its config fields (``filters``,
    ``kernel`` or ``kernel_size``, ``strides``, ``padding``, ``pool``/``pool_size``, ``units``,
    ``activation``); used for the calibration set and for hand-written descriptions.
    """
    aliases = {"kernel": "kernel_size", "pool": "pool_size"}
    config_layers = [{"class_name": "InputLayer",
                      "config": {"batch_input_shape": [None, *input_shape], "name": "input"}}]
    for i, entry in enumerate(layers):
        cfg = {aliases.get(k, k): v for k, v in entry.items() if k != "type"}
        cfg.setdefault("name", f"{entry['type'].lower()}_{i}")
        config_layers.append({"class_name": entry["type"], "config": cfg})
    return parse_model_config({"class_name": "Sequential",
                               "config": {"name": name, "layers": config_layers}}, where)
