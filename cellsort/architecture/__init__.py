"""The one model representation: architectures read as data, their passes and formats.

A Keras file stores its architecture as JSON (the HDF5 ``model_config`` attribute, the
``.keras`` archive's ``config.json``); :func:`read_architecture` parses that JSON, checks every
layer against the registry of known layer classes (:mod:`.layers`) and infers every shape,
before any model object exists. Lambda layers, custom objects and unknown classes are refused
with an error naming the layer. :func:`model_architecture` attaches a loaded model's weights.
Every consumer lowers this one :class:`Architecture` through the registered passes of
:mod:`.passes`: the latency model (``hls4ml``), the integer plan of the emulator, the compiled
kernel and the RTL back end (``integer``), the float import (``float``); :mod:`.fixed` reads
quantizers as fixed-point formats.

Owns: architecture reading, layer rules, passes, fixed-point formats.
May import: the shared base (errors, config, registry) and :mod:`cellsort.data`.
"""
from cellsort.architecture.layers import known_layer_classes
from cellsort.architecture.reader import (
           architecture_from_layers,
           model_architecture,
           read_architecture,
)
from cellsort.architecture.spec import Architecture, ArchitectureError, LayerSpec

__all__ = ["Architecture", "ArchitectureError", "LayerSpec", "architecture_from_layers",
           "known_layer_classes", "model_architecture", "read_architecture"]
