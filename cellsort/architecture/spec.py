"""The parsed architecture: one :class:`LayerSpec` per computing step, shapes inferred."""
from __future__ import annotations

from dataclasses import dataclass, field

from cellsort.data.dataset import DataError


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
        ``filters``, ``units``, ``pool``, ``op`` (max/average), ``activation``, ``quantizers``.
    """

    name: str
    class_name: str
    kind: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    attrs: dict = field(default_factory=dict)


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

    def of_kind(self, *kinds: str) -> list[LayerSpec]:
        """The layers whose ``kind`` is one of ``kinds``."""
        return [layer for layer in self.layers if layer.kind in kinds]
