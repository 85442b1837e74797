"""Registries: named entries of one kind (students, teachers, layer rules, passes, ...).

One helper serves every registry of cellsort, in the manner of timm's model registry: an
entry is registered once under a name (a second registration of the name is an error, never
a silent replacement), looked up by name (an unknown name is an error that lists the known
ones), and listed in registration order.
"""
from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries of one ``kind`` by name, in registration order.

    Parameters
    ----------
    kind : str
        What the entries are, for messages ("student", "teacher", "layer rule", ...).
    error : exception type
        Raised by :meth:`get` for an unknown name (default KeyError).
    """

    def __init__(self, kind: str, error: type[Exception] = KeyError):
        self.kind, self.error = kind, error
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        """Register ``entry`` under ``name``; ValueError if the name is taken."""
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def register(self, *names: str) -> Callable[[T], T]:
        """Decorator registering the decorated object under each of ``names``."""
        def deco(entry: T) -> T:
            for name in names:
                self.add(name, entry)
            return entry
        return deco

    def get(self, name: str, error: type[Exception] | None = None) -> T:
        """The entry of ``name``; ``error`` (default the registry's) naming the known ones."""
        if name not in self._entries:
            raise (error or self.error)(f"unknown {self.kind} {name!r}; available: "
                                        f"{', '.join(self.names()) or 'none'}")
        return self._entries[name]

    def find(self, name: str) -> T | None:
        """The entry of ``name``, or None."""
        return self._entries.get(name)

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._entries)

    def values(self) -> list[T]:
        """Entries in registration order."""
        return list(self._entries.values())

    def items(self) -> list[tuple[str, T]]:
        return list(self._entries.items())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
