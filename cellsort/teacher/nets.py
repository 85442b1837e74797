"""ResNet-style teachers in plain torch (torchvision does not import beside torch 2.13 here).

A registry in the manner of timm: ``build_teacher("resnet18", n_classes=3, width=16)``.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from cellsort.registry import Registry

#: Builders ``f(n_classes, width) -> nn.Module`` by name.
TEACHERS: Registry[Callable[..., nn.Module]] = Registry("teacher")


def register_teacher(name: str):
    """Decorator registering a teacher builder ``f(n_classes, width) -> nn.Module`` (a name
    registered twice is an error)."""
    return TEACHERS.register(name)


def list_teachers() -> list[str]:
    """Names of the registered teachers."""
    return TEACHERS.names()


def teacher_builder(name: str, error: type[Exception] = KeyError) -> Callable[..., nn.Module]:
    """The registered builder of ``name``, or ``error`` naming the available teachers."""
    return TEACHERS.get(name, error)


def build_teacher(name: str, n_classes: int = 2, width: int = 64) -> nn.Module:
    """Build a registered teacher with ``width`` channels in its first stage (ResNet: 64)."""
    return teacher_builder(name)(n_classes=n_classes, width=width)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with an identity (or 1x1 projection) shortcut."""

    expansion = 1

    def __init__(self, c_in: int, c: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c, 3, stride, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
            nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))
        self.short = _shortcut(c_in, c, stride)

    def forward(self, x):
        return torch.relu(self.body(x) + self.short(x))


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (x4), with shortcut: the ResNet-50 block."""

    expansion = 4

    def __init__(self, c_in: int, c: int, stride: int):
        super().__init__()
        out = c * self.expansion
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
            nn.Conv2d(c, c, 3, stride, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
            nn.Conv2d(c, out, 1, bias=False), nn.BatchNorm2d(out))
        self.short = _shortcut(c_in, out, stride)

    def forward(self, x):
        return torch.relu(self.body(x) + self.short(x))


def _shortcut(c_in: int, c_out: int, stride: int) -> nn.Module:
    if stride == 1 and c_in == c_out:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))


class ResNet(nn.Module):
    """ResNet for 1-channel microscopy crops of any size (global average pooling at the end).

    The stem is a 3x3 convolution without max-pooling, so small crops (40-120 px) keep
    their detail.
    """

    def __init__(self, block, depths: tuple[int, ...], n_classes: int, width: int):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        stages, c_in = [], width
        for i, depth in enumerate(depths):
            c = width * 2 ** i
            for j in range(depth):
                stages.append(block(c_in, c, 2 if (j == 0 and i > 0) else 1))
                c_in = c * block.expansion
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(c_in, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled penultimate features."""
        return self.stages(self.stem(x)).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@register_teacher("resnet18")
def resnet18(n_classes: int = 2, width: int = 64) -> ResNet:
    """ResNet-18-like: basic blocks (2, 2, 2, 2)."""
    return ResNet(BasicBlock, (2, 2, 2, 2), n_classes, width)


@register_teacher("resnet50")
def resnet50(n_classes: int = 2, width: int = 64) -> ResNet:
    """ResNet-50-like: bottleneck blocks (3, 4, 6, 3), the paper's teacher family."""
    return ResNet(Bottleneck, (3, 4, 6, 3), n_classes, width)


@register_teacher("resnet10")
def resnet10(n_classes: int = 2, width: int = 32) -> ResNet:
    """A light ResNet (basic blocks (1, 1, 1, 1)) for quick runs."""
    return ResNet(BasicBlock, (1, 1, 1, 1), n_classes, width)
