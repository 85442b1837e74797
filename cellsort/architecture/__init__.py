"""Model architectures read from files without running any of their code.

A Keras file stores its architecture as JSON (the HDF5 ``model_config`` attribute, the
``.keras`` archive's ``config.json``); :func:`read_architecture` parses that JSON, checks every
layer against the registry of known layer classes (:mod:`cellsort.architecture.layers`) and
infers every shape, before any model object exists. Lambda layers, custom objects and unknown
classes are refused with an error naming the layer.
"""
from cellsort.architecture.layers import known_layer_classes
from cellsort.architecture.reader import architecture_from_layers, read_architecture
from cellsort.architecture.spec import Architecture, ArchitectureError, LayerSpec

__all__ = ["Architecture", "ArchitectureError", "LayerSpec", "architecture_from_layers",
           "known_layer_classes", "read_architecture"]
