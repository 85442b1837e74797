"""The parsed architecture: one :class:`LayerSpec` per computing step, shapes inferred."""
from __future__ import annotations

from dataclasses import dataclass, field

from cellsort.errors import DataError


class ArchitectureError(DataError):
    """A model file whose architecture is unreadable, unsafe or unsupported."""


@dataclass(frozen=True)
class LayerSpec:
    """One layer as the firmware sees it.

    Attributes
    ----------
    name : str
        Layer name in the file.
    class_name : str
        Keras class as stored (``Conv2D``, ``QConv2D``, ...).
    kind : str
        What it computes: ``conv2d``, ``zeropad2d``, ``pool2d``, ``global_pool2d``, ``dense``,
        ``activation``, ``softmax``, ``batchnorm``, ``flatten`` or ``dropout``.
    in_shape, out_shape : tuple of int
        Shapes without the batch axis (channels last).
    attrs : dict
        Kind-specific facts: ``kernel``, ``strides``, ``padding`` (top, bottom, left, right),
        ``filters``, ``units``, ``pool``, ``op`` (max/average), ``activation``, ``quantizers``,
        and what passes add (``fused_batchnorm``, ``output_quantizer``, ``pool_after``).
    weights : tuple of ndarray
        The layer's weights where they were read (:func:`~cellsort.architecture.model_architecture`):
        a quantized layer's kernel and bias already through its quantizers, others as stored.
    """

    name: str
    class_name: str
    kind: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    attrs: dict = field(default_factory=dict)
    weights: tuple = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Architecture:
    """A sequential network: its input shape and its layers in order."""

    name: str
    input_shape: tuple[int, ...]
    layers: tuple[LayerSpec, ...]
    source: str = ""
    keras_version: str | None = None

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.layers[-1].out_shape if self.layers else self.input_shape

    def with_weights(self, weights: dict[str, list]) -> "Architecture":
        """The same architecture with ``weights[layer name]`` attached to each layer named."""
        from dataclasses import replace

        layers = tuple(replace(layer, weights=tuple(weights[layer.name])) if layer.name in weights
                       else layer for layer in self.layers)
        return Architecture(self.name, self.input_shape, layers, self.source, self.keras_version)

    def of_kind(self, *kinds: str) -> list[LayerSpec]:
        """The layers whose ``kind`` is one of ``kinds``."""
        return [layer for layer in self.layers if layer.kind in kinds]
